"""Reading uploaded .xlsx files and writing templates and exports, with openpyxl.

Nothing here touches the database: reading turns a file into `SheetRow`s (header → text),
writing turns column specifications and rows into a workbook.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Any

from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet.datavalidation import DataValidation  # type: ignore[import-untyped]

from kejiyun.common.errors import ServiceError
from kejiyun.common.uploads import XLSX, bytes_check

TOO_BIG = "文件超过5MB，请分批导入。"
NOT_XLSX = "只支持 Excel .xlsx 文件，请使用平台提供的模板。"
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_IMPORT_ROWS = 5000
INSTRUCTIONS_SHEET = "填写说明"
# How many rows of the data sheet carry the drop-down lists and the text format.
TEMPLATE_ROWS = MAX_IMPORT_ROWS + 1


def xlsx_check(data: bytes, *, filename: str | None) -> None:
    """Refuse a file over MAX_UPLOAD_BYTES or one that is not an Excel workbook by its content
    (`kejiyun.common.uploads`: a size- and ratio-limited zip archive whose main part is a
    workbook, named .xlsx unless `filename` is None); openpyxl then reads the rows."""
    bytes_check(
        data,
        filename=filename,
        allowed=(XLSX,),
        max_bytes=MAX_UPLOAD_BYTES,
        too_big=TOO_BIG,
        bad_type=NOT_XLSX,
        error=SheetError,
    )


class SheetError(ServiceError):
    """The file as a whole cannot be read or applied; `messages[0]` is shown to the user."""


@dataclass(frozen=True)
class Column:
    """One column of an import template."""

    header: str
    required: bool = False
    note: str = ""
    choices: tuple[str, ...] = ()
    example: str = ""
    width: int = 16
    text: bool = False  # stored as text so Excel keeps leading zeros and long digit strings

    @property
    def label(self) -> str:
        return f"{self.header}*" if self.required else self.header


@dataclass(frozen=True)
class SheetRow:
    """One data row of an uploaded sheet: its Excel row number and its cells as text."""

    number: int
    values: dict[str, str] = field(default_factory=dict)

    def get(self, header: str) -> str:
        return self.values.get(header, "")


def _header_name(value: Any) -> str:
    text = "" if value is None else str(value)
    return text.strip().rstrip("*＊").strip()


def cell_text(value: Any) -> str:
    """A cell's value as the text a person typed: 13800001234.0 → "13800001234"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_rows(data: bytes, *, sheet_title: str, columns: Sequence[Column]) -> list[SheetRow]:
    """Parse an uploaded workbook into data rows; raise `SheetError` for a bad file.

    The sheet named `sheet_title` is read (the first sheet if there is none by that name);
    row 1 holds the headers, a trailing * on a header is ignored, and blank rows are skipped.
    """
    xlsx_check(data, filename=None)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise SheetError("无法读取该文件，请确认它是用 Excel 保存的 .xlsx 文件。") from exc
    try:
        return _read_sheet(workbook, sheet_title=sheet_title, columns=columns)
    except SheetError:
        raise
    except Exception as exc:
        raise SheetError("无法读取该文件，请确认它是用 Excel 保存的 .xlsx 文件。") from exc
    finally:
        workbook.close()


def _read_sheet(workbook: Any, *, sheet_title: str, columns: Sequence[Column]) -> list[SheetRow]:
    named = sheet_title in workbook.sheetnames
    sheet = workbook[sheet_title] if named else workbook.worksheets[0]
    lines = sheet.iter_rows(values_only=True)
    header_cells = next(lines, None)
    if header_cells is None:
        raise SheetError("表格是空的：第1行应为列名。")
    known = {c.header for c in columns}
    positions: dict[str, int] = {}
    for index, value in enumerate(header_cells):
        name = _header_name(value)
        if name in known and name not in positions:
            positions[name] = index
    missing = [c.header for c in columns if c.required and c.header not in positions]
    if missing:
        raise SheetError(f"第1行缺少必填列：{'、'.join(missing)}。请使用平台提供的模板。")
    rows: list[SheetRow] = []
    for number, cells in enumerate(lines, start=2):
        values = {
            name: cell_text(cells[index]) if index < len(cells) else ""
            for name, index in positions.items()
        }
        if not any(values.values()):
            continue
        if len(rows) >= MAX_IMPORT_ROWS:
            raise SheetError(f"数据超过{MAX_IMPORT_ROWS}行，请分批导入。")
        rows.append(SheetRow(number=number, values=values))
    if not rows:
        raise SheetError("表格中没有数据行：请从第2行起填写。")
    return rows


_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def template_workbook(*, sheet_title: str, columns: Sequence[Column]) -> bytes:
    """An empty import template: the data sheet with headers, drop-down lists and text
    formats, and an instructions sheet that explains each column and shows an example."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        cell = sheet.cell(row=1, column=index, value=column.label)
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
        sheet.column_dimensions[letter].width = column.width
        if column.text:
            sheet.column_dimensions[letter].number_format = "@"
        if column.choices:
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(column.choices) + '"',
                allow_blank=not column.required,
                showErrorMessage=True,
                errorTitle="无效的选项",
                error=f"请从下拉列表中选择{column.header}。",
            )
            validation.add(f"{letter}2:{letter}{TEMPLATE_ROWS}")
            sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"

    notes = workbook.create_sheet(INSTRUCTIONS_SHEET)
    notes.append(["列名", "是否必填", "填写说明", "可选值", "示例"])
    for cell in notes[1]:
        cell.font = _HEADER_FONT
        cell.fill = _HEADER_FILL
    for column in columns:
        notes.append(
            [
                column.header,
                "必填" if column.required else "选填",
                column.note,
                "、".join(column.choices),
                column.example,
            ]
        )
    notes.append([])
    notes.append([f"在“{sheet_title}”表中从第2行起每行填写一条；本说明表中的示例不会被导入。"])
    notes.append(["带 * 的列必须填写。同一文件重复导入时，已存在的记录会跳过，不会重复登记。"])
    for letter, width in zip("ABCDE", (18, 10, 60, 40, 30), strict=True):
        notes.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _literal(sheet: Any, value: object) -> object:
    """A cell that shows `value` as typed: text is never read as a formula (a demand titled
    "=HYPERLINK(…)" stays text), and characters Excel cannot store are dropped."""
    if not isinstance(value, str):
        return value
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


def write_export(
    target: IO[bytes],
    *,
    sheet_title: str,
    headers: Sequence[str],
    rows: Iterable[Sequence[object]],
    notes: Callable[[], Sequence[str]],
) -> None:
    """Write an export in openpyxl's write-only mode: the data sheet, then a notes sheet
    whose lines are asked for once every row is written (so they can count the rows)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(sheet_title)
    sheet.freeze_panes = "A2"
    sheet.append(list(headers))
    for row in rows:
        sheet.append([_literal(sheet, value) for value in row])
    info = workbook.create_sheet("说明")
    for line in notes():
        if line:
            info.append([line])
    workbook.save(target)
