"""Cross-domain reads for the home page and the dashboards."""

from __future__ import annotations

from dataclasses import dataclass

from kejiyun.accounts.models import Organisation, Role, User
from kejiyun.demands.models import Demand
from kejiyun.demands.selectors import demands_for_staff, demands_review_queue
from kejiyun.popsci.models import Article
from kejiyun.regions.models import Region, ServiceCentre
from kejiyun.regions.selectors import (
    centres_in_jurisdiction,
    jurisdiction_filter,
    province_regions,
)
from kejiyun.talent.models import TalentProfile
from kejiyun.talent.selectors import talent_for_staff


@dataclass(frozen=True)
class PlatformCounts:
    regions: int
    centres: int
    workers: int
    enterprises: int
    demands: int
    articles: int


def platform_counts(*, province_code: str) -> PlatformCounts:
    """Live counts for the deployment province (regions down to county level)."""
    prefix = f"{province_code}/"
    return PlatformCounts(
        regions=province_regions(province_code).exclude(level=Region.Level.TOWNSHIP).count(),
        centres=ServiceCentre.objects.filter(region__path__startswith=prefix).count(),
        workers=TalentProfile.objects.filter(region__path__startswith=prefix).count(),
        enterprises=Organisation.objects.filter(
            kind=Organisation.Kind.ENTERPRISE, region__path__startswith=prefix
        ).count(),
        demands=Demand.objects.filter(
            status__in=[Demand.Status.PUBLISHED, Demand.Status.CLOSED],
            region__path__startswith=prefix,
        ).count(),
        articles=Article.objects.filter(status=Article.Status.PUBLISHED).count(),
    )


@dataclass(frozen=True)
class JurisdictionCounts:
    centres: int
    workers: int
    enterprises: int
    demands: int
    staff: int
    review_queue: int


def jurisdiction_counts(*, user: User) -> JurisdictionCounts:
    staff_qs = jurisdiction_filter(
        User.objects.filter(role=Role.STAFF), user=user, region_field="centre__region"
    )
    return JurisdictionCounts(
        centres=centres_in_jurisdiction(user=user).count(),
        workers=talent_for_staff(user=user).count(),
        # Not organisations_for_staff: its per-row demand count would make this a GROUP BY.
        enterprises=jurisdiction_filter(
            Organisation.objects.filter(kind=Organisation.Kind.ENTERPRISE),
            user=user,
            region_field="region",
        ).count(),
        demands=demands_for_staff(user=user).count(),
        staff=staff_qs.count(),
        # Submitted demands waiting for review (发布前审核) in the jurisdiction.
        review_queue=demands_review_queue(user=user).count(),
    )
