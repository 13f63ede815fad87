from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone

from kejiyun.regions.models import Region


class TalentProfile(models.Model):
    """An S&T worker's public profile: what they can do (科技所能)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="用户",
        on_delete=models.CASCADE,
        related_name="talent_profile",
    )
    region = models.ForeignKey(
        Region, verbose_name="所在区县", on_delete=models.PROTECT, related_name="talent_profiles"
    )
    employer = models.CharField("工作单位", max_length=120, blank=True)
    title = models.CharField("职称", max_length=40, blank=True)
    fields = models.CharField("专业领域", max_length=200, blank=True)
    keywords = models.CharField("关键词", max_length=300, blank=True)
    capability = models.TextField("能力描述", blank=True)
    verified = models.BooleanField("已核验", default=False)
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = "科技工作者档案"
        verbose_name_plural = "科技工作者档案"
        ordering = ["-created_at", "id"]

    def __str__(self) -> str:
        return str(self.user)

    def completeness(self) -> int:
        """Share of the profile's descriptive fields that are filled in, 0-100."""
        parts = [self.employer, self.title, self.fields, self.keywords, self.capability]
        return round(100 * sum(1 for p in parts if p.strip()) / len(parts))
