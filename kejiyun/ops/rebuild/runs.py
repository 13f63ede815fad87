"""Rebuilding the operations rollups of a range of days, from a staff page, in the background
(kejiyun/background; ADR 0019). The same service as `manage.py ops_rollup`.

Safe to run twice: each month's day and month rows are deleted and written again in one
transaction (under the rollups' advisory lock on PostgreSQL), so a second run, or a run after
one that died half-way, writes the same rows; the months an interrupted run finished are
simply done again.
"""

from __future__ import annotations

from datetime import date

from django.urls import reverse
from django.utils.translation import gettext as _

from kejiyun.accounts.models import User
from kejiyun.background.models import Run
from kejiyun.background.progress import Progress
from kejiyun.background.registry import Outcome, handler_register
from kejiyun.ops.rollups import rollup_days
from kejiyun.regions.models import Region

REBUILD_KIND = "ops.rollup_rebuild"


def may_rebuild(user: User) -> bool:
    """Province staff and administrators: a rebuild touches every centre's rows."""
    if user.sees_everything:
        return True
    centre = user.centre if user.is_centre_staff else None
    return centre is not None and centre.region.level == Region.Level.PROVINCE


def rebuild_key(user: User, start: date, end: date) -> str:
    return f"{REBUILD_KIND}:{user.pk}:{start.isoformat()}:{end.isoformat()}"


def _rebuild(run: Run, progress: Progress) -> Outcome:
    if not may_rebuild(User.objects.get(pk=run.owner_id)):
        raise PermissionError("the owner may no longer rebuild the rollups")
    start = date.fromisoformat(str(run.params["start"]))
    end = date.fromisoformat(str(run.params["end"]))
    result = rollup_days(start=start, end=end, progress=progress)
    return Outcome(
        _("已重建 %(start)s 至 %(end)s：%(days)s 天、%(months)s 个月，写入 %(rows)s 行。")
        % {
            "start": start,
            "end": end,
            "days": result.days,
            "months": result.months,
            "rows": result.rows,
        },
        url=reverse("ops:rebuild:rollups"),
        url_label=_("返回运营数据重建"),
    )


def register() -> None:
    handler_register(REBUILD_KIND, _rebuild)
