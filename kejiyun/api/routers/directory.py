"""The directory: regions and service centres (public), the public expert directory, and
the staff lists of S&T workers, teams and studios, and organisations (enterprises), each
scoped to the caller's jurisdiction by the selectors the pages use. A worker reads their own
results; an enterprise user reads their own organisation.

Mobiles are masked, ID numbers never leave the server, and numbers typed into free text are
masked the way the Excel exports mask them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Path, Query, Router, Schema
from pydantic import Field

from kejiyun.accounts.models import Organisation, Role
from kejiyun.accounts.selectors import access_organisation, organisations_for_staff
from kejiyun.api.auth import ANYONE, SIGNED_IN, require_scope
from kejiyun.api.casework import masked
from kejiyun.api.errors import ApiProblem
from kejiyun.api.etag import set_etag
from kejiyun.api.models import Scope
from kejiyun.api.pagination import paginate
from kejiyun.api.routers._readers import (
    MAX_ID,
    REGION_CODE_PATTERN,
    PageQuery,
    RegionCode,
    SearchText,
    require_role,
    require_staff,
)
from kejiyun.api.schemas import Page
from kejiyun.common.masking import mask_mobile
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.talent.models import TalentProfile, Team, TechResult
from kejiyun.talent.selectors import (
    access_talent,
    access_team,
    results_of_worker,
    talent_directory,
    talent_for_staff,
    talent_profile_full,
    talent_profile_of,
    team_members,
    teams_for_staff,
    teams_of_worker,
)

router = Router(tags=["名录"])

# "any": recognised at any level (kejiyun.talent.selectors.LEVEL_ANY).
LevelFilter = Literal["any", "typical", "premium"]


def _region_label(region: Region | None) -> str:
    if region is None:
        return ""
    parent = region.parent.name if region.parent_id and region.parent is not None else ""
    if region.level in (Region.Level.PROVINCE, Region.Level.CITY):
        return region.name
    return f"{parent}{region.name}"


# --- Regions -------------------------------------------------------------------------------


class RegionListQuery(PageQuery):
    parent: RegionCode | None = Field(None, description="上级区划代码；只列出其直接下级")
    level: Literal["province", "city", "county", "township"] | None = Field(
        None, description="层级"
    )


class RegionItemOut(Schema):
    code: str
    name: str
    level: str
    parent_code: str | None
    leaf: bool


class RegionOut(Schema):
    code: str
    name: str
    level: str
    level_label: str
    parent_code: str | None
    lineage: list[str] = Field(description="从省级到本级的区划代码")
    label: str
    lon: float | None
    lat: float | None
    centre_id: int | None = Field(description="本区划自己的服务中心")


@router.get(
    "/regions",
    response=Page[RegionItemOut],
    auth=ANYONE,
    operation_id="regions_list",
    summary="行政区划列表（按上级与层级筛选）",
)
def regions_list(request: HttpRequest, query: Query[RegionListQuery]) -> dict[str, Any]:
    qs = Region.objects.annotate(branch=Exists(Region.objects.filter(parent_id=OuterRef("pk"))))
    if query.parent:
        qs = qs.filter(parent_id=query.parent)
    if query.level:
        qs = qs.filter(level=query.level)
    return paginate(
        qs,
        cursor=query.cursor,
        limit=query.limit,
        out=_region_item,
    )


def _region_item(r: Any) -> RegionItemOut:
    return RegionItemOut(
        code=r.code, name=r.name, level=r.level, parent_code=r.parent_id, leaf=not r.branch
    )


@router.get(
    "/regions/{code}",
    response=RegionOut,
    auth=ANYONE,
    operation_id="regions_get",
    summary="行政区划详情",
)
def regions_get(
    request: HttpRequest, code: str = Path(..., pattern=REGION_CODE_PATTERN)
) -> RegionOut:
    region = Region.objects.select_related("parent").filter(pk=code).first()
    if region is None:
        raise Http404("没有这个行政区划。")
    centre = ServiceCentre.objects.filter(region=region).values_list("pk", flat=True).first()
    return RegionOut(
        code=region.code,
        name=region.name,
        level=region.level,
        level_label=region.get_level_display(),
        parent_code=region.parent_id,
        lineage=region.ancestor_codes,
        label=_region_label(region),
        lon=region.lon,
        lat=region.lat,
        centre_id=centre,
    )


# --- Service centres -----------------------------------------------------------------------


class CentreListQuery(PageQuery):
    region: RegionCode | None = Field(None, description="只列出该区划及其下级的服务中心")
    level: Literal["province", "city", "county"] | None = Field(None, description="中心层级")


class CentreOut(Schema):
    id: int
    name: str
    region_code: str
    region_name: str
    level: str
    phone: str
    address: str


def _centre_out(centre: ServiceCentre) -> CentreOut:
    return CentreOut(
        id=centre.pk,
        name=centre.name,
        region_code=centre.region_id,
        region_name=_region_label(centre.region),
        level=centre.region.level,
        phone=centre.phone,
        address=centre.address,
    )


@router.get(
    "/centres",
    response=Page[CentreOut],
    auth=ANYONE,
    operation_id="centres_list",
    summary="科技服务中心列表",
)
def centres_list(request: HttpRequest, query: Query[CentreListQuery]) -> dict[str, Any]:
    qs = ServiceCentre.objects.select_related("region", "region__parent")
    if query.region:
        within = Region.objects.filter(pk=query.region).first()
        if within is None:
            return {"items": [], "next_cursor": None}
        qs = qs.filter(region__path__startswith=within.path)
    if query.level:
        qs = qs.filter(region__level=query.level)
    return paginate(qs, cursor=query.cursor, limit=query.limit, out=_centre_out)


@router.get(
    "/centres/{centre_id}",
    response=CentreOut,
    auth=ANYONE,
    operation_id="centres_get",
    summary="科技服务中心详情",
)
def centres_get(request: HttpRequest, centre_id: int = Path(..., ge=1, le=MAX_ID)) -> CentreOut:
    centre = (
        ServiceCentre.objects.select_related("region", "region__parent")
        .filter(pk=centre_id)
        .first()
    )
    if centre is None:
        raise Http404("服务中心不存在。")
    return _centre_out(centre)


# --- The public expert directory -------------------------------------------------------------


class ExpertListQuery(PageQuery):
    q: SearchText = Field("", description="领域、关键词或姓名")
    level: LevelFilter | None = Field(None, description="只列出认定工作室（any：任一等级）的负责人")


class ExpertOut(Schema):
    id: int
    display_name: str
    title: str
    employer: str
    region: str
    fields: str
    capability: str = Field(description="能力描述（节选，号码已遮蔽）")
    studio_name: str
    studio_level: str
    studio_level_label: str
    studio_year: int | None


def _expert_out(p: Any) -> ExpertOut:
    # Masked before it is cut: a contact cut by the excerpt's end would no longer look like
    # one, and its first digits would be shown.
    capability = masked(p.capability)
    capability = capability if len(capability) <= 90 else capability[:89] + "…"
    return ExpertOut(
        id=p.pk,
        display_name=p.user.display_name,
        title=p.title,
        employer=p.employer,
        region=_region_label(p.region),
        fields=p.fields,
        capability=capability,
        studio_name=p.studio_name or "",
        studio_level=p.studio_level or "",
        studio_level_label=p.studio_label or "",
        studio_year=p.studio_year,
    )


@router.get(
    "/experts",
    response=Page[ExpertOut],
    auth=ANYONE,
    operation_id="experts_list",
    summary="专家人才公开名录（科技所能）",
)
def experts_list(request: HttpRequest, query: Query[ExpertListQuery]) -> dict[str, Any]:
    qs = talent_directory(
        province_path=f"{settings.DEPLOYMENT_PROVINCE}/",
        query=query.q,
        level=query.level or "",
    )
    return paginate(qs, cursor=query.cursor, limit=query.limit, out=_expert_out)


# --- Staff: S&T workers ------------------------------------------------------------------------


class WorkerListQuery(PageQuery):
    verified: bool | None = Field(None, description="按核验状态筛选")


class WorkerItemOut(Schema):
    id: int
    display_name: str
    mobile_masked: str
    region_code: str
    region: str
    employer: str
    title: str
    fields: str
    verified: bool
    created_at: datetime


def _worker_item(p: TalentProfile) -> WorkerItemOut:
    return WorkerItemOut(
        id=p.pk,
        display_name=p.user.display_name,
        mobile_masked=mask_mobile(p.user.mobile or ""),
        region_code=p.region_id,
        region=_region_label(p.region),
        employer=p.employer,
        title=p.title,
        fields=p.fields,
        verified=p.verified,
        created_at=p.created_at,
    )


@router.get(
    "/workers",
    response=Page[WorkerItemOut],
    auth=SIGNED_IN,
    operation_id="workers_list",
    summary="辖区内的科技工作者（工作人员）",
)
def workers_list(request: HttpRequest, query: Query[WorkerListQuery]) -> dict[str, Any]:
    user = require_staff(require_scope(request, Scope.DIRECTORY))
    qs = talent_for_staff(user=user)
    if query.verified is not None:
        qs = qs.filter(verified=query.verified)
    return paginate(qs, cursor=query.cursor, limit=query.limit, out=_worker_item)


class ResultOut(Schema):
    id: int
    kind: str
    kind_label: str
    title: str
    identifier: str
    year: int | None
    for_transfer: bool
    transfer_mode: str
    summary: str
    fields: str
    owner_team_id: int | None


def _result_out(r: TechResult) -> ResultOut:
    return ResultOut(
        id=r.pk,
        kind=r.kind,
        kind_label=r.get_kind_display(),
        title=r.title,
        identifier=r.identifier,
        year=r.year,
        for_transfer=r.for_transfer,
        transfer_mode=r.transfer_mode,
        summary=masked(r.summary),
        fields=r.fields,
        owner_team_id=r.owner_team_id,
    )


class TeamRefOut(Schema):
    id: int
    kind: str
    name: str


class WorkerOut(Schema):
    id: int
    display_name: str
    mobile_masked: str
    region_code: str
    region: str
    employer: str
    title: str
    fields: str
    keywords: str
    capability: str
    disciplines: list[str]
    industries: list[str]
    regions_served: list[str]
    service_modes: list[str]
    capacity: int
    verified: bool
    verified_at: datetime | None
    completeness: int
    results: list[ResultOut]
    teams: list[TeamRefOut]


@router.get(
    "/workers/{profile_id}",
    response=WorkerOut,
    auth=SIGNED_IN,
    operation_id="workers_get",
    summary="科技工作者档案（工作人员）",
)
def workers_get(
    request: HttpRequest,
    response: HttpResponse,
    profile_id: int = Path(..., ge=1, le=MAX_ID),
) -> WorkerOut:
    user = require_staff(require_scope(request, Scope.DIRECTORY))
    p = talent_profile_full(profile_id=access_talent(user, profile_id).pk)
    set_etag(response, p)
    return WorkerOut(
        id=p.pk,
        display_name=p.user.display_name,
        mobile_masked=mask_mobile(p.user.mobile or ""),
        region_code=p.region_id,
        region=_region_label(p.region),
        employer=p.employer,
        title=p.title,
        fields=p.fields,
        keywords=p.keywords,
        capability=masked(p.capability),
        disciplines=[d.code for d in p.disciplines.all()],
        industries=[i.code for i in p.industries.all()],
        regions_served=[r.code for r in p.regions_served.all()],
        service_modes=p.service_mode_labels,
        capacity=p.capacity,
        verified=p.verified,
        verified_at=p.verified_at,
        completeness=p.completeness(),
        results=[_result_out(r) for r in p.results.all()],
        teams=[TeamRefOut(id=t.pk, kind=t.kind, name=t.name) for t in teams_of_worker(profile=p)],
    )


# --- Staff: teams and studios --------------------------------------------------------------------


class TeamListQuery(PageQuery):
    kind: Literal["team", "studio"] | None = Field(None, description="团队或科创工作室")
    level: LevelFilter | None = Field(None, description="认定等级（any：任一等级）")


class TeamItemOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    lead_id: int
    lead_name: str
    region_code: str
    region: str
    host_organisation: str
    member_count: int
    recognition_level: str
    recognition_level_label: str
    recognised_year: int | None


def _team_item(t: Any) -> TeamItemOut:
    return TeamItemOut(
        id=t.pk,
        kind=t.kind,
        kind_label=t.get_kind_display(),
        name=t.name,
        lead_id=t.lead_id,
        lead_name=t.lead.user.display_name,
        region_code=t.region_id,
        region=_region_label(t.region),
        host_organisation=t.host_organisation.name if t.host_organisation else "",
        member_count=getattr(t, "member_count", 0),
        recognition_level=t.recognition_level,
        recognition_level_label=t.get_recognition_level_display() if t.recognition_level else "",
        recognised_year=t.recognised_year,
    )


@router.get(
    "/teams",
    response=Page[TeamItemOut],
    auth=SIGNED_IN,
    operation_id="teams_list",
    summary="辖区内的团队与科创工作室（工作人员）",
)
def teams_list(request: HttpRequest, query: Query[TeamListQuery]) -> dict[str, Any]:
    user = require_staff(require_scope(request, Scope.DIRECTORY))
    qs: QuerySet[Team] = teams_for_staff(user=user, kind=query.kind or "", level=query.level or "")
    return paginate(qs, cursor=query.cursor, limit=query.limit, out=_team_item)


class MemberOut(Schema):
    id: int
    display_name: str
    mobile_masked: str
    region: str
    title: str


class TeamOut(Schema):
    team: TeamItemOut
    fields: str
    keywords: str
    description: str
    members: list[MemberOut]
    results: list[ResultOut]


@router.get(
    "/teams/{team_id}",
    response=TeamOut,
    auth=SIGNED_IN,
    operation_id="teams_get",
    summary="团队或科创工作室详情（工作人员）",
)
def teams_get(request: HttpRequest, team_id: int = Path(..., ge=1, le=MAX_ID)) -> TeamOut:
    user = require_staff(require_scope(request, Scope.DIRECTORY))
    team = access_team(user, team_id)
    return TeamOut(
        team=_team_item(team),
        fields=team.fields,
        keywords=team.keywords,
        description=masked(team.description),
        members=[
            MemberOut(
                id=m.pk,
                display_name=m.user.display_name,
                mobile_masked=mask_mobile(m.user.mobile or ""),
                region=_region_label(m.region),
                title=m.title,
            )
            for m in team_members(team=team)
        ],
        results=[_result_out(r) for r in team.results.order_by("-year", "-id")],
    )


# --- A worker's own results ------------------------------------------------------------------


@router.get(
    "/me/results",
    response=Page[ResultOut],
    auth=SIGNED_IN,
    operation_id="results_mine",
    summary="本人（及本人负责团队）的科技成果",
)
def results_mine(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    user = require_scope(request, Scope.DIRECTORY)
    profile = talent_profile_of(user)
    if profile is None:
        raise ApiProblem(403, "只有已建档的科技工作者可以查看本人成果。", code="no_profile")
    return paginate(
        results_of_worker(profile=profile),
        cursor=query.cursor,
        limit=query.limit,
        out=_result_out,
    )


# --- Organisations ---------------------------------------------------------------------------


class OrganisationListQuery(PageQuery):
    kind: Literal["enterprise", "university", "institute", "society"] | None = Field(
        None, description="组织类型"
    )
    q: SearchText = Field("", description="名称包含")


class OrganisationItemOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    uscc: str | None
    region_code: str
    region: str
    industry: str
    created_at: datetime


class OrganisationOut(Schema):
    id: int
    kind: str
    kind_label: str
    name: str
    uscc: str | None
    region_code: str
    region: str
    industry: str
    description: str
    address: str
    created_at: datetime


def _organisation_item(o: Organisation) -> OrganisationItemOut:
    return OrganisationItemOut(
        id=o.pk,
        kind=o.kind,
        kind_label=o.get_kind_display(),
        name=o.name,
        uscc=o.uscc,
        region_code=o.region_id,
        region=_region_label(o.region),
        industry=o.industry,
        created_at=o.created_at,
    )


def _organisation_out(o: Organisation) -> OrganisationOut:
    return OrganisationOut(
        id=o.pk,
        kind=o.kind,
        kind_label=o.get_kind_display(),
        name=o.name,
        uscc=o.uscc,
        region_code=o.region_id,
        region=_region_label(o.region),
        industry=o.industry,
        description=masked(o.description),
        address=o.address,
        created_at=o.created_at,
    )


@router.get(
    "/organisations",
    response=Page[OrganisationItemOut],
    auth=SIGNED_IN,
    operation_id="organisations_list",
    summary="辖区内的企业与机构（工作人员）",
)
def organisations_list(request: HttpRequest, query: Query[OrganisationListQuery]) -> dict[str, Any]:
    user = require_staff(require_scope(request, Scope.DIRECTORY))
    qs = organisations_for_staff(user=user, kind=query.kind)
    if query.q:
        qs = qs.filter(name__icontains=query.q)
    return paginate(qs, cursor=query.cursor, limit=query.limit, out=_organisation_item)


@router.get(
    "/organisations/mine",
    response=OrganisationOut,
    auth=SIGNED_IN,
    operation_id="organisations_mine",
    summary="本人所属企业（企业用户）",
)
def organisations_mine(request: HttpRequest) -> OrganisationOut:
    user = require_role(
        require_scope(request, Scope.DIRECTORY),
        Role.ENTERPRISE,
        "只有企业用户可以查看本人所属企业。",
    )
    if user.organisation_id is None:
        raise Http404("组织不存在")
    organisation = (
        Organisation.objects.select_related("region", "region__parent")
        .filter(pk=user.organisation_id)
        .first()
    )
    if organisation is None:
        raise Http404("组织不存在")
    return _organisation_out(organisation)


@router.get(
    "/organisations/{organisation_id}",
    response=OrganisationOut,
    auth=SIGNED_IN,
    operation_id="organisations_get",
    summary="企业或机构详情（工作人员）",
)
def organisations_get(
    request: HttpRequest, organisation_id: int = Path(..., ge=1, le=MAX_ID)
) -> OrganisationOut:
    user = require_staff(require_scope(request, Scope.DIRECTORY))
    return _organisation_out(access_organisation(user, organisation_id))
