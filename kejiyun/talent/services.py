"""Writes for the supply side (科技所能): classifications, profiles, results, teams and
resources. Views, the admin and commands call these; none of them writes models directly."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import Organisation
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.common.errors import NotPermitted, ServiceError, Stale, record_check
from kejiyun.common.versioning import claim_version
from kejiyun.matchlog.services import EXPERTS, RESULTS, TEAMS, index_change_record
from kejiyun.notifications.models import Channel
from kejiyun.notifications.services import outbox_enqueue
from kejiyun.pagecache.services import TALENT, content_changed
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import region_in_jurisdiction, user_jurisdiction
from kejiyun.talent.models import (
    SERVICE_MODES_ALL,
    Discipline,
    DuplicateTicket,
    Industry,
    Resource,
    ServiceMode,
    TalentProfile,
    Team,
    TechResult,
)
from kejiyun.talent.selectors import talent_for_staff

if TYPE_CHECKING:
    from kejiyun.accounts.models import User

DATA_DIR = Path(__file__).resolve().parent / "data"
DISCIPLINES_FILE = DATA_DIR / "nsfc_application_codes_2019.csv"
INDUSTRIES_FILE = DATA_DIR / "gbt4754_2017_industry.csv"


T = TypeVar("T", Discipline, Industry)


class TalentError(ServiceError):
    """A refused change to a profile, result, team or resource; nothing was written."""


class StaleProfile(Stale, TalentError):
    """The profile changed since the page was rendered."""

    message_text = "档案已被他人修改，请刷新后再试。"


# --- Classifications ---------------------------------------------------------------------


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


def _load_tree(model: type[T], rows: list[T], fields: list[str]) -> LoadResult:
    existing = {obj.pk: obj for obj in model._default_manager.all()}
    to_create: list[T] = []
    to_update: list[T] = []
    unchanged = 0
    for wanted in rows:
        current = existing.get(wanted.pk)
        if current is None:
            to_create.append(wanted)
        elif any(getattr(current, f) != getattr(wanted, f) for f in fields):
            to_update.append(wanted)
        else:
            unchanged += 1
    # Rows are sorted by level, so every parent is written before its children.
    model._default_manager.bulk_create(to_create, batch_size=1000)
    model._default_manager.bulk_update(to_update, fields, batch_size=1000)
    return LoadResult(created=len(to_create), updated=len(to_update), unchanged=unchanged)


@transaction.atomic
def disciplines_load(*, data_file: Path = DISCIPLINES_FILE) -> LoadResult:
    """Insert or update every NSFC discipline code; rows already right are left alone."""
    with data_file.open(encoding="utf-8") as fh:
        records = sorted(csv.DictReader(fh), key=lambda r: (int(r["level"]), r["code"]))
    rows = [
        Discipline(
            code=r["code"],
            name=r["name"],
            name_en=r["name_en"],
            level=int(r["level"]),
            department=r["department"],
            parent_id=r["parent_code"] or None,
            is_leaf=r["is_leaf"] == "True",
        )
        for r in records
    ]
    fields = ["name", "name_en", "level", "department", "parent_id", "is_leaf"]
    return _load_tree(Discipline, rows, fields)


@transaction.atomic
def industries_load(*, data_file: Path = INDUSTRIES_FILE) -> LoadResult:
    """Insert or update every GB/T 4754-2017 industry code; rows already right are left alone."""
    with data_file.open(encoding="utf-8") as fh:
        records = sorted(csv.DictReader(fh), key=lambda r: (int(r["level"]), r["code"]))
    rows = [
        Industry(
            code=r["code"],
            name=r["name"],
            level=int(r["level"]),
            level_name=r["level_name"],
            section=r["section"],
            parent_id=r["parent_code"] or None,
            description=r["description"],
            note=r["note"],
        )
        for r in records
    ]
    fields = ["name", "level", "level_name", "section", "parent_id", "description", "note"]
    return _load_tree(Industry, rows, fields)


# --- Profiles ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileData:
    """What a worker may change on their own profile. Region, verification and the user
    are not here: a worker cannot set them."""

    employer: str
    title: str
    fields: str
    keywords: str
    capability: str
    service_modes: Sequence[int]
    capacity: int
    disciplines: Sequence[Discipline] = ()
    industries: Sequence[Industry] = ()
    regions_served: Sequence[Region] = ()


def service_modes_mask(modes: Sequence[int]) -> int:
    """The bitmask for a list of ServiceMode values; an unknown value is refused."""
    unknown = [m for m in modes if m not in ServiceMode.values]
    if unknown:
        raise TalentError("服务方式不正确。", code="service_modes")
    mask = 0
    for mode in modes:
        mask |= int(mode)
    return mask


@transaction.atomic
def talent_profile_update(
    *, profile: TalentProfile, actor: User, data: ProfileData, expected_version: int
) -> TalentProfile:
    """Save the worker's own edits; a page rendered before someone else's save is refused."""
    _require_self(actor, profile, "只能修改自己的档案。")
    mask = service_modes_mask(data.service_modes)
    if not 0 <= mask <= SERVICE_MODES_ALL:
        raise TalentError("服务方式不正确。", code="service_modes")
    if not 0 <= data.capacity <= 50:
        raise TalentError("可同时承接的项目数应在0到50之间。", code="capacity")
    claim_version(
        profile,
        expected_version,
        stale=StaleProfile,
        employer=data.employer,
        title=data.title,
        fields=data.fields,
        keywords=data.keywords,
        capability=data.capability,
        service_modes=mask,
        capacity=data.capacity,
    )
    profile.disciplines.set(data.disciplines)
    profile.industries.set(data.industries)
    profile.regions_served.set(data.regions_served)
    index_change_record(kind=EXPERTS, object_ids=[profile.pk])
    content_changed(TALENT)  # the public expert directory shows the profile
    return profile


def talent_profile_anonymise(*, profile: TalentProfile, scrub: Sequence[str] = ()) -> None:
    """Clear a cancelled worker's profile (PIPL §47): employer, title, fields, keywords,
    capability and the sealed ID number go, the capacity drops to 0 so no docking is offered,
    and the match index is told to forget the row. Every text of their results and of the
    teams they lead loses the strings in `scrub` (their name, mobile, ID number, e-mail).
    Runs inside the caller's transaction (`kejiyun.privacy.services.account_cancel`)."""
    TalentProfile.objects.filter(pk=profile.pk).update(
        employer="",
        title="",
        fields="",
        keywords="",
        capability="",
        id_number_sealed="",
        id_number_hash="",
        service_modes=0,
        capacity=0,
    )
    profile.disciplines.clear()
    profile.industries.clear()
    profile.regions_served.clear()
    index_change_record(kind=EXPERTS, object_ids=[profile.pk])
    content_changed(TALENT)
    needles = [s for s in scrub if s and len(s) >= 2]
    results = TechResult.objects.filter(owner_profile=profile)
    for result in results:
        changed = _scrubbed(result, ["title", "identifier", "summary", "fields"], needles)
        if changed:
            result.save(update_fields=changed)
    index_change_record(kind=RESULTS, object_ids=[r.pk for r in results])
    teams = Team.objects.filter(lead=profile)
    for team in teams:
        changed = _scrubbed(team, ["name", "fields", "keywords", "description"], needles)
        if changed:
            team.save(update_fields=changed)
    index_change_record(kind=TEAMS, object_ids=[t.pk for t in teams])


