"""Who and what may apply to a batch. Every check returns a list of Chinese reasons; an empty
list means eligible. The services refuse an application (creation and submission) whose
reasons are not empty, and the "new application" page offers only eligible subjects.

- always: the batch is open (申报中) and today is within `opens_on..closes_on`;
- case programme: the case is closed (已办结) as solved, with evidence on file, confirmed by
  the enterprise and rated at least `batch.min_case_rating`, of a demand that is not 不公开;
  the applicant speaks for the enterprise of the case's demand or is the expert of an
  accepted docking on the case; one live application per case and batch;
- studio programme: a 科创工作室 led by the applicant, with a track record of at least
  `batch.min_studio_cases` cases closed as solved and confirmed in which an accepted
  docking's expert is the lead or a member; one live application per studio and batch;
- workstation programme: a 院士(专家)工作站 hosted by the applicant's organisation or with the
  applicant among its experts;
- project programme (科创会项目征集): an enterprise user or S&T worker with a county.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q

from kejiyun.accounts.models import Role, User
from kejiyun.cases.models import Case, DockingRequest, Outcome, Step
from kejiyun.demands.models import Demand
from kejiyun.recognition.models import Application, Batch, Programme
from kejiyun.regions.models import Region
from kejiyun.talent.models import Resource, TalentProfile, Team

ACCEPTED = DockingRequest.Status.ACCEPTED
# The most recent cases the "new application" page lists (eligible or with their reasons).
SUBJECTS_SHOWN = 50


@dataclass(frozen=True)
class Subject:
    """What an application is about: one of a studio, a case or a workstation (none for a
    project, which the form describes)."""

    studio: Team | None = None
    case: Case | None = None
    resource: Resource | None = None

    @property
    def label(self) -> str:
        if self.studio is not None:
            return self.studio.name
        if self.case is not None:
            return self.case.demand.title
        if self.resource is not None:
            return self.resource.name
        return "科创会项目"

    @property
    def key(self) -> str:
        """The value the "new application" form posts for this subject."""
        if self.studio is not None:
            return f"studio:{self.studio.pk}"
        if self.case is not None:
            return f"case:{self.case.pk}"
        if self.resource is not None:
            return f"resource:{self.resource.pk}"
        return "project"


def batch_reasons(batch: Batch, today: date) -> list[str]:
    """Why nobody may apply to `batch` today (empty: applications are taken)."""
    if batch.status != Batch.Status.OPEN:
        return [f"该批次{batch.get_status_display()}，不接受申报。"]
    if today < batch.opens_on:
        return [f"该批次 {batch.opens_on:%Y-%m-%d} 开始申报。"]
    if today > batch.closes_on:
        return [f"该批次已于 {batch.closes_on:%Y-%m-%d} 截止申报。"]
    return []


def _live_elsewhere(batch: Batch, exclude: Application | None, **subject: object) -> bool:
    live = Application.objects.filter(batch=batch, **subject).exclude(
        status=Application.Status.WITHDRAWN
    )
    if exclude is not None and exclude.pk is not None:
        live = live.exclude(pk=exclude.pk)
    return live.exists()


def solved_confirmed_q() -> Q:
    """Cases closed as solved and confirmed by their enterprise."""
    return Q(step=Step.CLOSED, outcome=Outcome.SOLVED, confirmed_at__isnull=False)


def case_reasons(
    *, batch: Batch, case: Case, user: User, exclude: Application | None = None
) -> list[str]:
    reasons: list[str] = []
    if case.step != Step.CLOSED or case.outcome != Outcome.SOLVED:
        reasons.append("案例尚未以“已解决”办结。")
    if not case.evidence_sha256:
        reasons.append("案例没有上传佐证材料。")
    if case.confirmed_at is None:
        reasons.append("企业尚未确认办理结果。")
    if case.rating is None or case.rating < batch.min_case_rating:
        reasons.append(f"企业满意度评分须不低于{batch.min_case_rating}分。")
    if case.demand.confidentiality == Demand.Confidentiality.PRIVATE:
        # The notice and the results are public; a 不公开 demand is shown nowhere.
        reasons.append("该需求设为“不公开”，其案例不能申报（公示和结果会公开需求名称）。")
    speaks_for = (
        user.organisation_id is not None
        and user.organisation_id == case.demand.organisation_id
        and user.role == Role.ENTERPRISE
    )
    docked = DockingRequest.objects.filter(case=case, status=ACCEPTED, expert__user=user).exists()
    if not (speaks_for or docked):
        reasons.append("只有案例的需求企业或已接受对接的专家可以申报该案例。")
    if _live_elsewhere(batch, exclude, case=case):
        reasons.append("该案例已在本批次申报。")
    return reasons


def studio_track_record(team: Team) -> int:
    """How many cases closed as solved and confirmed had the studio's lead or a member as the
    expert of an accepted docking."""
    experts = [team.lead_id, *team.members.values_list("pk", flat=True)]
    return (
        Case.objects.filter(
            solved_confirmed_q(), dockings__status=ACCEPTED, dockings__expert_id__in=experts
        )
        .distinct()
        .count()
    )


def studio_reasons(
    *, batch: Batch, team: Team, user: User, exclude: Application | None = None
) -> list[str]:
    reasons: list[str] = []
    if team.kind != Team.Kind.STUDIO:
        reasons.append("只有科创工作室可以申报。")
    if team.lead.user_id != user.pk:
        reasons.append("只有工作室负责人可以申报。")
    done = studio_track_record(team)
    if done < batch.min_studio_cases:
        reasons.append(
            f"工作室成员作为对接专家办结并经企业确认的案例须不少于{batch.min_studio_cases}个"
            f"（现有{done}个）。"
        )
    if _live_elsewhere(batch, exclude, studio=team):
        reasons.append("该工作室已在本批次申报。")
    return reasons


def workstation_reasons(
    *, batch: Batch, resource: Resource, user: User, exclude: Application | None = None
) -> list[str]:
    reasons: list[str] = []
    if resource.kind != Resource.Kind.WORKSTATION:
        reasons.append("只有院士(专家)工作站可以申报。")
    hosts = user.organisation_id is not None and resource.host_organisation_id == (
        user.organisation_id
    )
    if not hosts and not resource.experts.filter(user=user).exists():
        reasons.append("只有工作站的依托单位或入驻专家可以申报。")
    if _live_elsewhere(batch, exclude, resource=resource):
        reasons.append("该工作站已在本批次申报。")
    return reasons


def applicant_county(user: User) -> Region | None:
    """The applicant's county: their organisation's, else their own (a township counts as
    its county); None when neither is known."""
    for region in (
        user.organisation.region if user.organisation_id is not None else None,  # type: ignore[union-attr]
        user.region,
    ):
        if region is None:
            continue
        if region.level == Region.Level.TOWNSHIP and region.parent is not None:
            region = region.parent
        if region.level == Region.Level.COUNTY:
            return region
    return None


def project_reasons(*, user: User) -> list[str]:
    reasons: list[str] = []
    if user.role not in (Role.ENTERPRISE, Role.WORKER):
        reasons.append("科创会项目只能由企业用户或科技工作者申报。")
    if applicant_county(user) is None:
        reasons.append("请先在账号信息中填写所在区县。")
    return reasons


def subject_region(subject: Subject, user: User) -> Region | None:
    """The county an application about `subject` belongs to (None: not a county)."""
    region: Region | None
    if subject.studio is not None:
        region = subject.studio.region
    elif subject.case is not None:
        region = subject.case.region
    elif subject.resource is not None:
        region = subject.resource.region
    else:
        return applicant_county(user)
    if region.level == Region.Level.TOWNSHIP and region.parent is not None:
        region = region.parent
    return region if region.level == Region.Level.COUNTY else None


def application_reasons(
    *,
    batch: Batch,
    subject: Subject,
    user: User,
    today: date,
    exclude: Application | None = None,
) -> list[str]:
    """Every reason `user` may not apply to `batch` with `subject` today."""
    reasons = batch_reasons(batch, today)
    programme = batch.programme
    if programme == Programme.CASE:
        if subject.case is None:
            return [*reasons, "请选择要申报的服务案例。"]
        reasons += case_reasons(batch=batch, case=subject.case, user=user, exclude=exclude)
    elif programme == Programme.STUDIO:
        if subject.studio is None:
            return [*reasons, "请选择要申报的科创工作室。"]
        reasons += studio_reasons(batch=batch, team=subject.studio, user=user, exclude=exclude)
    elif programme == Programme.WORKSTATION:
        if subject.resource is None:
            return [*reasons, "请选择要申报的院士(专家)工作站。"]
        reasons += workstation_reasons(
            batch=batch, resource=subject.resource, user=user, exclude=exclude
        )
    else:
        reasons += project_reasons(user=user)
    if not reasons and subject_region(subject, user) is None:
        reasons.append("无法确定申报所属的区县。")
    return reasons


def subjects_offered(*, batch: Batch, user: User) -> list[Subject]:
    """The subjects `user` might apply with to `batch` (before the eligibility checks): the
    cases of their enterprise or their accepted dockings, the studios they lead, the
    workstations of their organisation or in which they serve, or the project itself."""
    programme = batch.programme
    profile = TalentProfile.objects.filter(user=user).first()
    if programme == Programme.CASE:
        q = Q(dockings__status=ACCEPTED, dockings__expert__user=user)
        if user.role == Role.ENTERPRISE and user.organisation_id is not None:
            q |= Q(demand__organisation_id=user.organisation_id)
        cases = (
            Case.objects.filter(q)
            .select_related("demand", "region")
            .distinct()
            .order_by("-opened_at", "-id")
        )
        return [Subject(case=c) for c in cases[:SUBJECTS_SHOWN]]
    if programme == Programme.STUDIO:
        if profile is None:
            return []
        teams = Team.objects.filter(lead=profile, kind=Team.Kind.STUDIO).select_related(
            "lead", "region"
        )
        return [Subject(studio=t) for t in teams.order_by("id")]
    if programme == Programme.WORKSTATION:
        q = Q(experts__user=user)
        if user.organisation_id is not None:
            q |= Q(host_organisation_id=user.organisation_id)
        resources = (
            Resource.objects.filter(q, kind=Resource.Kind.WORKSTATION)
            .select_related("region")
            .distinct()
            .order_by("id")
        )
        return [Subject(resource=r) for r in resources]
    return [Subject()]
