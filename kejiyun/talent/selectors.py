"""Reads for S&T worker profiles, their results, teams and studios, and resources."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404

from kejiyun.accounts.models import User
from kejiyun.common.crypto import mobile_lookup
from kejiyun.common.levels import Level
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import (
    centres_in_jurisdiction,
    jurisdiction_filter,
    province_regions,
)
from kejiyun.talent.models import (
    Discipline,
    DuplicateTicket,
    Industry,
    Resource,
    TalentProfile,
    Team,
    TechResult,
)

# --- Profiles ----------------------------------------------------------------------------


def talent_for_staff(*, user: User) -> QuerySet[TalentProfile]:
    qs = TalentProfile.objects.select_related("user", "region", "region__parent")
    return jurisdiction_filter(qs, user=user, region_field="region")


def access_talent(user: User, profile_id: int) -> TalentProfile:
    """The profile if `user` may see it as staff; otherwise 404."""
    try:
        return talent_for_staff(user=user).get(pk=profile_id)
    except TalentProfile.DoesNotExist:
        raise Http404("档案不存在或不在您的辖区内") from None


def talent_public(*, province_path: str) -> QuerySet[TalentProfile]:
    """Profiles shown in the public expert directory of the deployment province: only
    those of workers who consented to be listed, and never a cancelled account's."""
    return TalentProfile.objects.select_related("user", "region", "region__parent").filter(
        region__path__startswith=province_path,
        directory_consent=True,
        user__cancelled_at__isnull=True,
    )


# The recognition filter's value for "any level" (典型 or 精品).
LEVEL_ANY = "any"


def recognition_level_q(level: str, via: str = "") -> Q:
    """Teams (or, through `via`, the records that reach them) recognised at `level`, or at
    any level for `LEVEL_ANY`; recognised means the level is not empty."""
    if level == LEVEL_ANY:
        return ~Q(**{f"{via}recognition_level": Level.NONE})
    return Q(**{f"{via}recognition_level": level})


def talent_directory(
    *, province_path: str, query: str = "", level: str = ""
) -> QuerySet[TalentProfile]:
    """The public expert directory: profiles of the province, searched by field, keyword or
    name, newest first; each with the recognised studio it leads (`studio_name`,
    `studio_level`, `studio_year`, empty when none), and with `level` only the leads of a
    studio recognised at that level."""
    studios = (
        Team.objects.filter(lead=OuterRef("pk"), kind=Team.Kind.STUDIO)
        .exclude(recognition_level=Level.NONE)
        .order_by("-recognised_year", "-id")
    )
    qs = (
        talent_public(province_path=province_path)
        .annotate(
            studio_name=Subquery(studios.values("name")[:1]),
            studio_level=Subquery(studios.values("recognition_level")[:1]),
            studio_year=Subquery(studios.values("recognised_year")[:1]),
        )
        .annotate(
            studio_label=Case(
                *[When(studio_level=value, then=Value(label)) for value, label in Level.choices],
                default=Value(""),
                output_field=CharField(),
            )
        )
    )
    if query:
        qs = qs.filter(
            Q(fields__icontains=query)
            | Q(keywords__icontains=query)
            | Q(user__display_name__icontains=query)
        )
    if level:
        qs = qs.filter(
            Exists(
                Team.objects.filter(lead=OuterRef("pk"), kind=Team.Kind.STUDIO).filter(
                    recognition_level_q(level)
                )
            )
        )
    return qs.order_by("-id")


def talent_profile_full(*, profile_id: int) -> TalentProfile:
    """One profile with everything its detail page and completeness need, prefetched."""
    return (
        TalentProfile.objects.select_related("user", "region", "region__parent", "verified_by")
        .prefetch_related(
            "disciplines",
            "industries",
            "regions_served",
            "results",
            Prefetch("teams_led", queryset=Team.objects.order_by("id")),
        )
        .get(pk=profile_id)
    )


def talent_profile_of(user: User) -> TalentProfile | None:
    """The signed-in worker's own profile, or None for anyone without one."""
    if not user.is_authenticated:
        return None
    try:
        return talent_profile_full(profile_id=user.talent_profile.pk)
    except TalentProfile.DoesNotExist:
        return None


def talent_profile_summary(user: User) -> TalentProfile | None:
    """The worker's own profile for their dashboard, or None: with its region and what
    `completeness` reads prefetched, so the page costs the same few queries however often it
    shows the figure."""
    return (
        TalentProfile.objects.filter(user_id=user.pk)
        .select_related("region", "region__parent")
        .prefetch_related("disciplines", "industries", "regions_served", "results")
        .first()
    )


def talent_profile_stamp(user: User) -> tuple[int, int] | None:
    """The worker's profile id and version (every write through a service moves the
    version on), or None without a profile: one indexed lookup, for keying what the
    page cache keeps of the worker's own pages."""
    with connection.cursor() as cursor:  # a plain cursor: the ORM costs several times more
        cursor.execute("SELECT id, version FROM talent_talentprofile WHERE user_id = %s", [user.pk])
        row = cursor.fetchone()
    return (int(row[0]), int(row[1])) if row else None


