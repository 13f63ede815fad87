"""Writes of the integrity app: the scan that turns detector findings into flags, and the
decision of staff on a flag.

- `integrity_scan(since=, now=)` loads the snapshot of [since, now), runs every detector of
  `DETECTORS` and upserts `Flag`s (one per kind and subject): a new finding opens a flag; an
  open flag found again takes the new reason, confidence and evidence (its day stays the
  earliest one found); a decided flag (confirmed or cleared) is never changed by a scan; an
  open flag of a day the window covers (the day starts in [since, now)) that no detector
  finds any more is withdrawn (deleted). Running it twice changes nothing.
- `integrity_scan_due(now=)` is the periodic job: it scans the last SCAN_DAYS days (a
  database never scanned: the last BACKFILL_DAYS) and moves the watermark (`ScanState`).
- `flag_decide(...)` confirms or clears an open flag, version-checked and audited.

Every change of a flag records its day (`ChangedDay`), so the operations rollup job
recomputes that day's gaming indicators.
"""

from __future__ import annotations

import logging
import time as clock
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.audit.services import audit_record
from kejiyun.cases.models import Case
from kejiyun.common.errors import NotPermitted, ServiceError
from kejiyun.common.versioning import claim_version
from kejiyun.common.workdays import BEIJING
from kejiyun.integrity.detectors import DETECTORS, Detector
from kejiyun.integrity.models import ChangedDay, Flag, Kind, ScanState, Subject
from kejiyun.integrity.rows import Finding
from kejiyun.integrity.sources import snapshot_load
from kejiyun.regions.models import Region

logger = logging.getLogger(__name__)

# The periodic scan looks at the last this many days (so a device group or a template family
# is seen across the turn of a day); a database never scanned is first scanned this far back.
SCAN_DAYS = 3
BACKFILL_DAYS = 365
STATE_ID = 1
# Changed days older than this are forgotten (the rollup job runs every 10 minutes).
CHANGED_DAYS_KEEP = timedelta(days=30)
NOTE_MAX = 500

LEVEL_RANK: dict[str, int] = {
    Region.Level.PROVINCE.value: 0,
    Region.Level.CITY.value: 1,
    Region.Level.COUNTY.value: 2,
}


class FlagError(ServiceError):
    """A refused decision on a flag; nothing was changed."""


@dataclass
class ScanResult:
    since: datetime
    now: datetime
    findings: int = 0
    created: int = 0
    updated: int = 0
    withdrawn: int = 0
    unchanged: int = 0
    kept_decided: int = 0
    seconds: float = 0.0
    per_kind: dict[str, int] = field(default_factory=dict)


def day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=BEIJING)


def _mark_days(days: Iterable[date], now: datetime) -> None:
    ChangedDay.objects.bulk_create([ChangedDay(day=d, changed_at=now) for d in sorted(set(days))])


def changed_days(*, since: datetime) -> set[date]:
    """The Beijing days whose flags changed at or after `since` (read by the rollup job)."""
    return set(ChangedDay.objects.filter(changed_at__gte=since).values_list("day", flat=True))


def _key(kind: str, subject_type: str, subject_id: int) -> tuple[str, str, int]:
    return (str(kind), str(subject_type), int(subject_id))


