"""Builders the tests share: plain functions that write rows or return test data, and the
constants they use. Fixtures and hooks live in `conftest.py`; a builder that only one test
module uses stays in that module.

People in tests follow one cast: Alice is county staff in 锦江区 (510104), Bob is her
colleague at the 成都市 (510100) centre, Charlie is staff in another city's county,
青川县 (510822, 广元市), and Pat is at the province centre (510000). Dora is a citizen in
锦江区, Erin works for 锦江茶业 (`tea_company`, an enterprise in 锦江区), Rita reviews
science content, Tina is a tea expert and Peter a pig expert, both in 锦江区.

Sections: people and organisations; demands and cases; files; matching experts; science
content and campaigns; the crawl's small world; spreadsheets.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook  # type: ignore[import-untyped]
from PIL import Image
from pypdf import PdfWriter
from pypdf.actions import JavaScript

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.accounts.services import staff_create
from kejiyun.accounts.validators import uscc_check_character
from kejiyun.cases.dockings.services import docking_send
from kejiyun.cases.models import Case, Step
from kejiyun.cases.workflow.services import (
    case_attachment_add,
    case_open,
    case_transition,
)
from kejiyun.demands.models import Demand
from kejiyun.events.models import Event
from kejiyun.events.services import (
    EventInput,
    event_create,
    event_transition,
    exhibit_decide,
    exhibit_nominate,
    slot_create,
)
from kejiyun.notifications.models import Channel
from kejiyun.plans.services import worker_verify
from kejiyun.popsci.content.services import (
    QuestionInput,
    content_approve,
    content_create,
    content_submit,
    quiz_questions_replace,
)
from kejiyun.popsci.models import (
    TOPIC_BITS,
    AgeBand,
    Article,
    Campaign,
    CitizenProfile,
    Segment,
    Topic,
)
from kejiyun.popsci.targeting.services import campaign_create, citizen_consent_grant
from kejiyun.regions.models import Region
from kejiyun.spreadsheets.models import ImportBatch
from kejiyun.talent.models import TalentProfile

PASSWORD = "Correct-Horse-Battery-9"
DORA_MOBILE = "13700001111"


# --- People and organisations ----------------------------------------------------------------


def make_uscc(county_code: str, serial: str) -> str:
    """A valid unified social credit code (统一社会信用代码) registered in `county_code`."""
    first17 = f"91{county_code}{serial:0>9}"[:17]
    return first17 + uscc_check_character(first17)


def make_staff(username: str, region_code: str) -> User:
    """Staff of the service centre of `region_code` (the cast: see the module docstring)."""
    return staff_create(
        username=username,
        display_name=username.title(),
        password=PASSWORD,
        centre_region=Region.objects.get(code=region_code),
    )


def make_enterprise(name: str, county_code: str, serial: str) -> Organisation:
    return Organisation.objects.create(
        kind=Organisation.Kind.ENTERPRISE,
        name=name,
        uscc=make_uscc(county_code, serial),
        region_id=county_code,
    )


def make_enterprise_user(
    organisation: Organisation, username: str = "erin", *, mobile: str | None = None
) -> User:
    """A user who speaks for `organisation`, living in its county."""
    return User.objects.create_user(
        username=username,
        password=PASSWORD,
        display_name=username.title(),
        mobile=mobile,
        role=Role.ENTERPRISE,
        organisation=organisation,
        region_id=organisation.region_id,
    )


def make_worker(username: str, county_code: str, mobile: str) -> TalentProfile:
    """An S&T worker (科技工作者) of 四川农业大学 with an empty, unverified profile."""
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        display_name=username.title(),
        mobile=mobile,
        role=Role.WORKER,
        region_id=county_code,
    )
    return TalentProfile.objects.create(
        user=user, region_id=county_code, employer="四川农业大学", directory_consent=True
    )


def make_reviewer(username: str = "rita") -> User:
    """A science reviewer (科普审核专家), Rita unless named otherwise."""
    return User.objects.create_user(
        username=username, password=PASSWORD, display_name=username.title(), role=Role.REVIEWER
    )


def make_citizen(
    username: str,
    region_code: str = "510104",
    *,
    occupation: str = Segment.FARMER,
    age_band: str = AgeBand.AGE_36_59,
    interests: Sequence[str] = (),
    consent: bool = True,
    consent_version: str | None = None,
    mobile: str | None = None,
) -> User:
    """A citizen (公众用户) with a targeting profile in `region_code` (a county or a township).

    With `consent` the citizen consents to targeted content through the service, as they would
    on their preference page (a consent record and an audit row are written); `consent_version`
    then replaces the policy version they consented to, to stand for consent to an older policy.
    The profile is `user.citizen_profile`.
    """
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        display_name=username.title(),
        mobile=mobile,
        role=Role.CITIZEN,
        region_id=region_code,
    )
    profile = CitizenProfile.objects.create(
        user=user,
        region_id=region_code,
        region_code=region_code,
        occupation=occupation,
        age_band=age_band,
        interests=list(interests),
        interest_bits=sum(TOPIC_BITS[t] for t in interests),
    )
    if consent:
        citizen_consent_grant(profile=profile, actor=user)
        if consent_version is not None:
            CitizenProfile.objects.filter(pk=profile.pk).update(consent_version=consent_version)
            profile.consent_version = consent_version
    return user


def client_for(user: User) -> Client:
    """A test client signed in as `user`."""
    client = Client()
    client.force_login(user)
    return client


# --- Demands and cases -----------------------------------------------------------------------


def make_demand(
    organisation: Organisation,
    *,
    title: str,
    description: str = "…",
    status: str = Demand.Status.PUBLISHED,
    **fields: Any,
) -> Demand:
    """A demand of `organisation` (a technical problem, in its county unless `region_id` says
    otherwise), published unless `status` says otherwise; other fields as given."""
    values: dict[str, Any] = {
        "region_id": organisation.region_id,
        "category": Demand.Category.PROBLEM,
        **fields,
    }
    return Demand.objects.create(
        organisation=organisation, title=title, description=description, status=status, **values
    )


def make_tea_demand(organisation: Organisation, **fields: Any) -> Demand:
    """A published tea pest-control demand in 锦江区, the demand the matching tests rank for."""
    values: dict[str, Any] = {
        "region_id": "510104",
        "title": "茶叶病虫害绿色防控技术",
        "description": "茶园近年茶小绿叶蝉危害严重，需要茶叶病虫害绿色防控方案和现场指导。",
        "industry": "茶叶种植",
        **fields,
    }
    return make_demand(organisation, **values)


def make_case(
    actor: User | None,
    *,
    county: str = "510104",
    title: str = "茶园病虫害绿色防控",
    serial: str = "1",
) -> Case:
    """A case opened by `actor` on a published demand of a new enterprise (企业<serial>)."""
    demand = make_demand(
        make_enterprise(f"企业{serial}", county, serial),
        title=title,
        description="茶园近两年病虫害加重，希望找到绿色防控的办法，减少农药用量。",
        industry="茶叶种植",
    )
    return case_open(demand=demand, actor=actor)


def case_to_matching(case: Case, actor: User) -> Case:
    """Take a case just opened through diagnosis to the matching step (匹配), where workers
    may apply and the enterprise may ask for a docking."""
    case_transition(case=case, to_step=Step.DIAGNOSIS, actor=actor)
    case_transition(case=case, to_step=Step.MATCHING, actor=actor)
    case.refresh_from_db()
    return case


# --- Files (real documents: uploads are accepted only if they parse) -----------------------

OOXML = "application/vnd.openxmlformats-officedocument"
WORD_MAIN = f"{OOXML}.wordprocessingml.document.main+xml"


def pdf_bytes(*, pages: int = 1, javascript: str = "") -> bytes:
    """A real PDF written by pypdf: `pages` blank A4 pages; with `javascript`, an open
    action that runs it (which uploads refuse)."""
    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    if javascript:
        writer.add_open_action(JavaScript(javascript))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def pdf_upload(name: str = "合同.pdf", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes() if data is None else data, "application/pdf")


def office_bytes(main_part: str = WORD_MAIN, *, members: dict[str, bytes] | None = None) -> bytes:
    """A minimal Office Open XML package (a .docx unless `main_part` says otherwise): the
    `[Content_Types].xml` naming `main_part` for /word/document.xml, and that part."""
    types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/word/document.xml" ContentType="{main_part}"/></Types>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("word/document.xml", "<w:document><w:body/></w:document>")
        for name, data in (members or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


# --- Matching experts ------------------------------------------------------------------------


def make_expert(
    username: str,
    county_code: str,
    mobile: str,
    *,
    fields: str,
    keywords: str,
    capability: str,
    employer: str = "四川农业大学",
) -> TalentProfile:
    """A researcher (研究员) whose profile the match index reads: fields, keywords, capability."""
    profile = make_worker(username, county_code, mobile)
    profile.fields = fields
    profile.keywords = keywords
    profile.capability = capability
    profile.employer = employer
    profile.title = "研究员"
    profile.save()
    return profile


def make_tea_expert(
    username: str = "tina",
    mobile: str = "13900000001",
    *,
    county_code: str = "510104",
    employer: str = "四川农业大学",
) -> TalentProfile:
    """Tina (or another tea expert): tea pest control and tea garden soil."""
    return make_expert(
        username,
        county_code,
        mobile,
        fields="茶学、植物保护",
        keywords="茶叶、绿色防控、茶园管理",
        capability="长期从事茶叶病虫害绿色防控和茶园土壤改良技术推广。",
        employer=employer,
    )


def make_pig_expert() -> TalentProfile:
    """Peter, a pig farming and swine fever expert in 锦江区."""
    return make_expert(
        "peter",
        "510104",
        "13900000002",
        fields="畜牧学",
        keywords="生猪、养殖、疫病防控",
        capability="从事生猪规模化养殖与非洲猪瘟疫病防控。",
    )


# --- Science content and campaigns -----------------------------------------------------------


def png_bytes(size: tuple[int, int] = (4, 3)) -> bytes:
    """A real PNG image drawn by Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (11, 79, 138)).save(buffer, format="PNG")
    return buffer.getvalue()


