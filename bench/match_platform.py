"""Platform matching quality: what reaches the staff demand page, against the bare engine and
BM25 over the same expert profiles, in one run.

Data: bench/data/platform/ (80 Sichuan enterprise demands, 518 worker profiles, graded
relevance; how it was made is in bench/data/SOURCE.md).

Systems, each ranking the 518 profiles for each demand:
- bm25: the BM25 anchor of bench/match_quality.py (bm25s over rjieba tokens) over the
  profile texts;
- engine_lexical / dense / engine: `kejiyun_match.Engine` without vectors, e5 alone (cosine),
  and the engine with the same e5 vectors (what bench-match-quality calls "engine");
- platform: a throwaway SQLite database (var/bench-cache/platform/), migrated, with regions,
  service centres and classifications loaded; the profiles come in through the worker Excel
  import (as a centre registers paper forms) and, where the import has no column for them, each
  worker's disciplines, industries and service modes through the profile service (as the worker
  completes the profile form); the demands through the demand Excel import. Each demand's
  ranked experts are read through `kejiyun.matching.selectors.experts_for_demand` — what the
  staff demand page (/matching/demands/<id>/) shows. The embedder is the platform's setting
  (MATCH_EMBEDDER, passed through); when that is not e5, a second platform run with e5 is
  reported as platform_e5.

Profile text for the anchors and the bare engine is the one the platform builds
(title, employer, 专业领域, 关键词, 能力描述); a demand's text is its title, description,
要解决的问题, 目前现状 and 目标指标.

Run: make bench-match-platform. The last line of output is one JSON object.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import CACHE, DATA, read_jsonl
from bench.match_quality import QueryTable, bm25_run, dense_run
from kejiyun_match import E5Embedder, Engine, MatchQuery, Profile, Scores, evaluate, read_qrels
from kejiyun_match._cli import VectorCache

SET = DATA / "platform"
WORK = CACHE / "platform"
NEGATIVE_FIELDS = frozenset({"监管", "管理", "服务", "其他"})  # see experts_source.py


def expert_text(e: Mapping[str, Any]) -> str:
    parts = (e["title"], e["organisation"], e["fields"], e["keywords"], e["capability"])
    return "\n".join(str(p).strip() for p in parts if str(p).strip())


def demand_text(d: Mapping[str, Any]) -> str:
    parts = (d["title"], d["description"], d["problem"], d["current_state"])
    return "\n".join(p.strip() for p in (*parts, d["target_indicators"]) if p.strip())


def engine_run(
    experts: list[dict[str, Any]],
    demands: list[dict[str, Any]],
    doc_vecs: np.ndarray | None,
    query_vecs: np.ndarray | None,
) -> dict[str, list[str]]:
    embedder = None
    if query_vecs is not None:
        texts = [demand_text(d) for d in demands]
        embedder = QueryTable(dict(zip(texts, query_vecs, strict=True)))
    engine = Engine(embedder=embedder)
    engine.add([Profile(id=e["id"], text=expert_text(e)) for e in experts], vectors=doc_vecs)
    engine.commit()
    return {
        d["id"]: [r.id for r in engine.search(MatchQuery(text=demand_text(d)), top_k=100)]
        for d in demands
    }


# --- The platform pipeline --------------------------------------------------------------


def platform_setup() -> None:
    """Point Django at a fresh throwaway database under var/bench-cache/platform/ and set it
    up as a deployment would (migrate, regions, centres, classifications)."""
    if WORK.exists():
        shutil.rmtree(WORK)
    WORK.mkdir(parents=True)
    # Never the developer's database: DATABASE_URL is replaced, not read.
    os.environ["DATABASE_URL"] = f"sqlite:///{WORK / 'platform.sqlite3'}"
    os.environ["MATCH_INDEX_DIR"] = str(WORK / "match-index")
    os.environ.setdefault("DEBUG", "1")  # development keys; nothing is served
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kejiyun.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from kejiyun.regions.services import regions_load, service_centres_ensure
    from kejiyun.talent.services import disciplines_load, industries_load

    call_command("migrate", verbosity=0)
    regions_load()
    service_centres_ensure(province_code="510000")
    disciplines_load()
    industries_load()


def _xlsx(sheet: str, headers: list[str], rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = sheet
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _import(kind: str, rows: list[dict[str, str]], staff: Any) -> Any:
    """Fill the importer's own columns by header, upload and confirm, as staff would."""
    from kejiyun.spreadsheets.importers import get_importer, import_batch_report
    from kejiyun.spreadsheets.services import import_batch_apply, import_batch_create

    importer = get_importer(kind)
    headers = [c.header for c in importer.columns]
    data = _xlsx(importer.sheet_title, headers, [[r.get(h, "") for h in headers] for r in rows])
    batch = import_batch_create(kind=kind, actor=staff, data=data, filename=f"{kind}.xlsx")
    report = import_batch_report(batch=batch, user=staff)
    if report.has_errors:
        problems = [f"row {o.row}: {o.issues}" for o in report.outcomes if o.is_error][:10]
        raise SystemExit(f"{kind} import refused rows:\n" + "\n".join(problems))
    result = import_batch_apply(batch=batch, actor=staff, valid_rows_only=False)
    if result.created != len(rows):
        raise SystemExit(f"{kind} import created {result.created} of {len(rows)} rows")
    return importer