def integrity_scan(
    *,
    since: datetime,
    now: datetime | None = None,
    detectors: Mapping[Kind, Detector] | None = None,
) -> ScanResult:
    """Run the detectors over [since, now) and bring the flags up to date (module docstring)."""
    now = now or timezone.now()
    if since >= now:
        raise ValueError("扫描的开始时间必须早于结束时间。")
    began = clock.monotonic()
    detectors = DETECTORS if detectors is None else detectors
    snapshot = snapshot_load(since, now)
    found: dict[tuple[str, str, int], Finding] = {}
    result = ScanResult(since=since, now=now)
    for kind, detect in detectors.items():
        findings = detect(snapshot)
        result.per_kind[str(kind)] = len(findings)
        for f in findings:
            found.setdefault(_key(f.kind, f.subject_type, f.subject_id), f)
    result.findings = len(found)

    kinds = [str(k) for k in detectors]
    existing: dict[tuple[str, str, int], Flag] = {}
    subjects_by_kind: dict[tuple[str, str], list[int]] = {}
    for kind_value, subject_value, subject_id in found:
        subjects_by_kind.setdefault((kind_value, subject_value), []).append(subject_id)
    for (kind_value, subject_value), ids in subjects_by_kind.items():
        for chunk_start in range(0, len(ids), 500):
            for flag in Flag.objects.filter(
                kind=kind_value,
                subject_type=subject_value,
                subject_id__in=ids[chunk_start : chunk_start + 500],
            ):
                existing[_key(flag.kind, flag.subject_type, flag.subject_id)] = flag

    touched: set[date] = set()
    with transaction.atomic():
        new: list[Flag] = []
        for key, f in found.items():
            known = existing.get(key)
            if known is None:
                new.append(
                    Flag(
                        kind=f.kind,
                        subject_type=f.subject_type,
                        subject_id=f.subject_id,
                        centre_id=f.centre_id,
                        day=f.day,
                        reason=f.reason,
                        confidence=f.confidence,
                        evidence=f.evidence,
                        created_at=now,
                        updated_at=now,
                    )
                )
                touched.add(f.day)
                continue
            if known.status != Flag.Status.OPEN:
                result.kept_decided += 1
                continue
            day, centre = (
                (known.day, known.centre_id) if known.day <= f.day else (f.day, f.centre_id)
            )
            changes = {
                "reason": f.reason,
                "confidence": f.confidence,
                "evidence": f.evidence,
                "day": day,
                "centre_id": centre,
            }
            if all(getattr(known, name) == value for name, value in changes.items()):
                result.unchanged += 1
                continue
            updated = Flag.objects.filter(pk=known.pk, status=Flag.Status.OPEN).update(
                **changes, updated_at=now, version=F("version") + 1
            )
            if updated:
                result.updated += 1
                touched |= {known.day, day}
        Flag.objects.bulk_create(new, batch_size=500, ignore_conflicts=True)
        result.created = len(new)

        stale = Flag.objects.filter(
            status=Flag.Status.OPEN,
            kind__in=kinds,
            day__gte=_first_covered_day(since),
            day__lt=(now.astimezone(BEIJING) + timedelta(days=1)).date(),
        )
        gone = [
            (pk, day)
            for pk, kind, subject_type, subject_id, day in stale.values_list(
                "pk", "kind", "subject_type", "subject_id", "day"
            )
            if _key(kind, subject_type, subject_id) not in found and day_start(day) < now
        ]
        if gone:
            Flag.objects.filter(pk__in=[pk for pk, _ in gone], status=Flag.Status.OPEN).delete()
            result.withdrawn = len(gone)
            touched |= {day for _, day in gone}
        if touched:
            _mark_days(touched, now)
        ChangedDay.objects.filter(changed_at__lt=now - CHANGED_DAYS_KEEP).delete()
    result.seconds = round(clock.monotonic() - began, 3)
    return result


def _first_covered_day(since: datetime) -> date:
    """The first Beijing day that starts at or after `since`."""
    local = since.astimezone(BEIJING)
    day = local.date()
    return day if day_start(day) >= since else day + timedelta(days=1)


def integrity_scan_due(*, now: datetime | None = None) -> ScanResult:
    """The periodic job: scan the last SCAN_DAYS days, or further back to a day before the
    watermark if the last scan is older; a database never scanned is scanned BACKFILL_DAYS
    back. Then move the watermark to `now`."""
    now = now or timezone.now()
    state = ScanState.objects.filter(pk=STATE_ID).first()
    if state is None:
        since = now - timedelta(days=BACKFILL_DAYS)
    else:
        since = min(now - timedelta(days=SCAN_DAYS), state.scanned_to - timedelta(days=1))
        since = max(since, now - timedelta(days=BACKFILL_DAYS))
    result = integrity_scan(since=since, now=now)
    ScanState.objects.update_or_create(
        pk=STATE_ID, defaults={"scanned_to": now, "updated_at": timezone.now()}
    )
    logger.info(
        "integrity scan %s..%s: %s findings, %s new, %s updated, %s withdrawn in %ss",
        since,
        now,
        result.findings,
        result.created,
        result.updated,
        result.withdrawn,
        result.seconds,
    )
    return result


# --- Decisions ------------------------------------------------------------------------------


