"""Reads of dockings: the requests sent to an S&T worker."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from kejiyun.accounts.models import User
from kejiyun.cases.models import DockingRequest


def dockings_for_expert(*, user: User) -> QuerySet[DockingRequest]:
    """Docking requests sent to the signed-in S&T worker, unanswered first."""
    return (
        DockingRequest.objects.filter(expert__user=user)
        .select_related("case", "case__demand", "case__demand__organisation", "case__region")
        .order_by("-status", "-created_at")
    )


def access_docking_for_expert(user: User, docking_id: int) -> DockingRequest:
    try:
        return dockings_for_expert(user=user).get(pk=docking_id)
    except DockingRequest.DoesNotExist:
        raise Http404("对接请求不存在") from None
