"""Demo recognition (典型选树) data, through the recognition services, so that every part of
the chain has something on it the first time `make run` opens it:

- `demo_staff_province` holds the recognition role (`recognition.manage_recognition`);
- the reviewer pool (评审专家库): the demo reviewer `demo_reviewer` and five more reviewers in
  different fields, employers and counties (same demo password);
- the year's studio batch, already final: a studio led by a demo worker (the first one who
  can log in with a verified, solved case behind them) applied, was recommended by
  `demo_staff_jinjiang`, endorsed by `demo_staff_chengdu`, scored by three reviewers, put on
  notice and recognised, so its badge shows (staff studio list, the lead's studios, the
  public expert directory);
- the year's case batch, in review: two closed, solved cases applied by their enterprises,
  recommended by their county (a staff account for each such county is created when the
  demo has none), endorsed by the city and assigned to three reviewers each;
  `demo_reviewer` has not scored yet, so the reviewer's dashboard has work;
- the year's 科创会 project collection, open, with one project submitted by a demo worker of
  双流区 and waiting in `demo_staff_shuangliu`'s queue;
- library consent for the demo's closed, solved and confirmed cases of public demands (up to
  five), given by their enterprise's user.

The services take today's date for the batch dates and the timeline; the notice period of
the final batch (7 days from now) is passed by publishing with the moment the notice ends.

Idempotent: each part is skipped when its batch (by name) or its rows already exist.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from pypdf import PdfWriter

from kejiyun.accounts.models import Role, User
from kejiyun.accounts.services import staff_create
from kejiyun.cases.models import Case, DockingRequest
from kejiyun.cases.workflow.services import case_library_consent
from kejiyun.common.levels import Level
from kejiyun.demands.models import Demand
from kejiyun.demo.seed import (
    DEMO_PASSWORD,
    MOBILE_PREFIX,
    REVIEWER_ACCOUNTS,
    DemoError,
    demo_login_usernames,
)
from kejiyun.recognition.eligibility import Subject, solved_confirmed_q
from kejiyun.recognition.models import (
    Application,
    Batch,
    Programme,
    ReviewAssignment,
    ReviewerProfile,
)
from kejiyun.recognition.review.services import CriterionInput as ScoreInput
from kejiyun.recognition.review.services import (
    ReviewerDetails,
    review_assign,
    review_score_save,
    review_scoring_close,
    reviewer_profile_create,
)
from kejiyun.recognition.services import (
    ApplicationInput,
    BatchInput,
    CriterionInput,
    application_attachment_add,
    application_create,
    application_move,
    application_submit,
    batch_create,
    batch_criteria_replace,
    batch_finalise,
    batch_notice_start,
    batch_transition,
)
from kejiyun.regions.models import Region
from kejiyun.talent.models import TalentProfile, Team
from kejiyun.talent.services import TeamData, team_create

PROVINCE = "demo_staff_province"
CITY = "demo_staff_chengdu"
JINJIANG = "demo_staff_jinjiang"
SHUANGLIU = "demo_staff_shuangliu"
STUDIO_COUNTY = "510104"  # 锦江区: demo_staff_jinjiang recommends the demo studio
PROJECT_COUNTY = "510116"  # 双流区: the project waits in demo_staff_shuangliu's queue
# Staff accounts this module adds for the counties of the demo's case applications take
# mobiles from this index of the staff prefix on (the demo staff and approver take 1..5).
COUNTY_STAFF_MOBILE_FROM = 40
COUNTY_STAFF_NAMES = ("何雨婷", "罗建华", "唐晓燕")
LIBRARY_CONSENTS = 5
# The reviewers of the demo's case batch (the pool when it is assigned).
CASE_REVIEWERS = frozenset({REVIEWER_ACCOUNTS[0], "demo_reviewer_zhang", "demo_reviewer_chen"})
# The demo cases' industries that those three know (plant protection, food safety, brewing).
CASE_INDUSTRIES = ("柑橘", "食品加工", "白酒酿造", "水稻油菜")

# (username, name, title, employer, county, fields, keywords, expertise, load)
REVIEWERS: tuple[tuple[str, str, str, str, str, str, str, str, int], ...] = (
    (
        "demo_reviewer_zhang",
        "张建国",
        "研究员",
        "四川省农业科学院茶叶研究所",
        "511802",
        "茶学、植物保护",
        "茶叶、绿色防控、茶园管理、病虫害",
        "长期从事茶叶病虫害绿色防控和茶园土壤改良技术推广，指导茶园三十余个。",
        10,
    ),
    (
        "demo_reviewer_liu",
        "刘海燕",
        "教授",
        "西南科技大学",
        "510703",
        "机械工程、智能制造",
        "数控加工、工业机器人、生产线改造、质量检测",
        "从事智能制造与生产线自动化改造研究，为中小企业做过四十余次技术诊断。",
        10,
    ),
    (
        "demo_reviewer_chen",
        "陈明",
        "高级工程师",
        "四川省食品发酵工业研究设计院",
        "511102",
        "食品科学、发酵工程",
        "白酒酿造、泡菜、食品安全、发酵工艺",
        "主持川菜调味品和发酵食品工艺改进项目，熟悉食品企业标准化生产。",
        10,
    ),
    (
        "demo_reviewer_yang",
        "杨帆",
        "副研究员",
        "中国科学院成都生物研究所",
        "511302",
        "生物技术、环境工程",
        "微生物、污水处理、土壤修复、畜禽粪污资源化",
        "研究农业面源污染治理和畜禽粪污资源化利用，参与多个县域环境治理项目。",
        10,
    ),
    (
        "demo_reviewer_zhao",
        "赵丽娟",
        "教授",
        "电子科技大学",
        "510402",
        "电子信息、软件工程",
        "物联网、数字化转型、工业软件、数据分析",
        "长期从事物联网与企业数字化转型咨询，指导过多家制造企业上云用数。",
        10,
    ),
)
# demo_reviewer's own profile (the account is made by demo_seed).
DEMO_REVIEWER_PROFILE = (
    "四川农业大学",
    "511802",
    "副教授",
    "农学、食品科学、植物保护",
    "茶叶、蔬菜、农产品加工、绿色防控、质量检测",
    "从事农产品加工与质量安全研究，兼顾茶叶、蔬菜种植的病虫害绿色防控技术服务。",
)

CRITERIA = (
    CriterionInput(name="服务成效", weight=40, description="解决的问题、可核实的经济和社会效益"),
    CriterionInput(name="创新性", weight=30, description="技术路线和服务模式的创新"),
    CriterionInput(name="示范带动", weight=30, description="可复制、可推广，带动同行"),
)


@dataclass(frozen=True)
class DemoRecognition:
    reviewers: int
    batches: int
    applications: int
    consents: int


def _pdf(title: str) -> SimpleUploadedFile:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title})
    buffer = io.BytesIO()
    writer.write(buffer)
    return SimpleUploadedFile("申报书.pdf", buffer.getvalue(), content_type="application/pdf")


def _user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise DemoError("the demo staff accounts are missing; run demo_seed first")
    return user


def demo_recognition_seed(*, now: datetime | None = None) -> DemoRecognition:
    """The demo's recognition role, reviewer pool, batches and library consents."""
    now = now or timezone.now()
    province = _user(PROVINCE)
    province.user_permissions.add(
        Permission.objects.get(content_type__app_label="recognition", codename="manage_recognition")
    )
    province = User.objects.get(pk=province.pk)  # a fresh permission cache
    year = timezone.localdate(now).year
    # The case batch is assigned while only demo_reviewer and two others are in the pool:
    # they are the three reviewers of each case, so demo_reviewer has work whatever the fits.
    reviewers = _pool(province, only=CASE_REVIEWERS)
    batches = applications = 0
    with transaction.atomic():
        made = _case_batch(province, year)
        batches, applications = batches + (made > 0), applications + made
    reviewers += _pool(province)
    with transaction.atomic():
        made = _studio_batch(province, year)
        batches, applications = batches + (made > 0), applications + made
    with transaction.atomic():
        made = _project_batch(province, year)
        batches, applications = batches + (made > 0), applications + made
    consents = _library_consents(now)
    return DemoRecognition(
        reviewers=reviewers, batches=batches, applications=applications, consents=consents
    )


