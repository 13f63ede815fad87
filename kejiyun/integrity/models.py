"""A flag: one record a detector thinks games the figures, why, and what staff decided."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from kejiyun.regions.models import ServiceCentre


class Kind(models.TextChoices):
    """The kinds of gaming, one detector each (`kejiyun/integrity/detectors/`)."""

    DUPLICATE_DEMAND = "duplicate_demand", "模板或重复需求"
    SCRIPTED_READING = "scripted_reading", "脚本刷阅读"
    QUOTA_ACCOUNT = "quota_account", "凑数账号"
    SELF_DEALING = "self_dealing", "关联交易"
    HOLLOW_CLOSURE = "hollow_closure", "空壳结案"
    RATING_RING = "rating_ring", "互评刷分"


class Subject(models.TextChoices):
    """What a flag points at."""

    DEMAND = "demand", "需求"
    ACCOUNT = "account", "账号"
    CASE = "case", "案例"


class Flag(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "待复核"
        CONFIRMED = "confirmed", "已确认"
        CLEARED = "cleared", "已排除"

    kind = models.CharField("类型", max_length=20, choices=Kind.choices, db_index=True)
    subject_type = models.CharField("对象类型", max_length=12, choices=Subject.choices)
    subject_id = models.PositiveBigIntegerField("对象编号")
    # The centre whose figures the record counts for, and the Beijing day it counts on (the
    # same day and centre the operations indicator puts it on).
    centre = models.ForeignKey(
        ServiceCentre,
        verbose_name="计入服务中心",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="integrity_flags",
    )
    day = models.DateField("计入日期", db_index=True)
    # Plain Chinese for staff; never personal data (no names, phones or ID numbers).
    reason = models.TextField("理由")
    confidence = models.FloatField("置信度")
    # Ids of the records that back the reason (the other demands of a template, the accounts
    # sharing a device, ...), and figures the detector used. No personal data.
    evidence = models.JSONField("证据", default=dict, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="复核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("复核时间", null=True, blank=True)
    decision_note = models.CharField("复核说明", max_length=500, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("发现时间", default=timezone.now, db_index=True)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = "刷量标记"
        verbose_name_plural = "刷量标记"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "subject_type", "subject_id"], name="integrity_flag_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(confidence__gte=0) & models.Q(confidence__lte=1),
                name="integrity_flag_confidence_0_1",
            ),
        ]
        indexes = [models.Index(fields=["centre", "day", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.subject_type}#{self.subject_id}"


class ScanState(models.Model):
    """The scan's watermark (one row): how far the last scan looked. The periodic job looks
    at the last days; a database without a watermark is first scanned a year back."""

    scanned_to = models.DateTimeField("已扫描至")
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = "扫描进度"
        verbose_name_plural = "扫描进度"

    def __str__(self) -> str:
        return f"{self.scanned_to:%Y-%m-%d %H:%M}"


class ChangedDay(models.Model):
    """A Beijing day whose flags changed (created, updated, withdrawn or decided): the
    operations rollup job recomputes the days changed since its last run, since the gaming
    indicators of a past day read the flags."""

    day = models.DateField("日期")
    changed_at = models.DateTimeField("变化时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "刷量标记变化日"
        verbose_name_plural = "刷量标记变化日"

    def __str__(self) -> str:
        return f"{self.day}"
