"""The integrity benchmark (bench/integrity.py, generator bench/generate_integrity.py) at a toy
scale: the ground truth is kept as the plan says, the harness counts caught and false flags
correctly (checked with small detectors written here and with an oracle that flags exactly the
planted records), survives detectors and a scorer that are not written yet, and prints one JSON
line with the promised fields. No database."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from bench import integrity
from bench.generate_integrity import END, KIND_SUBJECT, START, Plan, Truth, generate
from kejiyun.integrity.models import Kind, Subject
from kejiyun.integrity.rows import Finding, Snapshot
from kejiyun.performance.scoring import CentreMeasures, CentreScore, ItemSpec, Line

SCALE = 0.03
SEED = 7


@pytest.fixture(scope="module")
def generated() -> tuple[Plan, Snapshot, Truth]:
    plan = Plan(scale=SCALE, seed=SEED)
    snapshot, truth = generate(plan)
    return plan, snapshot, truth


def quiet(_: str) -> None:
    pass


# --- Small real detectors and a small real scorer, for the harness only --------------------------


def shingles(text: str) -> set[str]:
    t = re.sub(r"\W", "", text)
    return {t[i : i + 3] for i in range(len(t) - 2)}


def detect_copied_problems(snapshot: Snapshot) -> list[Finding]:
    """Demands whose problem statement mostly repeats another demand's (3-gram containment)."""
    grams = {d.id: shingles(d.problem) for d in snapshot.demands}
    index: dict[str, set[int]] = defaultdict(set)
    for did, gs in grams.items():
        for g in gs:
            index[g].add(did)
    out = []
    for d in snapshot.demands:
        overlap: Counter[int] = Counter()
        for g in grams[d.id]:
            overlap.update(index[g] - {d.id})
        if overlap and max(overlap.values()) >= 0.7 * len(grams[d.id]):
            out.append(
                Finding(
                    Kind.DUPLICATE_DEMAND,
                    Subject.DEMAND,
                    d.id,
                    d.centre_id,
                    d.submitted_at.date(),
                    0.8,
                    "问题描述与其他需求高度重复",
                )
            )
    return out


def detect_idle_twins(snapshot: Snapshot) -> list[Finding]:
    """Idle accounts whose profile, without its first clause, five or more others share."""
    rest = {a.id: a.profile_text.partition("，")[2] for a in snapshot.accounts}
    counts = Counter(r for r in rest.values() if r)
    return [
        Finding(
            Kind.QUOTA_ACCOUNT,
            Subject.ACCOUNT,
            a.id,
            a.centre_id,
            a.created_at.date(),
            0.7,
            "模板资料且无活动",
        )
        for a in snapshot.accounts
        if a.activity <= 1 and counts[rest[a.id]] >= 6
    ]


def oracle(truth: Truth, kind: Kind) -> Any:
    def detect(snapshot: Snapshot) -> list[Finding]:
        return [
            Finding(k, s, i, None, START.date(), 1.0, "植入")
            for k, s, i in sorted(truth.planted)
            if k == kind
        ]

    return detect


def not_written(snapshot: Snapshot) -> list[Finding]:
    raise NotImplementedError


def broken(snapshot: Snapshot) -> list[Finding]:
    raise KeyError("boom")


def sum_of_shares(
    items: Sequence[ItemSpec], centres: Sequence[CentreMeasures]
) -> list[CentreScore]:
    """Each item's net value over the best centre's, times its weight; ranks 1, 1, 3."""
    best = {
        i.key: max((c.measures[i.key].net or Decimal(0) for c in centres), default=Decimal(0))
        for i in items
    }
    scored = []
    for c in centres:
        lines: list[Line] = []
        for i in items:
            net = c.measures[i.key].net or Decimal(0)
            frac = net / best[i.key] if best[i.key] else Decimal(0)
            pts = (i.weight * frac).quantize(Decimal("0.01"))
            m = c.measures[i.key]
            lines.append(Line(i.key, i.label, m.raw, m.discount, m.net, frac, i.weight, pts, ""))
        scored.append((sum((ln.points for ln in lines), Decimal(0)), c, lines))
    scored.sort(key=lambda t: (-t[0], t[1].code))
    out, rank = [], 0
    for n, (total, c, lines) in enumerate(scored, start=1):
        if n == 1 or total != scored[n - 2][0]:
            rank = n
        out.append(CentreScore(c.centre_id, c.code, c.name, total, rank, tuple(lines)))
    return out


