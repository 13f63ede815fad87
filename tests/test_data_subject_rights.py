"""Data-subject rights (docs/requirements/security.md item 19; PIPL §§44-47): see, export,
correct, withdraw consents and cancel the account; after cancellation nothing personal is
left in any table, the cache or the match index files."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import models
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook  # type: ignore[import-untyped]

from kejiyun.accounts.models import Footprint, Role, SmsCode, User
from kejiyun.api.models import ApiToken
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.cases.models import CaseEvent, CaseNote, DockingRequest
from kejiyun.common.crypto import lookup_hash, mobile_lookup, seal
from kejiyun.demands.models import Demand, DemandEvent
from kejiyun.matching.index import experts_engine, match_index_sync
from kejiyun.notifications.models import Channel, InboxItem, OutboxMessage, SmsMessage
from kejiyun.popsci.models import AgeBand, CitizenProfile, QuizAttempt, ReadEvent
from kejiyun.popsci.targeting.selectors import campaign_audience
from kejiyun.popsci.targeting.services import citizen_consent_grant
from kejiyun.privacy.selectors import personal_data
from kejiyun.talent.models import ID_NUMBER_PURPOSE, TalentProfile, Team, TechResult
from tests.builders import (
    DORA_MOBILE,
    PASSWORD,
    case_to_matching,
    client_for,
    make_campaign,
    make_case,
    make_citizen,
    make_enterprise,
    make_published,
    make_reviewer,
    make_worker,
)
from tests.security_figures import record_figure

NAME = "甄卡娜瑞"
MOBILE = "13955550123"
EMAIL = "canary-7781@example.org"
ID_NUMBER = "51010419900101777X"
CAPABILITY = "zqxcapab7781"
REASON = "zqxreason7781"
CANARIES = (NAME, MOBILE, EMAIL, ID_NUMBER, CAPABILITY, REASON)


def _canary_world(alice: User) -> tuple[User, TalentProfile]:
    """One worker with a canary in every personal field of every store they touch."""
    profile = make_worker(f"m{MOBILE}", "510104", MOBILE)
    user = profile.user
    User.objects.filter(pk=user.pk).update(display_name=NAME, email=EMAIL)
    user.refresh_from_db()
    TalentProfile.objects.filter(pk=profile.pk).update(
        capability=f"{CAPABILITY} 茶园病虫害绿色防控，联系 {MOBILE}",
        fields="茶叶",
        keywords=CAPABILITY,
        id_number_sealed=seal(ID_NUMBER, purpose=ID_NUMBER_PURPOSE),
        id_number_hash=lookup_hash(ID_NUMBER, purpose=ID_NUMBER_PURPOSE),
    )
    profile.refresh_from_db()
    TechResult.objects.create(
        owner_profile=profile,
        kind=TechResult.Kind.values[0],
        title=f"{NAME}的茶树品种",
        summary=f"完成人 {NAME}，电话 {MOBILE}",
    )
    Team.objects.create(
        kind=Team.Kind.STUDIO,
        name=f"{NAME}工作室",
        lead=profile,
        region_id="510104",
        description=f"负责人 {NAME} {EMAIL}",
    )
    org = make_enterprise("金丝猴茶业", "510104", "MA6100077")
    demand = Demand.objects.create(
        organisation=org,
        region_id="510104",
        title="茶园防控",
        category=Demand.Category.PROBLEM,
        description=f"请联系 {NAME}（{MOBILE}，身份证 {ID_NUMBER}）",
        created_by=user,
        status=Demand.Status.PUBLISHED,
    )
    DemandEvent.objects.create(
        demand=demand, actor=user, from_status="draft", to_status="submitted", reason=REASON
    )
    case = case_to_matching(make_case(alice, serial="77"), alice)
    CaseEvent.objects.create(case=case, actor=user, kind=CaseEvent.Kind.NOTE, reason=REASON)
    CaseNote.objects.create(case=case, author=user, body=f"{NAME} 记录 {REASON}")
    DockingRequest.objects.create(
        case=case,
        expert=profile,
        sent_by=alice,
        message=f"请 {NAME} 对接",
        status=DockingRequest.Status.DECLINED,
        decline_reason=REASON,
    )
    citizen = CitizenProfile.objects.create(
        user=user,
        region_id="510104",
        region_code="510104",
        occupation="farmer",
        age_band=AgeBand.AGE_36_59,
        crops=CAPABILITY,
    )
    citizen_consent_grant(profile=citizen, actor=user)
    article = make_published(alice, make_reviewer("rex"))
    ReadEvent.objects.create(article=article, user=user, device=CAPABILITY)
    QuizAttempt.objects.create(
        article=article, user=user, answers={"1": REASON}, correct=1, total=1
    )
    InboxItem.objects.create(user=user, title="通知", body=f"{NAME} 您好")
    OutboxMessage.objects.create(
        channel=Channel.SMS,
        recipient=user,
        address=MOBILE,
        title="提醒",
        body=f"{NAME}您好",
        idempotency_key="canary-1",
    )
    SmsMessage.objects.create(mobile=MOBILE, body=f"验证码 {REASON}")
    SmsCode.objects.create(
        mobile_hash=mobile_lookup(MOBILE),
        purpose="reset",
        code_hash="x",
        expires_at=demand.created_at,
    )
    Footprint.objects.create(user=user, kind=Footprint.Kind.LOGIN, network="n", device="d")
    ApiToken.objects.create(
        kind="access",
        token_hash="h" * 64,
        prefix="p",
        name=f"{NAME}的令牌",
        user=user,
        expires_at=demand.created_at,
    )
    cache.set(f"user:{user.pk}:personal-data", f"{NAME} {MOBILE}")
    cache.set(f"ratelimit:docking-ask:{user.pk}", 3)
    return user, profile


def _text_hits(canaries: tuple[str, ...]) -> list[str]:
    """Every text, char and JSON column of every table, searched for the canaries."""
    hits = []
    for model in apps.get_models():
        names = [
            f.name
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField | models.JSONField)
        ]
        for row in model._default_manager.values_list("pk", *names).iterator():
            for name, value in zip(names, row[1:], strict=True):
                text = (
                    json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
                )
                for canary in canaries:
                    if text and canary in text:
                        hits.append(f"{model._meta.label}.{name} #{row[0]}: {canary}")
    return hits


def _cache_hits(canaries: tuple[str, ...], user_pk: int) -> list[str]:
    import pickle

    hits = []
    store: dict[str, Any] = cache._cache  # type: ignore[attr-defined]  # LocMemCache
    for key, raw in store.items():
        text = f"{key} {pickle.loads(raw)!r}"  # noqa: S301 (our own test cache)
        hits += [f"cache {key}: {c}" for c in canaries if c in text]
        if f":{user_pk}:" in key or key.endswith(f":{user_pk}"):
            hits.append(f"cache key about the user: {key}")
    return hits


def _file_hits(root: Path, canaries: tuple[str, ...]) -> list[str]:
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            hits += [f"{path}: {c}" for c in canaries if c.encode() in data]
    return hits


def test_cancelling_leaves_no_personal_data_in_any_store(
    alice: User, match_index: Path, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    user, _profile = _canary_world(alice)
    client = Client()
    client.force_login(user)
    assert experts_engine() is not None
    match_index_sync()
    # Every store really holds the canaries before.
    before = _text_hits(CANARIES)
    for canary in CANARIES:
        assert any(canary in h for h in before), canary
    assert _file_hits(match_index, (CAPABILITY,))
    assert _cache_hits(CANARIES, user.pk)
    audit_rows = set(AuditEvent.objects.filter(user=user).values_list("pk", flat=True))

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("privacy:cancel"), {"password": PASSWORD, "confirmation": "确认注销"}
        )
    assert response.status_code == 302

    hits = _text_hits(CANARIES) + _cache_hits(CANARIES, user.pk) + _file_hits(match_index, CANARIES)
    record_figure(
        "personal_data_left_after_cancellation",
        len(hits),
        target="0",
        detail=f"{len(CANARIES)} canaries over every table, the cache and the match index files",
    )
    assert hits == [], "\n".join(hits)
    user.refresh_from_db()
    assert user.display_name == "已注销用户" and not user.is_active and user.cancelled_at
    assert not user.has_usable_password() and user.email == "" and not user.mobile
    assert not Session.objects.exists()
    # History rows stay without the text; the audit rows stay (the law keeps them).
    assert DemandEvent.objects.filter(actor=user).count() == 1
    assert CaseEvent.objects.filter(actor=user).count() == 1
    assert audit_rows < set(AuditEvent.objects.filter(user=user).values_list("pk", flat=True))
    assert AuditEvent.objects.filter(user=user, action=AuditAction.ACCOUNT_CANCEL).exists()
    assert not ReadEvent.objects.filter(user=user).exists()
    assert not ApiToken.objects.filter(user=user).exists()
    # Unlisted and forgotten by the matcher; signed out.
    assert client.get(reverse("privacy:my_data")).status_code == 302
    assert Client().login(username=f"m{MOBILE}", password=PASSWORD) is False


def test_my_data_page_lists_every_category_masked(alice: User) -> None:
    user, _ = _canary_world(alice)
    page = client_for(user).get(reverse("privacy:my_data"))
    assert page.status_code == 200
    text = page.content.decode()
    for label in (
        "账号信息",
        "科技工作者档案",
        "科技成果",
        "团队与工作室",
        "我填报的需求",
        "参与的服务案例",
        "科普阅读记录",
        "答题记录",
        "站内信",
        "API 令牌（仅名称）",
        "登录与操作足迹",
        "与我的操作有关的审计记录",
        "同意记录（版本）",
    ):
        assert label in text, label
    assert MOBILE not in text and ID_NUMBER not in text
    assert "139****0123" in text
    assert page["Cache-Control"].startswith("no-store") or "no-store" in page["Cache-Control"]


def test_every_model_pointing_at_the_user_is_read_or_deliberately_left_out() -> None:
    """A new table with a foreign key to the user must be added to the "my data" page (or
    to this list, with a reason)."""
    read = {
        "accounts.Footprint",
        "otp_totp.TOTPDevice",
        "otp_static.StaticDevice",
        "talent.TalentProfile",
        "demands.Demand",
        "demands.DemandEvent",
        "cases.Case",
        "cases.CaseEvent",
        "cases.CaseNote",
        "cases.CaseVisit",
        "cases.DockingRequest",
        "plans.ServicePlan",
        "plans.PlanNeed",
        "plans.PlanFollowUp",
        "plans.PlanEvent",
        "popsci.CitizenProfile",
        "popsci.ReadEvent",
        "popsci.QuizAttempt",
        "popsci.ActivitySignup",
        "events.Booking",
        "api.ApiToken",
        "api.WebhookSubscription",
        "notifications.InboxItem",
        "notifications.OutboxMessage",
        "audit.AuditEvent",
    }
    # Staff work records (the user acted on other people's records as staff, reviewer or
    # approver): not personal data of the user beyond their id; scrubbed on cancellation.
    staff_work = {
        "admin.LogEntry",
        "cases.CaseAttachment",
        "plans.PlanAction",
        "spreadsheets.ImportBatch",
        "popsci.Article",
        "popsci.ContentVersion",
        "popsci.ContentEvent",
        "popsci.Campaign",
        "integrity.Flag",
        "performance.Scheme",
        "performance.Allocation",
        "performance.AllocationEvent",
        "ops.WorkReport",
        "ops.ReportEvent",
        "ops.ReportComment",
        "ops.Bulletin",
        "ops.BulletinEvent",
        "ops.BulletinReceipt",
        "recognition.Batch",
        "recognition.Application",
        "recognition.ApplicationAttachment",
        "recognition.ApplicationEvent",
        "recognition.ReviewerProfile",
        "recognition.ReviewAssignment",
        "recognition.Objection",
        "events.Event",
        "events.EventChange",
        "events.Exhibit",
        "events.Agreement",
        "api.ApiClient",
        "spreadsheets.ExportRequest",
        "talent.DuplicateTicket",
        # Runs of long work the user started (imports, exports, rebuilds): their text is
        # scrubbed on cancellation and their result files go after BACKGROUND_RESULT_HOURS.
        "background.Run",
    }
    pointing = {
        m._meta.label
        for m in apps.get_models()
        for f in m._meta.concrete_fields
        if f.is_relation and f.related_model is User
    }
    assert pointing - read - staff_work == set()


def test_export_json_and_xlsx_hold_the_categories_and_are_audited(alice: User) -> None:
    user, _ = _canary_world(alice)
    client = client_for(user)
    response = client.get(reverse("privacy:export", args=["json"]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    labels = {c["label"] for c in data["categories"]}
    assert {"账号信息", "科技工作者档案", "科普阅读记录", "站内信"} <= labels
    account = next(c for c in data["categories"] if c["key"] == "account")
    assert {"项目": "手机号", "内容": MOBILE} in account["rows"]  # their own: in full
    response = client.get(reverse("privacy:export", args=["xlsx"]))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert "账号信息" in book.sheetnames and "科技成果" in book.sheetnames
    assert len(book.sheetnames) == len(personal_data(user))
    assert AuditEvent.objects.filter(user=user, action=AuditAction.DATA_EXPORT).count() == 2
    assert client.get(reverse("privacy:export", args=["csv"])).status_code == 404


def test_correcting_saves_good_input_and_bad_input_changes_nothing(dora: User) -> None:
    client = client_for(dora)
    url = reverse("privacy:correct")
    before = User.objects.values().get(pk=dora.pk)
    for bad in (
        {"display_name": "", "email": "d@example.org", "region": "510104"},
        {"display_name": "Dora", "email": "not-an-address", "region": "510104"},
        {"display_name": "Dora", "email": "", "region": "999999"},
        {"display_name": "Dora", "email": "", "region": "510000"},
    ):
        response = client.post(url, bad)
        assert response.status_code == 400, bad
        assert User.objects.values().get(pk=dora.pk) == before
    assert (
        "请填写姓名" in client.post(url, {"display_name": "", "region": "510104"}).content.decode()
    )
    response = client.post(
        url, {"display_name": "朵拉", "email": "Dora@Example.org", "region": "510105"}
    )
    assert response.status_code == 302
    dora.refresh_from_db()
    assert (dora.display_name, dora.email, dora.region_id) == ("朵拉", "dora@example.org", "510105")
    row = AuditEvent.objects.get(user=dora, action=AuditAction.DATA_CORRECT)
    assert set(row.detail["fields"]) == {"display_name", "email", "region"}


def test_withdrawn_consent_leaves_the_next_campaign_audience(alice: User) -> None:
    citizen = make_citizen("cora", "510104", consent=True)
    campaign = make_campaign(alice)
    assert citizen.citizen_profile in campaign_audience(campaign)
    response = client_for(citizen).post(
        reverse("privacy:withdraw"), {"consent": "popsci_targeting"}
    )
    assert response.status_code == 302
    assert citizen.citizen_profile not in campaign_audience(campaign)
    # A second click changes nothing and says so.
    again = client_for(citizen).post(
        reverse("privacy:withdraw"), {"consent": "popsci_targeting"}, follow=True
    )
    assert "无需撤回" in again.content.decode()


def test_cancellation_refusals_change_nothing(alice: User, dora: User) -> None:
    client = client_for(dora)
    url = reverse("privacy:cancel")
    for bad, message in (
        ({"password": "wrong-password", "confirmation": "确认注销"}, "密码不正确"),
        ({"password": PASSWORD, "confirmation": "注销"}, "确认注销"),
        ({"password": "", "confirmation": ""}, "请输入当前登录密码"),
    ):
        response = client.post(url, bad)
        assert response.status_code == 400
        assert message in response.content.decode()
    dora.refresh_from_db()
    assert dora.is_active and dora.cancelled_at is None and dora.display_name == "Dora"
    # Staff with a running case must hand it over first.
    make_case(alice, serial="88")
    response = client_for(alice).post(url, {"password": PASSWORD, "confirmation": "确认注销"})
    assert response.status_code == 400
    assert "在办服务案例" in response.content.decode()
    alice.refresh_from_db()
    assert alice.is_active and alice.cancelled_at is None
    assert not AuditEvent.objects.filter(action=AuditAction.ACCOUNT_CANCEL).exists()


def test_other_users_data_is_never_shown(alice: User, dora: User) -> None:
    _user, _ = _canary_world(alice)
    text = client_for(dora).get(reverse("privacy:my_data")).content.decode()
    assert NAME not in text and CAPABILITY not in text
    assert (
        client_for(dora).get(reverse("privacy:export", args=["json"])).content.decode().count(NAME)
        == 0
    )
    assert dora.role == Role.CITIZEN


def test_changing_the_mobile_needs_the_code_texted_to_the_new_number(dora: User) -> None:
    client = client_for(dora)
    new = "13700002222"
    client.post(reverse("accounts:sms_code"), {"mobile": new, "purpose": "register"})
    body = SmsMessage.objects.for_mobile(new).latest("id").body
    found = re.search(r"\b(\d{6})\b", body)
    assert found is not None, body
    code = found.group(1)
    wrong = "000000" if code != "000000" else "000001"
    url = reverse("privacy:mobile")
    for bad in ({"mobile": new, "sms_code": wrong}, {"mobile": "123", "sms_code": code}):
        response = client.post(url, bad)
        assert response.status_code == 400
        dora.refresh_from_db()
        assert dora.mobile == DORA_MOBILE
    assert (
        "短信验证码不正确" in client.post(url, {"mobile": new, "sms_code": wrong}).content.decode()
    )
    # A number another account uses gets no code, and the change is refused.
    response = client.post(url, {"mobile": new, "sms_code": code})
    assert response.status_code == 302
    dora.refresh_from_db()
    assert dora.mobile == new
    assert AuditEvent.objects.filter(
        user=dora, action=AuditAction.DATA_CORRECT, detail__fields=["mobile"]
    ).exists()


def test_withdrawing_the_case_library_consent_takes_the_case_out(alice: User, erin: User) -> None:
    from kejiyun.cases.models import Case

    case = make_case(alice, serial="55")
    Case.objects.filter(pk=case.pk).update(library_consent_at=case.step_started_at)
    Demand.objects.filter(pk=case.demand_id).update(organisation=erin.organisation)
    client = client_for(erin)
    page = client.get(reverse("privacy:my_data")).content.decode()
    assert "案例库公开展示" in page
    # Another enterprise's case is not theirs to withdraw.
    other = make_case(alice, serial="56")
    Case.objects.filter(pk=other.pk).update(library_consent_at=other.step_started_at)
    data = {"consent": "case_library", "object_id": str(other.pk)}
    assert (
        "没有找到这项授权"
        in client.post(reverse("privacy:withdraw"), data, follow=True).content.decode()
    )
    assert Case.objects.get(pk=other.pk).library_consent_at is not None
    data = {"consent": "case_library", "object_id": str(case.pk)}
    client.post(reverse("privacy:withdraw"), data)
    assert Case.objects.get(pk=case.pk).library_consent_at is None
