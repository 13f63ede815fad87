"""Recognition (典型选树): programmes, yearly batches, applications and their review.

One application workflow serves every programme: 典型/精品 studios and cases, 院士(专家)工作站
applications and the 科创会 project collection. A batch is one programme's call for one
year, with dates, published criteria with weights and eligibility rules. An application moves
applicant → county (recommend or return) → city (review or return) → province (assign
reviewers) → reviewers score each criterion → ranking and a proposed result → public notice
(公示) with objections → final result. `transitions.py` lists the moves; every move is an
`ApplicationEvent` on the application's timeline and an audit row.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kejiyun.accounts.models import Organisation
from kejiyun.cases.models import Case
from kejiyun.common.files import private_storage
from kejiyun.common.levels import Level
from kejiyun.regions.models import Region
from kejiyun.talent.models import Resource, Team


class Programme(models.TextChoices):
    STUDIO = "studio", "典型/精品科创工作室"
    CASE = "case", "典型/精品服务案例"
    WORKSTATION = "workstation", "院士(专家)工作站"
    PROJECT = "project", "科创会项目征集"


class Batch(models.Model):
    """One programme's call for one year (年度批次)."""

    class Status(models.TextChoices):
        DRAFT = "draft", "筹备中"
        OPEN = "open", "申报中"
        REVIEW = "review", "评审中"
        NOTICE = "notice", "公示中"
        FINAL = "final", "已发布结果"

    programme = models.CharField("项目类型", max_length=12, choices=Programme.choices)
    year = models.PositiveSmallIntegerField("年度")
    name = models.CharField("批次名称", max_length=120)
    description = models.TextField("申报通知", blank=True)
    eligibility = models.TextField("申报条件说明", blank=True)
    opens_on = models.DateField("申报开始")
    closes_on = models.DateField("申报截止")
    review_closes_on = models.DateField("评审截止", null=True, blank=True)
    notice_days = models.PositiveSmallIntegerField("公示天数", default=7)
    reviewers_per_application = models.PositiveSmallIntegerField("每项评审专家数", default=3)
    reviewer_load = models.PositiveSmallIntegerField("每位专家最多评审", default=10)
    exclude_same_county = models.BooleanField("回避同区县专家", default=True)
    # Eligibility figures (used by `eligibility.py`): a studio needs this many closed cases
    # with a verified outcome among its members; a case needs a rating at least this high.
    min_studio_cases = models.PositiveSmallIntegerField("工作室最少办结案例", default=3)
    min_case_rating = models.PositiveSmallIntegerField("案例最低满意度", default=4)
    # How many applications may be proposed at each level (0: no limit).
    quota_premium = models.PositiveSmallIntegerField("精品名额", default=0)
    quota_typical = models.PositiveSmallIntegerField("典型名额", default=0)
    # The scores (0–100) an application needs to be proposed at each level (workstations
    # and projects are listed on the typical mark).
    pass_mark_premium = models.DecimalField(
        "精品分数线", max_digits=5, decimal_places=2, default=Decimal("85")
    )
    pass_mark_typical = models.DecimalField(
        "典型分数线", max_digits=5, decimal_places=2, default=Decimal("70")
    )
    status = models.CharField(
        "状态", max_length=8, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    scoring_closed_at = models.DateTimeField("评分截止于", null=True, blank=True)
    notice_starts_at = models.DateTimeField("公示开始", null=True, blank=True)
    notice_ends_at = models.DateTimeField("公示结束", null=True, blank=True)
    published_at = models.DateTimeField("结果发布", null=True, blank=True)
    chair = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评审组长",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="创建人", on_delete=models.PROTECT, related_name="+"
    )
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "申报批次"
        verbose_name_plural = "申报批次"
        ordering = ["-year", "programme", "-id"]
        permissions = [("manage_recognition", "管理典型选树批次")]
        constraints = [
            models.CheckConstraint(
                condition=Q(closes_on__gte=models.F("opens_on")), name="batch_dates_ordered"
            ),
            models.CheckConstraint(
                condition=Q(reviewers_per_application__gte=1) & Q(reviewer_load__gte=1),
                name="batch_review_sizes_positive",
            ),
            models.CheckConstraint(
                condition=Q(pass_mark_typical__gte=0)
                & Q(pass_mark_premium__lte=100)
                & Q(pass_mark_typical__lte=models.F("pass_mark_premium")),
                name="batch_pass_marks_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Criterion(models.Model):
    """One published criterion of a batch; reviewers score it 0–100, weighted by `weight`
    (the weights of a batch sum to 100)."""

    batch = models.ForeignKey(Batch, on_delete=models.CASCADE, related_name="criteria")
    name = models.CharField("评审指标", max_length=60)
    description = models.CharField("评分要点", max_length=300, blank=True)
    weight = models.PositiveSmallIntegerField("权重")
    order = models.PositiveSmallIntegerField("顺序", default=0)

    class Meta:
        verbose_name = "评审指标"
        verbose_name_plural = "评审指标"
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=1) & Q(weight__lte=100), name="criterion_weight_range"
            ),
            models.UniqueConstraint(fields=["batch", "name"], name="criterion_name_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Application(models.Model):
    """One application to a batch: a studio, a case, a workstation or a project."""

    class Status(models.TextChoices):
        DRAFT = "draft", "草稿"
        SUBMITTED = "submitted", "待区县推荐"
        RETURNED = "returned", "退回修改"
        RECOMMENDED = "recommended", "待市州审核"
        ENDORSED = "endorsed", "待省级评审"
        REVIEWING = "reviewing", "专家评审中"
        SCORED = "scored", "评审完成"
        NOTICE = "notice", "公示中"
        RECOGNISED = "recognised", "已认定"
        NOT_RECOGNISED = "not_recognised", "未获认定"
        WITHDRAWN = "withdrawn", "已撤回"

    batch = models.ForeignKey(Batch, on_delete=models.PROTECT, related_name="applications")
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="申报人",
        on_delete=models.PROTECT,
        related_name="recognition_applications",
    )
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="申报单位",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # The county the application is recommended by (the studio's, the case's, the
    # workstation's or the applicant's county); decides which staff may act on it.
    region = models.ForeignKey(
        Region, verbose_name="所属区县", on_delete=models.PROTECT, related_name="+"
    )
    studio = models.ForeignKey(
        Team,
        verbose_name="工作室",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    case = models.ForeignKey(
        Case, verbose_name="案例", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resource = models.ForeignKey(
        Resource,
        verbose_name="工作站",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    level = models.CharField("申报等级", max_length=8, choices=Level.choices, blank=True)
    title = models.CharField("申报名称", max_length=120)
    summary = models.TextField("申报材料摘要")
    fields = models.CharField("专业领域", max_length=200, blank=True)
    # The programme's form: question key → answer (see `forms.py`).
    answers = models.JSONField("申报表", default=dict, blank=True)
    # People named in the application (team members, partners, referees), one per line:
    # a reviewer named here is never assigned to it.
    named_people = models.TextField("涉及人员", blank=True)
    status = models.CharField(
        "状态", max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    return_reason = models.TextField("退回原因", blank=True)
    submitted_at = models.DateTimeField("提交时间", null=True, blank=True)
    score = models.DecimalField("评审得分", max_digits=6, decimal_places=2, null=True, blank=True)
    rank = models.PositiveIntegerField("排名", null=True, blank=True)
    proposed_level = models.CharField("拟认定等级", max_length=8, choices=Level.choices, blank=True)
    final_level = models.CharField("认定等级", max_length=8, choices=Level.choices, blank=True)
    decided_at = models.DateTimeField("认定时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)

    class Meta:
        verbose_name = "申报"
        verbose_name_plural = "申报"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(title=""), name="application_has_title"),
            # One live application per subject per batch.
            models.UniqueConstraint(
                fields=["batch", "studio"],
                condition=Q(studio__isnull=False) & ~Q(status="withdrawn"),
                name="application_one_per_studio",
            ),
            models.UniqueConstraint(
                fields=["batch", "case"],
                condition=Q(case__isnull=False) & ~Q(status="withdrawn"),
                name="application_one_per_case",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ApplicationAttachment(models.Model):
    """A file attached to an application: private, sent only by the access-checked view."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="attachments"
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    name = models.CharField("文件名", max_length=120)
    file = models.FileField(
        "文件", upload_to="recognition/", storage=private_storage, max_length=200
    )
    original_name = models.CharField("原文件名", max_length=200, blank=True)
    content_type = models.CharField("文件类型", max_length=100, blank=True)
    created_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "申报附件"
        verbose_name_plural = "申报附件"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.name


class ApplicationEvent(models.Model):
    """One immutable line on an application's timeline."""

    class Kind(models.TextChoices):
        MOVE = "move", "状态变更"
        ASSIGN = "assign", "分配评审专家"
        SCORE = "score", "专家评分"
        OBJECTION = "objection", "公示异议"
        ANSWER = "answer", "异议答复"
        EDIT = "edit", "修改申报"

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    from_status = models.CharField(
        "原状态", max_length=16, choices=Application.Status.choices, blank=True
    )
    to_status = models.CharField(
        "新状态", max_length=16, choices=Application.Status.choices, blank=True
    )
    reason = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "申报记录"
        verbose_name_plural = "申报记录"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"


class ReviewerProfile(models.Model):
    """A member of the province's reviewer pool (评审专家库): what they know, where they work,
    and how many applications they take per batch."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviewer_profile"
    )
    employer = models.CharField("工作单位", max_length=120, blank=True)
    organisation = models.ForeignKey(
        Organisation,
        verbose_name="所在单位",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    region = models.ForeignKey(
        Region, verbose_name="所在区县", null=True, blank=True, on_delete=models.PROTECT
    )
    title = models.CharField("职称", max_length=40, blank=True)
    fields = models.CharField("专业领域", max_length=200, blank=True)
    keywords = models.CharField("关键词", max_length=300, blank=True)
    expertise = models.TextField("专长介绍", blank=True)
    load = models.PositiveSmallIntegerField("每批最多评审", default=10)
    active = models.BooleanField("在库", default=True)
    created_at = models.DateTimeField("入库时间", default=timezone.now)

    class Meta:
        verbose_name = "评审专家"
        verbose_name_plural = "评审专家"
        ordering = ["id"]

    def __str__(self) -> str:
        return str(self.user)


class ReviewAssignment(models.Model):
    """One reviewer assigned to one application, with the engine's fit and reasons."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="assignments"
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="评审专家",
        on_delete=models.PROTECT,
        related_name="review_assignments",
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    fit = models.FloatField("匹配度", default=0.0)
    reasons = models.CharField("匹配理由", max_length=300, blank=True)
    assigned_at = models.DateTimeField("分配时间", default=timezone.now)
    submitted_at = models.DateTimeField("评分提交", null=True, blank=True)

    class Meta:
        verbose_name = "评审分配"
        verbose_name_plural = "评审分配"
        ordering = ["application_id", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["application", "reviewer"], name="assignment_unique_reviewer"
            )
        ]

    def __str__(self) -> str:
        return f"{self.application} / {self.reviewer}"


class CriterionScore(models.Model):
    """A reviewer's score (0–100) and comment on one criterion of one application."""

    assignment = models.ForeignKey(
        ReviewAssignment, on_delete=models.CASCADE, related_name="scores"
    )
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField("得分")
    comment = models.TextField("评语", blank=True)

    class Meta:
        verbose_name = "指标评分"
        verbose_name_plural = "指标评分"
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "criterion"], name="score_one_per_criterion"
            ),
            models.CheckConstraint(condition=Q(score__lte=100), name="score_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.score}"


class Objection(models.Model):
    """An objection filed during the public notice (公示); staff must answer it before the
    result is final."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="objections"
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    contact_name = models.CharField("联系人", max_length=40)
    contact = models.CharField("联系方式", max_length=60)
    body = models.TextField("异议内容")
    filed_at = models.DateTimeField("提出时间", default=timezone.now)
    answer = models.TextField("答复", blank=True)
    upheld = models.BooleanField("异议成立", null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    answered_at = models.DateTimeField("答复时间", null=True, blank=True)

    class Meta:
        verbose_name = "公示异议"
        verbose_name_plural = "公示异议"
        ordering = ["filed_at", "id"]

    def __str__(self) -> str:
        return f"{self.application} 异议 {self.filed_at:%Y-%m-%d}"