def jpeg_bytes(size: tuple[int, int] = (4, 3)) -> bytes:
    """A real JPEG image drawn by Pillow."""
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="JPEG")
    return buffer.getvalue()


def mp4_bytes(payload: bytes = b"\x00" * 16) -> bytes:
    """An MP4 file's box structure: `ftyp` (isom, mp42), an empty `moov` and `mdat`."""

    def box(kind: bytes, body: bytes) -> bytes:
        return (8 + len(body)).to_bytes(4, "big") + kind + body

    return (
        box(b"ftyp", b"isom" + b"\x00\x00\x02\x00" + b"isommp42")
        + box(b"moov", box(b"mvhd", b"\x00" * 100))
        + box(b"mdat", payload)
    )


PNG = png_bytes()
JPEG = jpeg_bytes()
MP4 = mp4_bytes()

QUESTIONS = [
    QuestionInput(
        text="发生山体滑坡时应往哪里跑？", options=("顺着滑坡方向", "向两侧跑"), answer=1
    ),
    QuestionInput(
        text="汛期夜间听到异常声响应当？",
        options=("继续睡觉", "立即撤离", "拍视频", "打电话问邻居"),
        answer=1,
        explanation="先撤离再核实。",
    ),
    QuestionInput(text="山洪来临时能否涉水过河？", options=("能", "不能"), answer=1),
]


