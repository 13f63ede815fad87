"""Small pieces the directory, popsci and ops routers share: bounded path ids, safe query
text, the cursor/limit fields of a list, and the role checks of staff-only operations.

An id beyond the database's integer range or text with a NUL character would make the
database refuse the query (a 500); they are refused here as 422 instead, and the OpenAPI
document says what is valid."""

from __future__ import annotations

from typing import Annotated

from ninja import Schema
from pydantic import AfterValidator, Field

from kejiyun.accounts.models import User
from kejiyun.api.casework import ID_MAX
from kejiyun.api.errors import ApiProblem

# One bound for every path id of the API: the BigAutoField range (`casework.ID_MAX`).
MAX_ID = ID_MAX


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("不能包含空字符")
    return value.strip()


SearchText = Annotated[str, Field(max_length=50), AfterValidator(_no_nul)]
REGION_CODE_PATTERN = r"^[1-9][0-9]{5}([0-9]{3}|[0-9]{6})?$"
RegionCode = Annotated[str, Field(pattern=REGION_CODE_PATTERN)]


class PageQuery(Schema):
    """The cursor and page size of every list."""

    cursor: str | None = Field(None, max_length=40, description="上一页返回的 next_cursor")
    limit: int = Field(20, ge=1, le=100, description="每页条数（1-100）")


def require_staff(user: User) -> User:
    """Centre staff and administrators; any other role gets 403 (the pages answer 404
    because they hide staff pages; an API operation is documented, so it says why)."""
    if not (user.is_centre_staff or user.sees_everything):
        raise ApiProblem(403, "只有服务中心工作人员或管理员可以使用此接口。", code="staff_only")
    return user


def require_role(user: User, role: str, detail: str) -> User:
    if user.role != role:
        raise ApiProblem(403, detail, code="wrong_role")
    return user