def _classification_column(headers: list[str], word: str) -> str | None:
    return next((h for h in headers if word in h), None)


def platform_load(experts: list[dict[str, Any]], demands: list[dict[str, Any]]) -> dict[int, str]:
    """Load the set through the platform; returns TalentProfile pk -> expert id."""
    from kejiyun.accounts.models import User
    from kejiyun.accounts.services import staff_create
    from kejiyun.accounts.validators import uscc_check_character
    from kejiyun.regions.models import Region
    from kejiyun.spreadsheets.importers import get_importer
    from kejiyun.talent.models import Discipline, Industry, ServiceMode, TalentProfile
    from kejiyun.talent.services import ProfileData, talent_profile_update

    staff = staff_create(
        username="bench-province",
        display_name="基准测试省级工作人员",
        password="Bench-Only-Not-A-Login-7",  # noqa: S106 - throwaway database
        centre_region=Region.objects.get(code="510000"),
    )
    # Workers: the paper registration template, with whatever classification columns it has.
    headers = [c.header for c in get_importer("workers").columns]
    columns = {
        "disciplines": _classification_column(headers, "学科"),
        "industries": _classification_column(headers, "行业"),
        "service_modes": _classification_column(headers, "服务方式"),
    }
    worker_rows = []
    for e in experts:
        row = {
            "姓名": e["name"],
            "手机号": e["mobile"],
            "所在区县代码": e["region"],
            "工作单位": e["organisation"],
            "职称": e["title"],
            "专业领域": e["fields"],
            "关键词": e["keywords"],
            "能力描述": e["capability"],
        }
        for key, header in columns.items():
            if header is not None:
                row[header] = "、".join(e[key])
        worker_rows.append(row)
    _import("workers", worker_rows, staff)
    by_mobile = {e["mobile"]: e for e in experts}
    profiles = {
        tp.pk: tp for tp in TalentProfile.objects.select_related("user").filter(user__role="worker")
    }
    ids = {pk: by_mobile[tp.user.mobile]["id"] for pk, tp in profiles.items()}
    # What the import could not take, each worker adds on the profile form.
    missing = [key for key, header in columns.items() if header is None]
    if missing:
        modes = {str(label): int(value) for value, label in ServiceMode.choices}
        disciplines = {d.name: d for d in Discipline.objects.order_by("code")[::-1]}
        industries = {i.name.strip(): i for i in Industry.objects.order_by("code")[::-1]}
        for tp in profiles.values():
            e = by_mobile[tp.user.mobile]
            if not any(e[key] for key in missing):
                continue
            talent_profile_update(
                profile=tp,
                actor=tp.user,
                expected_version=tp.version,
                data=ProfileData(
                    employer=tp.employer,
                    title=tp.title,
                    fields=tp.fields,
                    keywords=tp.keywords,
                    capability=tp.capability,
                    service_modes=[modes[m] for m in e["service_modes"]]
                    if "service_modes" in missing
                    else tp.service_mode_values,
                    capacity=tp.capacity,
                    disciplines=[disciplines[n] for n in e["disciplines"]]
                    if "disciplines" in missing
                    else list(tp.disciplines.all()),
                    industries=[industries[n] for n in e["industries"]]
                    if "industries" in missing
                    else list(tp.industries.all()),
                ),
            )
    # Demands: the paper demand template, one organisation per row (USCC made up, valid).
    demand_rows = []
    for number, d in enumerate(demands, start=1):
        first17 = f"91{d['region']}{number:09d}"
        demand_rows.append(
            {
                "企业名称": d["organisation"],
                "统一社会信用代码": first17 + uscc_check_character(first17),
                "所在区县代码": d["region"],
                "需求名称": d["title"],
                "需求描述": d["description"],
                "类别": d["category"],
                "所属行业": d["industry"],
                "要解决的问题": d["problem"],
                "目前现状": d["current_state"],
                "目标指标": d["target_indicators"],
                "预算范围": d["budget"],
            }
        )
    _import("demands", demand_rows, staff)
    assert User.objects.filter(role="worker").count() == len(experts)
    return ids


def platform_run(demands: list[dict[str, Any]], ids: dict[int, str]) -> dict[str, list[str]]:
    """Each demand's experts as the staff demand page gets them."""
    from kejiyun.demands.models import Demand
    from kejiyun.matching import index
    from kejiyun.matching.selectors import experts_for_demand

    index.match_index_reset()
    compute: Callable[[], object] | None = None
    try:  # the periodic job that embeds off the request path, where the platform has one
        from kejiyun.matching.embeddings import (  # type: ignore[import-not-found]
            match_embeddings_compute as compute,
        )
    except ImportError:
        compute = index.match_index_rebuild
    compute()
    by_title = {
        d.title: d
        for d in Demand.objects.select_related("region", "organisation", "region__parent")
    }
    run = {}
    for d in demands:
        rows = experts_for_demand(demand=by_title[d["title"]], top_k=10)
        run[d["id"]] = [ids[row.profile.pk] for row in rows]
    return run


