"""Writes for the data-subject rights (PIPL §§44-47): the export record, self-correction,
withdrawing consents and cancelling the account.

Cancellation (`account_cancel`) keeps the user row (other tables point at it with PROTECT,
and the audit trail, which the law requires, names it by id) but anonymises it, clears or
deletes every other personal store in one transaction, and then, after the commit, clears
the cache entries about the user and saves a match index without them
(`tests/test_data_subject_rights.py` plants canaries in every store and finds none after).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from kejiyun.accounts.models import Footprint, Role, SmsCode, User
from kejiyun.accounts.services import sms_code_check, sms_code_claim
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.audit.services import audit_record
from kejiyun.cases.models import Case, DockingRequest
from kejiyun.cases.workflow.services import case_library_consent
from kejiyun.common.crypto import unseal
from kejiyun.common.errors import ServiceError, record_check
from kejiyun.demands.models import Demand
from kejiyun.events.models import Booking
from kejiyun.matchlog.services import DEMANDS, index_change_record
from kejiyun.notifications.models import InboxItem, OutboxMessage, SmsMessage
from kejiyun.pagecache.services import DEMANDS as PUBLIC_DEMANDS
from kejiyun.pagecache.services import TALENT, content_changed
from kejiyun.plans.models import ServicePlan
from kejiyun.popsci.models import ActivitySignup, CitizenProfile, QuizAttempt, ReadEvent
from kejiyun.popsci.targeting.services import citizen_consent_withdraw
from kejiyun.recognition.models import ReviewAssignment, ReviewerProfile
from kejiyun.regions.models import Region
from kejiyun.talent.models import ID_NUMBER_PURPOSE, TalentProfile
from kejiyun.talent.services import talent_profile_anonymise

CANCELLED_NAME = "已注销用户"
CONFIRM_PHRASE = "确认注销"


class PrivacyError(ServiceError):
    """A refused data-subject request (correction, withdrawal, cancellation); nothing changed."""


# --- see and export -----------------------------------------------------------------------


def personal_data_export_record(*, user: User, fmt: str, ip: str | None) -> None:
    """Audit a download of one's own data (DATA_EXPORT); the detail holds the format only."""
    audit_record(
        action=AuditAction.DATA_EXPORT,
        user=user,
        ip=ip,
        object_type="user",
        object_id=str(user.pk),
        detail={"format": fmt},
    )


# --- correct ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Correction:
    display_name: str
    email: str
    region: Region


def account_correct(*, user: User, correction: Correction, ip: str | None) -> list[str]:
    """Save what a user may correct themselves: name, e-mail and county. Returns the names
    of the fields that changed (audited as DATA_CORRECT, field names only)."""
    name = correction.display_name.strip()
    if not name:
        raise PrivacyError("请填写姓名。", code="name_required")
    if correction.region.level not in (Region.Level.COUNTY, Region.Level.TOWNSHIP):
        raise PrivacyError("所在地区请选择到区县一级。", code="region_level")
    changes = {
        "display_name": name,
        "email": correction.email.strip().lower(),
        "region": correction.region,
    }
    changed = [k for k, v in changes.items() if getattr(user, k) != v]
    if not changed:
        return []
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        for key in changed:
            setattr(locked, key, changes[key])
        record_check(locked, error=PrivacyError, exclude=["password"])
        locked.save(update_fields=changed)
        if user.role == Role.WORKER:
            content_changed(TALENT)  # the directory shows a worker's name and county
        audit_record(
            action=AuditAction.DATA_CORRECT,
            user=user,
            ip=ip,
            object_type="user",
            object_id=str(user.pk),
            detail={"fields": changed},
        )
    for key in changed:
        setattr(user, key, changes[key])
    return changed


