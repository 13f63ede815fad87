"""一人一策: every verified S&T worker has a service plan owned by a staff member."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kejiyun.regions.models import ServiceCentre
from kejiyun.talent.models import TalentProfile


class ServicePlan(models.Model):
    """One worker's service plan. `version` guards every edit against a stale page."""

    profile = models.OneToOneField(
        TalentProfile,
        verbose_name="科技工作者",
        on_delete=models.CASCADE,
        related_name="service_plan",
    )
    centre = models.ForeignKey(
        ServiceCentre, verbose_name="服务中心", on_delete=models.PROTECT, related_name="plans"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="负责人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_plans",
    )
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("建立时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = "一人一策服务计划"
        verbose_name_plural = "一人一策服务计划"
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(version__gte=1), name="plan_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.profile}的服务计划"


class PlanNeed(models.Model):
    """Something the worker needs help with."""

    class Kind(models.TextChoices):
        PROJECT = "project", "项目申报"
        PLATFORM = "platform", "平台建设"
        TALENT_PROGRAMME = "talent_programme", "人才计划"
        ENTERPRISE_MATCHING = "enterprise_matching", "企业对接"
        TRAINING = "training", "培训提升"

    class Status(models.TextChoices):
        OPEN = "open", "待解决"
        MET = "met", "已满足"

    plan = models.ForeignKey(
        ServicePlan, verbose_name="服务计划", on_delete=models.CASCADE, related_name="needs"
    )
    kind = models.CharField("类型", max_length=20, choices=Kind.choices)
    description = models.TextField("说明")
    status = models.CharField(
        "状态", max_length=8, choices=Status.choices, default=Status.OPEN, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = "服务需求"
        verbose_name_plural = "服务需求"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    kind__in=[
                        "project",
                        "platform",
                        "talent_programme",
                        "enterprise_matching",
                        "training",
                    ]
                ),
                name="planneed_kind_known",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["open", "met"]), name="planneed_status_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.description[:20]}"


class PlanAction(models.Model):
    """A step the owner will take, with a due date."""

    plan = models.ForeignKey(
        ServicePlan, verbose_name="服务计划", on_delete=models.CASCADE, related_name="actions"
    )
    need = models.ForeignKey(
        PlanNeed,
        verbose_name="对应需求",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="actions",
    )
    title = models.CharField("事项", max_length=200)
    due_on = models.DateField("完成期限")
    done_at = models.DateTimeField("完成时间", null=True, blank=True, db_index=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="完成人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = "服务事项"
        verbose_name_plural = "服务事项"
        ordering = ["due_on", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(done_at__isnull=False) | Q(done_by__isnull=True),
                name="planaction_done_by_only_when_done",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="planaction_has_title"),
        ]
        indexes = [models.Index(fields=["plan", "done_at", "due_on"])]

    def __str__(self) -> str:
        return self.title

    def is_overdue(self, today: date) -> bool:
        return self.done_at is None and self.due_on < today


class PlanFollowUp(models.Model):
    """A contact with the worker: a visit, a call, a meeting."""

    plan = models.ForeignKey(
        ServicePlan, verbose_name="服务计划", on_delete=models.CASCADE, related_name="followups"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="记录人",
        on_delete=models.PROTECT,
        related_name="plan_followups",
    )
    happened_on = models.DateField("日期")
    note = models.TextField("情况")
    created_at = models.DateTimeField("记录时间", default=timezone.now)

    class Meta:
        verbose_name = "跟进记录"
        verbose_name_plural = "跟进记录"
        ordering = ["-happened_on", "-id"]

    def __str__(self) -> str:
        return f"{self.happened_on:%Y-%m-%d}"


class PlanEvent(models.Model):
    """One immutable line of the plan's history: who changed what, and why."""

    class Kind(models.TextChoices):
        OPENED = "opened", "建立计划"
        NEED_MOVED = "need_moved", "需求状态变更"
        ACTION_DONE = "action_done", "事项完成"
        REASSIGNED = "reassigned", "转交"

    plan = models.ForeignKey(
        ServicePlan, verbose_name="服务计划", on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    from_status = models.CharField("原状态", max_length=8, blank=True)
    to_status = models.CharField("新状态", max_length=8, blank=True)
    reason = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "计划记录"
        verbose_name_plural = "计划记录"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"
