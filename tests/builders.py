"""Builders the tests share: plain functions that write rows or return test data, and the
constants they use. Fixtures and hooks live in `conftest.py`; a builder that only one test
module uses stays in that module.

People in tests follow one cast: Alice is county staff in 锦江区 (510104), Bob is her
colleague at the 成都市 (510100) centre, Charlie is staff in another city's county,
青川县 (510822, 广元市), and Pat is at the province centre (510000). Dora is a citizen in
锦江区, Erin works for 锦江茶业 (`tea_company`, an enterprise in 锦江区), Rita reviews
science content, Tina is a tea expert and Peter a pig expert, both in 锦江区.

Sections: people and organisations; demands and cases; matching experts; science content
and campaigns; spreadsheets.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from openpyxl import Workbook  # type: ignore[import-untyped]

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.accounts.services import staff_create
from kejiyun.accounts.validators import uscc_check_character
from kejiyun.cases.models import Case
from kejiyun.cases.workflow.services import case_open
from kejiyun.demands.models import Demand
from kejiyun.notifications.models import Channel
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
    return TalentProfile.objects.create(user=user, region_id=county_code, employer="四川农业大学")


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

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32
MP4 = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 32

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
