"""Allocation pages. Every allocation comes from `access_allocation` (404 outside what the user
may see); every write goes through a service, which refuses with a Chinese message and changes
nothing: 403 for a refusal of the role or of one's own approval, 409 for a stale page or a
frozen allocation, 400 for bad input."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.common.errors import ServiceError
from kejiyun.common.files import attachment_disposition
from kejiyun.common.ratelimit import client_ip
from kejiyun.common.refusals import refusal_status, refusal_text
from kejiyun.ops.bulletins.render_pdf import BulletinFontMissing
from kejiyun.performance.allocation import yuan
from kejiyun.performance.allocations.access import (
    access_allocation,
    allocations_for,
    may_approve,
    visible_lines,
)
from kejiyun.performance.allocations.forms import (
    AllocationForm,
    BoundsForm,
    EditForm,
    ReturnForm,
    VersionForm,
    WhatIfForm,
    to_fen,
    to_yuan,
)
from kejiyun.performance.allocations.render_pdf import allocation_pdf
from kejiyun.performance.allocations.render_xlsx import allocation_xlsx
from kejiyun.performance.allocations.services import (
    allocation_approve,
    allocation_create,
    allocation_export_record,
    allocation_line_bounds,
    allocation_recompute,
    allocation_return,
    allocation_submit,
    allocation_update,
)
from kejiyun.performance.allocations.whatif import allocation_whatif
from kejiyun.performance.models import Allocation, AllocationEvent, AllocationLine
from kejiyun.performance.roles import has_approver_role, is_province_side, may_manage

S = Allocation.Status


@staff_required
def allocation_list(request: AuthenticatedRequest) -> HttpResponse:
    user = request.user
    allocations = list(allocations_for(user)[:200])
    for allocation in allocations:
        allocation.budget_yuan = yuan(allocation.budget_fen)  # type: ignore[attr-defined]
    return render(
        request,
        "performance/allocations/list.html",
        {
            "allocations": allocations,
            "may_manage": may_manage(user),
            "province_side": is_province_side(user),
        },
    )


@require_http_methods(["GET", "POST"])
@staff_required
def allocation_new(request: AuthenticatedRequest) -> HttpResponse:
    if not may_manage(request.user):
        raise Http404("页面不存在")
    initial: dict[str, Any] = {}
    picked = request.GET.get("scheme", "")
    # ASCII digits only: str.isdigit() also accepts "²", which int() refuses (a 500).
    if picked.isascii() and picked.isdigit() and len(picked) <= 18:
        initial["scheme"] = int(picked)
    form = AllocationForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            allocation = allocation_create(
                actor=request.user,
                scheme=data["scheme"],
                name=data["name"],
                ip=client_ip(request),
                **form.amounts(),  # type: ignore[arg-type]
            )
        except ServiceError as error:
            form.add_error(None, refusal_text(error))
        else:
            messages.success(request, "资金分配草稿已计算并保存")
            return redirect("performance:allocations:detail", allocation.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "performance/allocations/new.html", {"form": form}, status=status)


def _dress(line: AllocationLine) -> AllocationLine:
    """The line with its amounts formatted for the page (yuan, two decimals)."""
    shown: Any = line
    shown.amount_yuan = yuan(line.amount_fen)
    shown.base_yuan = yuan(line.base_fen)
    shown.floor_yuan = yuan(line.floor_fen)
    shown.cap_yuan = "—" if line.cap_fen is None else yuan(line.cap_fen)
    shown.floor_input = to_yuan(line.floor_fen)
    shown.cap_input = "" if line.cap_fen is None else to_yuan(line.cap_fen)
    return line


def _detail(
    request: AuthenticatedRequest,
    allocation: Allocation,
    *,
    status: int = 200,
    edit_form: EditForm | None = None,
    return_form: ReturnForm | None = None,
    refusal: str = "",
) -> HttpResponse:
    user = request.user
    lines = [_dress(line) for line in visible_lines(user, allocation)]
    province_side = is_province_side(user)
    draft = allocation.status == S.DRAFT
    pending = allocation.status == S.PENDING
    manager = may_manage(user)
    editable = draft and manager
    return render(
        request,
        "performance/allocations/detail.html",
        {
            "allocation": allocation,
            "lines": lines,
            "total_fen": sum(line.amount_fen for line in lines),
            "total_yuan": yuan(sum(line.amount_fen for line in lines)),
            "province_side": province_side,
            "editable": editable,
            "may_submit": editable,
            "may_approve": pending and may_approve(user, allocation),
            # An approver who cannot approve this one (their own) still sees the button, so
            # the refusal is explicit; the service refuses with 403 and audits it.
            "own_pending": pending
            and has_approver_role(user)
            and not may_approve(user, allocation),
            "waits": pending and not has_approver_role(user),
            "edit_form": edit_form
            or (EditForm(initial=EditForm.initial_from(allocation)) if editable else None),
            "return_form": return_form or ReturnForm(initial={"version": allocation.version}),
            "events": (
                allocation.events.select_related("actor").order_by("created_at", "id")
                if province_side
                else AllocationEvent.objects.none()
            ),
            "refusal": refusal,
            "budget_yuan": yuan(allocation.budget_fen),
        },
        status=status,
    )


@staff_required
def allocation_detail(request: AuthenticatedRequest, allocation_id: int) -> HttpResponse:
    return _detail(request, access_allocation(request.user, allocation_id))


def _refused(
    request: AuthenticatedRequest, allocation_id: int, error: ServiceError
) -> HttpResponse:
    """The page re-drawn from the current state with the refusal and its status."""
    fresh = access_allocation(request.user, allocation_id)
    return _detail(request, fresh, status=refusal_status(error), refusal=refusal_text(error))


def _version(request: AuthenticatedRequest) -> int | None:
    form = VersionForm(request.POST)
    return form.cleaned_data["version"] if form.is_valid() else None


STALE_PAGE = "页面已过期，请刷新后再试。"


@staff_required
@require_POST
def allocation_edit(request: AuthenticatedRequest, allocation_id: int) -> HttpResponse:
    allocation = access_allocation(request.user, allocation_id)
    form = EditForm(request.POST)
    if not form.is_valid():
        return _detail(request, allocation, status=400, edit_form=form)
    try:
        allocation_update(
            actor=request.user,
            allocation=allocation,
            expected_version=form.cleaned_data["version"],
            name=form.cleaned_data["name"],
            ip=client_ip(request),
            **form.amounts(),  # type: ignore[arg-type]
        )
    except ServiceError as error:
        if refusal_status(error) == 400:
            form.add_error(None, refusal_text(error))
            # An infeasible split is found after the version was claimed and rolled back,
            # so the in-memory allocation holds the refused values: draw the saved one.
            fresh = access_allocation(request.user, allocation_id)
            return _detail(request, fresh, status=400, edit_form=form)
        return _refused(request, allocation_id, error)
    messages.success(request, "已保存并重新计算")
    return redirect("performance:allocations:detail", allocation.pk)


@staff_required
@require_POST
def allocation_bounds(
    request: AuthenticatedRequest, allocation_id: int, centre_id: int
) -> HttpResponse:
    allocation = access_allocation(request.user, allocation_id)
    form = BoundsForm(request.POST)
    if not form.is_valid():
        text = "；".join(str(e) for errors in form.errors.values() for e in errors)
        return _detail(request, allocation, status=400, refusal=text)
    data = form.cleaned_data
    reset = data["reset"] or (data["floor"] is None and data["cap"] is None)
    try:
        allocation_line_bounds(
            actor=request.user,
            allocation=allocation,
            expected_version=data["version"],
            centre_id=centre_id,
            floor_fen=None if reset else to_fen(data["floor"]) or 0,
            cap_fen=None if reset else to_fen(data["cap"]),
            ip=client_ip(request),
        )
    except ServiceError as error:
        return _refused(request, allocation_id, error)
    messages.success(request, "已设定该中心的上下限并重新计算")
    return redirect("performance:allocations:detail", allocation.pk)


def _simple_post(
    request: AuthenticatedRequest, allocation_id: int, action: Any, success: str
) -> HttpResponse:
    allocation = access_allocation(request.user, allocation_id)
    version = _version(request)
    if version is None:
        return _detail(request, allocation, status=409, refusal=STALE_PAGE)
    try:
        action(
            actor=request.user,
            allocation=allocation,
            expected_version=version,
            ip=client_ip(request),
        )
    except ServiceError as error:
        return _refused(request, allocation_id, error)
    messages.success(request, success)
    return redirect("performance:allocations:detail", allocation.pk)


@staff_required
@require_POST
def allocation_recompute_view(request: AuthenticatedRequest, allocation_id: int) -> HttpResponse:
    return _simple_post(request, allocation_id, allocation_recompute, "已按最新得分重新计算")


@staff_required
@require_POST
def allocation_submit_view(request: AuthenticatedRequest, allocation_id: int) -> HttpResponse:
    return _simple_post(
        request, allocation_id, allocation_submit, "已提交审批，须由另一位审批人批准"
    )


@staff_required
@require_POST
def allocation_approve_view(request: AuthenticatedRequest, allocation_id: int) -> HttpResponse:
    return _simple_post(request, allocation_id, allocation_approve, "资金分配已批准，已冻结")


@staff_required
@require_POST
def allocation_return_view(request: AuthenticatedRequest, allocation_id: int) -> HttpResponse:
    allocation = access_allocation(request.user, allocation_id)
    form = ReturnForm(request.POST)
    if not form.is_valid():
        return _detail(request, allocation, status=400, return_form=form)
    try:
        allocation_return(
            actor=request.user,
            allocation=allocation,
            expected_version=form.cleaned_data["version"],
            reason=form.cleaned_data["reason"],
            ip=client_ip(request),
        )
    except ServiceError as error:
        return _refused(request, allocation_id, error)
    messages.success(request, "已退回编制人")
    return redirect("performance:allocations:detail", allocation.pk)


@require_GET
@staff_required
def allocation_whatif_view(request: AuthenticatedRequest, allocation_id: int) -> HttpResponse:
    """The what-if: a GET form (works without JavaScript); nothing is saved."""
    allocation = access_allocation(request.user, allocation_id)
    if not is_province_side(request.user):
        raise Http404("页面不存在")
    items = list(allocation.scheme.items.all())
    asked = "budget" in request.GET
    form = WhatIfForm(
        request.GET if asked else None,
        items=items,
        initial=WhatIfForm.initial_from(allocation, items),
    )
    result = None
    refusal = ""
    status = 200
    if asked and form.is_valid():
        amounts = form.amounts()
        try:
            result = allocation_whatif(
                allocation,
                overrides=form.overrides(),
                budget_fen=amounts["budget_fen"] or 0,
                base_fen=amounts["base_fen"] or 0,
                floor_fen=amounts["floor_fen"] or 0,
                cap_fen=amounts["cap_fen"],
            )
        except ServiceError as error:
            refusal = refusal_text(error)
            status = 400
    elif asked:
        status = 400
    return render(
        request,
        "performance/allocations/whatif.html",
        {
            "allocation": allocation,
            "form": form,
            "result": result,
            "rows": [
                {
                    "code": r.code,
                    "name": r.name,
                    "score_now": r.score_now,
                    "rank_now": r.rank_now,
                    "now_yuan": yuan(r.amount_now),
                    "score_then": r.score_then,
                    "rank_then": r.rank_then,
                    "then_yuan": yuan(r.amount_then),
                    "diff_fen": r.diff_fen,
                    "diff_yuan": yuan(r.diff_fen),
                    "rank_up": r.rank_up,
                    "rank_down": -r.rank_up,
                }
                for r in (result.rows if result else [])
            ],
            "total_now": yuan(result.total_now) if result else "",
            "total_then": yuan(result.total_then) if result else "",
            "total_diff": yuan(result.total_then - result.total_now) if result else "",
            "refusal": refusal,
        },
        status=status,
    )


def _download(request: AuthenticatedRequest, allocation_id: int, extension: str) -> HttpResponse:
    allocation = access_allocation(request.user, allocation_id)
    if not is_province_side(request.user):
        raise Http404("页面不存在")
    lines = visible_lines(request.user, allocation)
    try:
        data = (
            allocation_pdf(allocation, lines)
            if extension == "pdf"
            else allocation_xlsx(allocation, lines)
        )
    except BulletinFontMissing as error:
        return HttpResponse(str(error), status=503, content_type="text/plain; charset=utf-8")
    allocation_export_record(
        actor=request.user, allocation=allocation, fmt=extension, ip=client_ip(request)
    )
    content_type = (
        "application/pdf"
        if extension == "pdf"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = attachment_disposition(f"{allocation.name}.{extension}")
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "no-store"
    return response


@require_GET
@staff_required
def allocation_pdf_view(request: AuthenticatedRequest, allocation_id: int) -> HttpResponse:
    return _download(request, allocation_id, "pdf")


@require_GET
@staff_required
def allocation_xlsx_view(request: AuthenticatedRequest, allocation_id: int) -> HttpResponse:
    return _download(request, allocation_id, "xlsx")