def png_upload(name: str = "pic.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def make_draft(author: User, *, title: str = "汛期地质灾害避险指南", **fields: Any) -> Article:
    """A draft landslide article for 锦江区 written by `author` through the content service."""
    values: dict[str, Any] = {
        "kind": Article.Kind.ARTICLE,
        "topic": Topic.LANDSLIDE,
        "body": "遇到山体滑坡，要向两侧跑。",
        "region": Region.objects.get(code="510104"),
        **fields,
    }
    return content_create(actor=author, title=title, **values)


def make_published(
    author: User, reviewer: User, *, with_quiz: bool = True, **fields: Any
) -> Article:
    """A draft (see `make_draft`) with the three-question quiz unless told otherwise,
    submitted by `author` and approved by `reviewer`: published the way staff publish."""
    article = make_draft(author, **fields)
    if with_quiz:
        quiz_questions_replace(article=article, actor=author, questions=QUESTIONS)
    content_submit(article=article, actor=author)
    content_approve(article=article, actor=reviewer)
    article.refresh_from_db()
    return article


def make_article(
    title: str,
    *,
    body: str = "正文" * 50,
    topic: str = Topic.AGRICULTURE,
    status: str = Article.Status.PUBLISHED,
    published_at: datetime | None = None,
    **fields: Any,
) -> Article:
    """An article row written straight to the table, without review (for readers, feeds and
    outcomes): published, with `published_at` now unless given."""
    return Article.objects.create(
        title=title,
        body=body,
        topic=topic,
        status=status,
        published_at=published_at or timezone.now(),
        **fields,
    )


def make_campaign(staff: User, *, scheduled_at: datetime | None = None) -> Campaign:
    """An in-app campaign by `staff` for all of 锦江区, carrying an article `staff` wrote and
    Rita approved; sent by hand unless `scheduled_at` is given."""
    return campaign_create(
        actor=staff,
        title="汛期避险",
        article=make_published(staff, make_reviewer()),
        channel=Channel.IN_APP,
        region=Region.objects.get(code="510104"),
        scheduled_at=scheduled_at,
    )


# --- A small world for the crawl of every role's pages ---------------------------------------

CRAWL_ROLES = (
    "staff_province",
    "staff_city",
    "staff_county",
    "worker",
    "enterprise",
    "citizen",
    "reviewer",
)


def make_crawl_world() -> dict[str, User]:
    """A realistic small set, written through the services, so that every role's pages have
    something to show: the cast's staff at province (Pat), city (Bob) and county (Alice);
    Tina, a verified tea expert with her 一人一策 plan; Erin of 锦江茶业 with a published
    demand whose case is in docking, with a docking request to Tina and an attachment; a
    published article with a quiz; Dora the citizen and Rita the reviewer. The users by role
    (`CRAWL_ROLES`)."""
    alice = make_staff("alice", "510104")
    bob = make_staff("bob", "510100")
    pat = make_staff("pat", "510000")
    rita = make_reviewer("rita")
    dora = make_citizen("dora", "510104", mobile=DORA_MOBILE)
    company = make_enterprise("成都市锦江区蒙顶山生态茶业科技发展有限公司", "510104", "MA6100001")
    erin = make_enterprise_user(company, "erin")
    tina = make_tea_expert()
    worker_verify(profile=tina, actor=alice)
    make_demand(
        company,
        title="出口绿茶农残检测能力提升",
        description="出口欧盟的绿茶需要提高农残检测能力，希望获得检测方法培训。",
        status=Demand.Status.DRAFT,
    )
    case = case_open(
        demand=make_tea_demand(
            company,
            title="有机茶园茶小绿叶蝉和茶尺蠖绿色防控及出口欧盟农残检测达标技术服务",
            problem="春茶受害芽梢比例超过两成，化学农药用量逐年上升，出口批次检测压力大。",
            current_state="每年喷施化学农药四到五次；检测报告编号如 SC-CDJJ-2026-000123456789。",
            target_indicators="两年内受害芽梢比例降到百分之五以下，化学农药用量减半。",
        ),
        actor=alice,
    )
    for step in ("diagnosis", "matching"):
        case_transition(case=case, to_step=step, actor=alice)
    docking_send(case=case, expert=tina, actor=alice, message="请与企业联系，看一下茶园。")
    case_attachment_add(case=case, actor=alice, upload=pdf_upload("茶园诊断报告.pdf"))
    # The province's service conference, open for sign-up, with the case's demand on show.
    event = make_event(pat, status="collecting")
    exhibit = exhibit_decide(
        exhibit=exhibit_nominate(event=event, actor=alice, demand=case.demand),
        actor=pat,
        accept=True,
    )
    slot_create(
        exhibit=exhibit,
        actor=pat,
        place="A-01",
        starts_at=event.starts_at,
        ends_at=event.starts_at + timedelta(minutes=30),
        capacity=4,
    )
    event_transition(event=event, to="open", actor=pat, version=event.version)
    # Cases of a county without staff: they go to the nearest centre up the chain with
    # staff (the city, Bob's centre), owned by its least-loaded staff member.
    make_case(None, county="510107", serial="2", title="武侯区社区医养结合智能照护设备选型需求")
    make_case(None, county="510107", serial="3", title="武侯区老旧小区加装电梯结构安全评估")
    make_published(alice, rita, title="茶园病虫害绿色防控要点")
    return {
        "staff_province": pat,
        "staff_city": bob,
        "staff_county": alice,
        "worker": tina.user,
        "enterprise": erin,
        "citizen": dora,
        "reviewer": rita,
    }


# --- Spreadsheets ----------------------------------------------------------------------------

WORKER_HEADERS = [
    "姓名*",
    "手机号*",
    "身份证号",
    "所在区县代码*",
    "工作单位",
    "职称",
    "专业领域",
    "关键词",
    "能力描述",
    "学科",
    "服务行业",
    "服务方式",
]
ID_NUMBER = "510104199001011230"


def make_xlsx(headers: list[str], rows: list[list[Any]], *, sheet: str = "需求") -> bytes:
    """An .xlsx file with one sheet: a header row, then `rows`."""
    workbook = Workbook()
    ws = workbook.active
    ws.title = sheet
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def worker_row(
    name: str = "张三",
    mobile: Any = "13800001234",
    id_number: str = ID_NUMBER,
    county: Any = "510104",
) -> list[Any]:
    """One row of the worker template (see `WORKER_HEADERS`)."""
    return [name, mobile, id_number, county, "四川大学", "教授", "机器视觉", "缺陷检测", "图像检测"]


def upload(client: Client, kind: str, data: bytes, name: str = "登记表.xlsx") -> Any:
    """Post a spreadsheet to the import page for `kind` ("demands" or "workers")."""
    return client.post(f"/sheets/import/{kind}/", {"file": SimpleUploadedFile(name, data)})


def upload_batch(client: Client, kind: str, data: bytes) -> ImportBatch:
    """Upload a spreadsheet that is accepted for checking; the batch it became."""
    response = upload(client, kind, data)
    assert response.status_code == 302, response.content.decode()
    batch = ImportBatch.objects.latest("id")
    assert response["Location"] == f"/sheets/import/batches/{batch.pk}/"
    return batch


# --- Administrators ---------------------------------------------------------------------------


def make_superuser(username: str = "root") -> User:
    """A platform administrator who signs in at /admin/login/ with `PASSWORD`."""
    return User.objects.create_superuser(
        username=username, password=PASSWORD, display_name="管理员", role=Role.ADMIN
    )


# --- Performance roles -------------------------------------------------------------------------


def grant_perms(user: User, *codenames: str) -> User:
    """`user` with these permissions of the performance app (`manage_scheme`: the scheme role,
    `approve_allocation`: the approver role), read afresh so no permission cache is stale."""
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="performance", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)


