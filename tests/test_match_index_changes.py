"""The match index follows the change log: edits, deletions, declines and new processes."""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from kejiyun.accounts.models import Organisation, User
from kejiyun.cases.dockings.services import docking_respond, docking_send
from kejiyun.cases.models import Step
from kejiyun.cases.workflow.services import case_open, case_transition
from kejiyun.matching import index
from kejiyun.matching.index import experts_engine, match_index_reset, match_index_sync
from kejiyun.matching.selectors import experts_for_demand
from kejiyun.matchlog.models import IndexChange
from kejiyun.matchlog.services import EXPERTS, index_change_record, index_changes_prune
from tests.builders import make_tea_demand, make_tea_expert

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("match_index")]


def names(demand: Any) -> list[str]:
    return [r.profile.user.username for r in experts_for_demand(demand=demand)]


def test_an_edit_logged_in_the_change_log_is_seen_by_the_next_query_without_a_rebuild(
    tea_company: Organisation, monkeypatch: pytest.MonkeyPatch
):
    tina = make_tea_expert()
    demand = make_tea_demand(tea_company)
    assert names(demand) == ["tina"]
    engine = experts_engine()
    builds: list[str] = []
    real_build = index._build
    monkeypatch.setattr(index, "_build", lambda kind: builds.append(kind) or real_build(kind))

    tina.fields, tina.keywords = "畜牧学", "生猪、养殖"
    tina.capability = "从事生猪规模化养殖。"
    tina.save()
    index_change_record(kind=EXPERTS, object_ids=[tina.pk])

    assert names(demand) == []
    assert experts_engine() is engine
    assert builds == []


def test_a_deleted_profile_logged_in_the_change_log_disappears(tea_company: Organisation):
    tina = make_tea_expert()
    nina = make_tea_expert("nina", "13900000005")
    demand = make_tea_demand(tea_company)
    assert sorted(names(demand)) == ["nina", "tina"]
    pk = nina.pk
    nina.user.delete()
    index_change_record(kind=EXPERTS, object_ids=[pk])
    assert names(demand) == ["tina"]
    assert tina.pk in {r.profile.pk for r in experts_for_demand(demand=demand)}


def test_rows_added_without_a_log_entry_still_trigger_a_rebuild(tea_company: Organisation):
    make_tea_expert()
    demand = make_tea_demand(tea_company)
    assert names(demand) == ["tina"]
    make_tea_expert("nina", "13900000005")  # written directly, as bulk loaders do
    assert sorted(names(demand)) == ["nina", "tina"]


def test_a_new_process_opens_the_saved_index_and_replays_only_the_tail(
    tea_company: Organisation, match_index: Path, monkeypatch: pytest.MonkeyPatch
):
    tina = make_tea_expert()
    pigs = make_tea_demand(
        tea_company,
        title="生猪规模化养殖技术",
        description="猪场需要生猪规模化养殖指导。",
        industry="畜牧学",
    )
    call_command("rebuild_match_index", stdout=io.StringIO())
    assert "生猪" not in experts_for_demand(demand=pigs)[0].matched_terms_label
    tina.fields, tina.keywords = "畜牧学", "生猪、养殖、疫病防控"
    tina.save()
    index_change_record(kind=EXPERTS, object_ids=[tina.pk])
    cursor = IndexChange.objects.get().pk

    match_index_reset()
    monkeypatch.setattr(index, "_build", lambda kind: pytest.fail("rebuilt instead of replaying"))
    assert "生猪" in experts_for_demand(demand=pigs)[0].matched_terms_label

    assert match_index_sync() == {"experts": 0, "demands": 0, "teams": 0, "results": 0}
    saved = sorted(p.name for p in match_index.iterdir() if p.name.startswith("experts"))
    assert saved == [f"experts-none-1-{tina.pk}-{cursor}"]