def account_mobile_change(*, user: User, mobile: str, sms_code: str, ip: str | None) -> None:
    """Change the sign-in mobile to `mobile`, proved by the registration code texted to it
    (`sms_code_send` sends that code only to a number no account uses). The code is checked
    outside the transaction so a wrong guess stays counted; audited as DATA_CORRECT."""
    checked = sms_code_check(mobile=mobile, purpose=SmsCode.Purpose.REGISTER, code=sms_code)
    if User.objects.for_mobile(mobile).exists():
        raise PrivacyError("该手机号已被其他账号使用，请换一个号码。", code="mobile_taken")
    with transaction.atomic():
        sms_code_claim(sms_code=checked)
        locked = User.objects.select_for_update().get(pk=user.pk)
        locked.mobile = mobile
        locked.save()
        audit_record(
            action=AuditAction.DATA_CORRECT,
            user=user,
            ip=ip,
            object_type="user",
            object_id=str(user.pk),
            detail={"fields": ["mobile"]},
        )
    user.mobile = mobile


# --- consents -----------------------------------------------------------------------------

TARGETING = "popsci_targeting"
LIBRARY = "case_library"
# Hook for helper C's expert-directory listing consent (`TalentProfile.listed` or similar):
# when that flag exists, add DIRECTORY here and a branch in `consent_withdraw` that clears it
# through the talent service that owns it, and a row in `kejiyun.privacy.views._consents`.
DIRECTORY = "expert_directory"


def consent_withdraw(
    *, user: User, consent: str, object_id: int | None = None, ip: str | None = None
) -> None:
    """Withdraw one consent; effective at the next send or page (the campaign audience and
    the case library read the flags at send / render time)."""
    if consent == TARGETING:
        profile = CitizenProfile.objects.filter(user=user).first()
        if profile is None or not profile.targeting_consent:
            raise PrivacyError("您没有同意精准推送，无需撤回。", code="no_consent")
        citizen_consent_withdraw(profile=profile, actor=user)
        return
    if consent == LIBRARY:
        case = Case.objects.select_related("demand").filter(pk=object_id or 0).first()
        if case is None or case.demand.organisation_id != user.organisation_id:
            raise PrivacyError("没有找到这项授权，请刷新页面后再试。", code="no_consent")
        case_library_consent(case=case, actor=user, granted=False, ip=ip)
        return
    raise PrivacyError("没有这类授权，请刷新页面后再试。", code="unknown_consent")


# --- cancel -------------------------------------------------------------------------------


def cancellation_blockers(user: User) -> list[str]:
    """Why the account must be kept for now, each with what to do; empty when it may go."""
    reasons: list[str] = []
    if user.is_superuser:
        reasons.append("超级管理员账号不能自行注销：请另一位超级管理员先取消您的超级管理员权限。")
    running = Case.objects.filter(Case.open_q(), owner=user).count()
    if running:
        reasons.append(
            f"您还负责 {running} 个在办服务案例：请上级管理员把这些案例移交给其他工作人员后再注销。"
        )
    plans = ServicePlan.objects.filter(owner=user).count()
    if plans:
        reasons.append(
            f"您还负责 {plans} 份服务计划：请上级管理员把这些计划移交给其他工作人员后再注销。"
        )
    reviews = ReviewAssignment.objects.filter(reviewer=user, submitted_at__isnull=True).count()
    if reviews:
        reasons.append(f"您还有 {reviews} 项未提交的评审任务：请先提交或请组织方改派后再注销。")
    dockings = DockingRequest.objects.filter(
        Case.open_q(via="case__"),
        expert__user=user,
        status=DockingRequest.Status.ACCEPTED,
    ).count()
    if dockings:
        reasons.append(
            f"您正在为 {dockings} 个在办案例提供服务：请先完成服务，或联系服务中心改派后再注销。"
        )
    return reasons


def _text_fields(model: type[models.Model]) -> list[str]:
    return [
        f.name
        for f in model._meta.concrete_fields
        if isinstance(f, models.CharField | models.TextField)
        and not f.choices
        and not f.unique
        and not f.primary_key
    ]


# Tables whose rows about the user are not scrubbed by `_scrub_rows`: the user row (rewritten
# whole), the audit trail (the law keeps it; it holds only the user id and is hash-chained),
# the admin log (handled below) and the stores deleted or rewritten outright.
_NOT_SCRUBBED = {User, AuditEvent, LogEntry}
# History tables keep their rows (who moved what, when) but lose the reasons the user typed
# as their `actor`; notes the user wrote as `author` lose their text. Work products (articles,
# reports, bulletins) keep their text, less the user's identifiers.
_TYPED_AS_ACTOR = ("reason", "note")
_NOTES = {
    "cases.CaseNote": ("body",),
    "cases.CaseVisit": ("outcome",),
    "plans.PlanFollowUp": ("note",),
    "ops.ReportComment": ("body",),
}
_REMOVED = "（内容已随账号注销删除）"