# --- Docking events --------------------------------------------------------------------------


def make_event(
    organiser: User,
    *,
    name: str = "2026科创中国·天府科技云服务大会",
    days_ahead: int = 10,
    status: str = "draft",
) -> Event:
    """An event organised by `organiser` (province staff: a 服务大会; city staff: a 科创会),
    starting `days_ahead` days from now for a day, sign-up closing the day before, moved
    through the services to `status`."""
    starts = timezone.now().replace(second=0, microsecond=0) + timedelta(days=days_ahead)
    level = organiser.centre.region.level if organiser.centre else ""
    event = event_create(
        actor=organiser,
        data=EventInput(
            name=name,
            kind=Event.Kind.CONFERENCE if level == "province" else Event.Kind.FORUM,
            venue="成都世纪城国际会议中心",
            starts_at=starts,
            ends_at=starts + timedelta(hours=8),
            sign_up_closes_at=starts - timedelta(days=1),
        ),
    )
    order = list(Event.Status.values)
    for to in order[1 : order.index(status) + 1]:
        event_transition(event=event, to=to, actor=organiser, version=event.version)
    return event


# --- Second factor -----------------------------------------------------------------------------


def enrol_second_factor(user: User) -> Any:
    """A confirmed authenticator (django-otp `TOTPDevice`) for `user`, as if they had
    enrolled on the page; `totp_code(device)` is what their phone shows now."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.create(user=user, name="authenticator", confirmed=True)


def totp_code(device: Any, *, steps_ahead: int = 0) -> str:
    """The 6-digit code `device`'s authenticator shows now (or `steps_ahead` steps later)."""
    from django_otp.oath import totp

    value = totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead)
    return f"{value:0{device.digits}d}"


# The least environment production settings start with (DEBUG off): real-length keys, a
# real SMS gateway over https. Tests of the settings' refusals change one value at a time.
PRODUCTION_ENV = {
    "SECRET_KEY": "k" * 50,
    "ALLOWED_HOSTS": "kejiyun.example.cn",
    "FIELD_ENCRYPTION_KEYS": "v1:" + "A" * 43 + "=",
    "FIELD_LOOKUP_KEY": "B" * 43 + "=",
    "SMS_BACKEND": "kejiyun.notifications.sms.HttpGatewayBackend",
    "SMS_GATEWAY_URL": "https://sms.example.cn/send",
    "SMS_GATEWAY_SECRET": "g" * 40,
}
