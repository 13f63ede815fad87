"""Writes for bulletins (通报): draft, submit (the content is frozen), approve and publish (by a
second person), return to draft with a reason, and read receipts.

The status moves are in `MOVES`; `bulletin_transition` is the only code that changes a
bulletin's status: it refuses a move the table does not list or the actor may not make,
claims the row with a conditional UPDATE on the status it read, and writes a BulletinEvent.
The author can never publish their own bulletin: approval needs another staff member of the
same centre or of the centre one level up, and the database refuses a bulletin whose approver
is its author.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.audit.services import audit_record
from kejiyun.common.errors import NotPermitted, ServiceError, Stale
from kejiyun.common.workflow import Move, MoveTable
from kejiyun.notifications.models import Channel
from kejiyun.notifications.services import OutboxDraft, outbox_enqueue_many
from kejiyun.ops.bulletins.content import RANKABLE, bulletin_content_build
from kejiyun.ops.models import (
    DEFAULT_LAG_PERCENT,
    Bulletin,
    BulletinEvent,
    BulletinReceipt,
    BulletinStatus,
)
from kejiyun.ops.periods import Period, PeriodError
from kejiyun.ops.selectors import child_regions
from kejiyun.regions.models import Region, ServiceCentre


class BulletinError(ServiceError):
    """A refused bulletin write; nothing was changed."""


class StaleBulletin(Stale, BulletinError):
    """The bulletin moved on since the page was read (someone else approved or returned it)."""


AUTHOR = "author"
APPROVER = "approver"

S = BulletinStatus
MOVES = MoveTable(
    S.values,
    [
        Move(S.DRAFT, S.PENDING, AUTHOR),
        Move(S.PENDING, S.PUBLISHED, APPROVER),
        Move(S.PENDING, S.DRAFT, APPROVER, needs_reason=True),
    ],
)

MAX_TITLE = 120


def _check_fields(
    *, period: str, indicators: Sequence[str], lag_percent: int, title: str
) -> Period:
    try:
        parsed = Period.parse(period)
    except PeriodError as error:
        raise BulletinError(str(error)) from error
    rankable = {i.key for i in RANKABLE}
    if not indicators:
        raise BulletinError("请至少选择一个排名指标")
    unknown = [k for k in indicators if k not in rankable]
    if unknown:
        raise BulletinError(f"不能按这些指标排名：{'、'.join(unknown)}")
    if not 1 <= lag_percent <= 99:
        raise BulletinError("落后阈值须在 1% 到 99% 之间")
    if len(title) > MAX_TITLE:
        raise BulletinError(f"标题不能超过 {MAX_TITLE} 个字")
    return parsed


def author_region(user: User) -> Region:
    """The region a staff member drafts bulletins for: their centre's, a province or a city."""
    if not user.is_centre_staff or user.centre is None:
        raise NotPermitted("只有服务中心工作人员可以起草通报")
    region = user.centre.region
    if region.level not in (Region.Level.PROVINCE, Region.Level.CITY):
        raise NotPermitted("只有省级和市级服务中心可以起草通报")
    return region


@transaction.atomic
def bulletin_create(
    *,
    author: User,
    period: str,
    indicators: Sequence[str],
    commentary: str = "",
    lag_percent: int = DEFAULT_LAG_PERCENT,
    title: str = "",
) -> Bulletin:
    """A draft bulletin of the author's centre about the centres one level down."""
    region = author_region(author)
    parsed = _check_fields(
        period=period, indicators=indicators, lag_percent=lag_percent, title=title.strip()
    )
    assert author.centre is not None
    return Bulletin.objects.create(
        region=region,
        centre=author.centre,
        period=parsed.token,
        title=title.strip() or f"{region.name}{parsed.label}运营情况通报",
        indicators=list(dict.fromkeys(indicators)),
        lag_percent=lag_percent,
        commentary=commentary.strip(),
        author=author,
    )


@transaction.atomic
def bulletin_update(
    *,
    actor: User,
    bulletin: Bulletin,
    period: str,
    indicators: Sequence[str],
    commentary: str,
    lag_percent: int,
    title: str,
) -> Bulletin:
    """Change a draft; only its author may, and only while it is a draft."""
    if actor.pk != bulletin.author_id:
        raise NotPermitted("只有起草人可以修改通报")
    parsed = _check_fields(
        period=period, indicators=indicators, lag_percent=lag_percent, title=title.strip()
    )
    fields = {
        "period": parsed.token,
        "title": title.strip() or bulletin.title,
        "indicators": list(dict.fromkeys(indicators)),
        "lag_percent": lag_percent,
        "commentary": commentary.strip(),
    }
    claimed = Bulletin.objects.filter(pk=bulletin.pk, status=BulletinStatus.DRAFT).update(**fields)
    if claimed != 1:
        raise StaleBulletin("通报已提交审核，不能再修改")
    for name, value in fields.items():
        setattr(bulletin, name, value)
    return bulletin


