"""Defects found reviewing issue 13 (recognition, case library, docking events), each
pinned by the test that failed before its fix."""

from __future__ import annotations

from typing import Any

import pytest

from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.recognition.models import Application, ApplicationEvent, Batch
from kejiyun.talent.models import Team
from tests.builders import client_for
from tests.test_recognition_workflow import (  # noqa: F401  (fixtures)
    case,
    ed,
    fresh,
    gina,
    lee,
    on_notice,
    pm,
    post_move,
    studio,
    studio_application,
    through_city,
)

pytestmark = pytest.mark.django_db

S = Application.Status


def test_the_province_cannot_skip_the_batch_steps_through_the_application_move_page(
    on_notice: dict[str, Any], pm: User, lee: User, studio: Team, alice: User, bob: User
) -> None:
    """The province's moves (into review, scored, notice, final) belong to the batch services
    (assignment, closing scoring, notice, finalising after the notice and the objections);
    posting them on an application's move page would recognise an application while its
    notice runs, without its level on the studio, or send one to review with no reviewer."""
    on = fresh(on_notice["studio"])
    response = post_move(pm, on, S.RECOGNISED)
    assert response.status_code == 403
    assert fresh(on).status == S.NOTICE
    assert fresh(on).final_level == ""
    assert not ApplicationEvent.objects.filter(application=on, to_status=S.RECOGNISED).exists()

    # An endorsed application does not go to review without its reviewers either.
    Application.objects.filter(pk=on.pk).update(status=S.WITHDRAWN)
    endorsed = studio_application(pm, lee, studio)
    through_city(endorsed, alice, bob)
    Batch.objects.filter(pk=endorsed.batch_id).update(status=Batch.Status.REVIEW)
    assert post_move(pm, endorsed, S.REVIEWING).status_code == 403
    assert fresh(endorsed).status == S.ENDORSED
    assert AuditEvent.objects.filter(
        action=AuditAction.RECOGNITION_MOVE, object_id=str(endorsed.pk), outcome="refused"
    ).exists()
