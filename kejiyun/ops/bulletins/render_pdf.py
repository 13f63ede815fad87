"""A bulletin as PDF, drawn with fpdf2 in Noto Sans SC, embedded as a subset (only the glyphs
the bulletin uses), so the file reads the same on any machine and its text can be searched
and extracted. The ranking chart is drawn with fpdf2's own rectangles: no browser needed.
docs/adr/0008-bulletin-pdf-fonts.md says why this library and this font.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fpdf import FPDF, FontFace

from kejiyun.ops.bulletins.content import display, lag_reason
from kejiyun.ops.indicators import BY_KEY
from kejiyun.ops.models import Bulletin

# fontTools logs every subsetting step at INFO (a few hundred lines per PDF): keep warnings only.
logging.getLogger("fontTools").setLevel(logging.WARNING)

FONT = "NotoSansSC"
FONT_PACKAGE = "pylopdf-fonts-zh-cn"


class BulletinFontMissing(RuntimeError):
    """The Chinese font is not installed; the message says how to install it."""


def cjk_font_path() -> Path:
    """Noto Sans SC from the PyPI package pylopdf-fonts-zh-cn (SIL OFL 1.1)."""
    message = f"缺少通报所需的中文字体 Noto Sans SC：请安装 Python 包 {FONT_PACKAGE}（make setup）"
    try:
        import pylopdf_fonts_zh_cn
    except ImportError as error:
        raise BulletinFontMissing(message) from error
    path = Path(pylopdf_fonts_zh_cn.sans_path())
    if not path.is_file():
        raise BulletinFontMissing(message)
    return path


HEADING = FontFace(emphasis="", fill_color=(230, 236, 245))
BAR = (52, 101, 164)
LAG = (196, 78, 58)


class PdfDocument(FPDF):
    """An A4 page with the embedded Chinese font and a footer naming the document and the
    page; the fund allocation export (kejiyun/performance) draws on it too."""

    def __init__(self, footer_text: str, margin: float = 18) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.add_font(FONT, fname=str(cjk_font_path()))
        self.set_font(FONT, size=10)
        self.set_auto_page_break(auto=True, margin=15)
        self.set_margins(margin, margin, margin)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, size=8)
        self.cell(0, 6, f"{self.footer_text}    第 {self.page_no()} 页", align="C")

    def section(self, text: str) -> None:
        self.ln(4)
        self.set_font(FONT, size=13)
        self.cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, size=9.5)

    def paragraph(self, text: str) -> None:
        self.multi_cell(0, 5.5, text or "—", new_x="LMARGIN", new_y="NEXT")


def _change(value: float | None, before: float | None) -> str:
    if value is None or before is None or before == 0:
        return "—"
    return f"{(value - before) / abs(before) * 100:+.1f}%"


def _ranking_chart(pdf: PdfDocument, content: dict[str, Any]) -> None:
    """Horizontal bars of the first ranking indicator, in ranking order."""
    indicators = content["indicators"]
    rows = content["ranking"]
    if not indicators or not rows:
        return
    key = indicators[0]["key"]
    values = [row["values"].get(key) for row in rows]
    top = max((v for v in values if v is not None), default=0.0)
    lagging = {c["code"] for c in content["lagging"]}
    if pdf.will_page_break(6 + 3 * 5.8):  # keep the caption with its first bars
        pdf.add_page()
    pdf.set_font(FONT, size=9)
    pdf.cell(0, 6, f"图：各中心{indicators[0]['name']}", new_x="LMARGIN", new_y="NEXT")
    label_w, value_w, bar_h, gap = 32.0, 26.0, 4.2, 1.6
    area = pdf.epw - label_w - value_w
    for row, value in zip(rows, values, strict=True):
        if pdf.will_page_break(bar_h + gap):
            pdf.add_page()
        x, y = pdf.l_margin, pdf.get_y()
        pdf.set_xy(x, y)
        pdf.cell(label_w, bar_h, row["name"], align="R")
        width = area * (value / top) if value is not None and top > 0 else 0.0
        pdf.set_fill_color(*(LAG if row["code"] in lagging else BAR))
        if width > 0:
            pdf.rect(x + label_w + 2, y + 0.4, width, bar_h - 0.8, style="F")
        pdf.set_xy(x + label_w + 2 + width + 1, y)
        pdf.cell(value_w, bar_h, display(key, value))
        pdf.set_xy(x, y + bar_h + gap)
    pdf.set_font(FONT, size=9.5)
    pdf.set_fill_color(255, 255, 255)  # tables drawn next would inherit the bar colour


def bulletin_pdf(bulletin: Bulletin, content: dict[str, Any]) -> bytes:
    """The bulletin's PDF from its (frozen or previewed) content."""
    approver = str(bulletin.approver) if bulletin.approver else "（待审核）"
    published = f"{bulletin.published_at:%Y-%m-%d}" if bulletin.published_at else "未发布"
    pdf = PdfDocument(f"{bulletin.centre.name} · {content['period']['label']}")
    pdf.add_page()
    pdf.set_font(FONT, size=17)
    pdf.multi_cell(0, 9, bulletin.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, size=10)
    pdf.cell(
        0,
        6,
        f"统计期：{content['period']['label']}    地区：{content['region']['name']}",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.cell(
        0,
        6,
        f"起草：{bulletin.author}    审核：{approver}    发布日期：{published}",
        align="C",
        new_x="LMARGIN",
        new_y="NEXT",
    )

    pdf.section("一、主要指标")
    period = content["period"]
    with pdf.table(
        col_widths=(50, 24, 34, 16, 34, 16),
        text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        headings_style=HEADING,
        line_height=6,
    ) as table:
        table.row(["指标", "本期", f"上期（{period['previous']}）", "环比", "去年同期", "同比"])
        for line in content["headline"]:
            key = line["key"]
            table.row(
                [
                    line["name"],
                    display(key, line["value"]),
                    display(key, line["previous"]),
                    _change(line["value"], line["previous"]),
                    display(key, line["last_year"]),
                    _change(line["value"], line["last_year"]),
                ]
            )

    pdf.section("二、各中心排名")
    indicators = content["indicators"]
    names = ["名次", "地区", *[i["name"] for i in indicators]]
    widths = (14, 30, *([(pdf.epw - 44) / max(len(indicators), 1)] * len(indicators)))
    with pdf.table(
        col_widths=widths,
        text_align=("CENTER", "LEFT", *(["RIGHT"] * len(indicators))),
        headings_style=HEADING,
        line_height=6,
    ) as table:
        table.row(names)
        for row in content["ranking"]:
            table.row(
                [
                    str(row["rank"]),
                    row["name"],
                    *[display(i["key"], row["values"].get(i["key"])) for i in indicators],
                ]
            )
    pdf.ln(3)
    _ranking_chart(pdf, content)

    pdf.section("三、落后中心")
    if content["lagging"]:
        with pdf.table(
            col_widths=(28, 50, 26, 26, 44),
            text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "LEFT"),
            headings_style=HEADING,
            line_height=6,
        ) as table:
            table.row(["地区", "指标", "数值", "中位数", "原因"])
            for centre in content["lagging"]:
                for lag in centre["lags"]:
                    key = lag["key"]
                    table.row(
                        [
                            centre["name"],
                            lag["name"],
                            display(key, lag["value"]),
                            display(key, lag["median"]),
                            lag_reason(lag, content["lag_percent"], BY_KEY[key].better),
                        ]
                    )
    else:
        pdf.paragraph("本期没有落后中心。")

    pdf.section("四、工作汇报摘录")
    if content["excerpts"]:
        for excerpt in content["excerpts"]:
            pdf.set_font(FONT, size=10.5)
            pdf.cell(0, 6, f"{excerpt['name']}（{excerpt['half']}）", new_x="LMARGIN", new_y="NEXT")
            pdf.set_font(FONT, size=9.5)
            pdf.paragraph(f"存在的困难问题：{excerpt['difficulties'] or '—'}")
            pdf.paragraph(f"下半年工作安排：{excerpt['plans'] or '—'}")
    else:
        pdf.paragraph("本期没有可摘录的工作汇报。")

    pdf.section("五、点评")
    pdf.paragraph(bulletin.commentary)
    return bytes(pdf.output())
