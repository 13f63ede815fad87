"""Working time: due times count working hours (09:00–17:00) on China's working days, with
the public holidays and swapped working days (调休) of chinese-calendar."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
import time_machine

from kejiyun.accounts.models import User
from kejiyun.cases.clock.services import cases_escalate_overdue, step_due_at
from kejiyun.cases.errors import CaseError
from kejiyun.cases.models import Case, Step
from kejiyun.cases.workflow.services import case_transition
from kejiyun.common.workdays import (
    WorkCalendarUnknown,
    add_working_hours,
    is_working_day,
    known_years,
    subtract_working_hours,
    working_time_between,
)
from tests.builders import make_case


def at(text: str) -> datetime:
    return datetime.fromisoformat(f"{text}+08:00")


def test_weekends_and_the_national_day_holiday_are_not_working_days() -> None:
    assert is_working_day(date(2026, 9, 30))  # Wednesday
    assert not is_working_day(date(2026, 10, 1))  # 国庆节, a Thursday
    assert not is_working_day(date(2026, 10, 5))  # Monday, still the National Day holiday
    assert not is_working_day(date(2026, 10, 17))  # an ordinary Saturday
    assert is_working_day(date(2026, 10, 8))


def test_a_swapped_saturday_is_a_working_day() -> None:
    assert date(2026, 10, 10).weekday() == 5
    assert is_working_day(date(2026, 10, 10))  # 调休: worked for the National Day holiday


def test_hours_added_skip_nights_weekends_and_the_national_day_holiday() -> None:
    # Within one working day.
    assert add_working_hours(at("2026-09-30 09:00"), 8) == at("2026-09-30 17:00")
    # The ninth hour falls after 1–7 October.
    assert add_working_hours(at("2026-09-30 09:00"), 9) == at("2026-10-08 10:00")
    # Two working days from the eve of the holiday.
    assert add_working_hours(at("2026-09-30 09:00"), 16) == at("2026-10-08 17:00")
    # Begun in the evening, counting starts next working morning.
    assert add_working_hours(at("2026-09-29 20:00"), 2) == at("2026-09-30 11:00")


def test_hours_added_count_the_swapped_saturday_and_not_the_ordinary_one() -> None:
    # Friday 9 October, 2 working days: Friday and the 调休 Saturday the 10th.
    assert add_working_hours(at("2026-10-09 09:00"), 16) == at("2026-10-10 17:00")
    # Friday 16 October: the ordinary weekend is skipped, so Monday the 19th.
    assert add_working_hours(at("2026-10-16 09:00"), 16) == at("2026-10-19 17:00")


def test_working_time_between_two_moments_and_subtracting_undo_adding() -> None:
    hours = working_time_between(at("2026-09-30 15:00"), at("2026-10-10 10:00"))
    assert hours.total_seconds() / 3600 == 2 + 8 + 8 + 1  # 30 Sep, 8 Oct, 9 Oct, 10 Oct
    assert working_time_between(at("2026-10-10 10:00"), at("2026-09-30 15:00")).total_seconds() == 0
    for start, n in ((at("2026-09-30 09:30"), 13), (at("2026-10-09 16:00"), 40)):
        assert subtract_working_hours(add_working_hours(start, n), n) == start


def test_a_step_due_time_is_counted_in_working_hours() -> None:
    # Intake: two working days (CASE_STEP_DUE_HOURS["intake"] == 16).
    assert step_due_at(Step.INTAKE, at("2026-09-30 10:00")) == at("2026-10-09 10:00")
    assert step_due_at(Step.CLOSED, at("2026-09-30 10:00")) is None


def test_a_date_past_the_known_years_is_refused_with_a_clear_error() -> None:
    first, last = known_years()
    assert first <= 2026 <= last
    # The year after the last known one counts Monday to Friday until its holidays are out.
    assert is_working_day(date(last + 1, 1, 4))
    assert not is_working_day(date(last + 1, 1, 9))
    with pytest.raises(WorkCalendarUnknown, match=rf"{first}–{last}.*chinese-calendar"):
        is_working_day(date(last + 2, 1, 3))
    with pytest.raises(WorkCalendarUnknown, match=str(first)):
        is_working_day(date(first - 1, 6, 2))
    with pytest.raises(CaseError, match="工作日历"):
        step_due_at(Step.INTAKE, at(f"{last + 2}-03-01 10:00"))


def test_a_move_whose_due_time_the_calendar_cannot_count_changes_nothing(alice: User) -> None:
    case = make_case(alice)
    _, last = known_years()
    with (
        time_machine.travel(f"{last + 2}-03-01 10:00:00+08:00", tick=False),
        pytest.raises(CaseError, match="chinese-calendar"),
    ):
        case_transition(case=case, to_step=Step.DIAGNOSIS, actor=alice)
    fresh = Case.objects.get(pk=case.pk)
    assert (fresh.step, fresh.version, fresh.events.count()) == (Step.INTAKE, 1, 1)


def test_escalation_that_cannot_count_a_new_due_time_logs_it_and_changes_nothing(
    alice: User, bob: User, caplog: pytest.LogCaptureFixture
) -> None:
    _, last = known_years()
    with time_machine.travel(f"{last + 1}-12-29 09:00:00+08:00", tick=False):
        stuck = make_case(alice, serial="1", title="跨年的案例")
    with time_machine.travel(f"{last + 1}-12-20 09:00:00+08:00", tick=False) as clock:
        moves = make_case(alice, serial="2", title="年内的案例")
        clock.shift(timedelta(days=4))
        assert cases_escalate_overdue() == 1
    assert Case.objects.get(pk=moves.pk).escalations == 1
    with time_machine.travel(f"{last + 2}-01-05 09:00:00+08:00", tick=False):
        assert cases_escalate_overdue() == 0
    assert Case.objects.get(pk=stuck.pk).escalations == 0
    assert "chinese-calendar" in caplog.text
