"""A bulletin's PDF and workbook: made from its content, kept in the cache while its frozen
content stands, and made in the background (kejiyun/background; ADR 0019) when not kept.

A PDF takes one to two seconds to make (fpdf2 parses and subsets an 8 MB font), a draft's
preview also computes its figures from the rollups: a download of a file the cache holds is
sent at once, any other starts a run (`ops.bulletin_file`) and the person watches its
progress. Safe to run twice: making a file writes nothing but the cache entry and the run's
own result; the read receipt and the audit row are written when the file is downloaded (the
`delivered` hook), as for a direct download.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from kejiyun.accounts.models import User
from kejiyun.background.models import Run
from kejiyun.background.progress import Progress
from kejiyun.background.registry import Outcome, handler_register
from kejiyun.ops.bulletins.content import bulletin_content_build
from kejiyun.ops.bulletins.render_pdf import BulletinFontMissing, bulletin_pdf
from kejiyun.ops.bulletins.render_xlsx import bulletin_xlsx
from kejiyun.ops.bulletins.selectors import access_bulletin
from kejiyun.ops.bulletins.services import BulletinError, bulletin_export_record, bulletin_read
from kejiyun.ops.models import Bulletin
from kejiyun.ops.periods import Period

FILE_KIND = "ops.bulletin_file"
# A frozen bulletin's files never change until its status does: keep them for a day.
FILE_CACHE_SECONDS = 24 * 3600
CONTENT_TYPES = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
logger = logging.getLogger(__name__)


def bulletin_content(bulletin: Bulletin) -> dict[str, Any]:
    """The frozen content, or for a draft a preview of what submitting would freeze now."""
    if bulletin.content is not None:
        frozen: dict[str, Any] = bulletin.content
        return frozen
    return bulletin_content_build(
        region=bulletin.region,
        period=Period.parse(bulletin.period),
        indicators=bulletin.indicators,
        lag_percent=bulletin.lag_percent,
        now=timezone.now(),
    )


def file_cache_key(bulletin: Bulletin, extension: str) -> str | None:
    if bulletin.content is None:  # a draft's preview follows the rollups: never kept
        return None
    stamp = f"{bulletin.submitted_at:%Y%m%d%H%M%S%f}-{bulletin.approver_id or 0}"
    return f"ops:bulletin:{bulletin.pk}:{bulletin.status}:{stamp}:{extension}"


def bulletin_file_cached(bulletin: Bulletin, extension: str) -> bytes | None:
    """The file made earlier for this same frozen content, if the cache still holds it."""
    key = file_cache_key(bulletin, extension)
    if key is None:
        return None
    try:
        kept = cache.get(key)
    except Exception:  # a cache that is down only costs the time to render
        logger.warning("bulletin file cache unavailable", exc_info=True)
        return None
    return kept if isinstance(kept, bytes) else None


def bulletin_file_render(
    bulletin: Bulletin, extension: str, progress: Progress | None = None
) -> bytes:
    """Make the file now and keep it in the cache when its content is frozen."""
    if progress is not None:
        progress.start(2, _("正在汇总通报数据……"))
    content = bulletin_content(bulletin)
    if progress is not None:
        progress.advance(1, _("正在生成文件……"))
    data = (
        bulletin_pdf(bulletin, content) if extension == "pdf" else bulletin_xlsx(bulletin, content)
    )
    if progress is not None:
        progress.advance(1)
    key = file_cache_key(bulletin, extension)
    if key is not None:
        try:
            cache.set(key, data, FILE_CACHE_SECONDS)
        except Exception:
            logger.warning("bulletin file cache unavailable", exc_info=True)
    return data


def file_run_key(bulletin: Bulletin, extension: str, user: User) -> str:
    stamp = file_cache_key(bulletin, extension) or f"draft:{bulletin.pk}:{extension}"
    return f"{FILE_KIND}:{user.pk}:{stamp}"


def _owned_bulletin(run: Run) -> tuple[Bulletin, User]:
    owner = User.objects.get(pk=run.owner_id)
    try:
        return access_bulletin(owner, int(run.params["bulletin"])), owner
    except Http404:
        raise BulletinError(_("通报不存在，或您已无权查看。"), code="gone") from None


def _make(run: Run, progress: Progress) -> Outcome:
    bulletin, _owner = _owned_bulletin(run)
    extension = "pdf" if run.params.get("format") == "pdf" else "xlsx"
    try:
        data = bulletin_file_render(bulletin, extension, progress)
    except BulletinFontMissing as error:
        raise BulletinError(str(error), code="font_missing") from error
    return Outcome(
        _("通报文件已生成。"),
        url=reverse("ops:bulletins:detail", args=[bulletin.pk]),
        url_label=_("返回通报"),
        file=data,
        file_name=f"{bulletin.title}.{extension}",
        file_type=CONTENT_TYPES[extension],
    )


def _delivered(run: Run, user: Any, ip: str | None) -> None:
    """A download of the made file counts as a download of the bulletin: its centre's read
    receipt and the audit row."""
    bulletin = Bulletin.objects.filter(pk=run.params.get("bulletin")).first()
    if bulletin is None:
        return
    bulletin_read(reader=user, bulletin=bulletin)
    bulletin_export_record(actor=user, bulletin=bulletin, fmt=str(run.params.get("format")), ip=ip)


def register() -> None:
    handler_register(FILE_KIND, _make, delivered=_delivered)
