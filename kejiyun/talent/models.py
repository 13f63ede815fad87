from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kejiyun.accounts.models import Organisation
from kejiyun.common.crypto import unseal
from kejiyun.common.levels import Level
from kejiyun.common.masking import mask_id_number
from kejiyun.regions.models import Region


class Discipline(models.Model):
    """A discipline from the NSFC application codes (国家自然科学基金申请代码, 2019)."""

    code = models.CharField("学科代码", max_length=7, primary_key=True)
    name = models.CharField("名称", max_length=64)
    name_en = models.CharField("英文名称", max_length=200, blank=True)
    level = models.PositiveSmallIntegerField("层级")
    department = models.CharField("科学部", max_length=16, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_leaf = models.BooleanField("末级", default=True)

    class Meta:
        verbose_name = "学科"
        verbose_name_plural = "学科"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=3), name="discipline_level_1_to_3"
            ),
            models.CheckConstraint(
                condition=Q(level=1, parent__isnull=True) | (~Q(level=1) & Q(parent__isnull=False)),
                name="discipline_only_top_level_has_no_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Industry(models.Model):
    """An industry from 国民经济行业分类 GB/T 4754-2017 (门类 → 大类 → 中类 → 小类)."""

    code = models.CharField("行业代码", max_length=4, primary_key=True)
    name = models.CharField("名称", max_length=64)
    level = models.PositiveSmallIntegerField("层级")
    level_name = models.CharField("层级名称", max_length=8)
    section = models.CharField("门类", max_length=1)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    description = models.TextField("说明", blank=True)
    note = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "行业"
        verbose_name_plural = "行业"
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__gte=1, level__lte=4), name="industry_level_1_to_4"
            ),
            models.CheckConstraint(
                condition=Q(level=1, parent__isnull=True) | (~Q(level=1) & Q(parent__isnull=False)),
                name="industry_only_sections_have_no_parent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ServiceMode(models.IntegerChoices):
    """How an S&T worker serves. A profile stores a set of these as a bitmask."""

    CONSULTING = 1, "咨询"
    TRAINING = 2, "培训"
    JOINT_RD = 4, "联合研发"
    TRANSFER = 8, "成果转化"
    ONSITE = 16, "现场指导"


SERVICE_MODES_ALL = sum(ServiceMode.values)


ID_NUMBER_PURPOSE = "talent.id_number"


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
    # Resident identity number, taken in on paper forms only: stored sealed (AES-GCM, see
    # kejiyun/common/crypto.py) with a keyed hash for exact lookups, and only ever shown masked.
    id_number_sealed = models.TextField("身份证号（加密）", blank=True)
    id_number_hash = models.CharField("身份证号查找码", max_length=64, blank=True, db_index=True)
    disciplines = models.ManyToManyField(
        Discipline, verbose_name="学科", blank=True, related_name="talent_profiles"
    )
    industries = models.ManyToManyField(
        Industry, verbose_name="服务行业", blank=True, related_name="talent_profiles"
    )
    # A set of ServiceMode values, OR-ed together.
    service_modes = models.PositiveSmallIntegerField("服务方式", default=0)
    regions_served = models.ManyToManyField(
        Region, verbose_name="服务地区", blank=True, related_name="served_by_talent"
    )
    capacity = models.PositiveSmallIntegerField(
        "可同时承接", default=3, help_text="同时承接的服务项目数"
    )
    # Listed in the public expert directory only with the worker's consent: workers who
    # registered themselves agreed when they did; those staff imported from paper never did.
    directory_consent = models.BooleanField("同意在专家名录公开", default=False)
    verified = models.BooleanField("已核验", default=False)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="核验人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField("核验时间", null=True, blank=True, db_index=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("登记时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "科技工作者档案"
        verbose_name_plural = "科技工作者档案"
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(service_modes__lte=SERVICE_MODES_ALL),
                name="talent_service_modes_known",
            ),
            models.CheckConstraint(
                condition=Q(verified=True) | Q(verified_by__isnull=True, verified_at__isnull=True),
                name="talent_unverified_has_no_verifier",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="talent_version_positive"),
        ]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def service_mode_values(self) -> list[int]:
        return [mode for mode in ServiceMode.values if self.service_modes & mode]

    @property
    def service_mode_labels(self) -> list[str]:
        labels = dict(ServiceMode.choices)
        return [str(labels[mode]) for mode in self.service_mode_values]

    def id_number_masked(self) -> str:
        """The ID number as staff may see it (5101**********1234), or ""."""
        return mask_id_number(unseal(self.id_number_sealed, purpose=ID_NUMBER_PURPOSE))

    def id_number_full(self) -> str:
        """The ID number in full, for an audited unmask only (kejiyun/accounts/unmask.py)."""
        return unseal(self.id_number_sealed, purpose=ID_NUMBER_PURPOSE)

    def completeness(self) -> int:
        """Share of the profile's descriptive parts that are filled in, 0-100.

        Counts the text fields, the classifications, service modes, regions served and
        results. Related rows are read from a prefetch when there is one.
        """
        texts = [self.employer, self.title, self.fields, self.keywords, self.capability]
        filled = sum(1 for p in texts if p.strip())
        filled += bool(self.service_modes)
        related = [self.disciplines, self.industries, self.regions_served, self.results]
        filled += sum(1 for manager in related if len(manager.all()) > 0)
        return round(100 * filled / (len(texts) + 1 + len(related)))


