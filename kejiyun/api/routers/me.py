"""`/api/v1/me`: the signed-in account (the pattern every router follows)."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from kejiyun.api.auth import SIGNED_IN, require_scope
from kejiyun.api.models import Scope
from kejiyun.common.masking import mask_mobile

router = Router(tags=["账号"], auth=SIGNED_IN)


class MeOut(Schema):
    id: int
    display_name: str
    role: str
    role_label: str
    mobile_masked: str
    region_code: str | None
    centre_region_code: str | None
    organisation_id: int | None
    scopes: list[str]


@router.get("", response=MeOut, operation_id="me_get", summary="当前账号")
def me(request: HttpRequest) -> MeOut:
    user = require_scope(request, Scope.PROFILE)
    return MeOut(
        id=user.pk,
        display_name=user.display_name,
        role=user.role,
        role_label=user.get_role_display(),
        mobile_masked=mask_mobile(user.mobile or ""),
        region_code=user.region_id,
        centre_region_code=user.centre.region_id if user.centre is not None else None,
        organisation_id=user.organisation_id,
        scopes=sorted(request.auth.scopes),  # type: ignore[attr-defined]
    )