# --- The pool -----------------------------------------------------------------------------


def _pool(province: User, only: frozenset[str] | None = None) -> int:
    """demo_reviewer and the five others (or those named in `only`) in the pool; returns how
    many were added."""
    added = 0
    demo_reviewer = _user(REVIEWER_ACCOUNTS[0])
    employer, county, title, fields, keywords, expertise = DEMO_REVIEWER_PROFILE
    people = [(demo_reviewer, employer, county, title, fields, keywords, expertise, 10)]
    for index, (
        username,
        name,
        title,
        employer,
        county,
        fields,
        keywords,
        expertise,
        load,
    ) in enumerate(REVIEWERS, start=len(REVIEWER_ACCOUNTS) + 1):
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username,
                password=DEMO_PASSWORD,
                display_name=name,
                role=Role.REVIEWER,
                mobile=f"{MOBILE_PREFIX['reviewer']}{index:08d}",
            )
        people.append((user, employer, county, title, fields, keywords, expertise, load))
    for user, employer, county, title, fields, keywords, expertise, load in people:
        if only is not None and user.username not in only:
            continue
        if ReviewerProfile.objects.filter(user=user).exists():
            continue
        reviewer_profile_create(
            actor=province,
            user=user,
            details=ReviewerDetails(
                employer=employer,
                organisation=None,
                region=Region.objects.get(code=county),
                title=title,
                fields=fields,
                keywords=keywords,
                expertise=expertise,
                load=load,
            ),
        )
        added += 1
    return added