class Team(models.Model):
    """A team (团队) or an S&T innovation studio (科创工作室) led by one S&T worker."""

    class Kind(models.TextChoices):
        TEAM = "team", "团队"
        STUDIO = "studio", "科创工作室"

    kind = models.CharField("类型", max_length=8, choices=Kind.choices, db_index=True)
    name = models.CharField("名称", max_length=120)
    lead = models.ForeignKey(
        TalentProfile, verbose_name="负责人", on_delete=models.PROTECT, related_name="teams_led"
    )
    members = models.ManyToManyField(
        TalentProfile, verbose_name="成员", blank=True, related_name="teams"
    )
    host_organisation = models.ForeignKey(
        Organisation,
        verbose_name="依托单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="teams",
    )
    region = models.ForeignKey(
        Region, verbose_name="所在区县", on_delete=models.PROTECT, related_name="teams"
    )
    fields = models.CharField("专业领域", max_length=200, blank=True)
    keywords = models.CharField("关键词", max_length=300, blank=True)
    description = models.TextField("简介", blank=True)
    # Set by the recognition app when a batch's result is published (典型/精品 studios).
    recognition_level = models.CharField(
        "认定等级", max_length=8, choices=Level.choices, blank=True, db_index=True
    )
    recognised_year = models.PositiveSmallIntegerField("认定年度", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "团队与工作室"
        verbose_name_plural = "团队与工作室"
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="team_has_name"),
            models.CheckConstraint(
                condition=Q(kind__in=["team", "studio"]), name="team_kind_known"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TechResult(models.Model):
    """A scientific or technological result (科技成果) of a worker or a team."""

    class Kind(models.TextChoices):
        PAPER = "paper", "论文"
        PATENT = "patent", "专利"
        STANDARD = "standard", "标准"
        VARIETY = "variety", "品种"
        SOFTWARE = "software", "软件著作权"
        OTHER = "other", "其他"

    class TransferMode(models.TextChoices):
        NONE = "", "—"
        ASSIGNMENT = "assignment", "转让"
        LICENCE = "licence", "许可"
        EQUITY = "equity", "作价入股"
        COOPERATION = "cooperation", "合作实施"
        OTHER = "other", "其他方式"

    owner_profile = models.ForeignKey(
        TalentProfile,
        verbose_name="所属科技工作者",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="results",
    )
    owner_team = models.ForeignKey(
        Team,
        verbose_name="所属团队",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="results",
    )
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    title = models.CharField("名称", max_length=200)
    identifier = models.CharField("编号", max_length=64, blank=True, help_text="如专利号、标准号")
    year = models.PositiveSmallIntegerField("年份", null=True, blank=True)
    for_transfer = models.BooleanField("可转化", default=False)
    transfer_mode = models.CharField(
        "转化方式", max_length=12, choices=TransferMode.choices, blank=True
    )
    summary = models.TextField("简介", blank=True)
    fields = models.CharField("领域", max_length=200, blank=True)
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = "科技成果"
        verbose_name_plural = "科技成果"
        ordering = ["-year", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(owner_profile__isnull=False, owner_team__isnull=True)
                | Q(owner_profile__isnull=True, owner_team__isnull=False),
                name="techresult_one_owner",
            ),
            models.CheckConstraint(
                condition=Q(year__isnull=True) | Q(year__gte=1900, year__lte=2100),
                name="techresult_year_plausible",
            ),
            models.CheckConstraint(
                condition=Q(for_transfer=True) | Q(transfer_mode=""),
                name="techresult_transfer_mode_only_when_for_transfer",
            ),
            models.CheckConstraint(condition=~Q(title=""), name="techresult_has_title"),
        ]

    def __str__(self) -> str:
        return self.title