def _level(region: Region) -> int:
    return LEVEL_RANK.get(str(region.level), 3)


def may_see(user: User, flag: Flag) -> bool:
    """Staff see the flags of their jurisdiction (their own centre's too); administrators
    every flag."""
    if user.sees_everything:
        return True
    if not user.is_centre_staff or flag.centre is None or user.centre is None:
        return False
    return user.centre.region.contains(flag.centre.region)


def decide_refusal(user: User, flag: Flag) -> str | None:
    """Why `user` may not decide `flag`, or None when they may: administrators, and staff of
    a higher level whose jurisdiction contains the flag's centre. A centre never decides its
    own flags."""
    if user.sees_everything:
        return None
    if not may_see(user, flag) or user.centre is None or flag.centre is None:
        return "只有上级服务中心的工作人员或管理员可以复核刷量标记。"
    if user.centre_id == flag.centre_id:
        return "本中心的刷量标记须由上级服务中心复核，不能自行确认或排除。"
    if _level(user.centre.region) >= _level(flag.centre.region):
        return "只有上级服务中心的工作人员或管理员可以复核刷量标记。"
    if flag.subject_type == Subject.CASE:
        # An escalated case is handled (and may be closed) by the higher centre: that centre
        # does not judge its own handling, though the flag counts on the county's figures.
        handled = Case.objects.filter(pk=flag.subject_id).values("centre_id", "owner_id").first()
        if handled is not None and user.pk == handled["owner_id"]:
            return "您是该案例的负责人，其刷量标记须由他人复核。"
        if handled is not None and user.centre_id == handled["centre_id"]:
            return "该案例由本中心办理，其刷量标记须由更上级服务中心复核。"
    return None


def _flag_detail(flag: Flag) -> dict[str, object]:
    return {
        "kind": flag.kind,
        "subject": f"{flag.subject_type}#{flag.subject_id}",
        "centre": flag.centre_id,
        "day": flag.day.isoformat(),
    }


def flag_decide_refused(
    flag: Flag, user: User, decision: str, refusal: str, ip: str | None = None
) -> NotPermitted:
    """Audit a decision refused to `user` (one row, outcome refused: a centre trying to
    clear its own flag is worth knowing) and return the refusal to raise."""
    audit_record(
        action=AuditAction.FLAG_CLEAR if decision == "clear" else AuditAction.FLAG_CONFIRM,
        user=user,
        ip=ip,
        object_type="integrity.flag",
        object_id=str(flag.pk),
        outcome=AuditEvent.Outcome.REFUSED,
        detail=_flag_detail(flag),
    )
    return NotPermitted(refusal)


def flag_decide(
    flag: Flag,
    user: User,
    decision: str,
    note: str,
    version: int | None,
    ip: str | None = None,
) -> Flag:
    """Confirm (`decision` "confirm") or clear ("clear") an open flag. Clearing needs a note.
    Refused with a Chinese message (NotPermitted: 403; Stale: 409) and nothing changed."""
    refusal = decide_refusal(user, flag)
    if refusal is not None:
        raise flag_decide_refused(flag, user, decision, refusal, ip)
    note = (note or "").strip()
    if decision not in ("confirm", "clear"):
        raise FlagError("请选择“确认刷量”或“排除”。")
    if decision == "clear" and not note:
        raise FlagError("排除标记时必须写明理由。")
    if len(note) > NOTE_MAX:
        raise FlagError(f"复核说明不能超过 {NOTE_MAX} 个字。")
    if flag.status != Flag.Status.OPEN:
        raise FlagError("该标记已经复核过，不能再次复核。")
    status = Flag.Status.CONFIRMED if decision == "confirm" else Flag.Status.CLEARED
    now = timezone.now()
    with transaction.atomic():
        claim_version(
            flag,
            version,
            only_if={"status": Flag.Status.OPEN},
            status=status,
            decided_by=user,
            decided_at=now,
            decision_note=note,
            updated_at=now,
        )
        audit_record(
            action=AuditAction.FLAG_CONFIRM if decision == "confirm" else AuditAction.FLAG_CLEAR,
            user=user,
            ip=ip,
            object_type="integrity.flag",
            object_id=str(flag.pk),
            detail=_flag_detail(flag),
        )
        _mark_days([flag.day], now)
    return flag
