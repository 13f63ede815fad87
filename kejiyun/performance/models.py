"""Schemes (考核方案) and allocations (资金分配).

A scheme scores the centres of one level (county or city) for one period on indicators from
the operations catalogue. An allocation splits a budget among the centres a published scheme
scores; a second person with the approver role approves it, and an approved allocation is
frozen (every edit refused with 409) together with the scores it froze in its lines."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kejiyun.regions.models import ServiceCentre


class Normalisation(models.TextChoices):
    """How an indicator's net value becomes a fraction 0..1 of its weight."""

    TARGET = "target", "对标目标值"
    MINMAX = "minmax", "同级最小—最大"
    RANK = "rank", "同级排名"


class Scheme(models.Model):
    class Level(models.TextChoices):
        COUNTY = "county", "区县服务中心"
        CITY = "city", "市州服务中心"

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"

    name = models.CharField("方案名称", max_length=80)
    # An ops period token (kejiyun.ops.periods.Period): "2026H1", "2026Q3", "2026", ...
    period = models.CharField("考核期", max_length=24, db_index=True)
    level = models.CharField("考核对象", max_length=8, choices=Level.choices)
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    note = models.TextField("方案说明", blank=True)
    # Whether open (not yet reviewed) flags at or above this confidence are discounted as well
    # as confirmed ones; None discounts confirmed flags only.
    discount_open_above = models.DecimalField(
        "未复核标记扣除阈值", max_digits=3, decimal_places=2, null=True, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="制定人", on_delete=models.PROTECT, related_name="+"
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="发布人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = "考核方案"
        verbose_name_plural = "考核方案"
        ordering = ["-period", "level", "-id"]
        permissions = [("manage_scheme", "制定考核方案与资金分配方案")]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "level"],
                condition=Q(status="published"),
                name="performance_one_published_scheme_per_period_level",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class SchemeItem(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="items")
    indicator = models.CharField("指标", max_length=40)  # a kejiyun.ops.indicators key
    weight = models.DecimalField("权重（分）", max_digits=6, decimal_places=2)
    normalisation = models.CharField(
        "计分方法", max_length=8, choices=Normalisation.choices, default=Normalisation.TARGET
    )
    target = models.DecimalField("目标值", max_digits=16, decimal_places=4, null=True, blank=True)
    position = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "考核指标"
        verbose_name_plural = "考核指标"
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "indicator"], name="performance_scheme_item_unique"
            ),
            models.CheckConstraint(condition=Q(weight__gt=0), name="performance_weight_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} × {self.weight}"


class Allocation(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"

    scheme = models.ForeignKey(
        Scheme, verbose_name="考核方案", on_delete=models.PROTECT, related_name="allocations"
    )
    name = models.CharField("名称", max_length=80)
    budget_fen = models.BigIntegerField("预算（分）")
    # Defaults for every centre; a line may override floor and cap.
    base_fen = models.BigIntegerField("基础额（分）", default=0)
    floor_fen = models.BigIntegerField("下限（分）", default=0)
    cap_fen = models.BigIntegerField("上限（分）", null=True, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="编制人", on_delete=models.PROTECT, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="提交人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    approved_at = models.DateTimeField("批准时间", null=True, blank=True)
    return_reason = models.CharField("退回原因", max_length=500, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = "资金分配"
        verbose_name_plural = "资金分配"
        ordering = ["-created_at", "-id"]
        permissions = [("approve_allocation", "审批资金分配")]
        constraints = [
            models.CheckConstraint(
                condition=Q(budget_fen__gt=0), name="allocation_budget_positive"
            ),
            models.CheckConstraint(
                condition=Q(base_fen__gte=0) & Q(floor_fen__gte=0),
                name="allocation_base_floor_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AllocationLine(models.Model):
    """One centre's share, with the score and breakdown it was computed from (frozen with
    the allocation)."""

    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="lines")
    centre = models.ForeignKey(
        ServiceCentre, verbose_name="服务中心", on_delete=models.PROTECT, related_name="+"
    )
    score = models.DecimalField("得分", max_digits=8, decimal_places=2)
    rank = models.PositiveIntegerField("名次")
    base_fen = models.BigIntegerField("基础额（分）")
    floor_fen = models.BigIntegerField("下限（分）")
    cap_fen = models.BigIntegerField("上限（分）", null=True, blank=True)
    amount_fen = models.BigIntegerField("分配额（分）")
    # Whether floor and cap were set for this centre alone (kept when the allocation's
    # defaults change and the lines are computed again).
    override = models.BooleanField("单独设定上下限", default=False)
    # "" | "floor" | "cap": which bound fixed the amount.
    bound = models.CharField("受限于", max_length=8, blank=True)
    # The score's lines as computed (kejiyun.performance.scoring.CentreScore, as JSON).
    breakdown = models.JSONField("得分明细", default=dict, blank=True)

    class Meta:
        verbose_name = "分配明细"
        verbose_name_plural = "分配明细"
        ordering = ["rank", "centre__region__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["allocation", "centre"], name="performance_allocation_line_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.centre_id}: {self.amount_fen}"


class AllocationEvent(models.Model):
    """Every step of an allocation, in order (the audit log has them too)."""

    class Action(models.TextChoices):
        CREATE = "create", "编制"
        COMPUTE = "compute", "计算"
        EDIT = "edit", "修改"
        SUBMIT = "submit", "提交审批"
        RETURN = "return", "退回"
        APPROVE = "approve", "批准"
        EXPORT = "export", "导出"

    allocation = models.ForeignKey(Allocation, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, related_name="+"
    )
    action = models.CharField("操作", max_length=10, choices=Action.choices)
    note = models.CharField("说明", max_length=500, blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "分配记录"
        verbose_name_plural = "分配记录"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.action} {self.created_at:%Y-%m-%d %H:%M}"
