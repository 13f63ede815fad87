"""Reads for spreadsheet import and export."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.http import Http404

from kejiyun.accounts.models import User
from kejiyun.regions.models import Region
from kejiyun.regions.selectors import centres_in_jurisdiction, counties_of_province
from kejiyun.spreadsheets.models import ImportBatch


@dataclass(frozen=True)
class CountyLookup:
    """The counties of the deployment province, and those the importing user may fill in."""

    known: frozenset[str]
    allowed: dict[str, Region]

    def problem(self, code: str) -> str | None:
        """Why `code` cannot be used, in Chinese, or None when it can."""
        if len(code) != 6 or not code.isdigit():
            return "应为6位区县代码，如 510104"
        if code not in self.known:
            return "不是本省的区县代码"
        if code not in self.allowed:
            return "该区县不在您的辖区内"
        return None


def counties_for_import(*, user: User) -> CountyLookup:
    """Counties a staff member may import records into: those whose service centre lies in
    the user's jurisdiction (scoped by `jurisdiction_filter`)."""
    counties = counties_of_province(settings.DEPLOYMENT_PROVINCE)
    allowed = counties.filter(pk__in=centres_in_jurisdiction(user=user).values("region_id"))
    return CountyLookup(
        known=frozenset(counties.values_list("code", flat=True)),
        allowed={region.code: region for region in allowed},
    )


def access_import_batch(user: User, batch_id: int) -> ImportBatch:
    """The batch if `user` uploaded it; otherwise 404. Only its uploader may see or
    confirm a batch."""
    try:
        return ImportBatch.objects.get(pk=batch_id, user=user)
    except ImportBatch.DoesNotExist:
        raise Http404("导入批次不存在") from None
