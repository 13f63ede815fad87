"""Reads for notifications."""

from __future__ import annotations

from django.db.models import QuerySet

from kejiyun.accounts.models import User
from kejiyun.notifications.models import InboxItem


def inbox_for_user(*, user: User) -> QuerySet[InboxItem]:
    return InboxItem.objects.filter(user=user).order_by("-created_at", "-id")


def inbox_unread_count(*, user: User) -> int:
    return InboxItem.objects.filter(user=user, read_at__isnull=True).count()
