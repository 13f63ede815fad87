"""Imports and large exports as background runs (kejiyun/background; ADR 0019).

Registered by `SpreadsheetsConfig.ready`. Why each is safe to run twice:

- **Import** (`sheets.import`, one run per batch: key `sheets.import:<batch id>`): the batch
  is claimed and its rows written in one transaction, so an attempt that dies half-way wrote
  nothing and the next one starts over; an attempt that finds the batch applied (the previous
  one committed, then died before saying so) reports the stored result and writes nothing.
- **Export** (`sheets.export`): it only reads and writes a new file; the file of the run that
  finishes is the one kept. An approved bulk export claims its request and makes the file in
  one transaction (an interrupted attempt claimed nothing) and leaves a file for one download.
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _

from kejiyun.accounts.models import User
from kejiyun.background.models import Run
from kejiyun.background.progress import Progress
from kejiyun.background.registry import Outcome, handler_register
from kejiyun.spreadsheets.approvals import export_request_download
from kejiyun.spreadsheets.exporters import get_export_list
from kejiyun.spreadsheets.models import ExportRequest, ImportBatch
from kejiyun.spreadsheets.services import ExportFile, import_batch_apply, list_export

IMPORT_KIND = "sheets.import"
EXPORT_KIND = "sheets.export"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def import_message(created: int, skipped: int) -> str:
    return _("导入完成：新增%(created)s条，已存在跳过%(skipped)s条。") % {
        "created": created,
        "skipped": skipped,
    }


def import_key(batch_id: int) -> str:
    return f"{IMPORT_KIND}:{batch_id}"


def _import(run: Run, progress: Progress) -> Outcome:
    batch = ImportBatch.objects.get(pk=run.params["batch"])
    back = reverse("spreadsheets:batch", kwargs={"batch_id": batch.pk})
    label = _("查看导入结果")
    if batch.is_applied:  # an earlier attempt committed the import
        stored = batch.result or {}
        return Outcome(
            import_message(int(stored.get("created", 0)), int(stored.get("skipped", 0))),
            url=back,
            url_label=label,
        )
    result = import_batch_apply(
        batch=batch,
        actor=User.objects.get(pk=run.owner_id),
        valid_rows_only=bool(run.params.get("valid_rows_only")),
        progress=progress,
    )
    return Outcome(import_message(result.created, result.skipped), url=back, url_label=label)


def _file_outcome(export: ExportFile, *, once: bool) -> Outcome:
    with export.file:
        data = export.file.read()
    message = _("已生成%(rows)s行。") % {"rows": export.rows}
    if export.truncated:
        message += _("超过上限，只导出了前%(rows)s行。") % {"rows": export.rows}
    return Outcome(message, file=data, file_name=export.filename, file_type=XLSX_TYPE, once=once)


def _export(run: Run, progress: Progress) -> Outcome:
    actor = User.objects.get(pk=run.owner_id)
    request_id = run.params.get("request")
    if request_id is not None:
        request = ExportRequest.objects.get(pk=request_id)
        export = export_request_download(request=request, actor=actor, progress=progress)
        return _file_outcome(export, once=True)
    name = get_export_list(str(run.params["list"])).name
    return _file_outcome(list_export(name=name, actor=actor, progress=progress), once=False)


def register() -> None:
    handler_register(IMPORT_KIND, _import)
    handler_register(EXPORT_KIND, _export)
