from __future__ import annotations

from django.db import models
from django.db.models import Q


class Region(models.Model):
    """An administrative division with its GB/T 2260 code (NBS 统计用区划代码)."""

    class Level(models.TextChoices):
        PROVINCE = "province", "省级"
        CITY = "city", "地级"
        COUNTY = "county", "县级"
        TOWNSHIP = "township", "乡级"

    code = models.CharField("区划代码", max_length=12, primary_key=True)
    name = models.CharField("名称", max_length=64)
    level = models.CharField("层级", max_length=10, choices=Level.choices, db_index=True)
    kind = models.CharField("类型", max_length=16, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of codes from the province down, e.g. "510000/510100/510104/".
    # A subtree is one indexed prefix query on every database.
    path = models.CharField("路径", max_length=64, unique=True)
    lon = models.FloatField("经度", null=True, blank=True)
    lat = models.FloatField("纬度", null=True, blank=True)

    class Meta:
        verbose_name = "行政区划"
        verbose_name_plural = "行政区划"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level="province", parent__isnull=True)
                | (~Q(level="province") & Q(parent__isnull=False)),
                name="region_only_provinces_have_no_parent",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def contains(self, other: Region) -> bool:
        """True when `other` is this region or lies inside it."""
        return other.path.startswith(self.path)

    @property
    def province_code(self) -> str:
        return self.path.split("/", 1)[0]

    @property
    def ancestor_codes(self) -> list[str]:
        """Codes from the province down to this region itself, e.g. ["510000", "510100",
        "510104"]."""
        return [code for code in self.path.split("/") if code]

    @property
    def city_path(self) -> str:
        """Path of the city this region lies in (the province's own path for a province)."""
        return "/".join(self.ancestor_codes[:2]) + "/"


class ServiceCentre(models.Model):
    """One S&T service centre (科技服务中心) per province, city/prefecture and county."""

    region = models.OneToOneField(
        Region, verbose_name="所辖区域", on_delete=models.PROTECT, related_name="centre"
    )
    name = models.CharField("名称", max_length=80, unique=True)
    phone = models.CharField("联系电话", max_length=32, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "服务中心"
        verbose_name_plural = "服务中心"
        ordering = ["region__code"]

    def __str__(self) -> str:
        return self.name

    @property
    def level(self) -> str:
        return self.region.level
