from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from kejiyun.accounts.models import Organisation
from kejiyun.regions.models import Region
from kejiyun.talent.models import Discipline, Industry


class Demand(models.Model):
    """What an enterprise needs (科技所需).

    Lifecycle: draft → submitted (待审核) → published (staff accepted it; a case is opened) or
    returned (sent back with reasons; the enterprise edits and submits again). Closed when its
    case closes; withdrawn by the enterprise.
    """

    class Category(models.TextChoices):
        PROBLEM = "problem", "技术难题"
        TALENT = "talent", "人才需求"
        EQUIPMENT = "equipment", "仪器设备"
        TRAINING = "training", "技术培训"
        RESULT = "result", "成果购买"

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "待审核"
        RETURNED = "returned", "退回修改"
        PUBLISHED = "published", "已发布"
        CLOSED = "closed", "已办结"
        WITHDRAWN = "withdrawn", "已撤回"

    class Budget(models.TextChoices):
        UNKNOWN = "", "待商定"
        UNDER_50K = "lt5", "5万元以下"
        FROM_50K = "5-20", "5万–20万元"
        FROM_200K = "20-50", "20万–50万元"
        FROM_500K = "50-100", "50万–100万元"
        OVER_1M = "gt100", "100万元以上"

    class Confidentiality(models.TextChoices):
        PUBLIC = "public", "公开"
        SUMMARY = "summary", "仅公开摘要"
        PRIVATE = "private", "不公开"

    class Source(models.TextChoices):
        ONLINE = "online", "网上发布"
        PAPER = "paper", "线下收集"

    organisation = models.ForeignKey(
        Organisation, verbose_name="需求单位", on_delete=models.PROTECT, related_name="demands"
    )
    region = models.ForeignKey(
        Region, verbose_name="所在区县", on_delete=models.PROTECT, related_name="demands"
    )
    title = models.CharField("需求名称", max_length=120)
    description = models.TextField("需求描述")
    category = models.CharField("类别", max_length=16, choices=Category.choices)
    industry = models.CharField("所属行业", max_length=64, blank=True)
    # The industry as a class of GB/T 4754-2017 (the form asks for it; `industry` keeps its
    # name for display), and the discipline (NSFC) when someone gave one. Matching infers
    # either from the text when it is missing.
    industry_class = models.ForeignKey(
        Industry,
        verbose_name="行业分类",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    discipline = models.ForeignKey(
        Discipline,
        verbose_name="所属学科",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # Guidance that makes a demand specific (发布指引): the review step checks these.
    problem = models.TextField("要解决的问题", blank=True)
    current_state = models.TextField("目前现状", blank=True)
    target_indicators = models.TextField("目标指标", blank=True)
    budget = models.CharField(
        "预算范围", max_length=8, choices=Budget.choices, default=Budget.UNKNOWN, blank=True
    )
    deadline = models.DateField("期望完成时间", null=True, blank=True)
    confidentiality = models.CharField(
        "公开方式", max_length=8, choices=Confidentiality.choices, default=Confidentiality.PUBLIC
    )
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    source = models.CharField("来源", max_length=8, choices=Source.choices, default=Source.ONLINE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    # Review (发布前审核): why it was sent back, and what the automatic checks flagged for staff.
    return_reasons = models.TextField("退回原因", blank=True)
    review_flags = models.JSONField("审核提示", default=list, blank=True)
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name="疑似重复",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True, db_index=True)
    # Bumped by every edit and status move (`demand_update`, `demand_transition`): the API's
    # ETag, so an edit made from a stale read is refused (412) rather than lost.
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "技术需求"
        verbose_name_plural = "技术需求"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "region"], name="demand_status_region")]
        constraints = [
            # A demand sent back always says why.
            models.CheckConstraint(
                condition=~models.Q(status="returned") | ~models.Q(return_reasons=""),
                name="demand_returned_has_reasons",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class DemandEvent(models.Model):
    """One immutable line of a demand's history: who moved it from which status to which, and
    why (the reasons a demand was sent back, the flags the automatic checks raised)."""

    demand = models.ForeignKey(Demand, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField("原状态", max_length=16, choices=Demand.Status.choices)
    to_status = models.CharField("新状态", max_length=16, choices=Demand.Status.choices)
    automatic = models.BooleanField("系统自动", default=False)
    reason = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "需求状态变更"
        verbose_name_plural = "需求状态变更"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status}→{self.to_status}"
