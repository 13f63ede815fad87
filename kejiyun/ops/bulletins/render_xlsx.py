"""A bulletin as an Excel workbook: sheets 概要 (headline figures), 排名 (ranking), 落后指标
(lagging centres) and 工作汇报摘录 (work report excerpts). Figures are written as numbers
with a number format, so they can be sorted and summed; a missing figure is an empty cell."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Font, PatternFill  # type: ignore[import-untyped]
from openpyxl.worksheet.worksheet import Worksheet  # type: ignore[import-untyped]

from kejiyun.ops.bulletins.content import lag_reason
from kejiyun.ops.indicators import BY_KEY, Kind
from kejiyun.ops.models import Bulletin

HEADER_FILL = PatternFill("solid", fgColor="E6ECF5")


def _format(key: str) -> str:
    kind = BY_KEY[key].kind
    if kind == Kind.COUNT:
        return "#,##0"
    if kind == Kind.SHARE:
        return "0.0%"
    return "#,##0.00"


def header_row(sheet: Worksheet, names: list[str], widths: list[int]) -> None:
    sheet.append(names)
    for index, cell in enumerate(sheet[sheet.max_row], start=0):
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        sheet.column_dimensions[cell.column_letter].width = widths[index]
    sheet.freeze_panes = f"A{sheet.max_row + 1}"  # a string: sheet.cell() would add a row


def _number(sheet: Worksheet, row: int, column: int, key: str, value: float | None) -> None:
    cell = sheet.cell(row=row, column=column, value=value)
    cell.number_format = _format(key)


def cells_as_text(book: Workbook) -> None:
    """Every text cell stays text: a commentary or work-report excerpt typed as
    "=HYPERLINK(…)" must not become a live formula in the recipients' Excel."""
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"


def clean_text(value: object) -> object:
    """Text without the control characters an .xlsx cannot hold (openpyxl refuses them)."""
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def bulletin_xlsx(bulletin: Bulletin, content: dict[str, Any]) -> bytes:
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "概要"
    summary.append([clean_text(bulletin.title)])
    summary["A1"].font = Font(bold=True, size=14)
    summary.append(["统计期", content["period"]["label"]])
    summary.append(["地区", content["region"]["name"]])
    summary.append(["发布中心", bulletin.centre.name])
    summary.append(["起草人", str(bulletin.author)])
    summary.append(["审核人", str(bulletin.approver) if bulletin.approver else "（待审核）"])
    summary.append(
        ["发布日期", f"{bulletin.published_at:%Y-%m-%d}" if bulletin.published_at else "未发布"]
    )
    summary.append([])
    period = content["period"]
    header_row(
        summary,
        ["指标", "本期", f"上期（{period['previous']}）", f"去年同期（{period['last_year']}）"],
        [34, 16, 22, 22],
    )
    summary.freeze_panes = None
    for line in content["headline"]:
        summary.append([line["name"]])
        row = summary.max_row
        for column, field in ((2, "value"), (3, "previous"), (4, "last_year")):
            _number(summary, row, column, line["key"], line[field])
    summary.append([])
    summary.append(["点评"])
    summary.cell(row=summary.max_row, column=1).font = Font(bold=True)
    summary.append([clean_text(bulletin.commentary)])
    summary.cell(row=summary.max_row, column=1).alignment = Alignment(wrap_text=True)

    ranking = book.create_sheet("排名")
    indicators = content["indicators"]
    header_row(
        ranking,
        ["名次", "地区", "服务中心", *[i["name"] for i in indicators], "平均名次"],
        [8, 14, 28, *([18] * len(indicators)), 10],
    )
    for line in content["ranking"]:
        ranking.append([line["rank"], line["name"], line["centre"]])
        row = ranking.max_row
        for offset, ind in enumerate(indicators):
            _number(ranking, row, 4 + offset, ind["key"], line["values"].get(ind["key"]))
        ranking.cell(row=row, column=4 + len(indicators), value=line["mean_rank"])

    lagging = book.create_sheet("落后指标")
    header_row(lagging, ["地区", "指标", "数值", "中位数", "原因"], [14, 30, 16, 16, 30])
    for centre in content["lagging"]:
        for lag in centre["lags"]:
            key = lag["key"]
            lagging.append(
                [
                    centre["name"],
                    lag["name"],
                    None,
                    None,
                    lag_reason(lag, content["lag_percent"], BY_KEY[key].better),
                ]
            )
            row = lagging.max_row
            _number(lagging, row, 3, key, lag["value"])
            _number(lagging, row, 4, key, lag["median"])

    excerpts = book.create_sheet("工作汇报摘录")
    header_row(excerpts, ["地区", "半年", "存在的困难问题", "下半年工作安排"], [14, 14, 60, 60])
    for excerpt in content["excerpts"]:
        excerpts.append(
            [clean_text(excerpt[field]) for field in ("name", "half", "difficulties", "plans")]
        )
        for cell in excerpts[excerpts.max_row]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")

    cells_as_text(book)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
