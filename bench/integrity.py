"""Integrity benchmark: do the gaming detectors catch planted gaming and leave normal records
alone, and does a centre that games rise in the ranking?

No database. `bench/generate_integrity.py` builds one synthetic province's year of activity as a
`kejiyun.integrity.rows.Snapshot` with planted gaming of every kind in 15% of the centres and
normal look-alikes everywhere; the ground truth is kept aside. Then:

1. every detector of `kejiyun.integrity.detectors.DETECTORS` runs on the snapshot (timed); a
   detector that raises NotImplementedError is reported "not implemented" (caught 0); for
   each kind: planted records, the share of them flagged (caught), the normal records the kind
   looks at (its subject type; see `ELIGIBLE`) and the share of normal records flagged (false
   flag), and the false-flag share of every class of normal look-alike;
2. each centre's figures for a default scheme (`SCHEME`) are computed from the snapshot three
   ways and ranked with `kejiyun.performance.scoring.score()`: (a) without the planted gaming
   (the ground truth removed), (b) with it and no detection, (c) with it and every flagged
   record discounted (`Measure.discount`); `gamed_centres_rising` counts gamed centres that
   rank higher (a smaller rank number) in (c) than in (a).

The last line printed is one JSON object ("bench": "integrity").

Run: make bench-integrity   (BENCH_ARGS="--scale 0.2" for a quick run).
"""

from __future__ import annotations

import argparse
import json
import os
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.generate_integrity import Plan, Truth
    from kejiyun.integrity.models import Kind, Subject
    from kejiyun.integrity.rows import Finding, Snapshot
    from kejiyun.performance.scoring import CentreMeasures, CentreScore, ItemSpec

    Detector = Callable[[Snapshot], list[Finding]]
    Scorer = Callable[[list[ItemSpec], list[CentreMeasures]], list[CentreScore]]

CAUGHT_TARGET = 0.95
FALSE_FLAG_TARGET = 0.02

# The default scheme: (indicator key, label, weight, normalisation, target).
SCHEME = (
    ("demands_published", "需求发布", "20", "minmax", None),
    ("workers_registered", "科技工作者注册", "15", "minmax", None),
    ("cases_closed", "结案", "20", "minmax", None),
    ("solved_with_evidence", "有佐证的解决", "20", "minmax", None),
    ("satisfaction_mean", "满意度均分", "15", "target", "4.8"),
    ("read_to_end_share", "读完率", "10", "target", "0.7"),
)


def scheme_items() -> list[ItemSpec]:
    from kejiyun.performance.models import Normalisation
    from kejiyun.performance.scoring import ItemSpec

    return [
        ItemSpec(
            key=key,
            label=label,
            weight=Decimal(weight),
            normalisation=Normalisation(norm),
            target=Decimal(target) if target is not None else None,
            better=1,
        )
        for key, label, weight, norm, target in SCHEME
    ]


# --- Detection ---------------------------------------------------------------------------------


def run_detectors(
    snapshot: Snapshot, detectors: Mapping[Kind, Detector], say: Callable[[str], None]
) -> dict[Kind, dict[str, Any]]:
    """Each detector's findings and time; status "ok", "not implemented" or "error"."""
    out: dict[Kind, dict[str, Any]] = {}
    for kind, detect in detectors.items():
        started = time.perf_counter()
        try:
            findings = detect(snapshot)
            status, error = "ok", ""
        except NotImplementedError:
            findings, status, error = [], "not implemented", ""
        except Exception as exc:
            findings, status, error = [], "error", f"{type(exc).__name__}: {exc}"
            say(traceback.format_exc())
        seconds = time.perf_counter() - started
        out[kind] = {"findings": findings, "status": status, "error": error, "seconds": seconds}
        say(f"  {kind.value:18} {status:16} {len(findings):7,} findings  {seconds:8.2f} s")
    return out


def eligible(snapshot: Snapshot) -> dict[Kind, tuple[Subject, set[int]]]:
    """The records each kind looks at (before removing the planted ones)."""
    from kejiyun.integrity.models import Kind, Subject

    readers = {r.account_id for r in snapshot.reads}
    registered = {
        a.id for a in snapshot.accounts if a.role != "staff" and a.created_at >= snapshot.start
    }
    with_experts = {c.id for c in snapshot.cases if c.expert_ids}
    closed = {c.id for c in snapshot.cases if c.closed_at is not None}
    rated = {c.id for c in snapshot.cases if c.rating is not None}
    return {
        Kind.DUPLICATE_DEMAND: (Subject.DEMAND, {d.id for d in snapshot.demands}),
        Kind.SCRIPTED_READING: (Subject.ACCOUNT, readers),
        Kind.QUOTA_ACCOUNT: (Subject.ACCOUNT, registered),
        Kind.SELF_DEALING: (Subject.CASE, with_experts),
        Kind.HOLLOW_CLOSURE: (Subject.CASE, closed),
        Kind.RATING_RING: (Subject.CASE, rated),
    }


