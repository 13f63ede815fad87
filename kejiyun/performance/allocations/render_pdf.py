"""An allocation as PDF, drawn with fpdf2 in the bulletins' Chinese font (Noto Sans SC,
embedded as a subset; docs/adr/0008-bulletin-pdf-fonts.md): the header with the approval,
one row per centre with its amount in yuan, and a total that equals the budget exactly."""

from __future__ import annotations

from kejiyun.ops.bulletins.render_pdf import FONT, HEADING, PdfDocument
from kejiyun.performance.allocation import yuan
from kejiyun.performance.allocations.render_xlsx import BOUND, approval_text
from kejiyun.performance.models import Allocation, AllocationLine


def allocation_pdf(allocation: Allocation, lines: list[AllocationLine]) -> bytes:
    scheme = allocation.scheme
    total = sum(line.amount_fen for line in lines)
    pdf = PdfDocument(f"{allocation.name} · {scheme.period}", margin=15)
    pdf.add_page()
    pdf.set_font(FONT, size=16)
    pdf.multi_cell(0, 9, allocation.name, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    for text in (
        f"考核方案：{scheme.name}（{scheme.period}）",
        f"预算：{yuan(allocation.budget_fen)} 元    编制：{allocation.created_by}",
        f"状态：{approval_text(allocation)}",
        f"分配合计：{yuan(total)} 元（{len(lines)} 个服务中心）",
    ):
        pdf.cell(0, 6, text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, size=9)
    with pdf.table(
        col_widths=(12, 46, 16, 24, 24, 24, 26, 12),
        text_align=("CENTER", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "CENTER"),
        headings_style=HEADING,
        line_height=6,
    ) as table:
        table.row(["名次", "服务中心", "得分", "基础额", "下限", "上限", "分配额（元）", "受限"])
        for line in lines:
            table.row(
                [
                    str(line.rank),
                    line.centre.name,
                    f"{line.score}",
                    yuan(line.base_fen),
                    yuan(line.floor_fen),
                    "—" if line.cap_fen is None else yuan(line.cap_fen),
                    yuan(line.amount_fen),
                    BOUND.get(line.bound, line.bound),
                ]
            )
        table.row(["", "合计", "", "", "", "", yuan(total), ""])
    pdf.ln(3)
    pdf.set_font(FONT, size=9)
    pdf.multi_cell(
        0,
        5.5,
        "分配规则：每个中心先得基础额，预算余额按得分比例分配，每个中心的金额不低于下限、"
        "不高于上限；金额精确到分，合计等于预算，余下的分按小数部分从大到小补足，"
        "相同时得分高者优先，再按区划代码从小到大。",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    return bytes(pdf.output())
