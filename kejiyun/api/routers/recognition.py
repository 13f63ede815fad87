"""The public case library (案例库), for anyone: the cases `library_cases` lists, each only
as the `LibraryEntry` the pages receive (no contract, amount, evidence, notes or names).
The filters are checked by the page's own form (`LibraryForm`), so an unknown value is
dropped exactly as on the page."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Path, Query, Router, Schema
from pydantic import Field

from kejiyun.api.auth import ANYONE
from kejiyun.api.pagination import paginate
from kejiyun.api.routers._readers import MAX_ID, PageQuery, SearchText
from kejiyun.api.schemas import Page
from kejiyun.recognition.library.forms import LibraryForm
from kejiyun.recognition.library.selectors import (
    LibraryEntry,
    access_library_case,
    library_cases,
    library_entry,
    library_industries,
    library_years,
)

router = Router(tags=["案例库"], auth=ANYONE)


class LibraryQuery(PageQuery):
    q: SearchText = Field("", description="搜索标题、行业及公开需求的描述")
    category: Literal["problem", "talent", "equipment", "training", "result"] | None = Field(
        None, description="需求类别"
    )
    city: str | None = Field(None, pattern=r"^[1-9][0-9]{5}$", description="市（州）代码")
    county: str | None = Field(None, pattern=r"^[1-9][0-9]{5}$", description="区县代码")
    discipline: str | None = Field(None, pattern=r"^[A-Z][0-9]{0,6}$", description="学科代码")
    rating: Literal[3, 4, 5] | None = Field(None, description="满意度不低于")
    level: Literal["any", "typical", "premium"] | None = Field(
        None, description="认定等级（any：任一等级）"
    )
    year: int | None = Field(None, ge=2000, le=2100, description="办结年度")


class LibraryCaseOut(Schema):
    id: int
    title: str
    category: str
    industry: str
    discipline: str
    county: str
    year: int | None
    rating: int | None
    level: str
    level_label: str
    recognised_year: int | None
    summary_only: bool = Field(description="仅公开摘要：不显示企业与需求正文")
    organisation: str
    description: str
    problem: str


def _case_out(entry: LibraryEntry) -> LibraryCaseOut:
    return LibraryCaseOut(
        id=entry.pk,
        title=entry.title,
        category=entry.category,
        industry=entry.industry,
        discipline=entry.discipline,
        county=entry.county,
        year=entry.year,
        rating=entry.rating,
        level=entry.level,
        level_label=entry.level_label,
        recognised_year=entry.recognised_year,
        summary_only=entry.summary_only,
        organisation=entry.organisation,
        description=entry.description,
        problem=entry.problem,
    )


@router.get(
    "/cases",
    response=Page[LibraryCaseOut],
    operation_id="library_cases_list",
    summary="案例库（公开）",
)
def library_cases_list(request: HttpRequest, query: Query[LibraryQuery]) -> dict[str, Any]:
    data = {
        name: str(value)
        for name, value in (
            ("q", query.q),
            ("category", query.category),
            ("city", query.city),
            ("county", query.county),
            ("discipline", query.discipline),
            ("rating", query.rating),
            ("level", query.level),
            ("year", query.year),
        )
        if value not in (None, "")
    }
    form = LibraryForm(data, industries=library_industries(), years=library_years())
    form.is_valid()
    return paginate(
        library_cases(form.library_filters()),
        cursor=query.cursor,
        limit=query.limit,
        out=lambda case: _case_out(library_entry(case)),
    )


@router.get(
    "/cases/{case_id}",
    response=LibraryCaseOut,
    operation_id="library_cases_get",
    summary="案例库中的一个案例（公开）",
)
def library_cases_get(
    request: HttpRequest, case_id: int = Path(..., ge=1, le=MAX_ID)
) -> LibraryCaseOut:
    return _case_out(access_library_case(case_id))