def _scrubbed(row: TechResult | Team, names: list[str], needles: list[str]) -> list[str]:
    """Replace every needle in the named text fields of `row`; the names that changed."""
    changed = []
    for name in names:
        value = getattr(row, name)
        cleaned = value
        for needle in needles:
            cleaned = cleaned.replace(needle, "***")
        if cleaned != value:
            setattr(row, name, cleaned or "***")
            changed.append(name)
    return changed


@transaction.atomic
def talent_verify(*, profile: TalentProfile, actor: User) -> TalentProfile:
    """Mark the worker verified (once; the first verifier is kept). Staff outside the
    worker's jurisdiction are refused. `plans.services.worker_verify` is the staff action:
    it calls this and opens the worker's 一人一策 plan in the same transaction."""
    if not talent_for_staff(user=actor).filter(pk=profile.pk).exists():
        raise NotPermitted("该科技工作者不在您的辖区内。")
    profile.refresh_from_db()
    if not profile.verified:  # the first verifier is kept
        claim_version(
            profile,
            None,
            stale=StaleProfile,
            verified=True,
            verified_by=actor,
            verified_at=timezone.now(),
        )
    index_change_record(kind=EXPERTS, object_ids=[profile.pk])
    audit_record(
        action=AuditAction.TALENT_VERIFY,
        user=actor,
        object_type="talent",
        object_id=str(profile.pk),
    )
    return profile


# --- Results -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultData:
    kind: str
    title: str
    identifier: str = ""
    year: int | None = None
    for_transfer: bool = False
    transfer_mode: str = ""
    summary: str = ""
    fields: str = ""


def _checked_result(result: TechResult, data: ResultData) -> TechResult:
    if not data.for_transfer and data.transfer_mode:
        raise TalentError("未勾选“可转化”时不能选择转化方式。", code="transfer_mode")
    for name in (
        "kind",
        "title",
        "identifier",
        "year",
        "for_transfer",
        "transfer_mode",
        "summary",
        "fields",
    ):
        setattr(result, name, getattr(data, name))
    record_check(result, error=TalentError)
    return result