ELIGIBLE = {
    "duplicate_demand": "every demand",
    "scripted_reading": "accounts with at least one reading session",
    "quota_account": "non-staff accounts registered in the year",
    "self_dealing": "cases with at least one accepted expert",
    "hollow_closure": "closed cases",
    "rating_ring": "rated cases",
}


def evaluate(
    snapshot: Snapshot, truth: Truth, results: Mapping[Kind, Mapping[str, Any]]
) -> dict[str, Any]:
    """Per kind: caught and false-flag shares; per look-alike class: false-flag share."""
    from bench.generate_integrity import KIND_SUBJECT

    planted_any = truth.planted_subjects()
    scope = eligible(snapshot)
    kinds: dict[str, Any] = {}
    flagged_any: set[tuple[Subject, int]] = set()
    for kind, subject in KIND_SUBJECT.items():
        res = results.get(kind, {"findings": [], "status": "not run", "seconds": 0.0})
        findings: list[Finding] = res["findings"]
        flagged = {(f.subject_type, f.subject_id) for f in findings if f.kind == kind}
        flagged_any |= flagged
        planted = {(s, i) for k, s, i in truth.planted if k == kind}
        weak = {(s, i) for k, s, i in truth.weak if k == kind}
        strong = planted - weak
        _, pool = scope[kind]
        normal = {(subject, i) for i in pool} - planted_any
        normal_flagged = {key for key in flagged if key not in planted_any and key[0] == subject}
        other_subject = {key for key in flagged if key[0] != subject}
        kinds[kind.value] = {
            "status": res["status"],
            "planted": len(planted),
            "caught": share(len(flagged & planted), len(planted)),
            "caught_strong": share(len(flagged & strong), len(strong)),
            "caught_weak": share(len(flagged & weak), len(weak)),
            "normal": len(normal),
            "false_flag": share(len(normal_flagged), len(normal)),
            "normal_flagged": len(normal_flagged),
            "planted_other_kind_flagged": len((flagged & planted_any) - planted),
            "other_subject_flagged": len(other_subject),
            "findings": len(findings),
            "seconds": round(res["seconds"], 3),
        }
        if res.get("error"):
            kinds[kind.value]["error"] = res["error"]
    classes: dict[str, list[tuple[Subject, int]]] = defaultdict(list)
    for key, label in truth.lookalike.items():
        classes[label].append(key)
    lookalikes = {
        label: {
            "records": len(keys),
            "false_flag": share(sum(1 for k in keys if k in flagged_any), len(keys)),
        }
        for label, keys in sorted(classes.items())
    }
    return {"kinds": kinds, "lookalikes": lookalikes}


def share(part: int, whole: int) -> float:
    return round(part / whole, 4) if whole else 0.0


# --- Scores ------------------------------------------------------------------------------------


def centre_figures(
    snapshot: Snapshot, drop: set[tuple[Subject, int]]
) -> dict[int, dict[str, Decimal | None]]:
    """Each centre's figures for SCHEME over the year, leaving out the records in `drop` (and
    the reading sessions of dropped accounts)."""
    from kejiyun.integrity.models import Subject

    start, end = snapshot.start, snapshot.end
    counts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    ratings: dict[int, list[int]] = defaultdict(list)
    dropped_accounts = {i for s, i in drop if s == Subject.ACCOUNT}
    for a in snapshot.accounts:
        if (
            a.role == "worker"
            and a.centre_id
            and start <= a.created_at < end
            and a.id not in dropped_accounts
        ):
            counts[a.centre_id]["workers_registered"] += 1
    for d in snapshot.demands:
        if d.centre_id and start <= d.submitted_at < end and (Subject.DEMAND, d.id) not in drop:
            counts[d.centre_id]["demands_published"] += 1
    for c in snapshot.cases:
        if c.centre_id is None or c.closed_at is None or not start <= c.closed_at < end:
            continue
        if (Subject.CASE, c.id) in drop:
            continue
        counts[c.centre_id]["cases_closed"] += 1
        if c.outcome == "solved" and c.evidence_sha256:
            counts[c.centre_id]["solved_with_evidence"] += 1
        if c.rating is not None:
            ratings[c.centre_id].append(c.rating)
    for r in snapshot.reads:
        if r.centre_id and start <= r.opened_at < end and r.account_id not in dropped_accounts:
            counts[r.centre_id]["reads"] += 1
            if r.finished_at is not None:
                counts[r.centre_id]["reads_finished"] += 1
    out: dict[int, dict[str, Decimal | None]] = {}
    for centre_id in {*counts, *ratings}:
        n = counts[centre_id]
        rs = ratings[centre_id]
        out[centre_id] = {
            "demands_published": Decimal(n["demands_published"]),
            "workers_registered": Decimal(n["workers_registered"]),
            "cases_closed": Decimal(n["cases_closed"]),
            "solved_with_evidence": Decimal(n["solved_with_evidence"]),
            "satisfaction_mean": (
                (Decimal(sum(rs)) / Decimal(len(rs))).quantize(Decimal("0.0001")) if rs else None
            ),
            "read_to_end_share": (
                (Decimal(n["reads_finished"]) / Decimal(n["reads"])).quantize(Decimal("0.0001"))
                if n["reads"]
                else None
            ),
        }
    return out