# --- Report -----------------------------------------------------------------------------


def hard_negatives_at_10(
    run: Mapping[str, list[str]], truth: Mapping[str, tuple[str, str]]
) -> float:
    """Share of top-10 places taken by regulators, managers, services and other fields."""
    slots = [e for ranked in run.values() for e in ranked[:10]]
    return sum(truth[e][0] in NEGATIVE_FIELDS for e in slots) / max(1, len(slots))


def main() -> int:
    demands = read_jsonl(SET / "demands.jsonl")
    experts = [json.loads(line) for line in (SET / "experts.jsonl").read_text("utf-8").splitlines()]
    with (SET / "qrels.tsv").open(encoding="utf-8") as fh:
        qrels = read_qrels(fh)
    truth = {
        line.split("\t")[0]: tuple(line.split("\t")[1:3])
        for line in (SET / "truth.tsv").read_text("utf-8").splitlines()
    }
    print(f"set: {len(demands)} demands, {len(experts)} expert profiles", flush=True)

    runs: dict[str, dict[str, list[str]]] = {}
    corpus = [{"id": e["id"], "text": expert_text(e)} for e in experts]
    queries = [{"id": d["id"], "text": demand_text(d)} for d in demands]
    runs["bm25"] = bm25_run(corpus, queries)
    cache = VectorCache(CACHE / "vectors", E5Embedder())
    started = time.perf_counter()
    doc_vecs = cache.get([c["text"] for c in corpus], queries=False)
    query_vecs = cache.get([q["text"] for q in queries], queries=True)
    print(f"e5 vectors ready in {time.perf_counter() - started:.0f} s", flush=True)
    runs["dense"] = dense_run(corpus, queries, doc_vecs, query_vecs)
    runs["engine_lexical"] = engine_run(experts, demands, None, None)
    runs["engine"] = engine_run(experts, demands, doc_vecs, query_vecs)

    started = time.perf_counter()
    platform_setup()
    ids = platform_load(experts, demands)
    print(f"platform database loaded in {time.perf_counter() - started:.0f} s", flush=True)
    from django.conf import settings

    embedder = str(settings.MATCH_EMBEDDER)
    started = time.perf_counter()
    runs["platform"] = platform_run(demands, ids)
    print(f"platform ({embedder}) ranked in {time.perf_counter() - started:.0f} s", flush=True)
    if embedder != "e5":
        settings.MATCH_EMBEDDER = "e5"
        started = time.perf_counter()
        runs["platform_e5"] = platform_run(demands, ids)
        print(f"platform (e5) ranked in {time.perf_counter() - started:.0f} s", flush=True)

    scores: dict[str, Scores] = {name: evaluate(run, qrels) for name, run in runs.items()}
    # The same with grade 1 counted as 0: does a system put the specialists first, or only
    # people of the right field?
    strict_qrels = {q: {e: g for e, g in judged.items() if g >= 2} for q, judged in qrels.items()}
    strict = {name: evaluate(run, strict_qrels).ndcg_at_10 for name, run in runs.items()}
    negatives = {name: hard_negatives_at_10(run, truth) for name, run in runs.items()}
    print(f"{'system':<16}{'nDCG@10':>9}{'R@10':>8}{'MRR@10':>8}{'strict':>8}{'neg@10':>8}")
    for name, s in scores.items():
        print(
            f"{name:<16}{s.ndcg_at_10:>9.4f}{s.recall_at_10:>8.4f}{s.mrr_at_10:>8.4f}"
            f"{strict[name]:>8.4f}{negatives[name]:>8.3f}"
        )
    # The runs, for looking at what each system put where (TREC format).
    (WORK / "runs").mkdir(exist_ok=True)
    for name, run in runs.items():
        with (WORK / "runs" / f"{name}.txt").open("w", encoding="utf-8") as out:
            for query_id, ranked in run.items():
                for rank, expert in enumerate(ranked[:10], start=1):
                    out.write(f"{query_id} Q0 {expert} {rank} {-rank} {name}\n")
    fields = sorted({truth[d["id"]][0] for d in demands})
    print("nDCG@10 by demand field: " + ", ".join(runs))
    for field in fields:
        judged = {q: r for q, r in qrels.items() if truth[q][0] == field}
        row = [evaluate(runs[name], judged).ndcg_at_10 for name in runs]
        print(f"  {field:<8}" + "".join(f"{v:>8.3f}" for v in row) + f"  ({len(judged)})")

    report: dict[str, Any] = {"bench": "match-platform"}
    for name, s in scores.items():
        report[f"{name}_ndcg10"] = round(s.ndcg_at_10, 4)
    for name, s in scores.items():
        report[f"{name}_recall10"] = round(s.recall_at_10, 4)
        report[f"{name}_mrr10"] = round(s.mrr_at_10, 4)
        report[f"{name}_ndcg10_strict"] = round(strict[name], 4)
        report[f"{name}_neg10"] = round(negatives[name], 4)
    report["platform_embedder"] = embedder
    report["demands"] = scores["platform"].queries
    report["experts"] = len(experts)
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
