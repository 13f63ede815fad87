"""Writes for schemes (考核方案): create and edit a draft, publish it.

Only province staff and administrators holding `performance.manage_scheme` write schemes.
Every edit carries the version the page showed (`claim_version`): a stale edit is refused with
409, and so is any edit of a published scheme, which is frozen (SECURITY item 10). Publishing
is audited (SCHEME_PUBLISH); there is at most one published scheme per period and level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.common.errors import NotPermitted, ServiceError, Stale
from kejiyun.common.versioning import claim_version
from kejiyun.ops.indicators import BY_KEY
from kejiyun.ops.periods import Period, PeriodError
from kejiyun.performance.models import Normalisation, Scheme, SchemeItem
from kejiyun.performance.roles import may_manage

MAX_ITEMS = 20
TOTAL_WEIGHT = Decimal(100)


class SchemeRefused(ServiceError):
    """A refused scheme write; nothing was changed."""


class StaleScheme(Stale, SchemeRefused):
    """The scheme changed since the page was read."""


class SchemeFrozen(Stale, SchemeRefused):
    """The scheme is published: it can no longer be changed."""

    message_text = "该考核方案已发布，内容已冻结，不能再修改。"


@dataclass(frozen=True)
class ItemInput:
    indicator: str
    weight: Decimal
    normalisation: str
    target: Decimal | None


@dataclass(frozen=True)
class SchemeInput:
    name: str
    period: str
    level: str
    note: str
    discount_open_above: Decimal | None
    items: Sequence[ItemInput]


def _require_manager(user: User) -> None:
    if not may_manage(user):
        raise NotPermitted("只有具有考核方案制定权限的省级工作人员或管理员可以制定考核方案。")


def check_input(data: SchemeInput) -> str:
    """Refuse anything a scheme may not hold, with the reason in Chinese; the period token."""
    name = data.name.strip()
    if not name:
        raise SchemeRefused("请填写方案名称。")
    if len(name) > 80:
        raise SchemeRefused("方案名称不能超过 80 个字。")
    try:
        period = Period.parse(data.period).token
    except PeriodError as error:
        raise SchemeRefused(str(error)) from error
    if data.level not in Scheme.Level.values:
        raise SchemeRefused("请选择考核对象：区县服务中心或市州服务中心。")
    threshold = data.discount_open_above
    if threshold is not None and not Decimal(0) < threshold <= Decimal(1):
        raise SchemeRefused("未复核标记扣除阈值须在 0 到 1 之间（不含 0），例如 0.90。")
    if not data.items:
        raise SchemeRefused("请至少添加一项考核指标。")
    if len(data.items) > MAX_ITEMS:
        raise SchemeRefused(f"考核指标最多 {MAX_ITEMS} 项。")
    seen: set[str] = set()
    for item in data.items:
        ind = BY_KEY.get(item.indicator)
        if ind is None:
            raise SchemeRefused(f"指标“{item.indicator[:40]}”不在指标目录中。")
        if item.indicator in seen:
            raise SchemeRefused(f"指标“{ind.name}”重复，每项指标只能选一次。")
        seen.add(item.indicator)
        if ind.better == 0:
            raise SchemeRefused(f"指标“{ind.name}”没有优劣方向，不能用于考核。")
        if item.weight <= 0:
            raise SchemeRefused(f"指标“{ind.name}”的权重须大于 0。")
        if item.normalisation not in Normalisation.values:
            raise SchemeRefused(f"指标“{ind.name}”的计分方法无效。")
        if item.normalisation == Normalisation.TARGET:
            if item.target is None:
                raise SchemeRefused(f"指标“{ind.name}”按目标值计分，请填写目标值。")
            if ind.better == 1 and item.target <= 0:
                raise SchemeRefused(f"指标“{ind.name}”越高越好，目标值须大于 0。")
            if ind.better == -1 and item.target < 0:
                raise SchemeRefused(f"指标“{ind.name}”越低越好，目标值不能小于 0。")
    total = sum((item.weight for item in data.items), Decimal(0))
    if total != TOTAL_WEIGHT:
        raise SchemeRefused(f"各项权重之和须为 100 分，现在是 {total.normalize():f} 分。")
    return period


def _write_items(scheme: Scheme, items: Sequence[ItemInput]) -> None:
    SchemeItem.objects.filter(scheme=scheme).delete()
    SchemeItem.objects.bulk_create(
        SchemeItem(
            scheme=scheme,
            indicator=item.indicator,
            weight=item.weight,
            normalisation=item.normalisation,
            target=item.target if item.normalisation == Normalisation.TARGET else None,
            position=index,
        )
        for index, item in enumerate(items)
    )


@transaction.atomic
def scheme_create(*, actor: User, data: SchemeInput) -> Scheme:
    _require_manager(actor)
    period = check_input(data)
    scheme = Scheme.objects.create(
        name=data.name.strip(),
        period=period,
        level=data.level,
        note=data.note.strip(),
        discount_open_above=data.discount_open_above,
        created_by=actor,
    )
    _write_items(scheme, data.items)
    return scheme


@transaction.atomic
def scheme_update(
    *, actor: User, scheme: Scheme, expected_version: int, data: SchemeInput
) -> Scheme:
    """Save a draft's fields and items. A published scheme, or one edited since
    `expected_version`, is refused with a Stale refusal (409)."""
    _require_manager(actor)
    if scheme.status == Scheme.Status.PUBLISHED:
        raise SchemeFrozen()
    period = check_input(data)
    try:
        claim_version(
            scheme,
            expected_version,
            stale=StaleScheme,
            only_if={"status": Scheme.Status.DRAFT},
            name=data.name.strip(),
            period=period,
            level=data.level,
            note=data.note.strip(),
            discount_open_above=data.discount_open_above,
            updated_at=timezone.now(),
        )
    except StaleScheme:
        if Scheme.objects.filter(pk=scheme.pk, status=Scheme.Status.PUBLISHED).exists():
            raise SchemeFrozen() from None
        raise
    _write_items(scheme, data.items)
    return scheme


def _as_input(scheme: Scheme) -> SchemeInput:
    return SchemeInput(
        name=scheme.name,
        period=scheme.period,
        level=scheme.level,
        note=scheme.note,
        discount_open_above=scheme.discount_open_above,
        items=[
            ItemInput(i.indicator, i.weight, i.normalisation, i.target) for i in scheme.items.all()
        ],
    )


def scheme_publish(*, actor: User, scheme: Scheme, expected_version: int) -> Scheme:
    """Publish a draft: it is frozen from now on and becomes the scheme of its period and
    level. Refused when another scheme is published for the same period and level."""
    _require_manager(actor)
    if scheme.status == Scheme.Status.PUBLISHED:
        raise SchemeFrozen("该考核方案已经发布。")
    check_input(_as_input(scheme))
    clash = (
        Scheme.objects.filter(
            period=scheme.period, level=scheme.level, status=Scheme.Status.PUBLISHED
        )
        .exclude(pk=scheme.pk)
        .first()
    )
    if clash is not None:
        raise SchemeRefused(
            f"{Period.parse(scheme.period).label}的{scheme.get_level_display()}考核方案"
            f"已有已发布的“{clash.name}”，同一考核期和考核对象只能发布一个方案。"
        )
    now = timezone.now()
    try:
        with transaction.atomic():
            claim_version(
                scheme,
                expected_version,
                stale=StaleScheme,
                only_if={"status": Scheme.Status.DRAFT},
                status=Scheme.Status.PUBLISHED,
                published_by=actor,
                published_at=now,
                updated_at=now,
            )
            audit_record(
                action=AuditAction.SCHEME_PUBLISH,
                user=actor,
                object_type="performance.scheme",
                object_id=str(scheme.pk),
                detail={"period": scheme.period, "level": scheme.level},
            )
    except IntegrityError as error:  # a race with another publish of the same period
        raise SchemeRefused("同一考核期和考核对象只能发布一个方案。") from error
    return scheme
