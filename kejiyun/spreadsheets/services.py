"""Writes for spreadsheet import and export: upload a batch, apply it, record an export."""

from __future__ import annotations

import hashlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import IO, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.common.crypto import seal
from kejiyun.common.errors import NotPermitted, ServiceError
from kejiyun.spreadsheets.exporters import MAX_EXPORT_ROWS, get_export_list
from kejiyun.spreadsheets.importers import get_importer, import_batch_report
from kejiyun.spreadsheets.models import ROWS_PURPOSE, ImportBatch
from kejiyun.spreadsheets.workbooks import SheetError, read_rows, write_export


class ProgressReport(Protocol):
    """Where long work reports how far it got (`kejiyun.background.progress.Progress`)."""

    def start(self, total: int, message: str = "") -> None: ...

    def advance(self, steps: int = 1, message: str | None = None) -> None: ...


class _Silent:
    def start(self, total: int, message: str = "") -> None:
        pass

    def advance(self, steps: int = 1, message: str | None = None) -> None:
        pass


def import_batch_create(*, kind: str, actor: User, data: bytes, filename: str) -> ImportBatch:
    """Parse an uploaded file and keep its rows server-side for the report and the confirm
    step. Raises `SheetError` for a file that cannot be read; stores nothing then."""
    importer = get_importer(kind)
    rows = read_rows(data, sheet_title=importer.sheet_title, columns=importer.columns)
    return ImportBatch.objects.create(
        kind=kind,
        user=actor,
        sha256=hashlib.sha256(data).hexdigest(),
        filename=filename[:200],
        rows_sealed=seal(
            json.dumps([{"row": row.number, "values": row.values} for row in rows]),
            purpose=ROWS_PURPOSE,
        ),
        row_count=len(rows),
    )


def _conflict() -> SheetError:
    """Someone registered one of the batch's records between the check and the write (the
    model validation or a unique index notices). The whole import is rolled back, the
    batch's claim included."""
    return SheetError("导入时数据已被他人修改，未导入任何数据，请稍后重试。", code="batch_conflict")


@dataclass(frozen=True)
class ImportResult:
    created: int
    skipped: int
    invalid: int


def import_batch_check(*, batch: ImportBatch, actor: User) -> None:
    """The quick refusals of a confirm, before any work: not the uploader, already applied,
    expired. Raises; changes nothing."""
    if batch.user_id != actor.pk:
        raise NotPermitted("只有上传该文件的人可以确认导入。")
    if batch.is_applied:
        raise SheetError("该文件已经导入过，不能重复确认。", code="batch_applied")
    if batch.is_expired():
        raise SheetError("上传已超过24小时，请重新上传文件。", code="batch_expired")


def import_batch_apply(
    *,
    batch: ImportBatch,
    actor: User,
    valid_rows_only: bool,
    progress: ProgressReport | None = None,
) -> ImportResult:
    """Write a batch's new rows in one transaction; rows already present are skipped.

    Only the uploader may apply a batch, once, within `ImportBatch.LIFETIME`. The rows are
    checked again first (the database may have changed since the report). A batch with
    errors writes nothing unless `valid_rows_only` is set. `progress` hears of the check and
    of every row written (the import runs in the background, kejiyun/spreadsheets/background.py).
    """
    progress = progress or _Silent()
    import_batch_check(batch=batch, actor=actor)
    importer = get_importer(batch.kind)
    progress.start(batch.row_count, "正在检查数据……")
    report = import_batch_report(batch=batch, user=actor)
    progress.advance(batch.row_count)
    if report.has_errors and not valid_rows_only:
        raise SheetError(
            "文件中有错误，未导入任何数据。请修改后重新上传，或选择“仅导入有效行”。",
            code="batch_has_errors",
        )
    new = report.new_outcomes
    result = ImportResult(
        created=len(new), skipped=len(report.skipped_rows), invalid=len(report.error_rows)
    )
    now = timezone.now()
    progress.start(len(new), "正在写入数据……")
    try:
        with transaction.atomic():
            claimed = ImportBatch.objects.filter(pk=batch.pk, applied_at__isnull=True).update(
                applied_at=now, rows_sealed="", result=asdict(result)
            )
            if claimed != 1:
                raise SheetError("该文件已经导入过，不能重复确认。", code="batch_applied")
            for outcome in new:
                try:
                    importer.create(outcome.record, actor=actor)
                except ValidationError as exc:
                    raise _conflict() from exc
                progress.advance()
            audit_record(
                action=AuditAction.SHEETS_IMPORT,
                user=actor,
                object_type=importer.object_type,
                object_id=str(batch.pk),
                detail={"created": result.created, "skipped": result.skipped},
            )
    except IntegrityError:
        raise _conflict() from None
    batch.refresh_from_db()
    return result