def regions_servable(*, province_code: str) -> QuerySet[Region]:
    """Regions a worker may say they serve: the province, its cities and counties."""
    return (
        province_regions(province_code)
        .filter(level__in=[Region.Level.PROVINCE, Region.Level.CITY, Region.Level.COUNTY])
        .order_by("path")
    )


def disciplines_by_codes(codes: list[str]) -> QuerySet[Discipline]:
    return Discipline.objects.filter(code__in=codes).order_by("code")


def industries_by_codes(codes: list[str]) -> QuerySet[Industry]:
    return Industry.objects.filter(code__in=codes).order_by("code")


def classifications_search(
    *, query: str, limit: int = 20
) -> tuple[list[Discipline], list[Industry]]:
    """Disciplines and industries whose code starts with, or name contains, `query`."""
    query = query.strip()[:30]
    if not query:
        return [], []
    disciplines = Discipline.objects.filter(
        Q(code__istartswith=query) | Q(name__icontains=query)
    ).order_by("code")[:limit]
    industries = Industry.objects.filter(
        Q(code__istartswith=query) | Q(name__icontains=query)
    ).order_by("code")[:limit]
    return list(disciplines), list(industries)


# --- Results -----------------------------------------------------------------------------


def results_of_worker(*, profile: TalentProfile) -> QuerySet[TechResult]:
    """The worker's own results and those of the teams they lead."""
    return (
        TechResult.objects.filter(Q(owner_profile=profile) | Q(owner_team__lead=profile))
        .select_related("owner_team")
        .order_by("-year", "-id")
    )


def access_result_for_worker(*, profile: TalentProfile, result_id: int) -> TechResult:
    try:
        return results_of_worker(profile=profile).get(pk=result_id)
    except TechResult.DoesNotExist:
        raise Http404("成果不存在") from None


# --- Teams and studios -------------------------------------------------------------------


def _teams() -> QuerySet[Team]:
    return Team.objects.select_related(
        "lead", "lead__user", "region", "region__parent", "host_organisation"
    ).annotate(member_count=Count("members", distinct=True))


def teams_for_staff(*, user: User, kind: str = "", level: str = "") -> QuerySet[Team]:
    """Teams and studios in the jurisdiction, optionally of one kind and recognised at
    `level` (a `Level` value or `LEVEL_ANY`)."""
    qs = jurisdiction_filter(_teams(), user=user, region_field="region")
    if kind:
        qs = qs.filter(kind=kind)
    if level:
        qs = qs.filter(recognition_level_q(level))
    return qs.order_by("-id")


def access_team(user: User, team_id: int) -> Team:
    """The team if `user` may see it as staff; otherwise 404."""
    try:
        return teams_for_staff(user=user).get(pk=team_id)
    except Team.DoesNotExist:
        raise Http404("团队不存在或不在您的辖区内") from None


def teams_of_worker(*, profile: TalentProfile) -> QuerySet[Team]:
    """Teams the worker leads or belongs to."""
    return _teams().filter(Q(lead=profile) | Q(members=profile)).distinct().order_by("-id")


def access_team_for_lead(*, profile: TalentProfile, team_id: int) -> Team:
    """A team the worker leads; anyone else's team is a 404."""
    try:
        return _teams().get(pk=team_id, lead=profile)
    except Team.DoesNotExist:
        raise Http404("团队不存在") from None


def access_team_of_member(*, profile: TalentProfile, team_id: int) -> Team:
    """A team the worker is a member of; any other team is a 404."""
    try:
        return _teams().get(pk=team_id, members=profile)
    except Team.DoesNotExist:
        raise Http404("团队不存在") from None


def team_members(*, team: Team) -> QuerySet[TalentProfile]:
    return team.members.select_related("user", "region").order_by("id")


# --- Resources ---------------------------------------------------------------------------


def resources_for_staff(*, user: User) -> QuerySet[Resource]:
    qs = Resource.objects.select_related("region", "region__parent", "host_organisation").annotate(
        expert_count=Count("experts", distinct=True)
    )
    return jurisdiction_filter(qs, user=user, region_field="region").order_by("-id")


def access_resource(user: User, resource_id: int) -> Resource:
    """The resource if `user` may see it as staff; otherwise 404."""
    try:
        return resources_for_staff(user=user).get(pk=resource_id)
    except Resource.DoesNotExist:
        raise Http404("资源不存在或不在您的辖区内") from None


def resource_experts(*, resource: Resource) -> QuerySet[TalentProfile]:
    return resource.experts.select_related("user", "region").order_by("id")


def counties_for_staff(*, user: User, province_code: str) -> QuerySet[Region]:
    """Counties of the deployment province inside the staff member's jurisdiction (every
    county has a centre, so this reads through `centres_in_jurisdiction`)."""
    centres = centres_in_jurisdiction(user=user).filter(region__level=Region.Level.COUNTY)
    return (
        province_regions(province_code)
        .filter(level=Region.Level.COUNTY, centre__in=centres.values("pk"))
        .select_related("parent")
        .order_by("code")
    )