def _require_self(actor: User, profile: TalentProfile, message: str) -> None:
    """Self-service writes: only the worker whose profile it is may make them."""
    if actor.pk != profile.user_id:
        raise NotPermitted(message)


def _require_result_owner(actor: User, result: TechResult) -> None:
    owner = result.owner_profile if result.owner_team is None else result.owner_team.lead
    if owner is None or owner.user_id != actor.pk:
        raise NotPermitted("只能修改自己或自己负责的团队的成果。")


def tech_result_create(
    *, profile: TalentProfile, actor: User, data: ResultData, team: Team | None = None
) -> TechResult:
    """A result of the worker, or of a team the worker leads."""
    _require_self(actor, profile, "只能为自己登记成果。")
    if team is not None and team.lead_id != profile.pk:
        raise NotPermitted("只能为自己负责的团队登记成果。")
    result = TechResult(owner_profile=None if team else profile, owner_team=team)
    result = _checked_result(result, data)
    with transaction.atomic():
        result.save()
        index_change_record(kind=RESULTS, object_ids=[result.pk])
    return result


def tech_result_update(*, result: TechResult, actor: User, data: ResultData) -> TechResult:
    _require_result_owner(actor, result)
    result = _checked_result(result, data)
    result.save(
        update_fields=[
            "kind",
            "title",
            "identifier",
            "year",
            "for_transfer",
            "transfer_mode",
            "summary",
            "fields",
        ]
    )
    index_change_record(kind=RESULTS, object_ids=[result.pk])
    return result


@transaction.atomic
def tech_result_delete(*, result: TechResult, actor: User) -> None:
    _require_result_owner(actor, result)
    pk = result.pk
    result.delete()
    index_change_record(kind=RESULTS, object_ids=[pk])


# --- Teams and studios -------------------------------------------------------------------


@dataclass(frozen=True)
class TeamData:
    kind: str
    name: str
    region: Region
    fields: str = ""
    keywords: str = ""
    description: str = ""
    host_organisation: Organisation | None = None


def _check_team(team: Team) -> Team:
    if team.region.level != Region.Level.COUNTY:
        raise TalentError("请选择区县。", code="region")
    record_check(team, error=TalentError)
    return team


@transaction.atomic
def team_create(*, lead: TalentProfile, actor: User, data: TeamData) -> Team:
    """A team or studio led by `lead`, who is also its first member."""
    _require_self(actor, lead, "只能以自己为负责人建立团队。")
    team = _check_team(
        Team(
            kind=data.kind,
            name=data.name,
            lead=lead,
            region=data.region,
            fields=data.fields,
            keywords=data.keywords,
            description=data.description,
            host_organisation=data.host_organisation,
        )
    )
    team.save()
    team.members.add(lead)
    index_change_record(kind=TEAMS, object_ids=[team.pk])
    content_changed(TALENT)  # the directory names the recognised studio a worker leads
    return team


def team_update(*, team: Team, actor: User, data: TeamData) -> Team:
    _require_self(actor, team.lead, "只有负责人可以修改团队信息。")
    for name in ("kind", "name", "region", "fields", "keywords", "description"):
        setattr(team, name, getattr(data, name))
    team.host_organisation = data.host_organisation
    _check_team(team).save(
        update_fields=[
            "kind",
            "name",
            "region",
            "fields",
            "keywords",
            "description",
            "host_organisation",
        ]
    )
    index_change_record(kind=TEAMS, object_ids=[team.pk])
    content_changed(TALENT)
    return team


@transaction.atomic
def team_member_add(*, team: Team, member: TalentProfile, actor: User) -> None:
    """The lead adds a member, who is told in their inbox and may leave at any time."""
    _require_self(actor, team.lead, "只有负责人可以添加成员。")
    if team.members.filter(pk=member.pk).exists():
        return
    team.members.add(member)
    outbox_enqueue(
        channel=Channel.IN_APP,
        recipient=member.user,
        title="您已被加入团队",
        body=f"{team.lead.user.display_name}将您加入了“{team.name}”。如非本人意愿，可在“我的团队与工作室”中退出。",
        url=reverse("talent:me_teams"),
        idempotency_key=f"team-member:{team.pk}:{member.pk}:{timezone.now().timestamp()}",
        source="team",
    )


def team_member_leave(*, team: Team, member: TalentProfile, actor: User) -> None:
    """A member leaves a team (the lead cannot: they would have to hand it over first)."""
    _require_self(actor, member, "只能自己退出团队。")
    if member.pk == team.lead_id:
        raise TalentError("负责人不能退出自己负责的团队。", code="lead")
    team.members.remove(member)


def team_member_remove(*, team: Team, member: TalentProfile, actor: User) -> None:
    _require_self(actor, team.lead, "只有负责人可以移除成员。")
    if member.pk == team.lead_id:
        raise TalentError("不能移除团队负责人。", code="lead")
    team.members.remove(member)


