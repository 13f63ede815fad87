"""Scheme pages: the list, a draft's form, publishing, the ranking with breakdowns and the
published formula. Reads come from `access_scheme` (404 for a draft without the scheme role),
and the centres shown are those of the viewer's jurisdiction; writes go through the services,
which refuse with a Chinese message and change nothing (a stale or frozen edit: 409)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.common.errors import ServiceError
from kejiyun.common.refusals import refusal_status, refusal_text
from kejiyun.integrity.models import Kind
from kejiyun.ops.indicators import BY_KEY
from kejiyun.ops.periods import Period, PeriodKind
from kejiyun.performance.discounts import REDUCES, flag_word
from kejiyun.performance.models import Normalisation, Scheme
from kejiyun.performance.roles import may_manage
from kejiyun.performance.schemes.forms import (
    ItemFormSet,
    SchemeForm,
    period_initial,
    scheme_input,
)
from kejiyun.performance.schemes.selectors import (
    access_scheme,
    own_code,
    scheme_period,
    scheme_scores,
    schemes_visible,
    visible_codes,
)
from kejiyun.performance.schemes.services import (
    scheme_create,
    scheme_publish,
    scheme_update,
)
from kejiyun.performance.scoring import CentreScore, SchemeError, fmt, unit_of


def _require_manager(request: AuthenticatedRequest) -> None:
    if not may_manage(request.user):
        raise PermissionDenied("只有具有考核方案制定权限的省级工作人员或管理员可以制定考核方案。")


@staff_required
def scheme_list(request: AuthenticatedRequest) -> HttpResponse:
    schemes = list(schemes_visible(request.user).select_related("created_by")[:200])
    # Ranking and formula only for schemes that score a centre the viewer may see.
    sees = {level: bool(visible_codes(request.user, level)) for level in Scheme.Level.values}
    for scheme in schemes:
        scheme.period_label = Period.parse(scheme.period).label  # type: ignore[attr-defined]
        scheme.readable = sees[scheme.level]  # type: ignore[attr-defined]
    return render(
        request,
        "performance/schemes/list.html",
        {"schemes": schemes, "may_manage": may_manage(request.user)},
    )


def _items_initial(scheme: Scheme) -> list[dict[str, Any]]:
    return [
        {
            "indicator": i.indicator,
            "weight": i.weight,
            "normalisation": i.normalisation,
            "target": i.target,
        }
        for i in scheme.items.all()
    ]


def _form_page(
    request: AuthenticatedRequest,
    form: SchemeForm,
    items: Any,
    *,
    scheme: Scheme | None,
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "performance/schemes/form.html",
        {"form": form, "items": items, "scheme": scheme},
        status=status,
    )


@require_http_methods(["GET", "POST"])
@staff_required
def scheme_new(request: AuthenticatedRequest) -> HttpResponse:
    _require_manager(request)
    if request.method == "GET":
        last_half = Period.containing(PeriodKind.HALF, timezone.localdate()).previous()
        form = SchemeForm(initial={"level": Scheme.Level.COUNTY, **period_initial(last_half.token)})
        return _form_page(request, form, ItemFormSet(prefix="items"), scheme=None)
    form = SchemeForm(request.POST)
    items = ItemFormSet(request.POST, prefix="items")
    if form.is_valid() and items.is_valid():
        try:
            scheme = scheme_create(actor=request.user, data=scheme_input(form, items))
        except ServiceError as error:
            form.add_error(None, refusal_text(error))
        else:
            messages.success(request, "考核方案草稿已保存")
            return redirect("performance:schemes:detail", scheme.pk)
    return _form_page(request, form, items, scheme=None, status=400)


@require_http_methods(["GET", "POST"])
@staff_required
def scheme_edit(request: AuthenticatedRequest, scheme_id: int) -> HttpResponse:
    scheme = access_scheme(request.user, scheme_id)
    _require_manager(request)
    if request.method == "GET":
        if scheme.status == Scheme.Status.PUBLISHED:
            messages.error(request, "该考核方案已发布，内容已冻结，不能再修改。")
            return redirect("performance:schemes:detail", scheme.pk)
        form = SchemeForm(
            initial={
                "version": scheme.version,
                "name": scheme.name,
                "level": scheme.level,
                "note": scheme.note,
                "discount_open_above": scheme.discount_open_above,
                **period_initial(scheme.period),
            }
        )
        items = ItemFormSet(prefix="items", initial=_items_initial(scheme))
        return _form_page(request, form, items, scheme=scheme)
    form = SchemeForm(request.POST)
    items = ItemFormSet(request.POST, prefix="items")
    if form.is_valid() and items.is_valid():
        try:
            scheme_update(
                actor=request.user,
                scheme=scheme,
                expected_version=form.cleaned_data.get("version") or 0,
                data=scheme_input(form, items),
            )
        except ServiceError as error:
            form.add_error(None, refusal_text(error))
            return _form_page(request, form, items, scheme=scheme, status=refusal_status(error))
        messages.success(request, "考核方案草稿已保存")
        return redirect("performance:schemes:detail", scheme.pk)
    if scheme.status == Scheme.Status.PUBLISHED:
        form.add_error(None, "该考核方案已发布，内容已冻结，不能再修改。")
        return _form_page(request, form, items, scheme=scheme, status=409)
    return _form_page(request, form, items, scheme=scheme, status=400)


def _item_rows(scheme: Scheme) -> list[dict[str, Any]]:
    rows = []
    for item in scheme.items.all():
        ind = BY_KEY.get(item.indicator)
        unit = unit_of(item.indicator) if ind else ""
        target = ""
        if item.target is not None and item.normalisation == Normalisation.TARGET:
            target = f"{fmt(item.target)}{' ' if unit and unit != '%' else ''}{unit}"
        rows.append(
            {
                "key": item.indicator,
                "name": ind.name if ind else item.indicator,
                "better": ind.better if ind else 0,
                "weight": item.weight,
                "normalisation": item.get_normalisation_display(),
                "method": item.normalisation,
                "target": target,
            }
        )
    return rows


def _detail(
    request: AuthenticatedRequest, scheme: Scheme, *, status: int = 200, refusal: str = ""
) -> HttpResponse:
    manager = may_manage(request.user)
    draft = scheme.status == Scheme.Status.DRAFT
    return render(
        request,
        "performance/schemes/detail.html",
        {
            "scheme": scheme,
            "period": scheme_period(scheme),
            "items": _item_rows(scheme),
            "readable": bool(visible_codes(request.user, scheme)),
            "may_edit": manager and draft,
            "may_publish": manager and draft,
            "refusal": refusal,
        },
        status=status,
    )


@staff_required
def scheme_detail(request: AuthenticatedRequest, scheme_id: int) -> HttpResponse:
    return _detail(request, access_scheme(request.user, scheme_id))


@require_POST
@staff_required
def scheme_publish_view(request: AuthenticatedRequest, scheme_id: int) -> HttpResponse:
    scheme = access_scheme(request.user, scheme_id)
    _require_manager(request)
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0
    try:
        scheme_publish(actor=request.user, scheme=scheme, expected_version=version)
    except ServiceError as error:
        fresh = access_scheme(request.user, scheme_id)
        return _detail(request, fresh, status=refusal_status(error), refusal=refusal_text(error))
    messages.success(request, "考核方案已发布，内容已冻结")
    return redirect("performance:schemes:detail", scheme.pk)


def _scores(scheme: Scheme) -> tuple[list[CentreScore], str]:
    try:
        return scheme_scores(scheme), ""
    except SchemeError as error:
        return [], str(error)


@staff_required
def scheme_ranking(request: AuthenticatedRequest, scheme_id: int) -> HttpResponse:
    scheme = access_scheme(request.user, scheme_id)
    codes = visible_codes(request.user, scheme)
    if not codes:
        raise Http404("页面不存在")
    scores, problem = _scores(scheme)
    shown = [s for s in scores if s.code in codes]
    return render(
        request,
        "performance/schemes/ranking.html",
        {
            "scheme": scheme,
            "period": scheme_period(scheme),
            "scores": shown,
            "scored": len(scores),
            "problem": problem,
            "own": own_code(request.user),
        },
    )


NORMALISATION_TEXT = {
    Normalisation.TARGET: (
        "越高越好的指标，得分比例 = 实际值 ÷ 目标值，最高为 1；越低越好的指标，"
        "实际值不高于目标值得 1，高于目标值时得分比例 = 目标值 ÷ 实际值"
        "（目标为 0 时，实际为 0 得 1，否则得 0）。"
    ),
    Normalisation.MINMAX: (
        "在有数值的同级中心中，得分比例 = (实际值 − 最小值) ÷ (最大值 − 最小值)；"
        "越低越好的指标反过来算，即 (最大值 − 实际值) ÷ (最大值 − 最小值)；"
        "各中心数值都相同时均得 1。"
    ),
    Normalisation.RANK: (
        "在 n 个有数值的同级中心中，得分比例 = 数值严格不如本中心的中心数 ÷ (n − 1)，"
        "并列的中心之间互不计入（大量中心并列垫底时都得 0）；"
        "只有 1 个中心有数值或各中心数值都相同时均得 1。"
    ),
}


def _discount_rows() -> list[dict[str, str]]:
    return [
        {
            "kind": Kind(kind).label,
            "indicators": "、".join(BY_KEY[key].name for key in keys),
        }
        for kind, keys in REDUCES.items()
    ]


@staff_required
def scheme_formula(request: AuthenticatedRequest, scheme_id: int) -> HttpResponse:
    scheme = access_scheme(request.user, scheme_id)
    codes = visible_codes(request.user, scheme)
    if not codes:
        raise Http404("页面不存在")
    scores, problem = _scores(scheme)
    choices = [s for s in scores if s.code in codes]
    wanted = (request.GET.get("centre") or "").strip()
    picked = next((s for s in choices if s.code == wanted), None)
    if picked is None:
        mine = own_code(request.user)
        picked = next((s for s in choices if s.code == mine), choices[0] if choices else None)
    items = _item_rows(scheme)
    methods = sorted({row["method"] for row in items})
    return render(
        request,
        "performance/schemes/formula.html",
        {
            "scheme": scheme,
            "period": scheme_period(scheme),
            "items": items,
            "total_weight": sum((row["weight"] for row in items), Decimal(0)),
            "methods": [
                {"name": Normalisation(m).label, "text": NORMALISATION_TEXT[Normalisation(m)]}
                for m in methods
            ],
            "discounts": _discount_rows(),
            "flag_word": flag_word(scheme.discount_open_above),
            "choices": choices,
            "picked": picked,
            "scored": len(scores),
            "problem": problem,
        },
    )