def import_batches_purge(*, now: datetime | None = None) -> int:
    """Empty the stored rows (personal data) of batches that can no longer be confirmed.
    Returns how many batches were emptied; safe to run any number of times."""
    cutoff = (now or timezone.now()) - ImportBatch.LIFETIME
    return (
        ImportBatch.objects.filter(applied_at__isnull=True, created_at__lt=cutoff)
        .exclude(rows_sealed="")
        .update(rows_sealed="")
    )


@dataclass(frozen=True)
class ExportFile:
    file: IO[bytes]
    filename: str
    rows: int
    truncated: bool


def list_export(
    *,
    name: str,
    actor: User,
    approved_request: int | None = None,
    progress: ProgressReport | None = None,
) -> ExportFile:
    """Write the staff list `name` as the actor sees it to a temporary .xlsx file (at most
    MAX_EXPORT_ROWS rows) and record the export in the audit log. `progress` hears of every
    row written (a large export runs in the background).

    A list with personal columns above settings.BULK_EXPORT_APPROVAL_ROWS rows is refused
    unless a second person approved it (`approved_request`, kejiyun/spreadsheets/approvals.py)."""
    export = get_export_list(name)
    if (
        export.personal
        and approved_request is None
        and export.queryset(user=actor).count() > settings.BULK_EXPORT_APPROVAL_ROWS
    ):
        raise ServiceError(
            "该导出包含个人信息且超过批量阈值，须经第二人审批后下载。", code="needs_approval"
        )
    items = export.queryset(user=actor)[: MAX_EXPORT_ROWS + 1]
    counted = 0
    truncated = False
    report = progress or _Silent()
    if progress is not None:
        report.start(min(items.count(), MAX_EXPORT_ROWS), "正在生成表格……")

    def rows() -> Iterator[list[object]]:
        nonlocal counted, truncated
        for item in items.iterator(chunk_size=2000):
            if counted == MAX_EXPORT_ROWS:
                truncated = True
                break
            counted += 1
            report.advance()
            yield export.row(item)

    now = timezone.localtime()
    target = tempfile.TemporaryFile()  # noqa: SIM115 (the response closes it)
    try:
        write_export(
            target,
            sheet_title=export.title,
            headers=[column.header for column in export.columns],
            rows=rows(),
            notes=lambda: [
                export.title,
                f"导出时间：{now:%Y-%m-%d %H:%M}",
                f"共{counted}行。手机号、身份证号已脱敏。",
                f"超过{MAX_EXPORT_ROWS}行，只导出了前{MAX_EXPORT_ROWS}行。" if truncated else "",
            ],
        )
    except BaseException:
        target.close()
        raise
    target.seek(0)
    audit_record(
        action=AuditAction.SHEETS_EXPORT,
        user=actor,
        object_type=name,
        detail={
            "list": name,
            "rows": counted,
            "truncated": truncated,
            **({"approved_request": approved_request} if approved_request is not None else {}),
        },
    )
    return ExportFile(
        file=target,
        filename=f"{export.title}-{now:%Y%m%d}.xlsx",
        rows=counted,
        truncated=truncated,
    )