def may_approve(user: User, bulletin: Bulletin) -> bool:
    """Staff of the bulletin's centre or of the centre one level up, other than its author."""
    if not user.is_centre_staff or user.pk == bulletin.author_id or user.centre is None:
        return False
    if user.centre_id == bulletin.centre_id:
        return True
    parent = bulletin.region.parent_id
    return parent is not None and user.centre.region_id == parent


# The approver's moves are audited (approving or returning content, CONTRIBUTING.md).
_AUDITED_MOVES: dict[str, AuditAction] = {
    S.PUBLISHED: AuditAction.BULLETIN_PUBLISH,
    S.DRAFT: AuditAction.BULLETIN_RETURN,
}


def _refusal(actor: User, bulletin: Bulletin, move: Move) -> str:
    """Why `actor` may not make `move` on the bulletin, or "" when they may."""
    if move.by == AUTHOR and actor.pk != bulletin.author_id:
        return "只有起草人可以提交审核"
    if move.by == APPROVER:
        if actor.pk == bulletin.author_id:
            return "起草人不能审核自己的通报，须由另一位工作人员审核"
        if not may_approve(actor, bulletin):
            return "只有本中心或上级中心的其他工作人员可以审核通报"
    return ""


def _audit_move(
    actor: User, bulletin: Bulletin, to: str, ip: str | None, *, refused: bool = False
) -> None:
    action = _AUDITED_MOVES.get(to)
    if action is None:
        return
    audit_record(
        action=action,
        user=actor,
        ip=ip,
        object_type="ops.bulletin",
        object_id=str(bulletin.pk),
        outcome=AuditEvent.Outcome.REFUSED if refused else AuditEvent.Outcome.OK,
        detail={"period": bulletin.period, "region": bulletin.region_id},
    )


def bulletin_transition(
    *,
    actor: User,
    bulletin: Bulletin,
    to: str,
    reason: str = "",
    now: datetime | None = None,
    ip: str | None = None,
) -> Bulletin:
    """Move the bulletin to `to` (see MOVES); refuses anything else and changes nothing.
    Approving and returning are audited, refusals of them too."""
    now = now or timezone.now()
    source = bulletin.status
    move = MOVES.find(source, to)
    if move is None:
        raise BulletinError(
            f"通报不能从“{BulletinStatus(source).label}”变为“{BulletinStatus(to).label}”"
        )
    refusal = _refusal(actor, bulletin, move)
    if refusal:
        _audit_move(actor, bulletin, to, ip, refused=True)
        raise NotPermitted(refusal)
    reason = reason.strip()
    if move.needs_reason and not reason:
        raise BulletinError("退回须写明原因")
    if len(reason) > 500:
        raise BulletinError("原因不能超过 500 个字")
    with transaction.atomic():
        fields: dict[str, object] = {"status": to}
        if to == S.PENDING:
            fields.update(
                content=bulletin_content_build(
                    region=bulletin.region,
                    period=Period.parse(bulletin.period),
                    indicators=bulletin.indicators,
                    lag_percent=bulletin.lag_percent,
                    now=now,
                ),
                submitted_at=now,
                return_reason="",
            )
        elif to == S.PUBLISHED:
            fields.update(approver=actor, published_at=now)
        elif to == S.DRAFT:
            fields.update(content=None, submitted_at=None, return_reason=reason)
        claimed = Bulletin.objects.filter(pk=bulletin.pk, status=source).update(**fields)
        if claimed != 1:
            raise StaleBulletin()
        for name, value in fields.items():
            setattr(bulletin, name, value)
        event = BulletinEvent.objects.create(
            bulletin=bulletin, actor=actor, source=source, to=to, reason=reason, at=now
        )
        _notify_move(bulletin, event)
        _audit_move(actor, bulletin, to, ip)
        if to == S.PUBLISHED:
            _publish(bulletin)
    return bulletin


def _approvers(bulletin: Bulletin) -> list[User]:
    """Everyone who may approve the bulletin: staff of its centre other than the author, and
    staff of the centre one level up."""
    centres = [bulletin.centre_id]
    parent = ServiceCentre.objects.filter(region_id=bulletin.region.parent_id).first()
    if parent is not None:
        centres.append(parent.pk)
    return list(
        User.objects.filter(role=Role.STAFF, is_active=True, centre_id__in=centres)
        .exclude(pk=bulletin.author_id)
        .order_by("pk")
    )


