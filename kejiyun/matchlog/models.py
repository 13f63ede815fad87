"""The match index's change log: an outbox that the process-wide engines follow."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class IndexChange(models.Model):
    """One profile or demand that changed (created, edited or deleted).

    Written by the service that made the change, in the same transaction, so the log holds
    exactly the committed changes. Each process's engine remembers the last id it applied and
    applies newer rows (re-reading the row, or deleting it when it is gone) before it answers.
    """

    class Kind(models.TextChoices):
        EXPERTS = "experts", "科技工作者"
        DEMANDS = "demands", "技术需求"
        TEAMS = "teams", "团队与工作室"
        RESULTS = "results", "科技成果"

    kind = models.CharField("类别", max_length=8, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField("对象")
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "索引变更"
        verbose_name_plural = "索引变更"
        indexes = [models.Index(fields=["kind", "id"], name="indexchange_kind_id")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}"


class MatchVector(models.Model):
    """A precomputed embedding of one profile's or demand's text, written by the periodic
    job that embeds off the request path (`kejiyun.matching.embeddings`).

    `role` says whether it embeds the text as a document (what is found) or as a query (what
    looks): e5 embeds the two differently. `digest` identifies the exact text embedded, so a
    vector of an older text is never used. `model` names the embedder.
    """

    class Role(models.TextChoices):
        DOCUMENT = "doc", "文档"
        QUERY = "query", "查询"

    kind = models.CharField("类别", max_length=8, choices=IndexChange.Kind.choices)
    object_id = models.PositiveBigIntegerField("对象")
    role = models.CharField("用途", max_length=5, choices=Role.choices)
    model = models.CharField("模型", max_length=32)
    digest = models.CharField("文本摘要", max_length=32)
    vector = models.BinaryField("向量")
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "匹配向量"
        verbose_name_plural = "匹配向量"
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "role", "model"], name="matchvector_one_per_role"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id}:{self.role}"
