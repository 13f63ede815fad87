"""一单一策: every accepted demand becomes a case that a centre carries to a verified outcome."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from kejiyun.common.files import private_storage
from kejiyun.common.levels import Level
from kejiyun.demands.models import Demand
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.talent.models import TalentProfile


class Step(models.TextChoices):
    INTAKE = "intake", "受理"
    DIAGNOSIS = "diagnosis", "需求诊断"
    MATCHING = "matching", "匹配"
    DOCKING = "docking", "对接"
    AGREEMENT = "agreement", "签约"
    DELIVERY = "delivery", "实施"
    ACCEPTANCE = "acceptance", "验收评价"
    CLOSED = "closed", "已办结"
    WITHDRAWN = "withdrawn", "已撤回"
    UNSOLVABLE = "unsolvable", "无法解决"


# The main line of a case, in order. Terminal steps have no due time.
MAIN_LINE: tuple[str, ...] = (
    Step.INTAKE,
    Step.DIAGNOSIS,
    Step.MATCHING,
    Step.DOCKING,
    Step.AGREEMENT,
    Step.DELIVERY,
    Step.ACCEPTANCE,
    Step.CLOSED,
)
TERMINAL: frozenset[str] = frozenset({Step.CLOSED, Step.WITHDRAWN, Step.UNSOLVABLE})
OPEN_STEPS: tuple[str, ...] = tuple(s for s in MAIN_LINE if s not in TERMINAL)
# Steps whose next move belongs to the enterprise: the centre's clock does not run (a case
# waiting for the enterprise to confirm its outcome never escalates).
WAITING_ON_ENTERPRISE: frozenset[str] = frozenset({Step.ACCEPTANCE})


class Outcome(models.TextChoices):
    NONE = "", "未定"
    SOLVED = "solved", "已解决"
    NOT_SOLVED = "not_solved", "未解决"


class Case(models.Model):
    """One demand's service case (一单一策), handled by a centre and owned by one staff member.

    `region` is the enterprise's county and decides who may see the case; `centre` is the
    centre handling it now (the county centre, or a higher one after escalation).
    """

    demand = models.OneToOneField(
        Demand, verbose_name="需求", on_delete=models.PROTECT, related_name="case"
    )
    region = models.ForeignKey(
        Region, verbose_name="所在区县", on_delete=models.PROTECT, related_name="cases"
    )
    centre = models.ForeignKey(
        ServiceCentre, verbose_name="承办中心", on_delete=models.PROTECT, related_name="cases"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="科服保姆",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_cases",
    )
    step = models.CharField(
        "当前环节", max_length=16, choices=Step.choices, default=Step.INTAKE, db_index=True
    )
    step_started_at = models.DateTimeField("本环节开始")
    due_at = models.DateTimeField("本环节时限", null=True, blank=True, db_index=True)
    paused_at = models.DateTimeField("暂停计时于", null=True, blank=True)
    pause_reason = models.CharField("暂停原因", max_length=200, blank=True)
    escalations = models.PositiveSmallIntegerField("升级次数", default=0)
    escalated_at = models.DateTimeField("最近升级", null=True, blank=True)

    outcome = models.CharField(
        "办理结果", max_length=12, choices=Outcome.choices, default=Outcome.NONE, blank=True
    )
    outcome_reason = models.TextField("未解决原因", blank=True)
    contract_number = models.CharField("合同编号", max_length=64, blank=True)
    contract_amount = models.DecimalField(
        "合同金额（万元）", max_digits=12, decimal_places=2, null=True, blank=True
    )
    # Private: under PRIVATE_MEDIA_ROOT with a random name, sent only by `cases:evidence`.
    evidence = models.FileField(
        "佐证材料",
        upload_to="cases/evidence/",
        storage=private_storage,
        max_length=200,
        blank=True,
    )
    evidence_name = models.CharField("佐证材料原文件名", max_length=200, blank=True)
    # SHA-256 of the evidence file's bytes: the same file behind several closures is a sign
    # of hollow closures (kejiyun/integrity/detectors/hollow.py).
    evidence_sha256 = models.CharField("佐证材料哈希", max_length=64, blank=True, db_index=True)
    evidence_type = models.CharField("佐证材料类型", max_length=100, blank=True)
    outcome_recorded_at = models.DateTimeField("结果登记时间", null=True, blank=True)
    confirmed_at = models.DateTimeField("企业确认时间", null=True, blank=True)
    rating = models.PositiveSmallIntegerField("满意度评分", null=True, blank=True)
    rating_comment = models.TextField("评价", blank=True)

    # Set by the recognition app when a batch's result is published (典型/精品 cases).
    recognition_level = models.CharField(
        "认定等级", max_length=8, choices=Level.choices, blank=True, db_index=True
    )
    recognised_year = models.PositiveSmallIntegerField("认定年度", null=True, blank=True)
    # The enterprise's consent to show the closed case in the public case library (案例库):
    # set and withdrawn by the enterprise; never shown without it.
    library_consent_at = models.DateTimeField("同意入库展示时间", null=True, blank=True)
    version = models.PositiveIntegerField("版本", default=1)
    opened_at = models.DateTimeField("立案时间", default=timezone.now, db_index=True)
    closed_at = models.DateTimeField("结案时间", null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = "服务案例"
        verbose_name_plural = "服务案例"
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="case_rating_1_to_5",
            ),
            # A case closes only with an outcome; a solved one only with evidence of it.
            models.CheckConstraint(
                condition=~Q(step="closed") | ~Q(outcome=""),
                name="case_closed_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="solved") | ~Q(contract_number=""),
                name="case_solved_has_contract",
            ),
            models.CheckConstraint(
                condition=~Q(outcome="not_solved") | ~Q(outcome_reason=""),
                name="case_not_solved_has_reason",
            ),
        ]
        indexes = [models.Index(fields=["owner", "step", "due_at"], name="case_owner_queue")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.demand.title}"

    @property
    def is_open(self) -> bool:
        return self.step not in TERMINAL

    @property
    def is_paused(self) -> bool:
        return self.paused_at is not None

    # What "running", "overdue" and "due soon" mean, for queries; every query uses these.
    # `is_running` / `is_overdue` below say the same of one loaded row (a test holds the two
    # forms to each other).

    @staticmethod
    def open_q(via: str = "") -> Q:
        """Not ended (its step is not terminal). `via` reaches the case through a relation,
        e.g. "case__" from a docking request or "owned_cases__" from its owner."""
        return ~Q(**{f"{via}step__in": list(TERMINAL)})

    @staticmethod
    def running_q() -> Q:
        """Open, with the centre's clock running: not paused and not waiting on the
        enterprise (a case waiting for the enterprise to confirm never escalates)."""
        return Case.open_q() & Q(paused_at__isnull=True) & ~Q(step__in=list(WAITING_ON_ENTERPRISE))

    @staticmethod
    def overdue_q(now: datetime) -> Q:
        """Running and past its step's due time."""
        return Case.running_q() & Q(due_at__lt=now)

    @staticmethod
    def due_soon_q(now: datetime) -> Q:
        """Running and due within `CASE_DUE_SOON_HOURS`, not yet overdue."""
        soon = now + timedelta(hours=settings.CASE_DUE_SOON_HOURS)
        return Case.running_q() & Q(due_at__gte=now, due_at__lt=soon)

    @property
    def is_running(self) -> bool:
        return self.is_open and not self.is_paused and self.step not in WAITING_ON_ENTERPRISE

    def is_overdue(self, now: datetime | None = None) -> bool:
        """Past its step's due time with the clock running (a paused case is never overdue)."""
        if not self.is_running or self.due_at is None:
            return False
        return self.due_at < (now or timezone.now())

    def step_index(self) -> int:
        """Position on the main line (for a progress bar); side exits count as the end."""
        return MAIN_LINE.index(self.step) if self.step in MAIN_LINE else len(MAIN_LINE) - 1