class Resource(models.Model):
    """A place that hosts S&T service: 院士(专家)工作站, 科技小院 or 科普共享基地."""

    class Kind(models.TextChoices):
        WORKSTATION = "workstation", "院士(专家)工作站"
        COURTYARD = "courtyard", "科技小院"
        POPSCI_BASE = "popsci_base", "科普共享基地"

    kind = models.CharField("类型", max_length=12, choices=Kind.choices, db_index=True)
    name = models.CharField("名称", max_length=120)
    host_organisation = models.ForeignKey(
        Organisation,
        verbose_name="依托单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resources",
    )
    host_name = models.CharField("依托单位名称", max_length=120, blank=True)
    region = models.ForeignKey(
        Region, verbose_name="所在区县", on_delete=models.PROTECT, related_name="resources"
    )
    address = models.CharField("地址", max_length=200, blank=True)
    fields = models.CharField("领域", max_length=200, blank=True)
    capacity = models.PositiveIntegerField("可容纳人数", null=True, blank=True)
    experts = models.ManyToManyField(
        TalentProfile, verbose_name="入驻专家", blank=True, related_name="resources"
    )
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = "科技资源"
        verbose_name_plural = "科技资源"
        ordering = ["-created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(name=""), name="resource_has_name"),
            models.CheckConstraint(
                condition=Q(host_organisation__isnull=False) | ~Q(host_name=""),
                name="resource_has_host",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["workstation", "courtyard", "popsci_base"]),
                name="resource_kind_known",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def host_display(self) -> str:
        if self.host_organisation_id is not None:
            return self.host_organisation.name  # type: ignore[union-attr]
        return self.host_name


class DuplicateTicket(models.Model):
    """A person a centre tried to register (import, or name as a resource's expert) who is
    already registered outside its jurisdiction. The centre got one uniform answer; the
    ticket goes to the centre above both, whose staff check it and close it. It names the
    existing profile by id only: no number is copied into it."""

    class Source(models.TextChoices):
        IMPORT = "import", "批量导入科技工作者"
        RESOURCE = "resource", "科技资源入驻专家"

    profile = models.ForeignKey(
        TalentProfile,
        verbose_name="已登记的档案",
        on_delete=models.CASCADE,
        related_name="duplicate_tickets",
    )
    # The reporting centre's region and the lowest region holding both it and the profile:
    # the staff whose jurisdiction holds `region` see the ticket.
    reported_region = models.ForeignKey(
        Region, verbose_name="报告中心辖区", on_delete=models.PROTECT, related_name="+"
    )
    region = models.ForeignKey(
        Region, verbose_name="核查层级", on_delete=models.PROTECT, related_name="+"
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="报告人",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    source = models.CharField("来源", max_length=16, choices=Source.choices)
    created_at = models.DateTimeField("创建时间", default=timezone.now, db_index=True)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="办结人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "重复登记核查"
        verbose_name_plural = "重复登记核查"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(source__in=["import", "resource"]), name="duplicate_source_known"
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_by__isnull=False),
                name="duplicate_closed_has_closer",
            ),
        ]

    def __str__(self) -> str:
        return f"重复登记核查 #{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None
