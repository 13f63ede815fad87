from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kejiyun.regions.models import Region, ServiceCentre


class Rollup(models.Model):
    """One indicator's figure for one service centre over one day (or one calendar month).

    Day rows are computed from the platform's own records (`kejiyun/ops/compute.py`); a month
    row is the sum of its day rows, kept beside them so that a year is twelve rows per centre
    and indicator, not 365. Every kind of indicator is stored so that rows add up:

    - counts and sums: `num`;
    - means and shares: `num` over `den` (the sum of ratings over the number rated, say);
    - medians: `samples`, the sorted values themselves, merged when rows are added.

    The centre is the serving centre of the record's region (a township's record counts for its
    county's centre); `path` repeats the centre's region path so that a city or the province is
    one prefix query.
    """

    class Grain(models.TextChoices):
        DAY = "day", "日"
        MONTH = "month", "月"

    grain = models.CharField("粒度", max_length=5, choices=Grain.choices)
    start = models.DateField("日期")
    indicator = models.CharField("指标", max_length=40)
    centre = models.ForeignKey(
        ServiceCentre, verbose_name="服务中心", on_delete=models.PROTECT, related_name="+"
    )
    path = models.CharField("区划路径", max_length=64)
    num = models.DecimalField("分子", max_digits=20, decimal_places=2, default=0)
    den = models.BigIntegerField("分母", default=0)
    samples = models.JSONField("样本", null=True, blank=True)
    computed_at = models.DateTimeField("计算时间", default=timezone.now)

    class Meta:
        verbose_name = "运营数据汇总"
        verbose_name_plural = "运营数据汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["grain", "start", "indicator", "centre"], name="rollup_one_per_cell"
            ),
        ]
        indexes = [
            models.Index(fields=["grain", "indicator", "start", "path"], name="rollup_read"),
            models.Index(fields=["grain", "start", "path"], name="rollup_period"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.centre_id} {self.grain} {self.start}"


# --- Bulletins (通报): kejiyun/ops/bulletins/ -------------------------------------------
# A province or city centre's account of a period for the centres one level down, frozen
# when it is submitted, approved by a second person, then published to them.


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    PENDING = "pending", "待审核"
    PUBLISHED = "published", "已发布"


# How far below the median a centre's figure must fall to be called lagging, unless the
# author chooses otherwise: below half the median (or, where lower is better, above twice it).
DEFAULT_LAG_PERCENT = 50


class Bulletin(models.Model):
    """One bulletin of one region's centre over one period."""

    region = models.ForeignKey(
        Region, verbose_name="通报地区", on_delete=models.PROTECT, related_name="+"
    )
    centre = models.ForeignKey(
        ServiceCentre, verbose_name="发布中心", on_delete=models.PROTECT, related_name="+"
    )
    period = models.CharField("统计期", max_length=24, help_text="如 2026H1、2026Q2、2026")
    title = models.CharField("标题", max_length=120)
    indicators = models.JSONField("排名指标", default=list)
    lag_percent = models.PositiveSmallIntegerField(
        "落后阈值（中位数的百分比）", default=DEFAULT_LAG_PERCENT
    )
    commentary = models.TextField("点评", blank=True)
    status = models.CharField(
        "状态",
        max_length=10,
        choices=BulletinStatus.choices,
        default=BulletinStatus.DRAFT,
        db_index=True,
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="起草人", on_delete=models.PROTECT, related_name="+"
    )
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The figures, ranking, lagging centres and excerpts as they were when the bulletin was
    # submitted (see `content.py`); None while it is a draft.
    content = models.JSONField("冻结内容", null=True, blank=True)
    return_reason = models.CharField("退回原因", max_length=500, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    published_at = models.DateTimeField("发布时间", null=True, blank=True)

    class Meta:
        verbose_name = "通报"
        verbose_name_plural = "通报"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(lag_percent__gte=1) & Q(lag_percent__lte=99),
                name="bulletin_lag_percent_range",
            ),
            models.CheckConstraint(
                condition=~Q(status="published")
                | (Q(approver__isnull=False) & Q(content__isnull=False)),
                name="bulletin_published_has_approver_and_content",
            ),
            models.CheckConstraint(
                condition=~Q(approver=models.F("author")),
                name="bulletin_approver_is_not_author",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_draft(self) -> bool:
        return self.status == BulletinStatus.DRAFT


class BulletinEvent(models.Model):
    """One move of a bulletin's status: who, from, to, when, why."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField("原状态", max_length=10, choices=BulletinStatus.choices)
    to = models.CharField("新状态", max_length=10, choices=BulletinStatus.choices)
    reason = models.CharField("原因", max_length=500, blank=True)
    at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "通报流转记录"
        verbose_name_plural = "通报流转记录"
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.bulletin_id} {self.source} → {self.to}"


class BulletinReceipt(models.Model):
    """A published bulletin's receipt for one centre it was addressed to: written unread
    on publication; the first reader of that centre and the time are filled in once."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="receipts")
    centre = models.ForeignKey(
        ServiceCentre, verbose_name="接收中心", on_delete=models.PROTECT, related_name="+"
    )
    reader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="首位阅读人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    read_at = models.DateTimeField("首次阅读时间", null=True, blank=True)

    class Meta:
        verbose_name = "通报阅读回执"
        verbose_name_plural = "通报阅读回执"
        constraints = [
            models.UniqueConstraint(fields=["bulletin", "centre"], name="bulletin_receipt_once"),
            models.CheckConstraint(
                condition=Q(reader__isnull=True, read_at__isnull=True)
                | Q(reader__isnull=False, read_at__isnull=False),
                name="bulletin_receipt_reader_with_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bulletin_id} {self.centre_id}"