def measures(
    plan: Plan,
    raw: dict[int, dict[str, Decimal | None]],
    net: dict[int, dict[str, Decimal | None]] | None = None,
) -> list[CentreMeasures]:
    from kejiyun.performance.scoring import CentreMeasures, Measure

    zero = Decimal(0)
    out = []
    for centre in plan.centres:
        figures = raw.get(centre.id, {})
        nets = (net or raw).get(centre.id, {})
        ms = {}
        for key, *_ in SCHEME:
            r, n = figures.get(key), nets.get(key)
            discount = (r - n) if r is not None and n is not None else zero
            note = f"扣除被标记记录后 {n}" if discount else ""
            ms[key] = Measure(raw=r, discount=discount, net=n, discount_note=note)
        out.append(CentreMeasures(centre.id, centre.code, centre.name, ms))
    return out


def rankings(
    plan: Plan,
    snapshot: Snapshot,
    truth: Truth,
    flagged: set[tuple[Subject, int]],
    scorer: Scorer,
) -> dict[str, Any]:
    items = scheme_items()
    without = centre_figures(snapshot, truth.planted_subjects())
    gamed = centre_figures(snapshot, set())
    discounted = centre_figures(snapshot, flagged)
    try:
        a = {s.centre_id: s.rank for s in scorer(items, measures(plan, without))}
        b = {s.centre_id: s.rank for s in scorer(items, measures(plan, gamed))}
        c = {s.centre_id: s.rank for s in scorer(items, measures(plan, gamed, discounted))}
    except NotImplementedError:
        return {"status": "not implemented", "centres": []}
    rows: list[dict[str, Any]] = []
    for centre_id, kinds in sorted(truth.gamed_centres.items()):
        centre = plan.centres[centre_id - 1]
        rows.append(
            {
                "centre": centre.code,
                "name": centre.name,
                "kinds": kinds,
                "rank_without_gaming": a[centre_id],
                "rank_gamed_undetected": b[centre_id],
                "rank_gamed_discounted": c[centre_id],
            }
        )
    return {
        "status": "ok",
        "centres": rows,
        "gamed_centres_rising": sum(
            1 for r in rows if r["rank_gamed_discounted"] < r["rank_without_gaming"]
        ),
        "gamed_centres_rising_undetected": sum(
            1 for r in rows if r["rank_gamed_undetected"] < r["rank_without_gaming"]
        ),
        "normal_centres_falling": sum(
            1
            for cid in a
            if cid not in truth.gamed_centres and c[cid] > a[cid]  # pushed down by false flags
        ),
    }


# --- The run -----------------------------------------------------------------------------------