class CaseEvent(models.Model):
    """One immutable line on the case timeline: who did what, from which step to which, and why."""

    class Kind(models.TextChoices):
        OPENED = "opened", "立案"
        TRANSITION = "transition", "环节变更"
        ASSIGNED = "assigned", "指派"
        ESCALATED = "escalated", "超时升级"
        PAUSED = "paused", "暂停计时"
        RESUMED = "resumed", "恢复计时"
        NOTE = "note", "备注"
        VISIT = "visit", "走访"
        ATTACHMENT = "attachment", "附件"
        DOCKING = "docking", "对接请求"
        DOCKING_REPLY = "docking_reply", "专家答复"
        DOCKING_APPLIED = "docking_applied", "申请对接"
        DOCKING_ASKED = "docking_asked", "企业提议对接"
        DOCKING_REFUSED = "docking_refused", "未予安排对接"
        OUTCOME = "outcome", "登记结果"
        CONFIRMED = "confirmed", "企业确认"
        DISPUTED = "disputed", "企业异议"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    kind = models.CharField("类型", max_length=16, choices=Kind.choices)
    from_step = models.CharField("原环节", max_length=16, choices=Step.choices, blank=True)
    to_step = models.CharField("新环节", max_length=16, choices=Step.choices, blank=True)
    reason = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "案例事件"
        verbose_name_plural = "案例事件"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.from_step}→{self.to_step}"


class CaseNote(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    body = models.TextField("内容")
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "案例备注"
        verbose_name_plural = "案例备注"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.body[:30]}"


