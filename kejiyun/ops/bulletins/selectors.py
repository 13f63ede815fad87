"""Reads of bulletins. Who sees a bulletin:

- staff whose jurisdiction holds the bulletin's region (its own centre, the province above a
  city) and administrators: every status;
- staff of the centres it is addressed to (one level down): once it is published.

Anyone else gets a 404 from `access_bulletin`, as if it did not exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import Http404

from kejiyun.accounts.models import User
from kejiyun.ops.models import Bulletin, BulletinReceipt, BulletinStatus
from kejiyun.regions.models import ServiceCentre
from kejiyun.regions.selectors import jurisdiction_filter, region_in_jurisdiction


def _addressed_to(centre: ServiceCentre) -> Q:
    """Published bulletins addressed to `centre`: those of its parent region."""
    parent = centre.region.parent_id
    if parent is None:
        return Q(pk__in=[])
    return Q(status=BulletinStatus.PUBLISHED, region_id=parent)


def bulletins_for(user: User) -> QuerySet[Bulletin]:
    """Every bulletin the user may open, newest first."""
    if user.sees_everything:
        mine = Bulletin.objects.all()
    elif user.is_centre_staff and user.centre is not None:
        mine = jurisdiction_filter(
            Bulletin.objects.all(), user=user, region_field="region"
        ) | Bulletin.objects.filter(_addressed_to(user.centre))
    else:
        mine = Bulletin.objects.none()
    return mine.select_related("region", "centre", "author", "approver").order_by(
        "-created_at", "-id"
    )


def access_bulletin(user: User, bulletin_id: int) -> Bulletin:
    """The bulletin when the user may open it; 404 otherwise."""
    bulletin = (
        Bulletin.objects.filter(pk=bulletin_id)
        .select_related("region", "region__parent", "centre", "author", "approver")
        .first()
    )
    if bulletin is None:
        raise Http404("页面不存在")
    if user.sees_everything or (
        user.is_centre_staff and region_in_jurisdiction(user, bulletin.region)
    ):
        return bulletin
    if (
        user.is_centre_staff
        and user.centre is not None
        and bulletin.status == BulletinStatus.PUBLISHED
        and user.centre.region.parent_id == bulletin.region_id
    ):
        return bulletin
    raise Http404("页面不存在")


@dataclass(frozen=True)
class ReceiptLine:
    centre: str
    region_code: str
    reader: str
    read_at: datetime | None


def bulletin_receipts(bulletin: Bulletin) -> list[ReceiptLine]:
    """One line per centre the bulletin was addressed to, read or not, in region-code order."""
    rows = (
        BulletinReceipt.objects.filter(bulletin=bulletin)
        .select_related("centre", "reader")
        .order_by("centre__region_id")
    )
    return [
        ReceiptLine(
            centre=r.centre.name,
            region_code=r.centre.region_id,
            reader=str(r.reader) if r.reader is not None else "",
            read_at=r.read_at,
        )
        for r in rows
    ]


def is_author_side(user: User, bulletin: Bulletin) -> bool:
    """Whether the user sees the bulletin from above (its centre, or the jurisdiction over
    it) rather than as one of the centres it is addressed to."""
    return user.sees_everything or (
        user.is_centre_staff and region_in_jurisdiction(user, bulletin.region)
    )
