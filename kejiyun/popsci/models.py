from __future__ import annotations

from django.db import models

from kejiyun.regions.models import Region


class Article(models.Model):
    """A science-popularisation article (科普文章). Review and targeting come with 精准科普."""

    class Topic(models.TextChoices):
        AGRICULTURE = "agriculture", "农业技术"
        DISASTER = "disaster", "防灾减灾"
        HEALTH = "health", "健康生活"
        ECOLOGY = "ecology", "生态环保"
        TECHNOLOGY = "technology", "前沿科技"
        ANTI_FRAUD = "anti_fraud", "反诈防骗"

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        PUBLISHED = "published", "已发布"

    title = models.CharField("标题", max_length=120)
    summary = models.CharField("摘要", max_length=300, blank=True)
    body = models.TextField("正文")
    topic = models.CharField("主题", max_length=16, choices=Topic.choices, db_index=True)
    region = models.ForeignKey(
        Region,
        verbose_name="适用地区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="articles",
        help_text="留空表示全省通用",
    )
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    class Meta:
        verbose_name = "科普文章"
        verbose_name_plural = "科普文章"
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title
