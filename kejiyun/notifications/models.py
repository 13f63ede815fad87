from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Channel(models.TextChoices):
    IN_APP = "inapp", "站内信"
    SMS = "sms", "短信"
    WECHAT = "wechat", "微信模板消息"
    # Deliveries to partner systems' webhook subscriptions; the adapter is the API's
    # (`kejiyun.api.webhooks`), registered into CHANNEL_ADAPTERS when that app loads.
    WEBHOOK = "webhook", "事件推送"


class SmsMessage(models.Model):
    """The outbox of the default SMS backend: messages are recorded here, not sent.

    The table keeps its old name from when the model lived in accounts.
    """

    mobile = models.CharField("手机号", max_length=11)
    body = models.CharField("内容", max_length=500)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        db_table = "accounts_smsmessage"
        verbose_name = "短信发件箱"
        verbose_name_plural = "短信发件箱"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M}"


class InboxItem(models.Model):
    """A message in a user's in-app inbox (站内信)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="收件人",
        on_delete=models.CASCADE,
        related_name="inbox",
    )
    title = models.CharField("标题", max_length=120)
    body = models.TextField("内容", blank=True)
    url = models.CharField("链接", max_length=300, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)
    read_at = models.DateTimeField("已读时间", null=True, blank=True)

    class Meta:
        verbose_name = "站内信"
        verbose_name_plural = "站内信"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.title


class OutboxMessage(models.Model):
    """A message waiting to be sent, written in the same transaction as the change that
    caused it. A dispatcher claims and sends it; `idempotency_key` makes a second write of
    the same message a no-op, and `status` makes a second send impossible."""

    class Status(models.TextChoices):
        PENDING = "pending", "待发送"
        SENDING = "sending", "发送中"
        SENT = "sent", "已发送"
        FAILED = "failed", "发送失败"

    channel = models.CharField("渠道", max_length=16, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="收件人",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbox_messages",
    )
    address = models.CharField("地址", max_length=64, blank=True, help_text="手机号或 openid")
    title = models.CharField("标题", max_length=120)
    body = models.TextField("内容")
    url = models.CharField("链接", max_length=300, blank=True)
    idempotency_key = models.CharField("幂等键", max_length=120, unique=True)
    # What wrote the message ("case", "plan", "demand", "team", "campaign", …): a feature
    # finds its own messages by this column, never by parsing the idempotency key.
    source = models.CharField("来源", max_length=20, blank=True, db_index=True)
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField("尝试次数", default=0)
    next_attempt_at = models.DateTimeField("下次尝试", default=timezone.now, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField("最后错误", max_length=300, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    sent_at = models.DateTimeField("发送时间", null=True, blank=True)

    class Meta:
        verbose_name = "发件箱"
        verbose_name_plural = "发件箱"
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.title}"
