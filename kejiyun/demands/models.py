from __future__ import annotations

from django.db import models
from django.utils import timezone

from kejiyun.accounts.models import Organisation
from kejiyun.regions.models import Region


class Demand(models.Model):
    """What an enterprise needs (科技所需). The case workflow arrives with the demands issue."""

    class Category(models.TextChoices):
        PROBLEM = "problem", "技术难题"
        TALENT = "talent", "人才需求"
        EQUIPMENT = "equipment", "仪器设备"
        TRAINING = "training", "技术培训"
        RESULT = "result", "成果购买"

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"
        CLOSED = "closed", "已办结"

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
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    created_at = models.DateTimeField("提交时间", default=timezone.now)

    class Meta:
        verbose_name = "技术需求"
        verbose_name_plural = "技术需求"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.title