# --- Ground truth bookkeeping ------------------------------------------------------------------


def test_planted_counts_per_kind_are_as_the_plan_configures(
    generated: tuple[Plan, Snapshot, Truth],
) -> None:
    plan, _, truth = generated
    expected = plan.planted_expected()
    assert truth.by_kind() == expected
    assert all(expected[k.value] > 0 for k in KIND_SUBJECT)
    assert len(truth.gamed_centres) == round(0.15 * 183) == len(plan.gamed)
    assert all(len(kinds) >= 2 for kinds in truth.gamed_centres.values())


def test_planted_records_exist_in_gamed_centres_and_are_not_look_alikes(
    generated: tuple[Plan, Snapshot, Truth],
) -> None:
    _, snap, truth = generated
    centre_of = {
        Subject.DEMAND: {d.id: d.centre_id for d in snap.demands},
        Subject.ACCOUNT: {a.id: a.centre_id for a in snap.accounts},
        Subject.CASE: {c.id: c.centre_id for c in snap.cases},
    }
    for kind, subject, sid in truth.planted:
        assert KIND_SUBJECT[kind] == subject
        assert centre_of[subject][sid] in truth.gamed_centres
        assert (subject, sid) not in truth.lookalike
    assert truth.weak <= truth.planted
    assert 0 < len(truth.weak) < len(truth.planted)
    labels = set(truth.lookalike.values())
    assert {"campus_burst", "class_reading", "quick_fix", "popular_expert"} <= labels
    assert {"same_district_expert", "repeat_business", "training_session"} <= labels


def test_the_snapshot_stays_inside_the_year_and_is_seeded(
    generated: tuple[Plan, Snapshot, Truth],
) -> None:
    _, snap, truth = generated
    assert all(START <= d.submitted_at < END for d in snap.demands)
    assert all(c.closed_at is None or c.opened_at < c.closed_at < END for c in snap.cases)
    assert all(c.rating is None or c.rated_at is not None for c in snap.cases)
    assert all(r.finished_at is None or r.finished_at > r.opened_at for r in snap.reads)
    again, truth_again = generate(Plan(scale=SCALE, seed=SEED))
    assert again.demands[:50] == snap.demands[:50]
    assert again.cases == snap.cases
    assert truth_again.planted == truth.planted


def test_planted_templates_share_text_across_organisations_of_the_same_people(
    generated: tuple[Plan, Snapshot, Truth],
) -> None:
    _, snap, truth = generated
    planted = sorted(i for k, _, i in truth.planted if k == Kind.DUPLICATE_DEMAND)
    demands = {d.id: d for d in snap.demands}
    orgs = {o.id: o for o in snap.organisations}
    first, second = demands[planted[0]], demands[planted[1]]
    assert first.organisation_id != second.organisation_id
    assert orgs[first.organisation_id].person_keys & orgs[second.organisation_id].person_keys
    assert len(shingles(first.problem) & shingles(second.problem)) >= 0.6 * len(
        shingles(first.problem)
    )


def test_reused_evidence_is_on_at_least_two_hollow_closures(
    generated: tuple[Plan, Snapshot, Truth],
) -> None:
    _, snap, truth = generated
    hollow = [c for c in snap.cases if (Kind.HOLLOW_CLOSURE, Subject.CASE, c.id) in truth.planted]
    uses = Counter(c.evidence_sha256 for c in snap.cases if c.evidence_sha256)
    shared = [c for c in hollow if uses[c.evidence_sha256] > 1]
    assert shared and all(uses[c.evidence_sha256] >= 2 for c in shared)


# --- The harness -------------------------------------------------------------------------------


