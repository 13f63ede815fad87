"""Audience count and recipient selection over 10 million citizen profiles, on PostgreSQL.

Setup (skipped when already done): creates the database if missing (DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/kejiyun_bench), migrates it, loads the regions, and
generates N (default 10,000,000) `CitizenProfile` rows with ONE `INSERT … SELECT
generate_series(…)` statement. Every attribute is a pseudo-random function of the series
number (PostgreSQL's `hashint8extended(n, seed)`), so the data is the same on every run:
- region: one of Sichuan's 3,111 townships (90%) or 183 counties (10%, people who gave only
  their county), uniformly — from the real GB/T 2260 codes loaded by `load_regions`;
- occupation: farmer 40%, enterprise worker 18%, elderly 15%, student 12%, other 10%,
  left-behind child 3%, cadre 2%;
- age band: under 14 12%, 14-17 6%, 18-35 25%, 36-59 35%, 60+ 22%;
- interests: one of 40 fixed sets of one to three topics (`interests` and `interest_bits`
  agree);
- consent: 70% consent, of whom 1 in 14 consented to an older policy version (so does not
  count); `user` is NULL.
Generation drops the secondary indexes, inserts with foreign-key triggers off (the region
codes are valid by construction), rebuilds the indexes and runs VACUUM ANALYZE.

Measured, each the median and p95 of --runs runs (default 9) after one warm-up run:
- audience COUNT with the typical filters (farmers, aged 36-59 and 60+, current consent)
  for a county (青川县 510822), a city (成都市 510100) and the province (510000), and for the
  county with an interest filter too — through `audience_queryset` in
  kejiyun/popsci/targeting/selectors.py, the function campaigns use;
- recipient selection: every id of the county audience, streamed from a server-side cursor
  in batches of 2,000 (`.values_list("id").iterator(chunk_size=2000)`);
- anchor: the same province count with index scans switched off (a full parallel
  sequential scan of the table), in the same run.
The last line is one JSON object.

Run: make bench-popsci-audience   (BENCH_ARGS="--rows 1000000" for a smaller table).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.common import ROOT, median, percentile

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kejiyun_bench"

OCCUPATIONS = {
    "farmer": 40,
    "enterprise_worker": 18,
    "elderly": 15,
    "student": 12,
    "other": 10,
    "left_behind_child": 3,
    "cadre": 2,
}
AGE_BANDS = {"under_14": 12, "14_17": 6, "18_35": 25, "36_59": 35, "60_plus": 22}
COUNTY, CITY, PROVINCE = "510822", "510100", "510000"
TYPICAL = {"segments": ["farmer"], "age_bands": ["36_59", "60_plus"]}


def weighted(table: dict[str, int]) -> list[str]:
    """100 entries, each value repeated by its percentage."""
    out = [value for value, pct in table.items() for _ in range(pct)]
    assert len(out) == 100
    return out


def bench_database_url() -> str:
    """BENCH_DATABASE_URL, else DATABASE_URL when it names a PostgreSQL database with
    "bench" in its name, else the default. The benchmark empties the citizen-profile table,
    so it refuses any database whose name does not say it is for benchmarks."""
    url = os.environ.get("BENCH_DATABASE_URL", "")
    app_url = os.environ.get("DATABASE_URL", "")
    if not url and app_url.startswith("postgres") and "bench" in urlsplit(app_url).path:
        url = app_url
    url = url or DEFAULT_URL
    if not url.startswith("postgres"):
        raise SystemExit(f"this benchmark needs PostgreSQL, not {url}")
    if "bench" not in urlsplit(url).path:
        raise SystemExit(f"refusing to fill {url}: its database name must contain 'bench'")
    return url


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            print(f"creating database {name}")
            conn.execute(f'CREATE DATABASE "{name}"')


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, env=env)  # noqa: S603


def interest_sets() -> list[list[str]]:
    from kejiyun.popsci.models import Topic

    topics = list(Topic.values)
    sets: list[list[str]] = []
    for i in range(40):
        size = 1 + i % 3
        sets.append(sorted({topics[(i * 7 + k * 3) % len(topics)] for k in range(size)}))
    return sets


def generate(rows: int) -> float:
    """Fill popsci_citizenprofile with `rows` generated profiles; returns seconds taken."""
    from django.db import connection

    from kejiyun.popsci.models import TOPIC_BITS

    sets = interest_sets()
    bits = [sum(TOPIC_BITS[t] for t in s) for s in sets]
    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("TRUNCATE popsci_citizenprofile CASCADE")
        cur.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = "
            "'popsci_citizenprofile' AND indexname <> 'popsci_citizenprofile_pkey'"
        )
        indexes = cur.fetchall()
        cur.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = "
            "'popsci_citizenprofile'::regclass AND contype = 'u'"
        )
        unique_constraints = {name for (name,) in cur.fetchall()}
        for name, _ in indexes:
            if name in unique_constraints:
                cur.execute(f'ALTER TABLE popsci_citizenprofile DROP CONSTRAINT "{name}"')
            else:
                cur.execute(f'DROP INDEX "{name}"')
        cur.execute(
            "SELECT array_agg(code ORDER BY code) FROM regions_region "
            "WHERE level = 'township' AND path LIKE %s",
            [f"{PROVINCE}/%"],
        )
        townships = cur.fetchone()[0]
        cur.execute(
            "SELECT array_agg(code ORDER BY code) FROM regions_region "
            "WHERE level = 'county' AND path LIKE %s",
            [f"{PROVINCE}/%"],
        )
        counties = cur.fetchone()[0]
        if not townships or not counties:
            raise SystemExit("no Sichuan regions loaded: run manage.py load_regions")
        print(
            f"generating {rows:,} profiles over {len(townships)} townships and "
            f"{len(counties)} counties …",
            flush=True,
        )
        cur.execute("SET session_replication_role = replica")  # no FK triggers
        cur.execute("SET maintenance_work_mem = '1GB'")
        cur.execute(
            """
            INSERT INTO popsci_citizenprofile (
                user_id, region_id, region_code, occupation, age_band, interests,
                interest_bits, crops, targeting_consent, consent_version, updated_at)
            SELECT NULL, r.code, r.code,
                   (%(occ)s::text[])[1 + abs(hashint8extended(g, 2)) %% 100],
                   (%(age)s::text[])[1 + abs(hashint8extended(g, 3)) %% 100],
                   (%(sets)s::jsonb[])[1 + i.k],
                   (%(bits)s::bigint[])[1 + i.k],
                   '',
                   c.consent,
                   CASE WHEN NOT c.consent THEN ''
                        WHEN abs(hashint8extended(g, 6)) %% 14 = 0 THEN '2025-06'
                        ELSE %(version)s END,
                   now()
            FROM generate_series(1, %(rows)s::bigint) AS g
            CROSS JOIN LATERAL (SELECT CASE
                WHEN abs(hashint8extended(g, 1)) %% 10 = 0
                THEN (%(counties)s::text[])[1 + abs(hashint8extended(g, 7))
                                             %% cardinality(%(counties)s::text[])]
                ELSE (%(townships)s::text[])[1 + abs(hashint8extended(g, 8))
                                             %% cardinality(%(townships)s::text[])]
                END AS code) AS r
            CROSS JOIN LATERAL (SELECT (abs(hashint8extended(g, 4)) %% 40)::int AS k) AS i
            CROSS JOIN LATERAL (SELECT abs(hashint8extended(g, 5)) %% 10 < 7 AS consent) AS c
            """,
            {
                "occ": weighted(OCCUPATIONS),
                "age": weighted(AGE_BANDS),
                "sets": [json.dumps(s) for s in sets],
                "bits": bits,
                "version": consent_version(),
                "rows": rows,
                "counties": counties,
                "townships": townships,
            },
        )
        cur.execute("SET session_replication_role = origin")
        inserted = time.perf_counter() - started
        print(f"  inserted in {inserted:.1f} s; rebuilding {len(indexes)} indexes …", flush=True)
        for name, definition in indexes:
            if name in unique_constraints:
                column = definition.rsplit("(", 1)[1].rstrip(")")
                cur.execute(
                    f'ALTER TABLE popsci_citizenprofile ADD CONSTRAINT "{name}" UNIQUE ({column})'
                )
            else:
                cur.execute(definition)
    vacuum_analyze()
    return time.perf_counter() - started


def vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE popsci_citizenprofile")


def consent_version() -> str:
    from kejiyun.popsci.targeting.selectors import current_consent_version

    return current_consent_version()


def timed(fn: Callable[[], Any], runs: int) -> tuple[dict[str, float], Any]:
    result = fn()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(median(times), 1), "p95_ms": round(percentile(times, 95), 1)}, result


def explain(count: Callable[[], Any]) -> str:
    """The scan nodes of the plan of the COUNT query that `count()` runs."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        count()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN " + captured.captured_queries[-1]["sql"])
        plan = [row[0] for row in cur.fetchall()]
    return " / ".join(line.strip().lstrip("-> ").split("  (")[0] for line in plan if "Scan" in line)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()

    url = bench_database_url()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "kejiyun.settings",
        "KEJIYUN_TESTING": "1",  # development secret key; no HTTPS redirects
    }
    os.environ.update(env)
    ensure_database(url)
    manage("migrate", "--noinput", "-v", "0", env=env)

    import django

    django.setup()
    from django.db import connection

    from kejiyun.popsci.models import CitizenProfile
    from kejiyun.popsci.targeting.selectors import audience_queryset
    from kejiyun.regions.models import Region

    if not Region.objects.filter(code=COUNTY).exists():
        manage("load_regions", env=env)

    with connection.cursor() as cur:
        cur.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE relname = 'popsci_citizenprofile'"
        )
        estimate = cur.fetchone()[0]
    existing = CitizenProfile.objects.count() if abs(estimate - args.rows) < args.rows // 20 else -1
    generation_s = None
    if args.regenerate or existing != args.rows:
        generation_s = round(generate(args.rows), 1)
        print(f"generated {args.rows:,} profiles in {generation_s} s")
    else:
        print(f"reusing {existing:,} generated profiles")
        vacuum_analyze()
    with connection.cursor() as cur:
        cur.execute("SELECT pg_total_relation_size('popsci_citizenprofile')")
        size_mib = round(cur.fetchone()[0] / 2**20)
    print(f"table with indexes: {size_mib:,} MiB; runs per figure: {args.runs} (+1 warm-up)")

    regions = {
        name: Region.objects.get(code=code)
        for name, code in (("county", COUNTY), ("city", CITY), ("province", PROVINCE))
    }
    results: dict[str, Any] = {}
    for name, region in regions.items():
        qs = audience_queryset(region=region, interests=(), **TYPICAL)
        timing, count = timed(qs.count, args.runs)
        results[f"count_{name}"] = {"audience": count, **timing}
        print(
            f"count {name:9} {region.name}: {count:>9,}  median {timing['median_ms']} ms"
            f"  p95 {timing['p95_ms']} ms   [{explain(qs.count)}]"
        )
    qs = audience_queryset(region=regions["county"], interests=["agriculture"], **TYPICAL)
    timing, count = timed(qs.count, args.runs)
    results["count_county_interest"] = {"audience": count, **timing}
    print(
        f"count county + interest 农业技术: {count:,}  median {timing['median_ms']} ms"
        f"  p95 {timing['p95_ms']} ms   [{explain(qs.count)}]"
    )

    def select_ids() -> int:
        ids = audience_queryset(region=regions["county"], interests=(), **TYPICAL).values_list(
            "id", flat=True
        )
        n = 0
        for _ in ids.iterator(chunk_size=2000):
            n += 1
        return n

    timing, n = timed(select_ids, args.runs)
    results["select_county_ids"] = {"recipients": n, "batch": 2000, **timing}
    print(
        f"select county recipient ids: {n:,}  median {timing['median_ms']} ms"
        f"  p95 {timing['p95_ms']} ms"
    )

    def seq_scan_count() -> int:
        with connection.cursor() as cur:
            cur.execute("SET enable_indexscan = off")
            cur.execute("SET enable_indexonlyscan = off")
            cur.execute("SET enable_bitmapscan = off")
        try:
            return audience_queryset(region=regions["province"], interests=(), **TYPICAL).count()
        finally:
            with connection.cursor() as cur:
                cur.execute("RESET enable_indexscan")
                cur.execute("RESET enable_indexonlyscan")
                cur.execute("RESET enable_bitmapscan")

    timing, count = timed(seq_scan_count, args.runs)
    results["anchor_seqscan_count_province"] = {"audience": count, **timing}
    print(
        f"anchor: province count by sequential scan: {count:,}  median {timing['median_ms']} ms"
        f"  p95 {timing['p95_ms']} ms"
    )
    ratio = results["count_province"]["median_ms"] / timing["median_ms"]
    slowest = max(results[f"count_{n}"]["p95_ms"] for n in regions)
    print(
        f"province count / sequential-scan anchor: {ratio:.3f}; "
        f"slowest count p95 {slowest} ms (target < 1000 ms)"
    )
    print(
        json.dumps(
            {
                "bench": "popsci-audience",
                "profiles": args.rows,
                "runs": args.runs,
                "generation_s": generation_s,
                "table_mib": size_mib,
                "filters": {**TYPICAL, "consent": "current version"},
                **results,
                "province_count_over_seqscan": round(ratio, 3),
                "count_target_met": slowest < 1000,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