def _typed_by(
    model: type[models.Model],
    row: models.Model,
    links: list[tuple[str, models.Model]],
    user: User,
) -> tuple[str, ...]:
    """The text columns of `row` that the user typed and that go whole on cancellation."""
    names = {link for link, _ in links if getattr(row, f"{link}_id") == user.pk}
    if "actor" in names:
        return _TYPED_AS_ACTOR
    if "author" in names:
        return _NOTES.get(model._meta.label, ())
    return ()


def _scrub_rows(user: User, profile: TalentProfile | None, needles: Sequence[str]) -> None:
    """In every row that points at the user (or at their talent profile), replace their
    identifiers in every free-text column; clear the reasons they typed into history tables
    and the text of the notes they wrote. Demands changed are logged for the match index."""
    from django.apps import apps

    targets: dict[type[models.Model], models.Model] = {User: user}
    if profile is not None:
        targets[TalentProfile] = profile
    demands: list[int] = []
    for model in apps.get_models():
        if model in _NOT_SCRUBBED or model is TalentProfile:
            continue
        links = [
            (f.name, targets[f.related_model])
            for f in model._meta.concrete_fields
            if f.is_relation and isinstance(f.related_model, type) and f.related_model in targets
        ]
        if not links:
            continue
        names = _text_fields(model)
        q = Q()
        for link, target in links:
            q |= Q(**{link: target})
        for row in model._default_manager.filter(q).iterator():
            typed = _typed_by(model, row, links, user)
            changed = []
            for name in names:
                value = getattr(row, name) or ""
                cleaned = _REMOVED if value and name in typed else value
                for needle in needles:
                    cleaned = cleaned.replace(needle, "***")
                if cleaned != value:
                    setattr(row, name, cleaned)
                    changed.append(name)
            if changed:
                row.save(update_fields=changed)
                if model is Demand:
                    demands.append(row.pk)
    index_change_record(kind=DEMANDS, object_ids=demands)


def _user_cache_keys(user: User, profile: TalentProfile | None) -> list[str]:
    """Every cache entry kept about one user (rate-limit counters by account or profile).
    A feature that caches something per user adds its key here."""
    keys = [
        f"ratelimit:docking-apply:{user.pk}",
        f"ratelimit:docking-ask:{user.pk}",
        f"user:{user.pk}:personal-data",
    ]
    if profile is not None:
        keys.append(f"ratelimit:team-member:{profile.pk}")
    return keys


@dataclass(frozen=True)
class Cancellation:
    password: str
    confirmation: str


def account_cancel(*, user: User, cancellation: Cancellation, ip: str | None = None) -> None:
    """Cancel the account (PIPL §47): check the password and the typed phrase, refuse when
    the account must be kept (`cancellation_blockers`), then anonymise in one transaction.
    The caller signs the user out (their sessions are deleted here too)."""
    if user.cancelled_at is not None:
        raise PrivacyError("该账号已注销。", code="cancelled")
    if cancellation.confirmation.strip() != CONFIRM_PHRASE:
        raise PrivacyError(f"请在确认框中输入“{CONFIRM_PHRASE}”四个字。", code="confirmation")
    if not user.check_password(cancellation.password):
        raise PrivacyError("密码不正确，请重新输入当前登录密码。", code="password")
    # Privileged accounts will also confirm with their TOTP code once helper A's second
    # factor is on this branch (kejiyun.security): check it here, before anything changes.
    blockers = cancellation_blockers(user)
    if blockers:
        raise PrivacyError(" ".join(blockers), code="must_keep")
    profile = TalentProfile.objects.filter(user=user).first()
    with transaction.atomic():
        _anonymise(user, profile)
        # The public pages that showed their name or text (the directory, demands).
        content_changed(PUBLIC_DEMANDS, TALENT)
        audit_record(
            action=AuditAction.ACCOUNT_CANCEL,
            user=user,
            ip=ip,
            object_type="user",
            object_id=str(user.pk),
        )
    cache.delete_many(_user_cache_keys(user, profile))
    transaction.on_commit(_forget_in_match_index)


