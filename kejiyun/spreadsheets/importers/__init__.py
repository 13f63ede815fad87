"""Spreadsheet importers: one module per kind of record, all with the `Importer` interface
(docs/requirements/style.md rule 19). `IMPORTERS` maps the kind in the URL to its importer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from kejiyun.spreadsheets.importers.base import (
    EXISTS_MESSAGE,
    Importer,
    ImportReport,
    RowIssue,
    RowOutcome,
)
from kejiyun.spreadsheets.importers.demands import DemandImporter
from kejiyun.spreadsheets.importers.workers import WorkerImporter
from kejiyun.spreadsheets.models import ImportBatch, ImportKind
from kejiyun.spreadsheets.workbooks import SheetRow

if TYPE_CHECKING:
    from kejiyun.accounts.models import User

IMPORTERS: dict[str, Importer] = {
    ImportKind.DEMANDS.value: DemandImporter(),
    ImportKind.WORKERS.value: WorkerImporter(),
}


def get_importer(kind: str) -> Importer:
    """The importer for `kind`; an unknown kind is a 404."""
    try:
        return IMPORTERS[kind]
    except KeyError:
        raise Http404("没有这种导入模板") from None


def import_batch_report(*, batch: ImportBatch, user: User) -> ImportReport:
    """Check every stored row of `batch` against the database as it is now (no writes)."""
    rows = [SheetRow(number=item["row"], values=item["values"]) for item in batch.stored_rows()]
    return ImportReport(get_importer(batch.kind).check(rows, user=user))


__all__ = [
    "EXISTS_MESSAGE",
    "IMPORTERS",
    "ImportReport",
    "Importer",
    "RowIssue",
    "RowOutcome",
    "get_importer",
    "import_batch_report",
]