def talent_by_mobile(*, mobile: str) -> TalentProfile | None:
    """The worker registered with exactly this mobile number, if any."""
    if not mobile:
        return None
    return (
        TalentProfile.objects.select_related("user")
        .filter(user__mobile_hash=mobile_lookup(mobile))
        .first()
    )


def dockable_expert(profile_id: int) -> TalentProfile | None:
    """An S&T worker staff may send a docking request to (any in the platform: experts are
    found across jurisdictions); None for an unknown id. The case services check the rest."""
    return TalentProfile.objects.select_related("user").filter(pk=profile_id).first()


# --- Classification pickers: the discipline and industry trees, a level at a time ---------

CLASSIFICATIONS: dict[str, type[Discipline] | type[Industry]] = {
    "discipline": Discipline,
    "industry": Industry,
}
CLASSIFICATION_SEARCH_LIMIT = 30


def classification_children(kind: str, parent: str | None) -> QuerySet[Any]:
    """The nodes directly below `parent` (the top level when None), each annotated with
    `branch` (whether it has children of its own), in code order."""
    model = CLASSIFICATIONS[kind]
    qs = model.objects.filter(parent_id=parent) if parent else model.objects.filter(level=1)
    return qs.annotate(branch=Exists(model.objects.filter(parent_id=OuterRef("pk")))).order_by(
        "code"
    )


def classification_search(kind: str, text: str) -> list[Any]:
    """Nodes whose Chinese name contains `text` (a code prefix also matches): names that
    start with the text first, then the broader levels, then by code. The ancestors come
    along for the labels."""
    text = text.strip()
    if not text:
        return []
    model = CLASSIFICATIONS[kind]
    match = Q(name__contains=text)
    if text.isascii() and text.isalnum():
        match |= Q(code__startswith=text.upper())
    rows: list[Any] = list(
        model.objects.filter(match)
        .annotate(branch=Exists(model.objects.filter(parent_id=OuterRef("pk"))))
        .select_related("parent", "parent__parent", "parent__parent__parent")
        .order_by("code")[:300]
    )
    rows.sort(key=lambda r: (not r.name.startswith(text), r.level, r.code))
    return rows[:CLASSIFICATION_SEARCH_LIMIT]


def classification_path(node: Any) -> str:
    """The names above a node, e.g. "园艺学与植物营养学" for 果树学 (C1501)."""
    names: list[str] = []
    parent = node.parent
    while parent is not None:
        names.append(parent.name)
        parent = parent.parent
    return " › ".join(reversed(names))


def classifications_by_codes(kind: str, codes: list[str]) -> QuerySet[Any]:
    return (
        CLASSIFICATIONS[kind]
        .objects.filter(code__in=codes)
        .select_related("parent", "parent__parent", "parent__parent__parent")
        .order_by("code")
    )


def expert_behind(kind: str, object_id: int) -> tuple[TalentProfile, str] | None:
    """The S&T worker to dock with for a recommended expert, team or studio (its lead) or
    result (its owner, or its team's lead), with what the enterprise saw ("团队：…",
    "成果：…"; empty for an expert); None for an unknown id."""
    if kind == "expert":
        profile = dockable_expert(object_id)
        return (profile, "") if profile is not None else None
    if kind == "team":
        team = Team.objects.select_related("lead__user").filter(pk=object_id).first()
        if team is None:
            return None
        return team.lead, f"{team.get_kind_display()}：{team.name}"
    if kind == "result":
        result = (
            TechResult.objects.select_related("owner_profile__user", "owner_team__lead__user")
            .filter(pk=object_id)
            .first()
        )
        if result is None:
            return None
        owner = result.owner_profile or (result.owner_team.lead if result.owner_team else None)
        return (owner, f"成果：{result.title}") if owner is not None else None
    return None


def duplicate_tickets_for_staff(*, user: User) -> QuerySet[DuplicateTicket]:
    """Duplicate-registration checks sent to the staff member's level or below it: those
    whose common region lies in the jurisdiction (the reporting county never sees its own)."""
    qs = DuplicateTicket.objects.select_related(
        "profile__user", "profile__region", "reported_region", "region", "closed_by"
    ).order_by(F("closed_at").desc(nulls_first=True), "-created_at", "-id")
    return jurisdiction_filter(qs, user=user, region_field="region")


def access_duplicate_ticket(user: User, ticket_id: int) -> DuplicateTicket:
    try:
        return duplicate_tickets_for_staff(user=user).get(pk=ticket_id)
    except DuplicateTicket.DoesNotExist:
        raise Http404("核查单不存在或不在您的辖区内") from None


def talent_in_jurisdiction(*, user: User, profile: TalentProfile) -> bool:
    """Whether a profile found by an exact number lies in what `user` may see as staff."""
    return talent_for_staff(user=user).filter(pk=profile.pk).exists()
