"""Reads of the public case library (案例库).

A case is listed only when `library_eligible_q` holds (closed, solved, confirmed by the
enterprise, its demand not private) and its enterprise consented (`library_consent_at`).
Pages never receive the case itself: `library_entry` copies the public fields into a
`LibraryEntry`, so a template cannot reach a contract, an amount, the evidence, the notes,
the rating comment or anyone's name. What each confidentiality level shows is in
docs/recognition-library.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Case as When_
from django.db.models import F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone

from kejiyun.cases.models import Case
from kejiyun.cases.workflow.selectors import library_eligible_q
from kejiyun.common.levels import Level
from kejiyun.demands.models import Demand
from kejiyun.demands.search import query_terms, terms_required
from kejiyun.demands.selectors import demand_public
from kejiyun.regions.models import Region

# The level filter's value for "any recognition level".
RECOGNISED = "any"

_RELATED = (
    "demand",
    "demand__organisation",
    "demand__discipline",
    "demand__industry_class",
    "region",
    "region__parent",
)
# Text a search reads: what every entry shows (title, industry); of a public demand also
# its description and problem — never the text a summary-only demand keeps back.
_SHOWN_FIELDS = ("demand__title", "demand__industry")
_PUBLIC_FIELDS = ("demand__description", "demand__problem")
_NEWEST_FIRST = (F("closed_at").desc(nulls_last=True), "-id")


@dataclass(frozen=True)
class LibraryFilters:
    """What the library is asked for, already checked (`LibraryForm`)."""

    query: str = ""
    category: str = ""
    # 领域: a section of the industry classification, or a discipline (NSFC code prefix).
    section: str = ""
    discipline: str = ""
    industry: str = ""
    region: Region | None = None
    # The enterprise's rating, at least this many stars (every listed case is solved).
    rating: int | None = None
    # A `Level` value, or `RECOGNISED` for any level.
    level: str = ""
    year: int | None = None


def _library() -> QuerySet[Case]:
    return Case.objects.filter(
        library_eligible_q(),
        library_consent_at__isnull=False,
        region__path__startswith=f"{settings.DEPLOYMENT_PROVINCE}/",
    ).select_related(*_RELATED)


def _term_hit(term: str) -> Q:
    shown = Q()
    for field in _SHOWN_FIELDS:
        shown |= Q(**{f"{field}__icontains": term})
    public = Q()
    for field in _PUBLIC_FIELDS:
        public |= Q(**{f"{field}__icontains": term})
    return shown | (Q(demand__confidentiality=Demand.Confidentiality.PUBLIC) & public)


def library_cases(filters: LibraryFilters | None = None) -> QuerySet[Case]:
    """The library's cases, searched (most of the query's terms; more hits first) and
    filtered by category, field, industry, region (city or county subtree), rating,
    recognition level and the year closed; newest first."""
    f = filters or LibraryFilters()
    qs = _library()
    if f.category:
        qs = qs.filter(demand__category=f.category)
    if f.section:
        qs = qs.filter(demand__industry_class__section=f.section)
    if f.discipline:
        qs = qs.filter(demand__discipline__code__startswith=f.discipline)
    if f.industry:
        qs = qs.filter(demand__industry=f.industry)
    if f.region is not None:
        qs = qs.filter(region__path__startswith=f.region.path)
    if f.rating is not None:
        qs = qs.filter(rating__gte=f.rating)
    if f.level == RECOGNISED:
        qs = qs.exclude(recognition_level=Level.NONE)
    elif f.level:
        qs = qs.filter(recognition_level=f.level)
    if f.year is not None:
        qs = qs.filter(closed_at__year=f.year)
    terms = query_terms(f.query)
    if not terms:
        return qs.order_by(*_NEWEST_FIRST)
    hits = sum(
        (
            When_(
                When(_term_hit(term), then=Value(1)), default=Value(0), output_field=IntegerField()
            )
            for term in terms
        ),
        start=Value(0, output_field=IntegerField()),
    )
    return (
        qs.annotate(hits=hits)
        .filter(hits__gte=terms_required(len(terms)))
        .order_by("-hits", *_NEWEST_FIRST)
    )


def library_industries() -> list[str]:
    """The industries named by the library's cases, for the filter."""
    values = (
        _library()
        .exclude(demand__industry="")
        .order_by("demand__industry")
        .values_list("demand__industry", flat=True)
        .distinct()
    )
    return list(values[:200])


def library_years() -> list[int]:
    """The years (Beijing time) in which the library's cases closed, newest first."""
    return [at.year for at in _library().datetimes("closed_at", "year", order="DESC")]


@dataclass(frozen=True)
class LibraryEntry:
    """What the public sees of one library case, and nothing else."""

    pk: int
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
    # A summary-only demand shows no organisation and no text.
    summary_only: bool
    organisation: str
    description: str
    problem: str

    @property
    def stars(self) -> str:
        return "★" * (self.rating or 0) + "☆" * (5 - (self.rating or 0))


def library_entry(case: Case) -> LibraryEntry:
    """The public fields of a library case (personal contacts in its text masked)."""
    demand = case.demand
    public = demand_public(demand)
    industry = demand.industry or (demand.industry_class.name if demand.industry_class else "")
    return LibraryEntry(
        pk=case.pk,
        title=demand.title,
        category=demand.get_category_display(),
        industry=industry,
        discipline=demand.discipline.name if demand.discipline else "",
        county=f"{case.region.parent.name if case.region.parent else ''}{case.region.name}",
        year=timezone.localtime(case.closed_at).year if case.closed_at else None,
        rating=case.rating,
        level=case.recognition_level,
        level_label=case.get_recognition_level_display() if case.recognition_level else "",
        recognised_year=case.recognised_year,
        summary_only=public.summary_only,
        organisation=public.organisation,
        description=public.description,
        problem=public.problem,
    )


def access_library_case(case_id: int) -> LibraryEntry:
    """A case anyone may open from the library; any other case is a 404."""
    try:
        return library_entry(_library().get(pk=case_id))
    except Case.DoesNotExist:
        raise Http404("案例不存在或未公开") from None