def _notify_move(bulletin: Bulletin, event: BulletinEvent) -> None:
    """Submitted: everyone who may approve it is told; returned or published: the author."""
    url = reverse("ops:bulletins:detail", args=[bulletin.pk])
    if event.to == S.PENDING:
        people = _approvers(bulletin)
        title = f"通报待审核：{bulletin.title}"
        body = f"{event.actor}提交了通报，请审核（起草人不能审核自己的通报）。"
    elif event.to == S.DRAFT:
        people = [bulletin.author]
        title = f"通报被退回：{bulletin.title}"
        body = f"{event.actor}退回了通报：{event.reason}"
    else:
        people = [bulletin.author]
        title = f"通报已发布：{bulletin.title}"
        body = f"{event.actor}审核通过并发布了通报。"
    outbox_enqueue_many(
        drafts=[
            OutboxDraft(
                channel=Channel.IN_APP,
                recipient_id=person.pk,
                title=title,
                body=body,
                url=url,
                idempotency_key=f"bulletin:{bulletin.pk}:event:{event.pk}:{person.pk}",
                source="bulletin",
            )
            for person in people
        ]
    )


def bulletin_submit(*, actor: User, bulletin: Bulletin, now: datetime | None = None) -> Bulletin:
    return bulletin_transition(actor=actor, bulletin=bulletin, to=S.PENDING, now=now)


def bulletin_approve(
    *, actor: User, bulletin: Bulletin, now: datetime | None = None, ip: str | None = None
) -> Bulletin:
    return bulletin_transition(actor=actor, bulletin=bulletin, to=S.PUBLISHED, now=now, ip=ip)


def bulletin_return(
    *,
    actor: User,
    bulletin: Bulletin,
    reason: str,
    now: datetime | None = None,
    ip: str | None = None,
) -> Bulletin:
    return bulletin_transition(
        actor=actor, bulletin=bulletin, to=S.DRAFT, reason=reason, now=now, ip=ip
    )


def bulletin_export_record(
    *, actor: User, bulletin: Bulletin, fmt: str, ip: str | None = None
) -> None:
    """Audit a download of the bulletin's PDF or Excel (every export is audited)."""
    audit_record(
        action=AuditAction.BULLETIN_EXPORT,
        user=actor,
        ip=ip,
        object_type="ops.bulletin",
        object_id=str(bulletin.pk),
        detail={"format": fmt, "status": bulletin.status},
    )


def recipient_centres(bulletin: Bulletin) -> list[ServiceCentre]:
    """The centres one level down from the bulletin's region, in code order."""
    return list(
        ServiceCentre.objects.filter(region__in=child_regions(bulletin.region)).order_by(
            "region_id"
        )
    )


def _publish(bulletin: Bulletin) -> None:
    """One unread receipt per centre below, and a message in each of their staff's inboxes
    (written to the outbox in this transaction; a second publication writes nothing new)."""
    centres = recipient_centres(bulletin)
    BulletinReceipt.objects.bulk_create(
        [BulletinReceipt(bulletin=bulletin, centre=c) for c in centres], ignore_conflicts=True
    )
    url = reverse("ops:bulletins:detail", args=[bulletin.pk])
    staff = User.objects.filter(role=Role.STAFF, is_active=True, centre__in=centres).order_by("pk")
    outbox_enqueue_many(
        drafts=[
            OutboxDraft(
                channel=Channel.IN_APP,
                recipient_id=person.pk,
                title=f"新通报：{bulletin.title}",
                body=f"{bulletin.centre.name}发布了{Period.parse(bulletin.period).label}的通报，请查阅。",
                url=url,
                idempotency_key=f"bulletin:{bulletin.pk}:published:{person.pk}",
                source="bulletin",
            )
            for person in staff
        ]
    )


def bulletin_read(*, reader: User, bulletin: Bulletin, now: datetime | None = None) -> bool:
    """Record that the reader's centre has read the published bulletin, once per centre: the
    first reader and time stay. Returns whether this call recorded it."""
    if bulletin.status != BulletinStatus.PUBLISHED or not reader.is_centre_staff:
        return False
    updated = BulletinReceipt.objects.filter(
        bulletin=bulletin, centre_id=reader.centre_id, read_at__isnull=True
    ).update(reader=reader, read_at=now or timezone.now())
    return updated == 1
