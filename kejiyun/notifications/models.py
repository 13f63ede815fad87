from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from kejiyun.common.crypto import mobile_lookup, seal, unseal

# The purposes of the sealed columns here (kejiyun/common/crypto.py).
SMS_MOBILE_PURPOSE = "notifications.sms.mobile"
SMS_BODY_PURPOSE = "notifications.sms.body"
OUTBOX_ADDRESS_PURPOSE = "notifications.outbox.address"


class SmsMessageQuerySet(models.QuerySet):
    def for_mobile(self, mobile: str) -> models.QuerySet:
        """The messages sent to exactly this (normalised) number."""
        if not mobile:
            return self.none()
        return self.filter(mobile_hash=mobile_lookup(mobile))


class Channel(models.TextChoices):
    IN_APP = "inapp", "站内信"
    SMS = "sms", "短信"
    WECHAT = "wechat", "微信模板消息"
    # Deliveries to partner systems' webhook subscriptions; the adapter is the API's
    # (`kejiyun.api.webhooks`), registered into CHANNEL_ADAPTERS when that app loads.
    WEBHOOK = "webhook", "事件推送"


class SmsMessage(models.Model):
    """The outbox of the default SMS backend: messages are recorded here, not sent.

    Number and text (which may carry a one-time code) are sealed; `mobile_hash` finds a
    number's messages (`SmsMessage.objects.for_mobile`). The table keeps its old name from
    when the model lived in accounts.
    """

    mobile_sealed = models.TextField("手机号（加密）")
    mobile_hash = models.CharField("手机号查找码", max_length=64, db_index=True)
    body_sealed = models.TextField("内容（加密）")
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    objects = SmsMessageQuerySet.as_manager()

    class Meta:
        db_table = "accounts_smsmessage"
        verbose_name = "短信发件箱"
        verbose_name_plural = "短信发件箱"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M}"

    @property
    def mobile(self) -> str:
        return unseal(self.mobile_sealed, purpose=SMS_MOBILE_PURPOSE)

    @mobile.setter
    def mobile(self, value: str) -> None:
        self.mobile_sealed = seal(value or "", purpose=SMS_MOBILE_PURPOSE)
        self.mobile_hash = mobile_lookup(value or "")

    @property
    def body(self) -> str:
        return unseal(self.body_sealed, purpose=SMS_BODY_PURPOSE)

    @body.setter
    def body(self, value: str) -> None:
        self.body_sealed = seal(value or "", purpose=SMS_BODY_PURPOSE)


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
    # A mobile number, an openid or a webhook subscription, sealed (the `address` property).
    address_sealed = models.TextField("地址（加密）", blank=True, default="")
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

    @property
    def address(self) -> str:
        """Where the message goes, in the clear: only the dispatcher's channel needs it."""
        return unseal(self.address_sealed, purpose=OUTBOX_ADDRESS_PURPOSE)

    @address.setter
    def address(self, value: str) -> None:
        self.address_sealed = seal(value or "", purpose=OUTBOX_ADDRESS_PURPOSE)