# --- Batches ------------------------------------------------------------------------------


def _open_batch(
    province: User, programme: str, year: int, name: str, *, reviewers: int, **extra: object
) -> Batch:
    today = timezone.localdate()
    values: dict[str, object] = {
        "programme": programme,
        "year": year,
        "name": name,
        "description": (
            "请各区县科技服务中心组织辖区内符合条件的对象申报，经区县推荐、市州审核后报省级评审。"
        ),
        "eligibility": "申报对象须在平台上有可核实的服务记录；案例须已办结、企业确认并评价。",
        "opens_on": today - timedelta(days=14),
        "closes_on": today + timedelta(days=30),
        "notice_days": 7,
        "reviewers_per_application": reviewers,
        "reviewer_load": 10,
        "exclude_same_county": True,
        "min_studio_cases": 1,
        "min_case_rating": 4,
        **extra,
    }
    batch = batch_create(actor=province, data=BatchInput(**values))  # type: ignore[arg-type]
    batch_criteria_replace(batch=batch, actor=province, criteria=list(CRITERIA), version=None)
    return batch_transition(batch=batch, to=Batch.Status.OPEN, actor=province)


def _submit(batch: Batch, applicant: User, subject: Subject, data: ApplicationInput) -> Application:
    application = application_create(batch=batch, actor=applicant, subject=subject, data=data)
    application_attachment_add(
        application=application, actor=applicant, upload=_pdf(application.title)
    )
    return application_submit(application=application, actor=applicant, version=None)


def _move(application: Application, to: str, actor: User) -> None:
    application.refresh_from_db()
    application_move(application=application, to=to, actor=actor, version=application.version)


def _score(assignment: ReviewAssignment, marks: tuple[int, ...]) -> None:
    criteria = list(assignment.application.batch.criteria.order_by("order"))
    review_score_save(
        assignment=assignment,
        actor=assignment.reviewer,
        scores={
            c.pk: ScoreInput(score=m, comment="材料翔实，服务成效有合同和企业评价佐证。")
            for c, m in zip(criteria, marks, strict=True)
        },
        submit=True,
    )


def _studio_lead() -> tuple[TalentProfile, Case] | None:
    """A demo worker who can log in and was the accepted expert on a solved, confirmed case
    (the first such by username), with that case; else any such worker."""
    dockings = (
        DockingRequest.objects.filter(status=DockingRequest.Status.ACCEPTED)
        .filter(case__in=Case.objects.filter(solved_confirmed_q()))
        .select_related("expert__user", "case__demand")
        .order_by("expert__user__username", "id")
    )
    logins = set(demo_login_usernames(scale="large"))
    first = None
    for docking in dockings:
        first = first or docking
        if docking.expert.user.username in logins:
            return docking.expert, docking.case
    return (first.expert, first.case) if first is not None else None


