"""Reads for demands."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import BooleanField, Case, F, IntegerField, Q, QuerySet, Value, When
from django.http import Http404

from kejiyun.accounts.models import Organisation, User
from kejiyun.common.masking import mask_personal_text
from kejiyun.demands.models import Demand
from kejiyun.demands.search import query_terms, terms_required
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import jurisdiction_filter


def demands_published() -> QuerySet[Demand]:
    """Published demands of the deployment province that may be shown outside the centres:
    those the enterprise asked to keep private (不公开) are left out. Callers that show text
    must still respect `confidentiality == summary` (title, category, industry and region
    only)."""
    return (
        Demand.objects.filter(
            status=Demand.Status.PUBLISHED,
            region__path__startswith=f"{settings.DEPLOYMENT_PROVINCE}/",
        )
        .exclude(confidentiality=Demand.Confidentiality.PRIVATE)
        .select_related("organisation", "region", "region__parent")
    )


def demands_of_organisation(*, organisation: Organisation) -> QuerySet[Demand]:
    """Every demand of one organisation, with its case (if it has one) for the link."""
    return Demand.objects.filter(organisation=organisation).select_related(
        "region", "region__parent", "case"
    )


def access_own_demand(user: User, demand_id: int) -> Demand:
    """The demand if it belongs to `user`'s organisation (an enterprise user); else 404."""
    if user.organisation_id is None:
        raise Http404("需求不存在")
    try:
        return (
            Demand.objects.filter(organisation_id=user.organisation_id)
            .select_related("organisation", "region", "region__parent", "case")
            .get(pk=demand_id)
        )
    except Demand.DoesNotExist:
        raise Http404("需求不存在") from None


def demands_for_staff(*, user: User, status: str = "") -> QuerySet[Demand]:
    """Demands in the staff member's jurisdiction, optionally of one status."""
    qs = Demand.objects.select_related("organisation", "region", "region__parent")
    if status:
        qs = qs.filter(status=status)
    return jurisdiction_filter(qs, user=user, region_field="region")


def demands_review_queue(*, user: User) -> QuerySet[Demand]:
    """Submitted demands waiting for review in the jurisdiction: flagged ones first, then the
    longest waiting."""
    flagged = Case(
        When(Q(duplicate_of__isnull=False) | ~Q(review_flags=[]), then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )
    return (
        demands_for_staff(user=user, status=Demand.Status.SUBMITTED)
        .annotate(flagged=flagged)
        .order_by("-flagged", "submitted_at", "id")
    )


def access_demand(user: User, demand_id: int) -> Demand:
    """The demand if `user` may see it as staff (it lies in their jurisdiction); else 404."""
    try:
        return demands_for_staff(user=user).get(pk=demand_id)
    except Demand.DoesNotExist:
        raise Http404("需求不存在或不在您的辖区内") from None


# --- The public hall (需求大厅) ---------------------------------------------------------------

# Text a search reads: every field of a public demand; of a summary-only one, only what the
# hall shows (title and industry), so a search cannot probe what is kept back.
_SHOWN_FIELDS = ("title", "industry")
_PUBLIC_FIELDS = ("description", "problem", "current_state", "target_indicators")
# Newest first, the same on SQLite and PostgreSQL (which sorts NULL first when descending).
_NEWEST_FIRST = (F("published_at").desc(nulls_last=True), "-created_at", "-id")
# "待商定" has the empty value; the hall's budget filter names it so.
BUDGET_UNKNOWN = "unknown"


@dataclass(frozen=True)
class HallFilters:
    """What the hall is asked for, already checked (see `kejiyun.demands.forms.HallForm`)."""

    query: str = ""
    category: str = ""
    # 领域: a section of the industry classification (A 农、林、牧、渔业, C 制造业, …), from the
    # industry class the demand form asks for.
    section: str = ""
    industry: str = ""
    region: Region | None = None
    budget: str = ""


def _term_hit(term: str) -> Q:
    shown = Q()
    for field in _SHOWN_FIELDS:
        shown |= Q(**{f"{field}__icontains": term})
    public = Q()
    for field in _PUBLIC_FIELDS:
        public |= Q(**{f"{field}__icontains": term})
    return shown | (Q(confidentiality=Demand.Confidentiality.PUBLIC) & public)


def demands_hall(filters: HallFilters) -> QuerySet[Demand]:
    """Published demands for the hall: searched with the engine's segmentation (a demand
    must contain most of the query's terms; those with more of them come first), filtered
    by category, industry, region (a city or county subtree) and budget; newest first."""
    qs = demands_published()
    if filters.category:
        qs = qs.filter(category=filters.category)
    if filters.section:
        qs = qs.filter(industry_class__section=filters.section)
    if filters.industry:
        qs = qs.filter(industry=filters.industry)
    if filters.region is not None:
        qs = qs.filter(region__path__startswith=filters.region.path)
    if filters.budget:
        qs = qs.filter(budget="" if filters.budget == BUDGET_UNKNOWN else filters.budget)
    terms = query_terms(filters.query)
    if not terms:
        return qs.order_by(*_NEWEST_FIRST)
    hits = sum(
        (
            Case(
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


def hall_industries() -> list[str]:
    """The industries named by published demands, for the hall's filter."""
    values = (
        demands_published()
        .exclude(industry="")
        .order_by("industry")
        .values_list("industry", flat=True)
        .distinct()
    )
    return list(values[:200])


def access_published_demand(demand_id: int) -> Demand:
    """A demand anyone may open from the hall (published, not private); else 404."""
    try:
        return demands_published().get(pk=demand_id)
    except Demand.DoesNotExist:
        raise Http404("需求不存在或未公开") from None


@dataclass(frozen=True)
class PublicDemand:
    """What the hall and the public demand page show of a demand. A summary-only demand
    keeps its text back (title, category, industry and region only, no organisation);
    contacts typed into the text are masked."""

    demand: Demand
    summary_only: bool
    organisation: str
    description: str
    problem: str
    current_state: str
    target_indicators: str


def demand_public(demand: Demand, *, arranged: bool = False) -> PublicDemand:
    """What a person outside the enterprise sees of a demand. `arranged`: staff brought this
    person to the demand's case (a docking they sent or approved), which opens what a
    summary-only demand keeps back; a private demand's text stays with the centre."""
    c = Demand.Confidentiality
    if demand.confidentiality == c.PRIVATE or (
        demand.confidentiality == c.SUMMARY and not arranged
    ):
        return PublicDemand(demand, True, "", "", "", "", "")
    return PublicDemand(
        demand=demand,
        summary_only=False,
        organisation=demand.organisation.name,
        description=mask_personal_text(demand.description),
        problem=mask_personal_text(demand.problem),
        current_state=mask_personal_text(demand.current_state),
        target_indicators=mask_personal_text(demand.target_indicators),
    )
