"""Reads for the data-subject rights (PIPL §§44-45): everything the platform holds about the
signed-in user, grouped by category with Chinese labels, for the "my data" page and its
JSON/.xlsx export.

The categories were found by reading every model with a relation to the user (or to their
talent profile / citizen profile); `tests/test_data_subject_rights.py` checks that no model
with a foreign key to the user is left out (`covered_models`).

`masked=True` (the page) shows the mobile and the ID number masked; the export gives the
user their own full values (`masked=False`): it is their own data, downloaded by them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone

from kejiyun.accounts.models import Footprint, User
from kejiyun.audit.models import AuditEvent
from kejiyun.cases.models import Case, CaseEvent, CaseNote, CaseVisit, DockingRequest
from kejiyun.common.crypto import unseal
from kejiyun.common.masking import mask_id_number, mask_mobile, mask_personal_text
from kejiyun.demands.models import Demand, DemandEvent
from kejiyun.events.models import Booking
from kejiyun.notifications.models import InboxItem, OutboxMessage
from kejiyun.plans.models import PlanEvent, PlanFollowUp, PlanNeed, ServicePlan
from kejiyun.popsci.models import (
    ActivitySignup,
    CitizenProfile,
    ConsentRecord,
    QuizAttempt,
    ReadEvent,
)
from kejiyun.talent.models import ID_NUMBER_PURPOSE, TalentProfile, Team, TechResult

# Rows listed per category on the page; the export carries every row.
PAGE_ROWS = 20


@dataclass
class Category:
    key: str
    label: str
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""

    @property
    def count(self) -> int:
        return len(self.rows)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "、".join(_text(v) for v in value)
    if isinstance(value, dict):
        return "；".join(f"{k}: {_text(v)}" for k, v in value.items())
    return str(value)


def _cell(row: models.Model, name: str) -> str:
    f = row._meta.get_field(name)
    if getattr(f, "choices", None):
        return _text(getattr(row, f"get_{name}_display")())
    return _text(getattr(row, name))


def _category(
    key: str, label: str, rows: Iterable[models.Model], names: Sequence[str], note: str = ""
) -> Category:
    model = getattr(rows, "model", None)
    rows = list(rows)
    if model is None:
        model = rows[0].__class__ if rows else DemandEvent
    columns = [str(getattr(model._meta.get_field(n), "verbose_name", n)) for n in names]
    return Category(
        key=key,
        label=label,
        columns=columns,
        rows=[[_cell(r, n) for n in names] for r in rows],
        note=note,
    )


def _account(user: User, *, masked: bool) -> Category:
    region = f"{user.region.parent.name if user.region and user.region.parent else ''} " + (
        user.region.name if user.region else ""
    )
    mobile = user.mobile or ""
    pairs = [
        ("姓名", user.display_name),
        ("手机号", mask_mobile(mobile) if masked else mobile),
        ("电子邮箱", user.email),
        ("所在地区", region.strip()),
        ("角色", user.get_role_display()),
        ("所属服务中心", user.centre.name if user.centre else ""),
        ("所属组织", user.organisation.name if user.organisation else ""),
        ("注册时间", _text(user.date_joined)),
        ("最近登录", _text(user.last_login)),
        ("密码设置时间", _text(user.password_changed_at)),
    ]
    return Category("account", "账号信息", ["项目", "内容"], [[k, v] for k, v in pairs])


def _talent(user: User, *, masked: bool) -> list[Category]:
    profile = TalentProfile.objects.filter(user=user).select_related("region").first()
    if profile is None:
        return []
    id_number = (
        unseal(profile.id_number_sealed, purpose=ID_NUMBER_PURPOSE)
        if (profile.id_number_sealed)
        else ""
    )
    pairs = [
        ("所在区县", profile.region.name),
        ("工作单位", profile.employer),
        ("职称", profile.title),
        ("专业领域", profile.fields),
        ("关键词", profile.keywords),
        ("能力描述", profile.capability),
        ("学科", "、".join(d.name for d in profile.disciplines.all())),
        ("行业", "、".join(i.name for i in profile.industries.all())),
        ("服务方式", "、".join(profile.service_mode_labels)),
        ("可同时承接", _text(profile.capacity)),
        ("身份证号", mask_id_number(id_number) if masked else id_number),
        ("已核验", _text(profile.verified)),
        ("登记时间", _text(profile.created_at)),
    ]
    teams = Team.objects.filter(Q(lead=profile) | Q(members=profile)).distinct().order_by("id")
    return [
        Category("talent", "科技工作者档案", ["项目", "内容"], [[k, v] for k, v in pairs]),
        _category(
            "results",
            "科技成果",
            TechResult.objects.filter(owner_profile=profile).order_by("id"),
            ["kind", "title", "identifier", "year", "summary", "fields", "created_at"],
        ),
        _category(
            "teams",
            "团队与工作室",
            teams,
            ["kind", "name", "fields", "description", "recognition_level", "created_at"],
        ),
        _category(
            "dockings",
            "对接邀请与申请",
            DockingRequest.objects.filter(expert=profile).select_related("case").order_by("id"),
            ["case", "origin", "status", "message", "decline_reason", "created_at", "responded_at"],
        ),
        _category(
            "plans",
            "服务计划",
            ServicePlan.objects.filter(profile=profile).select_related("owner", "centre"),
            ["centre", "owner", "created_at", "updated_at"],
        ),
    ]


def _popsci(user: User) -> list[Category]:
    profile = CitizenProfile.objects.filter(user=user).select_related("region").first()
    out: list[Category] = []
    if profile is not None:
        out.append(
            _category(
                "citizen",
                "科普档案与精准推送同意",
                [profile],
                [
                    "region",
                    "occupation",
                    "age_band",
                    "interests",
                    "crops",
                    "targeting_consent",
                    "consent_version",
                    "updated_at",
                ],
            )
        )
        out.append(
            _category(
                "consents",
                "同意记录（版本）",
                ConsentRecord.objects.filter(citizen=profile).order_by("id"),
                ["version", "granted", "created_at"],
            )
        )
    out += [
        _category(
            "reading",
            "科普阅读记录",
            ReadEvent.objects.filter(user=user).select_related("article").order_by("id"),
            ["article", "opened_at", "finished_at"],
        ),
        _category(
            "quizzes",
            "答题记录",
            QuizAttempt.objects.filter(user=user).select_related("article").order_by("id"),
            ["article", "phase", "answers", "correct", "total", "created_at"],
        ),
        _category(
            "signups",
            "活动报名与签到",
            ActivitySignup.objects.filter(user=user).select_related("activity").order_by("id"),
            ["activity", "created_at", "checked_in_at", "rating", "feedback"],
        ),
    ]
    return out


def personal_data(user: User, *, masked: bool = True) -> list[Category]:
    """Every category of personal data held about `user`, in page order."""
    user = User.objects.select_related("region__parent", "centre", "organisation").get(pk=user.pk)
    cases = Case.objects.filter(
        Q(owner=user) | Q(events__actor=user) | Q(dockings__expert__user=user)
    ).distinct()
    library = (
        Case.objects.filter(demand__organisation_id=user.organisation_id)
        .exclude(library_consent_at=None)
        .order_by("id")
        if user.organisation_id
        else Case.objects.none()
    )
    categories = [_account(user, masked=masked)]
    categories += _talent(user, masked=masked)
    categories += [
        _category(
            "demands",
            "我填报的需求",
            Demand.objects.filter(created_by=user).order_by("id"),
            ["title", "description", "problem", "status", "created_at"],
        ),
        _category(
            "cases",
            "参与的服务案例",
            cases.select_related("demand").order_by("id"),
            ["demand", "step", "step_started_at"],
        ),
        _category(
            "library_consents",
            "案例库展示授权",
            library.select_related("demand"),
            ["demand", "library_consent_at"],
        ),
        _category(
            "history",
            "我在各流程中的操作说明",
            _history_rows(user),
            ["reason", "created_at"],
            note="需求、案例、计划等流程记录中由您填写的说明。",
        ),
        _notes(user),
    ]
    categories += _popsci(user)
    categories += [
        _category(
            "bookings",
            "活动预约与签到",
            Booking.objects.filter(person=user).select_related("event").order_by("id"),
            ["event", "status", "created_at", "checked_in_at"],
        ),
        _category(
            "inbox",
            "站内信",
            InboxItem.objects.filter(user=user).order_by("id"),
            ["title", "body", "created_at", "read_at"],
        ),
        _category(
            "outbox",
            "发给我的消息（短信、微信等）",
            OutboxMessage.objects.filter(recipient=user).order_by("id"),
            ["channel", "title", "body", "status", "created_at", "sent_at"],
        ),
        _category(
            "api_tokens",
            "API 令牌（仅名称）",
            user.api_tokens.order_by("id"),
            ["name", "kind", "created_at", "expires_at", "last_used_at", "revoked_at"],
        ),
        _category(
            "webhooks",
            "Webhook 订阅",
            user.webhook_subscriptions.order_by("id"),
            ["url", "events", "active", "created_at"],
        ),
        _footprints(user),
        _category(
            "audit",
            "与我的操作有关的审计记录",
            AuditEvent.objects.filter(user=user).order_by("id"),
            ["created_at", "action"],
            note="审计记录依法保存，注销账号后仍保留（只含账号编号，不含姓名和手机号）。",
        ),
    ]
    if masked:
        # Numbers written inside free text are masked on the page as everywhere else.
        for category in categories:
            category.rows = [[mask_personal_text(cell) for cell in row] for row in category.rows]
    return categories


def _history_rows(user: User) -> list[models.Model]:
    rows: list[models.Model] = []
    for model in (DemandEvent, CaseEvent, PlanEvent):
        rows += list(model.objects.filter(actor=user).exclude(reason="").order_by("id"))
    return rows


def _notes(user: User) -> Category:
    rows = [[_text(n.created_at), "案例记录", n.body] for n in CaseNote.objects.filter(author=user)]
    rows += [
        [_text(v.created_at), "走访记录", v.outcome] for v in CaseVisit.objects.filter(author=user)
    ]
    rows += [
        [_text(f.created_at), "计划跟进", f.note] for f in PlanFollowUp.objects.filter(author=user)
    ]
    rows += [
        [_text(n.created_at), "计划需求", n.description]
        for n in PlanNeed.objects.filter(created_by=user)
    ]
    return Category("notes", "我写的记录", ["时间", "类型", "内容"], rows)


def _footprints(user: User) -> Category:
    """Counts and dates only: the rows hold keyed hashes, which mean nothing to a person."""
    rows = []
    for kind, label in Footprint.Kind.choices:
        qs = Footprint.objects.filter(user=user, kind=kind)
        first = qs.order_by("created_at").values_list("created_at", flat=True).first()
        last = qs.order_by("-created_at").values_list("created_at", flat=True).first()
        rows.append([label, str(qs.count()), _text(first), _text(last)])
    return Category("footprints", "登录与操作足迹", ["类型", "次数", "最早", "最近"], rows)