class CaseVisit(models.Model):
    """A visit to the enterprise (走访): date, place, who took part, what came of it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="visits")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    visited_on = models.DateField("走访日期")
    place = models.CharField("地点", max_length=120)
    people = models.CharField("参加人员", max_length=200)
    outcome = models.TextField("走访结果")
    created_at = models.DateTimeField("登记时间", default=timezone.now)

    class Meta:
        verbose_name = "走访记录"
        verbose_name_plural = "走访记录"
        ordering = ["-visited_on", "-id"]

    def __str__(self) -> str:
        return f"{self.visited_on} {self.place}"


class CaseAttachment(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="attachments")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    name = models.CharField("文件名", max_length=120)
    # Private: under PRIVATE_MEDIA_ROOT with a random name, sent only by
    # `cases:attachment_download`, under the sender's file name with the type its bytes proved.
    file = models.FileField(
        "文件", upload_to="cases/attachments/", storage=private_storage, max_length=200
    )
    original_name = models.CharField("原文件名", max_length=200, blank=True)
    content_type = models.CharField("文件类型", max_length=100, blank=True)
    created_at = models.DateTimeField("上传时间", default=timezone.now)

    class Meta:
        verbose_name = "案例附件"
        verbose_name_plural = "案例附件"
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.name


class DockingRequest(models.Model):
    """One S&T worker and one case brought together (对接).

    Staff send a request and the worker accepts or declines (`origin` staff). A worker may
    also apply for a demand's docking themselves (申请对接, `origin` worker: `applied` until
    staff approve it, which makes it `accepted`, or refuse it with a reason), and the
    enterprise may ask staff to arrange one with an expert it was recommended (`origin`
    enterprise: `requested` until staff send it, which makes it `sent`, or refuse it). The
    worker never sees an enterprise's request before staff send it.
    """

    class Status(models.TextChoices):
        SENT = "sent", "待答复"
        ACCEPTED = "accepted", "已接受"
        DECLINED = "declined", "已婉拒"
        # Never answered before its case ended (the case's end closes it).
        CLOSED = "closed", "随案结束"
        APPLIED = "applied", "申请待审核"
        REQUESTED = "requested", "企业提议待安排"
        REFUSED = "refused", "未予安排"

    class Origin(models.TextChoices):
        STAFF = "staff", "服务中心发送"
        WORKER = "worker", "科技工作者申请"
        ENTERPRISE = "enterprise", "企业提议"
        # Agreed face to face at a docking event (服务大会/科创会), recorded by the organiser.
        EVENT = "event", "现场对接"

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="dockings")
    expert = models.ForeignKey(
        TalentProfile, verbose_name="专家", on_delete=models.PROTECT, related_name="dockings"
    )
    origin = models.CharField(
        "来源", max_length=12, choices=Origin.choices, default=Origin.STAFF, db_index=True
    )
    # Who made the request: staff (a request sent), the worker (an application) or the
    # enterprise user (a request to arrange one).
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    message = models.TextField("留言", blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=Status.choices, default=Status.SENT, db_index=True
    )
    decline_reason = models.CharField("婉拒原因", max_length=200, blank=True)
    # Staff's decision on an application or an enterprise's request.
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="审核人",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True, db_index=True)
    refusal_reason = models.CharField("未予安排原因", max_length=200, blank=True)
    created_at = models.DateTimeField("发送时间", default=timezone.now, db_index=True)
    responded_at = models.DateTimeField("答复时间", null=True, blank=True, db_index=True)

    class Meta:
        verbose_name = "对接请求"
        verbose_name_plural = "对接请求"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "expert"], name="docking_once_per_expert"),
            # An application comes from a worker, a request to arrange one from an
            # enterprise; a refusal always says why.
            models.CheckConstraint(
                condition=~Q(status="applied") | Q(origin="worker"),
                name="docking_applied_is_a_worker_application",
            ),
            models.CheckConstraint(
                condition=~Q(status="requested") | Q(origin="enterprise"),
                name="docking_requested_is_an_enterprise_request",
            ),
            models.CheckConstraint(
                condition=~Q(status="refused") | ~Q(refusal_reason=""),
                name="docking_refused_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} → {self.expert_id} ({self.status})"

    @property
    def awaits_staff(self) -> bool:
        """An application or an enterprise's request that staff have not decided yet."""
        return self.status in AWAITING_STAFF

    @property
    def arranged_by_staff(self) -> bool:
        """Staff brought this expert to the case: they sent the request, or approved the
        worker's application. Only then may the expert read what a summary-only demand keeps
        back; a worker's own application (waiting, refused or closed) shows no more than the
        hall does."""
        return self.origin != self.Origin.WORKER or self.status == self.Status.ACCEPTED


# Dockings waiting for staff to decide (approve or send, or refuse with a reason).
AWAITING_STAFF: frozenset[str] = frozenset(
    {DockingRequest.Status.APPLIED, DockingRequest.Status.REQUESTED}
)
