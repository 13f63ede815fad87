"""Service conferences and docking events (对接活动).

An `Event` is organised by one service centre (the province centre for the 服务大会, a city
centre for its 科创会) and carries that centre's region. Centres inside it nominate
`Exhibit`s (a published demand or a result offered for transfer); the organiser accepts or
declines them, then opens on-site docking `Slot`s per accepted exhibit. Enterprises and S&T
workers book a slot (`Booking`, with a check-in code); staff check them in at the event, and an
`Agreement` signed at a checked-in meeting is recorded on the demand's case.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from kejiyun.cases.models import Case, DockingRequest
from kejiyun.demands.models import Demand
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.talent.models import TechResult


class Event(models.Model):
    class Kind(models.TextChoices):
        CONFERENCE = "conference", "服务大会"
        FORUM = "forum", "科创会"

    class Status(models.TextChoices):
        DRAFT = "draft", "筹备中"
        COLLECTING = "collecting", "征集展项"
        OPEN = "open", "开放报名"
        RUNNING = "running", "进行中"
        CLOSED = "closed", "已结束"

    organiser = models.ForeignKey(
        ServiceCentre, verbose_name="主办中心", on_delete=models.PROTECT, related_name="events"
    )
    # The organiser's region: it decides who manages the event and which centres nominate.
    region = models.ForeignKey(
        Region, verbose_name="主办地区", on_delete=models.PROTECT, related_name="events"
    )
    name = models.CharField("活动名称", max_length=120)
    kind = models.CharField("类型", max_length=12, choices=Kind.choices)
    venue = models.CharField("地点", max_length=200)
    starts_at = models.DateTimeField("开始时间", db_index=True)
    ends_at = models.DateTimeField("结束时间")
    sign_up_closes_at = models.DateTimeField("报名截止")
    description = models.TextField("活动介绍", blank=True)
    status = models.CharField(
        "状态", max_length=12, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", default=timezone.now)
    updated_at = models.DateTimeField("更新时间", default=timezone.now)
    version = models.PositiveIntegerField("版本", default=1)

    class Meta:
        verbose_name = "对接活动"
        verbose_name_plural = "对接活动"
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="event_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(sign_up_closes_at__lte=F("starts_at")),
                name="event_sign_up_closes_before_start",
            ),
            models.CheckConstraint(condition=~Q(name=""), name="event_has_name"),
        ]

    def __str__(self) -> str:
        return self.name


class EventChange(models.Model):
    """One line of an event's own history: a status move, by whom, when and why."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="changes")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    from_status = models.CharField(
        "原状态", max_length=12, choices=Event.Status.choices, blank=True
    )
    to_status = models.CharField("新状态", max_length=12, choices=Event.Status.choices)
    reason = models.TextField("说明", blank=True)
    created_at = models.DateTimeField("时间", default=timezone.now)

    class Meta:
        verbose_name = "活动状态记录"
        verbose_name_plural = "活动状态记录"
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.event_id}: {self.from_status}→{self.to_status}"


class Exhibit(models.Model):
    """A demand or a result a centre nominated for the event, and the organiser's decision."""

    class Kind(models.TextChoices):
        DEMAND = "demand", "需求"
        RESULT = "result", "成果"

    class Status(models.TextChoices):
        NOMINATED = "nominated", "待审核"
        ACCEPTED = "accepted", "已入选"
        DECLINED = "declined", "未入选"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="exhibits")
    kind = models.CharField("类型", max_length=8, choices=Kind.choices)
    demand = models.ForeignKey(
        Demand, on_delete=models.PROTECT, null=True, blank=True, related_name="exhibits"
    )
    result = models.ForeignKey(
        TechResult, on_delete=models.PROTECT, null=True, blank=True, related_name="exhibits"
    )
    # The region of the demand or of the result's owner: which centre nominated it.
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    centre = models.ForeignKey(
        ServiceCentre, verbose_name="推荐中心", on_delete=models.PROTECT, related_name="+"
    )
    nominated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    note = models.CharField("推荐理由", max_length=300, blank=True)
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.NOMINATED, db_index=True
    )
    decline_reason = models.CharField("未入选原因", max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    decided_at = models.DateTimeField("审核时间", null=True, blank=True)
    created_at = models.DateTimeField("推荐时间", default=timezone.now)

    class Meta:
        verbose_name = "展项"
        verbose_name_plural = "展项"
        ordering = ["kind", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="demand", demand__isnull=False, result__isnull=True)
                | Q(kind="result", demand__isnull=True, result__isnull=False),
                name="exhibit_is_a_demand_or_a_result",
            ),
            models.UniqueConstraint(fields=["event", "demand"], name="exhibit_demand_once"),
            models.UniqueConstraint(fields=["event", "result"], name="exhibit_result_once"),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="exhibit_declined_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def title(self) -> str:
        if self.demand is not None:
            return self.demand.title
        return self.result.title if self.result is not None else ""