def _studio_batch(province: User, year: int) -> int:
    """The year's studio batch through the whole chain to its published result."""
    name = f"{year}年度典型/精品科创工作室"
    if Batch.objects.filter(name=name, programme=Programme.STUDIO).exists():
        return 0
    found = _studio_lead()
    if found is None:
        return 0
    lead, case = found
    county = Region.objects.get(code=STUDIO_COUNTY)
    surname = lead.user.display_name[:1] or "科创"
    field = (lead.fields or case.demand.industry or "农业技术").split("、")[0][:20]
    studio = Team.objects.filter(lead=lead, kind=Team.Kind.STUDIO).first() or team_create(
        lead=lead,
        actor=lead.user,
        data=TeamData(
            kind=Team.Kind.STUDIO,
            name=f"{surname}{field}科创工作室",
            region=county,
            fields=lead.fields or field,
            keywords=lead.keywords,
            description=f"围绕{field}为企业和基层提供技术诊断、方案设计和现场指导。",
        ),
    )
    batch = _open_batch(province, Programme.STUDIO, year, name, reviewers=3)
    application = _submit(
        batch,
        lead.user,
        Subject(studio=studio),
        ApplicationInput(
            title=f"{studio.name}申报精品工作室",
            summary=(
                f"工作室围绕{field}开展服务，办结“{case.demand.title}”等企业需求，"
                "合同已签订、成效经企业确认。"
            ),
            fields=lead.fields or field,
            level=Level.PREMIUM,
            answers={
                "members_roles": f"{lead.user.display_name}负责技术统筹，成员分工诊断和现场指导。",
                "services": f"近年为企业提供{field}技术诊断和方案设计，办结平台需求。",
                "effect": "帮助企业解决技术难题，企业满意度评价为满意以上。",
            },
        ),
    )
    _move(application, Application.Status.RECOMMENDED, _user(JINJIANG))
    _move(application, Application.Status.ENDORSED, _user(CITY))
    batch_transition(batch=batch, to=Batch.Status.REVIEW, actor=province)
    outcome = review_assign(batch=batch, actor=province)
    if outcome.short:
        raise DemoError(f"the demo studio could not get its reviewers: {outcome.short[0][1]}")
    for assignment in ReviewAssignment.objects.filter(application=application).order_by("id"):
        _score(assignment, (92, 88, 90))
    review_scoring_close(batch=Batch.objects.get(pk=batch.pk), actor=province)
    batch = batch_notice_start(batch=Batch.objects.get(pk=batch.pk), actor=province)
    assert batch.notice_ends_at is not None
    batch_finalise(batch=Batch.objects.get(pk=batch.pk), actor=province, now=batch.notice_ends_at)
    return 1


def _county_staff(county: Region, index: int) -> User:
    """The staff of `county`'s centre (a demo account is made when there is none)."""
    staff = (
        User.objects.filter(role=Role.STAFF, centre__region=county, is_active=True)
        .order_by("id")
        .first()
    )
    if staff is not None:
        return staff
    return staff_create(
        username=f"demo_staff_{county.code}",
        display_name=COUNTY_STAFF_NAMES[index % len(COUNTY_STAFF_NAMES)],
        password=DEMO_PASSWORD,
        centre_region=county,
        mobile=f"{MOBILE_PREFIX['staff']}{COUNTY_STAFF_MOBILE_FROM + index:08d}",
    )


