"""Who may fetch a case's private files: the same people who may see the case.

Staff whose jurisdiction holds the case (as on the case page, read-only county staff after an
escalation included), users of the enterprise whose demand it is, and the S&T worker of a
docking request on it that is waiting for an answer or accepted. Everyone else, anonymous
visitors included, gets a 404: the answer does not reveal that the case or the file exists.
"""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from kejiyun.accounts.models import Role, User
from kejiyun.cases.models import Case, CaseAttachment, DockingRequest
from kejiyun.cases.workflow.selectors import cases_for_staff, cases_of_organisation

# Docking requests that let their expert read the case's files.
FILE_DOCKING_STATUSES = (DockingRequest.Status.SENT, DockingRequest.Status.ACCEPTED)


def case_for_files(user: User | AnonymousUser, case_id: int) -> Case:
    """The case if `user` may fetch its files; otherwise 404."""
    if not isinstance(user, User) or not user.is_active:
        raise Http404("文件不存在")
    if user.is_centre_staff or user.sees_everything:
        cases = cases_for_staff(user=user)
    elif user.role == Role.ENTERPRISE:
        cases = cases_of_organisation(user=user)
    elif user.role == Role.WORKER:
        cases = Case.objects.filter(
            dockings__expert__user=user, dockings__status__in=FILE_DOCKING_STATUSES
        ).distinct()
    else:
        raise Http404("文件不存在")
    try:
        return cases.get(pk=case_id)
    except Case.DoesNotExist:
        raise Http404("文件不存在") from None


def case_attachment_for(case: Case, attachment_id: int) -> CaseAttachment:
    try:
        return case.attachments.get(pk=attachment_id)
    except CaseAttachment.DoesNotExist:
        raise Http404("文件不存在") from None
