"""Reads for science-popularisation content."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from kejiyun.popsci.models import Article
from kejiyun.regions.models import Region


def articles_published(*, region: Region | None = None) -> QuerySet[Article]:
    """Published articles; with a region, those for the whole province or for a region
    that contains it (a township resident sees the county's and the city's articles)."""
    qs = Article.objects.filter(status=Article.Status.PUBLISHED).select_related("region")
    if region is not None:
        ancestor_codes = region.ancestor_codes
        qs = qs.filter(Q(region__isnull=True) | Q(region_id__in=ancestor_codes))
    return qs


def article_published(article_id: int) -> Article | None:
    return articles_published().filter(pk=article_id).first()
