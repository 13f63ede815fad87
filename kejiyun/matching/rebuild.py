"""Rebuilding the match index from a staff page, in the background (kejiyun/background; ADR
0019): the same service as `manage.py rebuild_match_index`.

Safe to run twice: a build reads the tables and saves a new index beside the old one, then
renames it into place; a second build, or one after an interrupted build, does the same again
and the half-written copy of the dead one is never opened (only renamed directories are)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from kejiyun.accounts.models import User
from kejiyun.background.models import Run
from kejiyun.background.progress import Progress
from kejiyun.background.registry import Outcome, handler_register
from kejiyun.matching.index import match_index_rebuild
from kejiyun.regions.models import Region

REBUILD_KIND = "matching.index_rebuild"


def may_rebuild_index(user: User) -> bool:
    """Province staff and administrators: the index serves the whole province."""
    if user.sees_everything:
        return True
    centre = user.centre if user.is_centre_staff else None
    return centre is not None and centre.region.level == Region.Level.PROVINCE


def rebuild_key(user: User) -> str:
    return f"{REBUILD_KIND}:{user.pk}"


def _rebuild(run: Run, progress: Progress) -> Outcome:
    if not may_rebuild_index(User.objects.get(pk=run.owner_id)):
        raise PermissionError("the owner may no longer rebuild the match index")
    sizes = match_index_rebuild(progress=progress)
    return Outcome(
        _(
            "匹配索引已重建：科技工作者 %(experts)s 个，需求 %(demands)s 个，"
            "团队与工作室 %(teams)s 个，科技成果 %(results)s 个。"
        )
        % sizes,
        url=reverse("matching:index_rebuild"),
        url_label=_("返回匹配索引"),
    )


def register() -> None:
    handler_register(REBUILD_KIND, _rebuild)