# --- Resources ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceData:
    kind: str
    name: str
    region: Region
    host_organisation: Organisation | None = None
    host_name: str = ""
    address: str = ""
    fields: str = ""
    capacity: int | None = None
    experts: Sequence[TalentProfile] = field(default_factory=tuple)


def _save_resource(*, resource: Resource, data: ResourceData, actor: User) -> Resource:
    if not region_in_jurisdiction(actor, data.region):
        raise NotPermitted("只能登记本辖区内的资源。")
    if data.region.level != Region.Level.COUNTY:
        raise TalentError("请选择区县。", code="region")
    if data.host_organisation is None and not data.host_name.strip():
        raise TalentError("请选择依托单位或填写依托单位名称。", code="host")
    for name in ("kind", "name", "region", "host_name", "address", "fields", "capacity"):
        setattr(resource, name, getattr(data, name))
    expert_ids = {e.pk for e in data.experts}
    if talent_for_staff(user=actor).filter(pk__in=expert_ids).count() != len(expert_ids):
        raise NotPermitted("只能关联本辖区内的科技工作者。")
    resource.host_organisation = data.host_organisation
    record_check(resource, error=TalentError)
    resource.save()
    resource.experts.set(data.experts)
    return resource


@transaction.atomic
def resource_create(*, data: ResourceData, actor: User) -> Resource:
    return _save_resource(resource=Resource(), data=data, actor=actor)


@transaction.atomic
def resource_update(*, resource: Resource, data: ResourceData, actor: User) -> Resource:
    return _save_resource(resource=resource, data=data, actor=actor)


# --- The worker's consent to the public directory -----------------------------------------


@transaction.atomic
def talent_directory_consent_set(
    *, profile: TalentProfile, actor: User, consent: bool
) -> TalentProfile:
    """The worker agrees to be listed in the public expert directory, or withdraws."""
    _require_self(actor, profile, "只能修改自己的档案。")
    TalentProfile.objects.filter(pk=profile.pk).update(directory_consent=consent)
    profile.directory_consent = consent
    index_change_record(kind=EXPERTS, object_ids=[profile.pk])
    content_changed(TALENT)
    return profile


# --- No oracles: a person already registered outside the jurisdiction ------------------------

# The one answer a centre gets for a person registered outside its jurisdiction, whichever
# county or city holds them (item 7 of docs/requirements/security.md).
REGISTERED_ELSEWHERE = "该人员已在平台登记，请联系上级服务中心核查"


def _common_region(a: Region, b: Region) -> Region:
    """The lowest region holding both `a` and `b` (their longest shared path)."""
    shared = [x for x, y in zip(a.ancestor_codes, b.ancestor_codes, strict=False) if x == y]
    if not shared:
        raise TalentError("两个地区不在同一省内。")
    return Region.objects.get(pk=shared[-1])


@transaction.atomic
def duplicate_ticket_open(
    *,
    profile: TalentProfile,
    reporter: User,
    source: DuplicateTicket.Source,
    ip: str | None = None,
) -> DuplicateTicket | None:
    """Send a check to the centre above both the reporter's jurisdiction and the profile's
    county: one open ticket per profile and reporting jurisdiction. None for someone with no
    jurisdiction (administrators see everything, so nothing is outside it)."""
    reported = user_jurisdiction(reporter) if reporter.is_centre_staff else None
    if reported is None:
        return None
    existing = DuplicateTicket.objects.filter(
        profile=profile, reported_region=reported, closed_at__isnull=True
    ).first()
    if existing is not None:
        return existing
    ticket = DuplicateTicket.objects.create(
        profile=profile,
        reported_region=reported,
        region=_common_region(reported, profile.region),
        reported_by=reporter,
        source=source,
    )
    audit_record(
        action=AuditAction.DUPLICATE_TICKET,
        user=reporter,
        ip=ip,
        object_type="duplicate_ticket",
        object_id=str(ticket.pk),
        detail={"step": "opened", "source": source.value, "profile": profile.pk},
    )
    return ticket


@transaction.atomic
def duplicate_ticket_close(
    *, ticket: DuplicateTicket, actor: User, ip: str | None = None
) -> DuplicateTicket:
    """Close a checked ticket; a ticket closed already is refused and nothing changes."""
    now = timezone.now()
    claimed = DuplicateTicket.objects.filter(pk=ticket.pk, closed_at__isnull=True).update(
        closed_at=now, closed_by=actor
    )
    if not claimed:
        raise TalentError("该核查单已办结。", code="closed")
    ticket.closed_at, ticket.closed_by = now, actor
    audit_record(
        action=AuditAction.DUPLICATE_TICKET,
        user=actor,
        ip=ip,
        object_type="duplicate_ticket",
        object_id=str(ticket.pk),
        detail={"step": "closed"},
    )
    return ticket
