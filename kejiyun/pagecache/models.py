"""The generation of each kind of public content: a number that the services which change
that content move on in the same transaction. A cached fragment is keyed by the numbers of
the content it shows, so a committed change makes every older fragment unreachable, in
every process and on every cache backend (kejiyun/pagecache/fragments.py)."""

from __future__ import annotations

from django.db import models


class ContentGeneration(models.Model):
    class Topic(models.TextChoices):
        DEMANDS = "demands", "已发布需求"
        TALENT = "talent", "专家名录"
        POPSCI = "popsci", "科普内容"

    topic = models.CharField("内容", max_length=16, choices=Topic.choices, primary_key=True)
    number = models.BigIntegerField("代数", default=0)

    class Meta:
        # Named here: the page cache reads it with one plain SELECT on every public page.
        db_table = "pagecache_contentgeneration"
        verbose_name = "内容代数"
        verbose_name_plural = "内容代数"

    def __str__(self) -> str:
        return f"{self.topic}:{self.number}"