class Slot(models.Model):
    """An on-site docking slot for one exhibit: where, when, and how many people may book.

    `booked` counts the live bookings; a booking claims a place with a conditional UPDATE
    (`booked < capacity`) and the constraint below holds even against a write that skips it."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="slots")
    exhibit = models.ForeignKey(Exhibit, on_delete=models.CASCADE, related_name="slots")
    place = models.CharField("桌号/会议室", max_length=60)
    starts_at = models.DateTimeField("开始")
    ends_at = models.DateTimeField("结束")
    capacity = models.PositiveSmallIntegerField("名额")
    booked = models.PositiveSmallIntegerField("已预约", default=0)
    created_at = models.DateTimeField("创建时间", default=timezone.now)

    class Meta:
        verbose_name = "对接时段"
        verbose_name_plural = "对接时段"
        ordering = ["starts_at", "place", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="slot_capacity_positive"),
            models.CheckConstraint(
                condition=Q(booked__lte=F("capacity")), name="slot_never_overbooked"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="slot_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.place} {self.starts_at:%m-%d %H:%M}"

    @property
    def places_left(self) -> int:
        return max(self.capacity - self.booked, 0)


class Booking(models.Model):
    """One person's place in a slot, with the check-in code shown to them."""

    class Status(models.TextChoices):
        BOOKED = "booked", "已预约"
        CANCELLED = "cancelled", "已取消"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="bookings")
    slot = models.ForeignKey(Slot, on_delete=models.CASCADE, related_name="bookings")
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="event_bookings"
    )
    code = models.CharField("签到码", max_length=8)
    status = models.CharField(
        "状态", max_length=10, choices=Status.choices, default=Status.BOOKED, db_index=True
    )
    created_at = models.DateTimeField("预约时间", default=timezone.now)
    cancelled_at = models.DateTimeField("取消时间", null=True, blank=True)
    checked_in_at = models.DateTimeField("签到时间", null=True, blank=True, db_index=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = "对接预约"
        verbose_name_plural = "对接预约"
        ordering = ["slot__starts_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["event", "code"], name="booking_code_unique_in_event"),
            models.UniqueConstraint(
                fields=["slot", "person"],
                condition=Q(status="booked"),
                name="booking_once_per_person_and_slot",
            ),
            models.CheckConstraint(
                condition=Q(checked_in_at__isnull=True) | Q(status="booked"),
                name="booking_checked_in_is_booked",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.slot_id}: {self.person_id}"


class Agreement(models.Model):
    """An agreement signed on site at a checked-in meeting. For a demand exhibit it is also
    an accepted on-site docking (and, when it settles the demand, the outcome) on the case."""

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="agreements")
    booking = models.OneToOneField(Booking, on_delete=models.PROTECT, related_name="agreement")
    exhibit = models.ForeignKey(Exhibit, on_delete=models.PROTECT, related_name="agreements")
    contract_number = models.CharField("合同编号", max_length=64)
    amount = models.DecimalField("合同金额（万元）", max_digits=12, decimal_places=2)
    settles = models.BooleanField("解决该需求", default=False)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, null=True, blank=True, related_name="event_agreements"
    )
    docking = models.ForeignKey(
        DockingRequest, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    signed_at = models.DateTimeField("签约时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "现场签约"
        verbose_name_plural = "现场签约"
        ordering = ["-signed_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="agreement_amount_positive"),
            models.CheckConstraint(condition=~Q(contract_number=""), name="agreement_has_contract"),
        ]

    def __str__(self) -> str:
        return self.contract_number
