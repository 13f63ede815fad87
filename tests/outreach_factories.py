"""Factories shared by the feed, outcomes and activities tests."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from kejiyun.accounts.models import Role, User
from kejiyun.popsci.models import Article, CitizenProfile
from tests.conftest import PASSWORD


def make_citizen(username: str, region_code: str, **profile: object) -> User:
    """A citizen with a consenting profile (farmer, 36-59) unless told otherwise."""
    user = User.objects.create_user(
        username=username,
        password=PASSWORD,
        display_name=username.title(),
        role=Role.CITIZEN,
        region_id=region_code,
    )
    values: dict[str, object] = {
        "occupation": "farmer",
        "age_band": "36_59",
        "targeting_consent": True,
        "consent_version": "2026-11",
    }
    values.update(profile)
    CitizenProfile.objects.create(
        user=user,
        region_id=region_code,
        region_code=region_code,
        **values,  # type: ignore[arg-type]
    )
    return user


def publish(title: str, *, published_at: datetime | None = None, **fields: object) -> Article:
    values: dict[str, object] = {
        "body": "正文" * 50,
        "topic": "agriculture",
        "status": Article.Status.PUBLISHED,
        "published_at": published_at or timezone.now(),
    }
    values.update(fields)
    return Article.objects.create(title=title, **values)  # type: ignore[arg-type]
