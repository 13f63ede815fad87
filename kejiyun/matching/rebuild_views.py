"""The staff page of the match index: its size, and a rebuild that runs in the background.
Province staff and administrators only; everyone else gets 404."""

from __future__ import annotations

from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kejiyun.accounts.guards import AuthenticatedRequest, staff_required
from kejiyun.background.services import run_start
from kejiyun.matching.index import KINDS, current_stamp
from kejiyun.matching.rebuild import REBUILD_KIND, may_rebuild_index, rebuild_key

NAMES = {"experts": "科技工作者", "demands": "需求", "teams": "团队与工作室", "results": "科技成果"}


@require_http_methods(["GET", "POST"])
@staff_required
def index_rebuild(request: AuthenticatedRequest) -> HttpResponse:
    if not may_rebuild_index(request.user):
        raise Http404("页面不存在")
    if request.method == "POST":
        run = run_start(
            kind=REBUILD_KIND,
            owner=request.user,
            title=_("重建匹配索引"),
            key=rebuild_key(request.user),
            back_url=reverse("matching:index_rebuild"),
            fresh_seconds=0,
        )
        return redirect("background:run", run_id=run.pk)
    rows = [(NAMES[kind], current_stamp(kind).count) for kind in KINDS]
    return render(request, "matching/index_rebuild.html", {"rows": rows})
