"""Credentials of the open API (ADR 0015): tokens, partner clients, webhook subscriptions.

No secret is stored as typed: tokens and client secrets only as keyed hashes
(`kejiyun.common.crypto.lookup_hash`), webhook signing secrets sealed (AES-GCM), so a copy of
the database lets nobody call the API or forge a delivery."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Scope(models.TextChoices):
    """What a personal access token or partner client may do. A token signed in from the
    mobile app carries every scope; the user's role and jurisdiction still decide each object."""

    PROFILE = "profile", "读取本人资料"
    DIRECTORY = "directory:read", "读取区域、服务中心、人才与企业名录"
    DEMANDS_READ = "demands:read", "读取需求"
    DEMANDS_WRITE = "demands:write", "发布与修改需求"
    CASES_READ = "cases:read", "读取工单、时间线与对接"
    CASES_WRITE = "cases:write", "推进工单、申请与答复对接"
    PLANS_READ = "plans:read", "读取服务方案"
    MATCHES_READ = "matches:read", "读取匹配推荐及理由"
    POPSCI_READ = "popsci:read", "读取科普内容与推送"
    POPSCI_WRITE = "popsci:write", "管理科普订阅与答题"
    OPS_READ = "ops:read", "读取运营指标"
    WEBHOOKS = "webhooks", "管理事件订阅"


ALL_SCOPES: tuple[str, ...] = tuple(Scope.values)


class ApiClient(models.Model):
    """A partner system (科创中国, a city platform, an enterprise system) calling with OAuth2
    client credentials. It acts as its `owner` account, so it sees exactly what that account
    sees, and never more than its `scopes`."""

    name = models.CharField("名称", max_length=80)
    client_id = models.CharField("客户端标识", max_length=40, unique=True)
    secret_hash = models.CharField(max_length=64)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="代表账号",
        on_delete=models.CASCADE,
        related_name="api_clients",
    )
    scopes = models.JSONField("权限范围", default=list)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "接入系统"
        verbose_name_plural = "接入系统"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer credential. `kind` says how it was issued; `family` ties a chain of rotated
    refresh tokens (and the access tokens they issued) together, so presenting a refresh
    token that was already used revokes the whole chain."""

    class Kind(models.TextChoices):
        ACCESS = "access", "访问令牌"
        REFRESH = "refresh", "刷新令牌"
        PERSONAL = "personal", "个人访问令牌"
        CLIENT = "client", "接入系统令牌"

    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    # The first characters of the token as issued, shown to its owner to tell tokens apart.
    prefix = models.CharField("前缀", max_length=12)
    name = models.CharField("名称", max_length=80, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="账号",
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    client = models.ForeignKey(
        ApiClient, null=True, blank=True, on_delete=models.CASCADE, related_name="tokens"
    )
    scopes = models.JSONField("权限范围", default=list)
    family = models.CharField(max_length=32, blank=True, db_index=True)
    created_at = models.DateTimeField("签发时间", default=timezone.now)
    expires_at = models.DateTimeField("过期时间")
    last_used_at = models.DateTimeField("最近使用", null=True, blank=True)
    used_at = models.DateTimeField("刷新时间", null=True, blank=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)

    class Meta:
        verbose_name = "接口令牌"
        verbose_name_plural = "接口令牌"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "kind"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.prefix}…"


class WebhookEvent(models.TextChoices):
    DEMAND_PUBLISHED = "demand.published", "需求发布"
    CASE_CLOSED = "case.closed", "工单办结"


class WebhookSubscriptionQuerySet(models.QuerySet["WebhookSubscription"]):
    def live(self) -> WebhookSubscriptionQuerySet:
        """Subscriptions that may still be delivered to: active, their owner active, and
        not made by a partner client that was since revoked."""
        return self.filter(active=True, owner__is_active=True).filter(
            models.Q(client__isnull=True) | models.Q(client__revoked_at__isnull=True)
        )


class WebhookSubscription(models.Model):
    """A partner's endpoint for events. Each delivery is an outbox message (channel
    webhook) signed with HMAC-SHA256 over the body with `secret`; the outbox retries it."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="订阅账号",
        on_delete=models.CASCADE,
        related_name="webhook_subscriptions",
    )
    client = models.ForeignKey(
        ApiClient, null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField("接收地址", max_length=300)
    events = models.JSONField("事件", default=list)
    secret_sealed = models.TextField()
    active = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    objects = WebhookSubscriptionQuerySet.as_manager()

    class Meta:
        verbose_name = "事件订阅"
        verbose_name_plural = "事件订阅"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.url
