"""The one-way-each helpers in kejiyun/common: the version claim, move tables and how a refusal
is answered. The upload check has its own file, tests/test_uploads.py."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kejiyun.accounts.models import Organisation, User
from kejiyun.accounts.services import AccountError
from kejiyun.common.errors import NotPermitted, ServiceError, Stale, record_check
from kejiyun.common.refusals import refusal_status, refusal_text
from kejiyun.common.versioning import claim_version
from kejiyun.common.workflow import Move, MoveTable
from kejiyun.plans.models import ServicePlan
from kejiyun.plans.services import StalePlan, worker_verify
from tests.builders import make_worker

# --- claim_version -------------------------------------------------------------------------


@pytest.fixture
def plan(alice: User) -> ServicePlan:
    return worker_verify(profile=make_worker("wang", "510104", "13900000101"), actor=alice)


@pytest.mark.django_db
def test_a_claim_writes_the_changes_and_bumps_the_version_in_the_row_and_in_memory(
    plan: ServicePlan, alice: User
) -> None:
    claim_version(plan, 1, stale=StalePlan, owner=None)
    assert (plan.version, plan.owner_id) == (2, None)
    plan.refresh_from_db()
    assert (plan.version, plan.owner_id) == (2, None)


@pytest.mark.django_db
def test_a_claim_on_a_version_someone_else_moved_on_is_refused_and_writes_nothing(
    plan: ServicePlan, alice: User
) -> None:
    other = ServicePlan.objects.get(pk=plan.pk)
    claim_version(other, None, stale=StalePlan)  # someone else saves first
    with pytest.raises(StalePlan) as refused:
        claim_version(plan, 1, stale=StalePlan, owner=None)
    assert refused.value.code == "stale"
    plan.refresh_from_db()
    assert (plan.version, plan.owner_id) == (2, alice.pk)


# --- move tables ---------------------------------------------------------------------------

TABLE = MoveTable(
    ["draft", "review", "done"],
    [Move("draft", "review", "author"), Move("review", "draft", "reviewer", needs_reason=True)],
)


def test_a_move_table_reads_as_a_mapping_of_targets_and_finds_each_move() -> None:
    assert dict(TABLE) == {
        "draft": frozenset({"review"}),
        "review": frozenset({"draft"}),
        "done": frozenset(),
    }
    assert TABLE.find("review", "draft") == Move("review", "draft", "reviewer", True)
    assert TABLE.find("draft", "done") is None
    assert TABLE.find("nowhere", "draft") is None
    assert TABLE.moves_from("draft", by="reviewer") == ()
    assert [m.to for m in TABLE.moves_from("draft")] == ["review"]


@pytest.mark.parametrize(
    "moves",
    [
        [Move("draft", "gone", "author")],
        [Move("draft", "review", "author"), Move("draft", "review", "reviewer")],
    ],
)
def test_a_move_table_refuses_unknown_statuses_and_a_move_listed_twice(
    moves: list[Move],
) -> None:
    with pytest.raises(ValueError, match=r"unknown status|listed twice"):
        MoveTable(["draft", "review"], moves)


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "text"),
    [
        (Stale(), 409, "该记录已被他人修改，请刷新后再试。"),
        (StalePlan(), 409, "该计划已被他人修改，请刷新后再试。"),
        (NotPermitted("不在您的辖区内。"), 403, "不在您的辖区内。"),
        (PermissionDenied(), 403, "无权操作。"),
        (ServiceError("请填写原因。"), 400, "请填写原因。"),
        (ValidationError(["甲。", "乙。"]), 400, "甲。；乙。"),
    ],
)
def test_each_refusal_has_one_status_and_one_message(
    error: ValidationError | PermissionDenied, status: int, text: str
) -> None:
    assert (refusal_status(error), refusal_text(error)) == (status, text)
    assert refusal_status(error, otherwise=200) == (200 if status == 400 else status)


@pytest.mark.django_db
def test_a_records_own_validation_refuses_with_the_services_error() -> None:
    organisation = Organisation(
        kind="enterprise", name="某公司", uscc="91510104BAD", region_id="510104"
    )
    with pytest.raises(AccountError) as refused:
        record_check(organisation, error=AccountError)
    assert set(refused.value.message_dict) == {"uscc"}
    assert refusal_status(refused.value) == 400
    assert not Organisation.objects.exists()


def test_not_permitted_is_both_a_service_error_and_permission_denied() -> None:
    error = NotPermitted("x")
    assert isinstance(error, ServiceError) and isinstance(error, PermissionDenied)
