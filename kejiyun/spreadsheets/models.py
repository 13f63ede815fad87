"""Uploaded spreadsheets waiting between the validation report and the import."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kejiyun.common.crypto import unseal


class ImportKind(models.TextChoices):
    DEMANDS = "demands", "技术需求"
    WORKERS = "workers", "科技工作者"


ROWS_PURPOSE = "sheets.import_batch.rows"


class ImportBatch(models.Model):
    """One uploaded .xlsx file, parsed and kept server-side until its uploader confirms it.

    The rows are stored as parsed (header → text) so the confirm step never trusts the
    client. They hold personal data (phones, ID numbers), so they are stored sealed
    (kejiyun/common/crypto.py) and emptied once the batch is applied or expires.
    """

    kind = models.CharField("类型", max_length=16, choices=ImportKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="上传人",
        on_delete=models.CASCADE,
        related_name="+",
    )
    sha256 = models.CharField("文件 SHA-256", max_length=64, db_index=True)
    filename = models.CharField("文件名", max_length=200, blank=True)
    rows_sealed = models.TextField("数据行（加密）", blank=True)
    row_count = models.PositiveIntegerField("行数", default=0)
    created_at = models.DateTimeField("上传时间", default=timezone.now)
    applied_at = models.DateTimeField("导入时间", null=True, blank=True)
    result = models.JSONField("导入结果", default=dict, blank=True)

    # A batch may be confirmed this long after its upload; after that, upload it again.
    LIFETIME = timedelta(hours=24)

    class Meta:
        verbose_name = "导入批次"
        verbose_name_plural = "导入批次"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["demands", "workers"]), name="import_batch_known_kind"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    def stored_rows(self) -> list[dict[str, Any]]:
        """The parsed rows, [{"row": n, "values": {header: text}}]; [] once emptied."""
        if not self.rows_sealed:
            return []
        rows: list[dict[str, Any]] = json.loads(unseal(self.rows_sealed, purpose=ROWS_PURPOSE))
        return rows

    @property
    def is_applied(self) -> bool:
        return self.applied_at is not None

    def is_expired(self, now: datetime | None = None) -> bool:
        return self.created_at + self.LIFETIME < (now or timezone.now())


class ExportRequest(models.Model):
    """A bulk export of personal data waiting for a second person (docs/security.md item 21).

    An export of a list with personal columns (names, masked mobiles and ID numbers) of more
    than settings.BULK_EXPORT_APPROVAL_ROWS rows makes one of these instead of a file. Another
    user holding `accounts.approve_bulk_export` whose jurisdiction covers the requester's
    centre approves or refuses it; the requester may then download it once, within
    settings.BULK_EXPORT_DOWNLOAD_HOURS of the approval."""

    class Status(models.TextChoices):
        PENDING = "pending", "待审批"
        APPROVED = "approved", "已批准"
        REFUSED = "refused", "已驳回"
        DOWNLOADED = "downloaded", "已下载"

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申请人",
        on_delete=models.PROTECT,
        related_name="export_requests",
    )
    # The requester's jurisdiction when asking (None: an administrator, who sees everything).
    region = models.ForeignKey(
        "regions.Region",
        verbose_name="申请人辖区",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    list_name = models.CharField("导出列表", max_length=40)
    filters = models.JSONField("筛选条件", default=dict, blank=True)
    row_count = models.PositiveIntegerField("行数")
    status = models.CharField(
        "状态", max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    created_at = models.DateTimeField("申请时间", default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审批人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField("审批时间", null=True, blank=True)
    reason = models.CharField("驳回原因", max_length=200, blank=True)
    downloaded_at = models.DateTimeField("下载时间", null=True, blank=True)

    class Meta:
        verbose_name = "批量导出申请"
        verbose_name_plural = "批量导出申请"
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.list_name} × {self.row_count}（{self.get_status_display()}）"

    def download_until(self) -> datetime | None:
        if self.decided_at is None or self.status != self.Status.APPROVED:
            return None
        return self.decided_at + timedelta(hours=settings.BULK_EXPORT_DOWNLOAD_HOURS)