def test_two_processes_replay_the_same_saved_index_each_into_its_own_copy(
    tea_company: Organisation, match_index: Path
):
    """Two gunicorn workers opened one saved index and both replayed a docking answer into
    it: the second writer met tantivy's lock and the page answered 500 (issue 16 load test)."""
    tina = make_tea_expert()
    pigs = make_tea_demand(
        tea_company,
        title="生猪规模化养殖技术",
        description="猪场需要生猪规模化养殖指导。",
        industry="畜牧学",
    )
    call_command("rebuild_match_index", stdout=io.StringIO())
    saved, stamp = index._latest_saved(EXPERTS)  # type: ignore[misc]
    before = sorted(p.name for p in saved.rglob("*"))
    first = index._load_private(saved)
    second = index._load_private(saved)  # another process, the same saved index
    tina.fields, tina.keywords = "畜牧学", "生猪、养殖、疫病防控"
    tina.save()
    index_change_record(kind=EXPERTS, object_ids=[tina.pk])
    now = index.current_stamp(EXPERTS)
    for engine in (first, second):
        built = index._Built(
            engine, stamp, index._read_at(saved), replayed_at=index._read_at(saved)
        )
        assert index._replay(EXPERTS, built, now)
    assert sorted(p.name for p in saved.rglob("*")) == before  # the saved index is untouched
    assert len(first) == len(second) == 1
    assert "生猪" in experts_for_demand(demand=pigs)[0].matched_terms_label


def test_an_expert_who_declined_a_kind_of_demand_ranks_lower_for_it(
    alice: User, tea_company: Organisation
):
    tina = make_tea_expert()
    nina = make_tea_expert("nina", "13900000005")
    first = make_tea_demand(tea_company)
    case = case_open(demand=first, actor=alice)
    for step in (Step.DIAGNOSIS, Step.MATCHING):
        case_transition(case=case, to_step=step, actor=alice)
    before = names(make_tea_demand(tea_company, title="茶叶病虫害绿色防控技术（二期）"))
    declined = tina if before[0] == "tina" else nina
    docking = docking_send(case=case, expert=declined, actor=alice)
    docking_respond(docking=docking, actor=declined.user, accept=False, reason="不做病虫害")
    second = make_tea_demand(tea_company, title="茶叶病虫害绿色防控技术（三期）")
    after = names(second)
    assert after[-1] == declined.user.username
    result = next(r for r in experts_for_demand(demand=second) if r.profile == declined)
    assert result.result.explanation.feedback < 0


def test_old_log_entries_are_pruned(tea_company: Organisation):
    tina = make_tea_expert()
    index_change_record(kind=EXPERTS, object_ids=[tina.pk, tina.pk])
    assert IndexChange.objects.count() == 1
    assert index_changes_prune() == 0
    from datetime import timedelta

    from django.utils import timezone

    assert index_changes_prune(now=timezone.now() + timedelta(days=8)) == 1
    with pytest.raises(ValueError):
        index_change_record(kind="nonsense", object_ids=[1])


def test_a_change_that_commits_after_a_later_one_is_still_applied(tea_company: Organisation):
    """Ids are handed out at insert, not at commit: a lower id can appear after a higher one
    was applied. The log count catches it and recent rows are read again."""
    tina = make_tea_expert()
    nina = make_tea_expert("nina", "13900000005")
    demand = make_tea_demand(tea_company)
    assert sorted(names(demand)) == ["nina", "tina"]
    IndexChange.objects.create(id=10_000, kind=EXPERTS, object_id=tina.pk)
    assert sorted(names(demand)) == ["nina", "tina"]  # applied; the cursor is now 10,000
    nina.fields, nina.keywords = "畜牧学", "生猪、养殖"
    nina.capability = "从事生猪规模化养殖。"
    nina.save()
    IndexChange.objects.create(id=5_000, kind=EXPERTS, object_id=nina.pk)  # the late commit
    assert names(demand) == ["tina"]


def test_a_new_process_re_reads_changes_from_when_the_saved_rows_were_read(
    tea_company: Organisation, match_index: Path
):
    """A slow build saves long after it read the rows: the saved index remembers the read
    time, not the save time, so a change that committed late during the build is applied."""
    tina = make_tea_expert()
    nina = make_tea_expert("nina", "13900000005")
    demand = make_tea_demand(tea_company)
    IndexChange.objects.create(id=10_000, kind=EXPERTS, object_id=tina.pk)
    call_command("rebuild_match_index", stdout=io.StringIO())
    nina.fields, nina.keywords = "畜牧学", "生猪、养殖"
    nina.capability = "从事生猪规模化养殖。"
    nina.save()
    IndexChange.objects.create(id=5_000, kind=EXPERTS, object_id=nina.pk)
    for saved in match_index.iterdir():  # as if the save had finished ten minutes later
        later = saved.stat().st_mtime + 600
        os.utime(saved, (later, later))
    match_index_reset()
    assert names(demand) == ["tina"]
