"""`ETag` and `If-Match` for records edited through the API (ADR 0015).

The tag is the record's kind, id and `version` column (`kejiyun.common.versioning`). An edit
must send `If-Match` with the tag it last read: none gets 428, another version 412, and in
both cases nothing changes. The service then claims that same version, so an edit racing
between the check and the write is refused as stale (412) too."""

from __future__ import annotations

from django.db.models import Model
from django.http import HttpResponse

from kejiyun.api.errors import ApiProblem


def etag_of(record: Model) -> str:
    version = record.serializable_value("version")
    return f'"{record._meta.model_name}-{record.pk}-v{version}"'


def set_etag(response: HttpResponse, record: Model) -> None:
    response["ETag"] = etag_of(record)


def if_match_version(if_match: str | None, record: Model) -> int:
    """The version the client edits, if its `If-Match` names the record's current tag."""
    if not if_match:
        raise ApiProblem(
            428, "修改前请在 If-Match 头中带上读取时得到的 ETag。", code="if_match_required"
        )
    current = etag_of(record)
    offered = [tag.strip().removeprefix("W/") for tag in if_match.split(",")]
    if current not in offered and "*" not in offered:
        raise ApiProblem(412, "该记录已被他人修改，请重新读取后再试。", code="stale", etag=current)
    return int(record.serializable_value("version"))
