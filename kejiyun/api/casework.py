"""What the demand, case, docking, plan and match routers share: who may use an operation
(the same role tests as the pages' guards in `kejiyun.accounts.guards`, answered with a 403
problem instead of the pages' 404), the bounds of a path id, and small nested schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Schema

from kejiyun.accounts.models import Role, User
from kejiyun.api.auth import require_scope
from kejiyun.api.errors import ApiProblem
from kejiyun.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from kejiyun.common.masking import mask_personal_text
from kejiyun.regions.models import Region

# A primary key: BigAutoField's range. Anything outside it is a 422, never a database error.
ID_MAX = 2**63 - 1


def cursor_param() -> Any:
    """The `cursor` query parameter of a list: `next_cursor` of the page before."""
    return Query(
        None, max_length=32, pattern=r"^[A-Za-z0-9_-]+$", description="上一页返回的 next_cursor"
    )


def limit_param() -> Any:
    return Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="每页条数")


def _refuse(who: str) -> ApiProblem:
    return ApiProblem(403, f"此操作仅限{who}使用。", code="wrong_role")


def staff_caller(request: HttpRequest, scope: str) -> User:
    """Centre staff and administrators (`staff_required`); anyone else 403."""
    user = require_scope(request, scope)
    if not (user.is_centre_staff or user.sees_everything):
        raise _refuse("服务中心工作人员")
    return user


def enterprise_caller(request: HttpRequest, scope: str) -> User:
    """Enterprise users bound to an organisation (`enterprise_required`); anyone else 403."""
    user = require_scope(request, scope)
    if user.role != Role.ENTERPRISE or not user.organisation_id:
        raise _refuse("企业用户")
    return user


def worker_caller(request: HttpRequest, scope: str) -> User:
    """S&T workers (`worker_required`); anyone else 403."""
    user = require_scope(request, scope)
    if user.role != Role.WORKER:
        raise _refuse("科技工作者")
    return user


class PlaceOut(Schema):
    code: str
    name: str
    city_name: str


def region_out(region: Region) -> PlaceOut:
    parent = region.parent
    return PlaceOut(code=region.code, name=region.name, city_name=parent.name if parent else "")


class EventOut(Schema):
    """One line of a history (a demand's or a case's)."""

    id: int
    kind: str
    kind_label: str
    from_status: str
    from_label: str
    to_status: str
    to_label: str
    actor: str
    reason: str
    created_at: datetime


def actor_name(user: User | None) -> str:
    return user.display_name if user is not None else "系统"


def masked(text: str) -> str:
    """Free text with the mobile numbers, ID numbers and e-mail addresses in it masked."""
    return mask_personal_text(text or "")
