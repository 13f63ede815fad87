"""Writes about a case's files: an audit row for every download."""

from __future__ import annotations

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
from kejiyun.cases.models import Case


def case_file_download_record(
    *, case: Case, user: User, file: str, file_id: int | None = None, ip: str | None = None
) -> None:
    """Audit that `user` fetched one of `case`'s files (`file`: "attachment" or "evidence")."""
    detail: dict[str, object] = {"file": file}
    if file_id is not None:
        detail["attachment"] = file_id
    audit_record(
        action=AuditAction.CASE_FILE_DOWNLOAD,
        user=user,
        ip=ip,
        object_type="case",
        object_id=str(case.pk),
        detail=detail,
    )