def _forget_in_match_index() -> None:
    """Replay the change log into the engines and save them (older saves are removed), so
    neither memory nor the index files on disk still hold the cancelled worker's text."""
    from kejiyun.matching.index import match_index_rebuild

    # A rebuild, not a replay: the saved index also keeps the segmenter's vocabulary, which
    # was read from every profile's fields and keywords.
    match_index_rebuild()


def _anonymise(user: User, profile: TalentProfile | None) -> None:
    locked = User.objects.select_for_update().get(pk=user.pk)
    mobile = locked.mobile or ""
    id_number = ""
    if profile is not None and profile.id_number_sealed:
        id_number = unseal(profile.id_number_sealed, purpose=ID_NUMBER_PURPOSE)
    needles = sorted(
        {s for s in (locked.display_name, mobile, locked.email, id_number, locked.username) if s},
        key=len,
        reverse=True,
    )
    needles = [n for n in needles if len(n) >= 2]
    if profile is not None:
        talent_profile_anonymise(profile=profile, scrub=needles)
        DockingRequest.objects.filter(expert=profile).update(decline_reason="")
    ReviewerProfile.objects.filter(user=locked).update(
        employer="", title="", fields="", keywords="", expertise="", active=False
    )
    citizen = CitizenProfile.objects.filter(user=locked).first()
    if citizen is not None:
        if citizen.targeting_consent:
            citizen_consent_withdraw(profile=citizen, actor=locked)
        CitizenProfile.objects.filter(pk=citizen.pk).update(crops="", interests=[], interest_bits=0)
    _scrub_rows(locked, profile, needles)
    # Stores that exist only for the person: deleted.
    ReadEvent.objects.filter(user=locked).delete()
    QuizAttempt.objects.filter(user=locked).delete()
    ActivitySignup.objects.filter(user=locked).delete()
    Booking.objects.filter(person=locked).delete()
    Footprint.objects.filter(user=locked).delete()
    # The second factor: the authenticator's secret and the recovery codes.
    TOTPDevice.objects.filter(user=locked).delete()
    StaticDevice.objects.filter(user=locked).delete()
    InboxItem.objects.filter(user=locked).delete()
    # API tokens, webhook subscriptions and API clients (whose tokens and webhooks cascade),
    # through the user's reverse relations: the api app sits beside this one, not below.
    locked.api_tokens.all().delete()
    locked.webhook_subscriptions.all().delete()
    locked.api_clients.all().delete()
    if mobile:
        # Numbers are sealed: their codes and texts are found by the keyed hash.
        SmsCode.objects.for_mobile(mobile).delete()
        SmsMessage.objects.for_mobile(mobile).delete()
    # Outbox addresses are sealed with no lookup hash; every message to a person names them
    # as its recipient.
    outbox = OutboxMessage.objects.filter(recipient=locked)
    outbox.filter(status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING]).update(
        status=OutboxMessage.Status.FAILED, last_error="收件人已注销账号"
    )
    outbox.update(address_sealed="", title="（已删除）", body="", url="")
    user_type = ContentType.objects.get_for_model(User)
    LogEntry.objects.filter(content_type=user_type, object_id=str(locked.pk)).update(
        object_repr=CANCELLED_NAME, change_message=""
    )
    for session in Session.objects.iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(locked.pk):
            session.delete()
    # The user row last: anonymised, never deleted (history rows and the audit trail point
    # at it).
    locked.display_name = CANCELLED_NAME
    locked.first_name = ""
    locked.last_name = ""
    locked.mobile = None
    locked.email = ""
    locked.username = f"cancelled-{uuid.uuid4().hex}"
    locked.set_unusable_password()
    locked.is_active = False
    locked.is_staff = False
    locked.cancelled_at = timezone.now()
    if locked.role in (Role.STAFF, Role.REVIEWER, Role.AUDITOR, Role.ADMIN):
        locked.user_permissions.clear()
        locked.groups.clear()
    locked.save()
    user.display_name = locked.display_name
    user.is_active = False
    user.cancelled_at = locked.cancelled_at
