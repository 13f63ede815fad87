from __future__ import annotations

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kejiyun.demands.models import Demand
from kejiyun.ops.periods import Period
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


class AreaRollup(models.Model):
    """One indicator's month for a whole province or city: the sum of the month rows of every
    centre in it (its own centre's, its cities' and its counties'), kept beside them by the
    rollup job so that a province's year is twelve rows per indicator instead of twelve per
    centre. A county's figures are its own centre's month rows, so counties have none.
    `ops_verify` checks each row against the centre rows it sums."""

    start = models.DateField("月份")
    indicator = models.CharField("指标", max_length=40)
    region = models.ForeignKey(
        Region, verbose_name="区域", on_delete=models.PROTECT, related_name="+"
    )
    num = models.DecimalField("分子", max_digits=20, decimal_places=2, default=0)
    den = models.BigIntegerField("分母", default=0)
    samples = models.JSONField("样本", null=True, blank=True)
    computed_at = models.DateTimeField("计算时间", default=timezone.now)

    class Meta:
        verbose_name = "区域月度汇总"
        verbose_name_plural = "区域月度汇总"
        constraints = [
            models.UniqueConstraint(
                fields=["start", "indicator", "region"], name="arearollup_one_per_cell"
            ),
        ]
        indexes = [models.Index(fields=["region", "start"], name="arearollup_read")]

    def __str__(self) -> str:
        return f"{self.indicator} {self.region_id} {self.start}"


class RollupState(models.Model):
    """Where the incremental rollup job stands: one row. Each run recomputes every day from a
    little before `last_complete_day` (the settling days, see `rollups.SETTLE_DAYS`) through
    today, then moves `last_complete_day` to yesterday."""

    last_complete_day = models.DateField("已完成至")
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = "运营数据汇总进度"
        verbose_name_plural = "运营数据汇总进度"

    def __str__(self) -> str:
        return f"汇总已完成至 {self.last_complete_day}"


class GapCoverage(models.Model):
    """The verified experts the matching engine finds able to answer one published demand
    (`kejiyun.matching.selectors.capable_experts_for_demands`), kept by the periodic job
    `ops.gap_coverage_refresh`: the supply-demand gap (`kejiyun.ops.supervision.gap`) then
    reads rows instead of running one engine search per demand on the request path."""

    demand = models.OneToOneField(
        Demand, verbose_name="需求", on_delete=models.CASCADE, related_name="+"
    )
    # Ids of the TalentProfiles, ascending; empty when nobody could answer the demand.
    experts = models.JSONField("可答专家", default=list, blank=True)
    computed_at = models.DateTimeField("计算时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "需求可答专家"
        verbose_name_plural = "需求可答专家"

    def __str__(self) -> str:
        return f"{self.demand_id}: {len(self.experts)}"


# --- Half-year work reports (工作汇报): kejiyun/ops/reports/ ----------------------------
#
# A county or city service centre files one report per half-year: the figures of its region
# for that half-year, copied from the rollups (read-only to the filer; refreshed while the
# report is a draft or returned, frozen on submission), and three text sections. The level
# above comments, returns it for corrections or accepts it; an accepted report is final. The
# moves are the table in `reports/transitions.py`; every move writes a `ReportEvent`.

# Longest text of each section, in characters (the form and the service both check).
SECTION_MAX_LENGTH = 5000
COMMENT_MAX_LENGTH = 2000


class WorkReport(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "已提交"
        RETURNED = "returned", "退回修改"
        ACCEPTED = "accepted", "已通过"

    class Half(models.IntegerChoices):
        FIRST = 1, "上半年"
        SECOND = 2, "下半年"

    centre = models.ForeignKey(
        ServiceCentre,
        verbose_name="服务中心",
        on_delete=models.PROTECT,
        related_name="work_reports",
    )
    year = models.PositiveSmallIntegerField("年度")
    half = models.PositiveSmallIntegerField("半年", choices=Half.choices)
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    # {indicator key: value or null}, as `kejiyun.ops.selectors.figures` gave them for the
    # centre's region and the half-year at `figures_at`.
    figures = models.JSONField("运营数据", default=dict, blank=True)
    figures_at = models.DateTimeField("数据读取时间", null=True, blank=True)
    achievements = models.TextField("主要工作成效", blank=True)
    difficulties = models.TextField("存在的困难问题", blank=True)
    plans = models.TextField("下半年工作安排", blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="填报人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    due_on = models.DateField("截止日期")
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审阅人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    accepted_at = models.DateTimeField("通过时间", null=True, blank=True)
    # Every write bumps it (`kejiyun.common.versioning.claim_version`): of two edits made
    # from the same page, one wins and the other is refused as stale.
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "工作汇报"
        verbose_name_plural = "工作汇报"
        ordering = ["-year", "-half", "centre__region__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["centre", "year", "half"], name="work_report_one_per_centre_half"
            ),
            models.CheckConstraint(condition=Q(half__in=[1, 2]), name="work_report_half_1_or_2"),
            models.CheckConstraint(
                condition=Q(status__in=["draft", "submitted", "returned", "accepted"]),
                name="work_report_known_status",
            ),
            models.CheckConstraint(
                condition=~Q(status="accepted") | Q(accepted_at__isnull=False),
                name="work_report_accepted_has_time",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(submitted_at__isnull=False),
                name="work_report_filed_has_time",
            ),
        ]
        indexes = [models.Index(fields=["year", "half", "status"], name="work_report_half")]

    def __str__(self) -> str:
        return f"{self.centre_id} {self.year}H{self.half}"

    @property
    def period(self) -> Period:
        return Period.half(self.year, self.half)

    @property
    def is_final(self) -> bool:
        return self.status == self.Status.ACCEPTED

    @property
    def is_editable(self) -> bool:
        """The filer may change the text (and the figures are read again) only now."""
        return self.status in (self.Status.DRAFT, self.Status.RETURNED)

    def is_overdue(self, today: date) -> bool:
        """Not handed in (a draft, or returned and not yet handed in again) after its due
        date."""
        return self.is_editable and today > self.due_on


class ReportEvent(models.Model):
    """One immutable line of a report's history: who moved it from which status to which,
    and why (the reviewer's reason for a return)."""

    report = models.ForeignKey(
        WorkReport, verbose_name="工作汇报", on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    from_status = models.CharField(
        "原状态", max_length=10, choices=WorkReport.Status.choices, blank=True
    )
    to_status = models.CharField("新状态", max_length=10, choices=WorkReport.Status.choices)
    reason = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "工作汇报状态变更"
        verbose_name_plural = "工作汇报状态变更"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'}→{self.to_status}"


class ReportComment(models.Model):
    """A comment of the level above on a report (批注)."""

    report = models.ForeignKey(
        WorkReport, verbose_name="工作汇报", on_delete=models.CASCADE, related_name="comments"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="批注人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    body = models.TextField("批注内容")
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "工作汇报批注"
        verbose_name_plural = "工作汇报批注"
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(body=""), name="report_comment_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.report_id} {self.created_at:%Y-%m-%d}"


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
