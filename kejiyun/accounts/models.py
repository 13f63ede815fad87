from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar, TypeVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kejiyun.accounts.validators import validate_uscc
from kejiyun.common.crypto import mobile_lookup, seal, unseal
from kejiyun.common.masking import mask_mobile
from kejiyun.regions.models import Region, ServiceCentre


class Role(models.TextChoices):
    WORKER = "worker", "科技工作者"
    ENTERPRISE = "enterprise", "企业用户"
    CITIZEN = "citizen", "公众"
    STAFF = "staff", "服务中心工作人员"
    REVIEWER = "reviewer", "评审专家"
    AUDITOR = "auditor", "安全审计员"
    ADMIN = "admin", "管理员"


# Roles whose accounts see other people's personal data, move cases or money, or read the
# audit trail: they sign in with password + TOTP and follow the 等保 password rules
# (docs/adr/0002-password-policy.md). Superusers count as privileged whatever their role.
PRIVILEGED_ROLES = frozenset({Role.STAFF, Role.REVIEWER, Role.AUDITOR, Role.ADMIN})


class Organisation(models.Model):
    """An enterprise, university, research institute or society (学会)."""

    class Kind(models.TextChoices):
        ENTERPRISE = "enterprise", "企业"
        UNIVERSITY = "university", "高等院校"
        INSTITUTE = "institute", "科研院所"
        SOCIETY = "society", "学会"

    kind = models.CharField("类型", max_length=16, choices=Kind.choices, db_index=True)
    name = models.CharField("名称", max_length=120)
    uscc = models.CharField(
        "统一社会信用代码",
        max_length=18,
        unique=True,
        null=True,
        blank=True,
        validators=[validate_uscc],
    )
    region = models.ForeignKey(
        Region, verbose_name="所在区县", on_delete=models.PROTECT, related_name="organisations"
    )
    industry = models.CharField("所属行业", max_length=64, blank=True)
    description = models.TextField("简介", blank=True)
    # The registered address (注册地址): two organisations at one address may be one business
    # (the integrity detectors' self-dealing check).
    address = models.CharField("注册地址", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "组织"
        verbose_name_plural = "组织"
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="enterprise") | Q(uscc__isnull=False),
                name="organisation_enterprise_has_uscc",
            ),
        ]
        indexes = [models.Index(fields=["kind", "region"])]

    def __str__(self) -> str:
        return self.name


# The purpose a user's mobile number is sealed for (kejiyun/common/crypto.py).
MOBILE_PURPOSE = "accounts.mobile"


_M = TypeVar("_M", bound=models.Model)


class MobileQuerySet(models.QuerySet[_M, _M]):
    """Rows of a model that keeps a mobile number sealed beside its keyed hash (`mobile_hash`):
    the one way to find them by number."""

    def for_mobile(self, mobile: str) -> MobileQuerySet[_M]:
        """The rows holding exactly this (normalised) number; none for ""."""
        if not mobile:
            return self.none()
        return self.filter(mobile_hash=mobile_lookup(mobile))

    def for_mobiles(self, mobiles: Iterable[str]) -> MobileQuerySet[_M]:
        return self.filter(mobile_hash__in=[mobile_lookup(m) for m in mobiles if m])


class KejiyunUserManager(UserManager["User"]):
    """Django's user manager, plus the lookups by mobile number of `MobileQuerySet`."""

    def get_queryset(self) -> MobileQuerySet[User]:
        return MobileQuerySet(self.model, using=self._db)

    def for_mobile(self, mobile: str) -> MobileQuerySet[User]:
        return self.get_queryset().for_mobile(mobile)

    def for_mobiles(self, mobiles: Iterable[str]) -> MobileQuerySet[User]:
        return self.get_queryset().for_mobiles(mobiles)


