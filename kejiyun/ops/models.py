from __future__ import annotations

from django.db import models
from django.utils import timezone

from kejiyun.regions.models import ServiceCentre


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