def test_caught_and_false_flags_are_counted_against_the_ground_truth(
    generated: tuple[Plan, Snapshot, Truth],
) -> None:
    _, snap, truth = generated
    detectors = {
        Kind.DUPLICATE_DEMAND: detect_copied_problems,
        Kind.QUOTA_ACCOUNT: detect_idle_twins,
        Kind.SCRIPTED_READING: not_written,
        Kind.SELF_DEALING: broken,
        Kind.HOLLOW_CLOSURE: oracle(truth, Kind.HOLLOW_CLOSURE),
        Kind.RATING_RING: oracle(truth, Kind.RATING_RING),
    }
    result = integrity.run(
        SCALE, SEED, detectors=detectors, scorer=sum_of_shares, say=quiet, generated=generated
    )
    kinds = result["kinds"]
    planted_any = truth.planted_subjects()
    dup = {f.subject_id for f in detect_copied_problems(snap)}
    dup_planted = {i for k, _, i in truth.planted if k == Kind.DUPLICATE_DEMAND}
    normal_demands = {d.id for d in snap.demands} - {
        i for s, i in planted_any if s == Subject.DEMAND
    }
    assert kinds["duplicate_demand"]["caught"] == round(
        len(dup & dup_planted) / len(dup_planted), 4
    )
    assert kinds["duplicate_demand"]["normal"] == len(normal_demands)
    assert kinds["duplicate_demand"]["false_flag"] == round(
        len(dup & normal_demands) / len(normal_demands), 4
    )
    assert kinds["duplicate_demand"]["caught"] > 0.5
    assert kinds["quota_account"]["caught"] > 0.5
    assert kinds["scripted_reading"]["status"] == "not implemented"
    assert kinds["scripted_reading"]["caught"] == 0.0
    assert kinds["self_dealing"]["status"] == "error"
    assert "KeyError" in kinds["self_dealing"]["error"]
    for name in ("hollow_closure", "rating_ring"):
        assert kinds[name]["caught"] == 1.0
        assert kinds[name]["false_flag"] == 0.0
    assert result["min_caught"] == 0.0
    assert result["max_false_flag"] == max(k["false_flag"] for k in kinds.values())
    assert result["ranking"] == "ok"
    assert result["targets_met"] is False


def test_with_every_planted_record_discounted_no_gamed_centre_rises(
    generated: tuple[Plan, Snapshot, Truth],
) -> None:
    _, _, truth = generated
    detectors = {kind: oracle(truth, kind) for kind in KIND_SUBJECT}
    result = integrity.run(
        SCALE, SEED, detectors=detectors, scorer=sum_of_shares, say=quiet, generated=generated
    )
    assert result["min_caught"] == 1.0
    assert result["max_false_flag"] == 0.0
    assert result["gamed_centres_rising"] == 0
    assert result["normal_centres_falling"] == 0
    assert result["gamed_centres_rising_undetected"] > 0  # gaming pays when nobody looks
    ranks = result["gamed_ranks"]
    assert len(ranks) == len(truth.gamed_centres)
    assert all(a == c for _, a, _, c in ranks)  # discounting every planted record undoes it
    assert result["targets_met"] is True


def test_the_bench_prints_one_json_line_last_even_before_the_detectors_exist(
    generated: tuple[Plan, Snapshot, Truth],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.argv", ["integrity", "--scale", str(SCALE), "--seed", str(SEED)])
    real_run = integrity.run

    def scorer_not_written(items: Any, centres: Any) -> list[CentreScore]:
        raise NotImplementedError

    monkeypatch.setattr(
        integrity,
        "run",
        lambda scale, seed: real_run(
            scale,
            seed,
            generated=generated,
            detectors=dict.fromkeys(KIND_SUBJECT, not_written),
            scorer=scorer_not_written,
        ),
    )
    integrity.main()
    last = capsys.readouterr().out.strip().splitlines()[-1]
    line = json.loads(last)
    assert line["bench"] == "integrity"
    assert set(line) >= {
        "min_caught",
        "max_false_flag",
        "gamed_centres_rising",
        "kinds",
        "sizes",
        "seconds",
        "planted",
        "lookalikes",
    }
    assert set(line["kinds"]) == {k.value for k in KIND_SUBJECT}
    assert line["planted"] == generated[0].planted_expected()
    for k in line["kinds"].values():
        assert set(k) >= {"status", "planted", "caught", "normal", "false_flag", "seconds"}

    assert {k["status"] for k in line["kinds"].values()} == {"not implemented"}
    assert line["ranking"] == "not implemented"
    assert line["gamed_centres_rising"] is None
