"""An allocation as an Excel workbook: sheet 分配 (one row per centre: rank, score, base,
floor, cap, amount in yuan, and a total row that equals the budget exactly) and sheet
得分明细 (each centre's score line by line, as frozen in the allocation). Amounts are numbers
with two decimals (fen / 100), so they can be summed; the header block says who approved it
and when. The shared pieces (header rows, text cells kept as text) are the bulletins'."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.styles import Font  # type: ignore[import-untyped]

from kejiyun.ops.bulletins.render_xlsx import cells_as_text, clean_text, header_row
from kejiyun.performance.allocation import yuan
from kejiyun.performance.models import Allocation, AllocationLine

MONEY = "#,##0.00"
BOUND = {"floor": "下限", "cap": "上限", "": ""}


def approval_text(allocation: Allocation) -> str:
    if allocation.status == Allocation.Status.APPROVED and allocation.approved_at:
        return f"已批准（{allocation.approved_by}，{allocation.approved_at:%Y-%m-%d %H:%M}）"
    return allocation.get_status_display()


def _money(fen: int | None) -> Decimal | None:
    return None if fen is None else Decimal(fen) / 100


def allocation_xlsx(allocation: Allocation, lines: list[AllocationLine]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "分配"
    sheet.append([clean_text(allocation.name)])
    sheet["A1"].font = Font(bold=True, size=14)
    scheme = allocation.scheme
    sheet.append(["考核方案", clean_text(scheme.name), "考核期", scheme.period])
    sheet.append(["预算（元）", _money(allocation.budget_fen)])
    sheet.cell(row=sheet.max_row, column=2).number_format = MONEY
    sheet.append(["编制人", str(allocation.created_by), "状态", approval_text(allocation)])
    sheet.append([])
    header_row(
        sheet,
        [
            "名次",
            "服务中心",
            "区划代码",
            "得分",
            "基础额（元）",
            "下限（元）",
            "上限（元）",
            "分配额（元）",
            "受限于",
        ],
        [8, 28, 12, 10, 16, 16, 16, 18, 10],
    )
    sheet.freeze_panes = None
    for line in lines:
        sheet.append(
            [
                line.rank,
                line.centre.name,
                line.centre.region_id,
                line.score,
                _money(line.base_fen),
                _money(line.floor_fen),
                _money(line.cap_fen),
                _money(line.amount_fen),
                BOUND.get(line.bound, line.bound),
            ]
        )
        row = sheet.max_row
        for column in (5, 6, 7, 8):
            sheet.cell(row=row, column=column).number_format = MONEY
    total = sum(line.amount_fen for line in lines)
    sheet.append(["合计", "", "", "", None, None, None, _money(total), f"{yuan(total)} 元"])
    sheet.cell(row=sheet.max_row, column=8).number_format = MONEY
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)

    detail = book.create_sheet("得分明细")
    header_row(
        detail,
        ["服务中心", "指标", "原始值", "扣除", "计分值", "权重", "得分", "计算过程"],
        [24, 28, 14, 12, 14, 10, 10, 70],
    )
    for line in lines:
        for item in line.breakdown.get("lines", []):
            detail.append(
                [
                    line.centre.name,
                    item.get("label", ""),
                    item.get("raw"),
                    item.get("discount"),
                    item.get("net"),
                    item.get("weight"),
                    item.get("points"),
                    clean_text(item.get("how", "")),
                ]
            )
    cells_as_text(book)
    out = BytesIO()
    book.save(out)
    return out.getvalue()
