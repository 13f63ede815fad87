"""What every importer shares: its interface, the row report, and a reader for one row."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

from django.core.exceptions import ValidationError

from kejiyun.spreadsheets.workbooks import Column, SheetRow

if TYPE_CHECKING:
    from kejiyun.accounts.models import User

EXISTS_MESSAGE = "已存在，跳过"


@dataclass(frozen=True)
class RowIssue:
    """One problem in one cell, as shown in the report."""

    row: int
    column: str
    message: str


@dataclass
class RowOutcome:
    """The verdict on one data row: errors, already present, or ready to create `record`."""

    row: int
    issues: list[RowIssue] = field(default_factory=list)
    exists: bool = False
    record: object | None = None

    @property
    def is_error(self) -> bool:
        return bool(self.issues)

    @property
    def is_new(self) -> bool:
        return not self.issues and not self.exists and self.record is not None


@dataclass(frozen=True)
class ImportReport:
    outcomes: list[RowOutcome]

    @property
    def issues(self) -> list[RowIssue]:
        return [issue for outcome in self.outcomes for issue in outcome.issues]

    @property
    def error_rows(self) -> list[int]:
        return [o.row for o in self.outcomes if o.is_error]

    @property
    def skipped_rows(self) -> list[int]:
        return [o.row for o in self.outcomes if not o.is_error and o.exists]

    @property
    def new_outcomes(self) -> list[RowOutcome]:
        return [o for o in self.outcomes if o.is_new]

    @property
    def has_errors(self) -> bool:
        return any(o.is_error for o in self.outcomes)


class Importer(Protocol):
    """One kind of paper record that staff bring in from a spreadsheet template.

    `check` validates every row against the file and the database without writing;
    `create` writes one checked record (inside the caller's transaction).
    """

    kind: str
    title: str
    sheet_title: str
    object_type: str
    columns: tuple[Column, ...]

    def check(self, rows: Sequence[SheetRow], *, user: User) -> list[RowOutcome]: ...

    def create(self, record: object, *, actor: User) -> None: ...


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class RowReader:
    """Reads cells of one row, collecting issues instead of raising."""

    def __init__(self, row: SheetRow) -> None:
        self.row = row
        self.outcome = RowOutcome(row=row.number)

    def error(self, column: str, message: str) -> None:
        self.outcome.issues.append(RowIssue(row=self.row.number, column=column, message=message))

    def text(self, column: Column, *, max_length: int | None = None) -> str:
        value = self.row.get(column.header)
        if column.required and not value:
            self.error(column.header, "必填，不能为空")
        elif max_length is not None and len(value) > max_length:
            self.error(column.header, f"不能超过{max_length}个字")
        return value

    def validated(self, column: Column, *, value: str, validator: object) -> bool:
        """Run a Django validator over `value`; report its message(s) and return success."""
        if not value:
            if column.required:
                self.error(column.header, "必填，不能为空")
            return False
        try:
            validator(value)  # type: ignore[operator]
        except ValidationError as exc:
            for message in exc.messages:
                self.error(column.header, message)
            return False
        return True

    def choice(self, column: Column, *, labels: dict[str, str], default: str) -> str:
        """The stored value for a label chosen from `labels` (label → value)."""
        value = self.row.get(column.header)
        if not value:
            if column.required:
                self.error(column.header, "必填，不能为空")
            return default
        if value not in labels:
            self.error(column.header, f"请从下拉列表中选择：{'、'.join(labels)}")
            return default
        return labels[value]

    def date(self, column: Column) -> date | None:
        value = self.row.get(column.header)
        if not value:
            return None
        if _DATE.match(value):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        self.error(column.header, "日期格式应为 YYYY-MM-DD，如 2026-12-31")
        return None
