"""Reads for notifications."""

from __future__ import annotations

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import QuerySet

from kejiyun.notifications.models import InboxItem


def inbox_for_user(*, user: AbstractBaseUser) -> QuerySet[InboxItem]:
    return InboxItem.objects.filter(user_id=user.pk).order_by("-created_at", "-id")


def inbox_unread_count(*, user: AbstractBaseUser) -> int:
    return InboxItem.objects.filter(user_id=user.pk, read_at__isnull=True).count()