def run(
    scale: float,
    seed: int,
    *,
    detectors: Mapping[Kind, Detector] | None = None,
    scorer: Scorer | None = None,
    say: Callable[[str], None] = print,
    generated: tuple[Plan, Snapshot, Truth] | None = None,
) -> dict[str, Any]:
    """Generate (unless `generated` is given), detect, score; the JSON result (also what the
    last printed line holds)."""
    from bench.generate_integrity import Plan, generate
    from kejiyun.integrity.detectors import DETECTORS
    from kejiyun.performance.scoring import score

    started = time.perf_counter()
    if generated is None:
        plan = Plan(scale=scale, seed=seed)
        snapshot, truth = generate(plan)
    else:
        plan, snapshot, truth = generated
    generation_s = time.perf_counter() - started
    sizes = {
        "centres": len(plan.centres),
        "gamed_centres": len(truth.gamed_centres),
        "accounts": len(snapshot.accounts),
        "footprints": len(snapshot.footprints),
        "organisations": len(snapshot.organisations),
        "experts": len(snapshot.experts),
        "demands": len(snapshot.demands),
        "reads": len(snapshot.reads),
        "cases": len(snapshot.cases),
    }
    say(
        f"scale {scale}, seed {seed}: generated in {generation_s:.1f} s: "
        + ", ".join(f"{v:,} {k}" for k, v in sizes.items())
    )
    say("planted: " + ", ".join(f"{k} {v:,}" for k, v in truth.by_kind().items()))
    say("detectors:")
    results = run_detectors(snapshot, detectors if detectors is not None else DETECTORS, say)
    ev = evaluate(snapshot, truth, results)
    flagged = {(f.subject_type, f.subject_id) for res in results.values() for f in res["findings"]}
    ranking = rankings(plan, snapshot, truth, flagged, scorer if scorer is not None else score)
    kinds = ev["kinds"]
    min_caught = min(k["caught"] for k in kinds.values())
    max_false_flag = max(k["false_flag"] for k in kinds.values())
    rising = ranking.get("gamed_centres_rising")
    report(kinds, ev["lookalikes"], ranking, say)
    result = {
        "bench": "integrity",
        "scale": scale,
        "seed": seed,
        "sizes": sizes,
        "planted": truth.by_kind(),
        "min_caught": min_caught,
        "max_false_flag": max_false_flag,
        "gamed_centres_rising": rising,
        "gamed_centres_rising_undetected": ranking.get("gamed_centres_rising_undetected"),
        "normal_centres_falling": ranking.get("normal_centres_falling"),
        "ranking": ranking["status"],
        # [region code, rank without gaming (a), gamed undetected (b), gamed discounted (c)]
        "gamed_ranks": [
            [
                r["centre"],
                r["rank_without_gaming"],
                r["rank_gamed_undetected"],
                r["rank_gamed_discounted"],
            ]
            for r in ranking["centres"]
        ],
        "kinds": kinds,
        "lookalikes": ev["lookalikes"],
        "targets_met": (
            min_caught >= CAUGHT_TARGET and max_false_flag <= FALSE_FLAG_TARGET and rising == 0
        ),
        "generation_s": round(generation_s, 1),
        "seconds": round(time.perf_counter() - started, 1),
    }
    return result


def report(
    kinds: dict[str, Any],
    lookalikes: dict[str, Any],
    ranking: dict[str, Any],
    say: Callable[[str], None],
) -> None:
    say("")
    header = (
        f"{'kind':18} {'status':16} {'planted':>7} {'caught':>7} {'strong':>7} {'weak':>7} "
        f"{'normal':>7} {'false':>7} {'s':>7}"
    )
    say(header)
    say("-" * len(header))
    for name, k in kinds.items():
        say(
            f"{name:18} {k['status']:16} {k['planted']:>7,} {k['caught']:>7.3f} "
            f"{k['caught_strong']:>7.3f} {k['caught_weak']:>7.3f} {k['normal']:>7,} "
            f"{k['false_flag']:>7.4f} {k['seconds']:>7.2f}"
        )
    say(f"targets: caught >= {CAUGHT_TARGET:.0%} and false flag <= {FALSE_FLAG_TARGET:.0%}")
    say("\nnormal look-alikes flagged (by any detector):")
    for label, v in lookalikes.items():
        say(f"  {label:22} {v['records']:>7,} records  {v['false_flag']:.4f}")
    say("\nranking of gamed centres: (a) without gaming, (b) gamed, undetected, (c) discounted")
    if ranking["status"] != "ok":
        say(f"  {ranking['status']}")
        return
    for r in ranking["centres"]:
        say(
            f"  {r['centre']} {r['name']:8} a {r['rank_without_gaming']:>3}  "
            f"b {r['rank_gamed_undetected']:>3}  c {r['rank_gamed_discounted']:>3}  "
            + ",".join(r["kinds"])
        )
    say(
        f"gamed centres rising: {ranking['gamed_centres_rising']} with detection, "
        f"{ranking['gamed_centres_rising_undetected']} without; "
        f"normal centres falling with detection: {ranking['normal_centres_falling']}"
    )


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kejiyun.settings")
    os.environ.setdefault("KEJIYUN_TESTING", "1")
    import django

    django.setup()  # for the models' choices only; no database is touched
    from bench.generate_integrity import SEED

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args()
    result = run(args.scale, args.seed)
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