def _case_batch(province: User, year: int) -> int:
    """The year's case batch in review: two cases assigned to three reviewers each, the
    other reviewers have scored, demo_reviewer has not."""
    name = f"{year}年度典型/精品服务案例"
    if Batch.objects.filter(name=name, programme=Programme.CASE).exists():
        return 0
    cases = sorted(
        Case.objects.filter(solved_confirmed_q(), rating__gte=4)
        .filter(region__parent_id="510100")
        .exclude(demand__confidentiality=Demand.Confidentiality.PRIVATE)
        .select_related("demand__organisation", "region")
        .order_by("id"),
        # Cases in the case reviewers' fields first, so that the assignment page shows real
        # shared expertise (植物保护, 食品安全, 白酒酿造), then the rest by id.
        key=lambda case: (
            CASE_INDUSTRIES.index(case.demand.industry)
            if case.demand.industry in CASE_INDUSTRIES
            else len(CASE_INDUSTRIES)
        ),
    )
    chosen: list[tuple[Case, User]] = []
    for case in cases:
        applicant = (
            User.objects.filter(
                organisation=case.demand.organisation, role=Role.ENTERPRISE, is_active=True
            )
            .order_by("id")
            .first()
        )
        if applicant is not None:
            chosen.append((case, applicant))
        if len(chosen) == 2:
            break
    if not chosen:
        return 0
    batch = _open_batch(province, Programme.CASE, year, name, reviewers=3)
    applications = []
    for index, (case, applicant) in enumerate(chosen):
        application = _submit(
            batch,
            applicant,
            Subject(case=case),
            ApplicationInput(
                title=f"{case.demand.title[:40]}服务案例",
                summary=f"{case.demand.organisation.name}的需求经专家对接办结，成效经企业确认。",
                fields=case.demand.industry[:200],
                level=Level.TYPICAL,
                answers={
                    "problem": case.demand.title,
                    "solution": "服务中心组织专家诊断，签订技术服务合同并现场实施。",
                    "benefit": "问题得到解决，企业确认成效并给予好评。",
                },
            ),
        )
        _move(application, Application.Status.RECOMMENDED, _county_staff(case.region, index))
        _move(application, Application.Status.ENDORSED, _user(CITY))
        applications.append(application)
    batch_transition(batch=batch, to=Batch.Status.REVIEW, actor=province)
    outcome = review_assign(batch=batch, actor=province)
    if outcome.short:
        raise DemoError(f"the demo cases could not get their reviewers: {outcome.short[0][1]}")
    for assignment in (
        ReviewAssignment.objects.filter(application__batch=batch)
        .exclude(reviewer__username=REVIEWER_ACCOUNTS[0])
        .order_by("id")
    ):
        _score(assignment, (82, 78, 80))
    return len(applications)


def _project_batch(province: User, year: int) -> int:
    """The year's 科创会 project collection, open, with one project waiting for 双流区."""
    name = f"{year}年科创会项目征集"
    if Batch.objects.filter(name=name, programme=Programme.PROJECT).exists():
        return 0
    logins = set(demo_login_usernames(scale="large"))
    applicant = (
        User.objects.filter(
            username__in=logins, role=Role.WORKER, region_id=PROJECT_COUNTY, is_active=True
        )
        .order_by("username")
        .first()
    )
    batch = _open_batch(province, Programme.PROJECT, year, name, reviewers=3)
    if applicant is None:
        return 0
    _submit(
        batch,
        applicant,
        Subject(),
        ApplicationInput(
            title="双流区智慧农业物联网监测平台",
            summary="面向双流区蔬菜基地的土壤墒情和病虫害物联网监测平台，已完成中试。",
            fields="物联网、智慧农业",
            answers={
                "maturity": "中试阶段，已在两个蔬菜基地试运行一年。",
                "investment": "需投资300万元，用于设备采购和推广。",
                "benefit": "预计每亩节水两成、减少农药用量一成半。",
                "partners": "希望对接农业物联网企业和农业科研院所。",
            },
        ),
    )
    return 1


# --- The library --------------------------------------------------------------------------


def _library_consents(now: datetime) -> int:
    """Consent to the library for up to five solved, confirmed cases of public demands."""
    cases = (
        Case.objects.filter(solved_confirmed_q(), library_consent_at__isnull=True)
        .exclude(demand__confidentiality=Demand.Confidentiality.PRIVATE)
        .select_related("demand")
        .order_by("id")
    )
    done = Case.objects.filter(library_consent_at__isnull=False).count()
    given = 0
    for case in cases:
        if done + given >= LIBRARY_CONSENTS:
            break
        user = (
            User.objects.filter(
                organisation_id=case.demand.organisation_id, role=Role.ENTERPRISE, is_active=True
            )
            .order_by("id")
            .first()
        )
        if user is None:
            continue
        case_library_consent(case=case, actor=user, granted=True, now=now)
        given += 1
    return given