class User(AbstractUser):
    """A person who signs in. Staff are bound to exactly one service centre.

    The mobile number is sealed at rest (`mobile_sealed`, AES-GCM) with a keyed hash beside it
    (`mobile_hash`, unique) for sign-in and "already registered?"; the `mobile` property
    opens and sets it, and `User.objects.for_mobile(number)` finds its holder."""

    display_name = models.CharField("姓名", max_length=40)
    mobile_sealed = models.TextField("手机号（加密）", blank=True, default="")
    mobile_hash = models.CharField(
        "手机号查找码", max_length=64, unique=True, null=True, blank=True, editable=False
    )
    role = models.CharField("角色", max_length=16, choices=Role.choices, db_index=True)
    centre = models.ForeignKey(
        ServiceCentre,
        verbose_name="所属服务中心",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
    )
    region = models.ForeignKey(
        Region,
        verbose_name="所在地区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="residents",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="所属组织",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    # When the password was last set (the 90-day maximum age of privileged accounts).
    password_changed_at = models.DateTimeField("密码设置时间", null=True, blank=True)
    # Set when the holder cancelled the account (PIPL §47): personal data is gone, the row
    # stays so history keeps its foreign keys.
    cancelled_at = models.DateTimeField("注销时间", null=True, blank=True)

    objects: ClassVar[KejiyunUserManager] = KejiyunUserManager()

    class Meta:
        verbose_name = "用户"
        verbose_name_plural = "用户"
        permissions = [
            ("unmask_personal", "可查看完整手机号和身份证号（按页申请，限时，留审计）"),
            ("view_audit_trail", "可查看和导出审计日志"),
            ("approve_bulk_export", "可批准他人的批量个人信息导出"),
            ("reset_second_factor", "可重置下级账号的动态口令"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(role="staff") | Q(centre__isnull=False),
                name="user_staff_bound_to_centre",
            ),
            models.CheckConstraint(
                condition=Q(role="staff") | Q(centre__isnull=True),
                name="user_only_staff_have_centre",
            ),
            models.CheckConstraint(
                condition=~Q(role="enterprise") | Q(organisation__isnull=False),
                name="user_enterprise_has_organisation",
            ),
        ]

    @property
    def mobile(self) -> str | None:
        """The mobile number in the clear (None without one)."""
        return unseal(self.mobile_sealed, purpose=MOBILE_PURPOSE) or None

    @mobile.setter
    def mobile(self, value: str | None) -> None:
        """Seal and hash a normalised number (forms validate it); None or "" clears it."""
        value = value or ""
        self.mobile_sealed = seal(value, purpose=MOBILE_PURPOSE)
        self.mobile_hash = mobile_lookup(value) or None

    def __str__(self) -> str:
        # Older usernames embedded the mobile number ("m1381234…"): never show a username
        # when a name or a masked number will do.
        if self.display_name:
            return self.display_name
        return self.masked_mobile if self.mobile else self.username

    @property
    def is_centre_staff(self) -> bool:
        return self.role == Role.STAFF and self.centre_id is not None

    def set_password(self, raw_password: str | None) -> None:
        """Every path that sets a password (forms, reset, admin, services, commands) comes
        here, so the password's age (ADR 0002: 90 days for privileged accounts) starts now."""
        super().set_password(raw_password)
        self.password_changed_at = timezone.now()

    @property
    def is_privileged(self) -> bool:
        """Signs in with a second factor and follows the staff password rules."""
        return self.is_superuser or self.role in PRIVILEGED_ROLES

    @property
    def sees_everything(self) -> bool:
        """Administrators see every jurisdiction."""
        return self.is_superuser or self.role == Role.ADMIN

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile or "")


class SmsCode(models.Model):
    """A one-time code sent to a mobile number. Only a hash of the code is stored.

    An empty hash records a request that sent no code (a reset for an unknown number, a
    registration for a registered one): it throttles and counts guesses like any code, and
    no guess ever matches it, so the answers never tell the two kinds of number apart."""

    class Purpose(models.TextChoices):
        REGISTER = "register", "注册"
        RESET = "reset", "找回密码"
        LOGIN = "login", "登录"

    # Only the keyed hash of the number (kejiyun/common/crypto.py `mobile_lookup`).
    mobile_hash = models.CharField("手机号查找码", max_length=64)
    purpose = models.CharField("用途", max_length=16, choices=Purpose.choices)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[models.Manager[SmsCode]] = MobileQuerySet.as_manager()

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = "短信验证码"
        indexes = [
            models.Index(
                fields=["mobile_hash", "purpose", "-created_at"], name="smscode_mobile_lookup"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} {self.created_at:%Y-%m-%d %H:%M}"

    def is_usable(self, now: object = None) -> bool:
        moment = now or timezone.now()
        return self.used_at is None and self.expires_at > moment  # type: ignore[operator]


class LoginFailure(models.Model):
    """A failed sign-in, kept in the database so lock-outs survive a Redis outage.

    `identity` is a keyed hash of the normalised login name, never the name itself.
    """

    identity = models.CharField(max_length=64, db_index=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "登录失败记录"
        verbose_name_plural = "登录失败记录"
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M}"


class Footprint(models.Model):
    """Where an account acted from, for the integrity detectors (quota accounts, ratings
    from a staff member's own network). Only keyed hashes: never an address or a cookie."""

    class Kind(models.TextChoices):
        REGISTER = "register", "注册"
        LOGIN = "login", "登录"
        RATE = "rate", "评价"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="footprints")
    kind = models.CharField("类型", max_length=10, choices=Kind.choices)
    # Keyed hashes (kejiyun.common.crypto.lookup_hash) of the client's network (/24 for IPv4,
    # /48 for IPv6) and of the browser's long-lived device cookie; "" when unknown.
    network = models.CharField("网络", max_length=64, blank=True, db_index=True)
    device = models.CharField("设备", max_length=64, blank=True, db_index=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "操作足迹"
        verbose_name_plural = "操作足迹"
        indexes = [models.Index(fields=["kind", "created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"
