"""The staff page that rebuilds the operations rollups of a range of days in the background.
Province staff and administrators only; everyone else gets 404."""

from __future__ import annotations

from datetime import timedelta

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.background.services import run_start
from kejiyun.ops.models import RollupState
from kejiyun.ops.rebuild.forms import RebuildForm
from kejiyun.ops.rebuild.runs import REBUILD_KIND, may_rebuild, rebuild_key
from kejiyun.ops.rollups import STATE_ID


@require_http_methods(["GET", "POST"])
@staff_required
def rollups_rebuild(request: AuthenticatedRequest) -> HttpResponse:
    if not may_rebuild(request.user):
        raise Http404("页面不存在")
    today = timezone.localdate()
    form = RebuildForm(
        request.POST or None, initial={"start": today - timedelta(days=31), "end": today}
    )
    if request.method == "POST" and form.is_valid():
        start, end = form.cleaned_data["start"], form.cleaned_data["end"]
        run = run_start(
            kind=REBUILD_KIND,
            owner=request.user,
            title=_("重建运营数据：%(start)s 至 %(end)s") % {"start": start, "end": end},
            key=rebuild_key(request.user, start, end),
            params={"start": start.isoformat(), "end": end.isoformat()},
            back_url=reverse("ops:rebuild:rollups"),
            fresh_seconds=0,
        )
        return redirect("background:run", run_id=run.pk)
    return render(
        request,
        "ops/rebuild/rollups.html",
        {"form": form, "state": RollupState.objects.filter(pk=STATE_ID).first()},
        status=400 if request.method == "POST" else 200,
    )
