"""Operations data at province scale on PostgreSQL: generation, rollups, dashboard, map.

Setup (skipped when already done): creates the database if missing (BENCH_DATABASE_URL, else
DATABASE_URL when it names a PostgreSQL database with "bench" in its name, else
postgres://postgres@127.0.0.1:5432/kejiyun_bench_ops), migrates it, loads regions and
classifications, and generates three years of activity ending today in SQL
(bench/generate_ops.py: 1,000,000 S&T workers, 200,000 enterprises, 300,000 demands with their
cases, dockings and plans, popsci content, campaigns, reads, quizzes and activities, and
10,000,000 citizens). A marker table (bench_ops_marker) records the scale and the day the
data ends; a second run reuses the data unless --regenerate is given or the scale differs.

Then the rollups are rebuilt for the whole three years (rollup_days, one call per month, --jobs
months at a time in separate processes; the total wall time is printed) unless they are
already complete for the generated range and --rebuild-rollups is not given. Measured:
- day_rollup_s: one day's rollup (rollup_days(start=d, end=d): the day's rows of every
  indicator and centre, and its month's rows rebuilt), the median over five distinct days;
- province_dashboard_median_ms: GET /ops/510000/?period=<last full year> as the province
  centre's staff user through Django's test Client, median of --runs runs after a warm-up,
  the cache emptied before each (so the figures are read from the rollups every time; the
  same from the dashboard's cache is printed as province_dashboard_cached_median_ms);
- map_median_ms: GET /ops/510000/map.json?indicator=<key>&period=<that year>, cycling
  through every indicator (at least one run each), after a warm-up, cold likewise (and
  map_cached_median_ms);
- anchor_raw_median_ms: every indicator for the province over the same year computed straight
  from raw records with the compute functions (kejiyun/ops/compute.py) over the year's range,
  median of --anchor-runs runs after a warm-up; the figures are compared with the rollups'.
Query counts of the page and the map data are printed too.
The last line is one JSON object ("bench": "ops").

Run: make bench-ops   (BENCH_ARGS="--scale 0.01" for a smaller history).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from bench.common import ROOT, median

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kejiyun_bench_ops"
PROVINCE = "510000"
MARKER = "bench_ops_marker"


def bench_database_url() -> str:
    """BENCH_DATABASE_URL, else DATABASE_URL when it names a PostgreSQL database with "bench"
    in its name, else the default. Generation empties the generated tables, so the benchmark
    refuses any database whose name does not say it is for benchmarks."""
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


def read_marker() -> dict[str, Any] | None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER} (scale float8 NOT NULL, "
            "ends_on date NOT NULL, generated_at timestamptz NOT NULL, seconds float8 NOT NULL, "
            "counts jsonb NOT NULL, rollups_until date)"
        )
        cur.execute(f"SELECT scale, ends_on, seconds, counts, rollups_until FROM {MARKER}")  # noqa: S608
        row = cur.fetchone()
    if row is None:
        return None
    counts = row[3] if isinstance(row[3], dict) else json.loads(row[3])
    return {
        "scale": row[0],
        "ends_on": row[1],
        "seconds": row[2],
        "counts": counts,
        "rollups_until": row[4],
    }


def write_marker(scale: float, ends_on: date, seconds: float, counts: dict[str, int]) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {MARKER}")  # noqa: S608
        cur.execute(
            f"INSERT INTO {MARKER} VALUES (%s, %s, now(), %s, %s, NULL)",  # noqa: S608
            [scale, ends_on, seconds, json.dumps(counts)],
        )


def mark_rollups(until: date) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"UPDATE {MARKER} SET rollups_until = %s", [until])  # noqa: S608


def vacuum_analyze() -> float:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return time.perf_counter() - started


def _months(start: date, end: date) -> list[tuple[date, date]]:
    out = []
    first = start
    while first <= end:
        following = (first.replace(day=1) + timedelta(days=32)).replace(day=1)
        out.append((first, min(end, following - timedelta(days=1))))
        first = following
    return out


def _rollup_month(span: tuple[date, date]) -> tuple[date, date, float]:
    from kejiyun.ops.rollups import rollup_days

    started = time.perf_counter()
    rollup_days(start=span[0], end=span[1])
    return span[0], span[1], time.perf_counter() - started


def build_rollups(start: date, end: date, jobs: int) -> float:
    """rollup_days over [start, end], one call per month, `jobs` months at a time (each in
    its own process and connection; months are independent); returns wall seconds."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from django.db import connections

    started = time.perf_counter()
    connections.close_all()  # each worker opens its own
    with ProcessPoolExecutor(max_workers=jobs, mp_context=get_context("fork")) as pool:
        for first, last, seconds in pool.map(_rollup_month, _months(start, end)):
            print(f"  rollups {first} … {last}: {seconds:6.1f} s", flush=True)
    return time.perf_counter() - started


def timed(
    fn: Callable[[], Any], runs: int, before: Callable[[], Any] | None = None
) -> tuple[list[float], Any]:
    """Times of `runs` calls after one warm-up; `before` (untimed) runs ahead of each."""
    result = fn()  # warm-up
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return times, result


def province_staff() -> Any:
    from kejiyun.accounts.models import Role, User

    user = (
        User.objects.filter(
            role=Role.STAFF, centre__region__code=PROVINCE, username__startswith="bench_staff_"
        )
        .order_by("id")
        .first()
    )
    if user is None:
        raise SystemExit("no generated province staff user: run with --regenerate")
    return user


def anchor_figures(start: date, end: date) -> dict[str, float | None]:
    """Every indicator for the province over [start, end], straight from raw records: each
    compute function over the whole range, its centres' cells added up over the province."""
    from kejiyun.ops.compute import CentreMap, compute
    from kejiyun.ops.indicators import CATALOGUE
    from kejiyun.ops.selectors import Figure

    centres = CentreMap.build()
    out: dict[str, float | None] = {}
    for ind in CATALOGUE:
        figure = Figure(ind)
        for centre, cell in compute(ind.key, start, end, centres=centres).items():
            if centres.paths[centre].startswith(f"{PROVINCE}/"):
                figure.add(cell.num, cell.den, cell.samples)
        out[ind.key] = figure.value
    return out


def rollup_figures(year: int) -> dict[str, float | None]:
    """The same figures read from the rollups (what the dashboard shows)."""
    from kejiyun.ops.periods import Period
    from kejiyun.ops.selectors import figures
    from kejiyun.regions.models import Region

    region = Region.objects.get(code=PROVINCE)
    return {k: f.value for k, f in figures(region, Period.parse(str(year))).items()}


def queries(fn: Callable[[], Any]) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--regenerate", action="store_true")
    parser.add_argument("--rebuild-rollups", action="store_true")
    parser.add_argument("--anchor-runs", type=int, default=3)
    parser.add_argument("--gen-jobs", type=int, default=3, help="connections generating")
    parser.add_argument("--jobs", type=int, default=2, help="months rolled up at once")
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
    from django.utils import timezone

    from bench.generate_ops import generate
    from kejiyun.regions.models import Region
    from kejiyun.talent.models import Discipline

    if not Region.objects.filter(code=PROVINCE).exists():
        manage("load_regions", env=env)
    if not Discipline.objects.exists():
        manage("load_classifications", env=env)

    now = timezone.localtime()
    today = now.date()
    marker = read_marker()
    generation_s = None
    if args.regenerate or marker is None or marker["scale"] != args.scale:
        with connection.cursor() as cur:
            cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            print(f"generating at scale {args.scale} (database now {cur.fetchone()[0]}) …")
        started = time.perf_counter()
        counts = generate(
            scale=args.scale, now=now, fresh=True, check_constraints=False, jobs=args.gen_jobs
        )
        inserted = time.perf_counter() - started
        vacuum_s = vacuum_analyze()
        generation_s = round(time.perf_counter() - started, 1)
        print(
            f"generated {sum(counts.values()):,} rows in {generation_s} s "
            f"(inserts {inserted:.1f} s, VACUUM ANALYZE {vacuum_s:.1f} s)"
        )
        write_marker(args.scale, today, generation_s, counts)
        marker = read_marker()
        assert marker is not None
    else:
        print(
            f"reusing the history generated at scale {marker['scale']} ending "
            f"{marker['ends_on']} ({marker['seconds']} s to generate)"
        )
    counts = marker["counts"]
    ends_on: date = marker["ends_on"]
    start_on = ends_on - timedelta(days=3 * 365)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        db_mib = round(cur.fetchone()[0] / 2**20)
    print(f"database size: {db_mib:,} MiB")

    # --- Rollups over the whole history ---------------------------------------------------
    rollups_s = None
    if args.rebuild_rollups or marker["rollups_until"] != ends_on:
        print(f"building rollups {start_on} … {ends_on}")
        rollups_s = round(build_rollups(start_on, ends_on, args.jobs), 1)
        mark_rollups(ends_on)
        with connection.cursor() as cur:
            cur.execute("ANALYZE ops_rollup")
        print(f"rollups for three years built in {rollups_s} s")
    else:
        print(f"reusing rollups up to {ends_on}")
    from kejiyun.ops.models import Rollup

    rollup_rows = Rollup.objects.count()

    # --- One day's rollup -------------------------------------------------------------------
    from kejiyun.ops.rollups import rollup_days

    day_times = []
    for back in (3, 40, 200, 400, 800):
        day = ends_on - timedelta(days=back)
        started = time.perf_counter()
        rollup_days(start=day, end=day)
        day_times.append(time.perf_counter() - started)
        print(f"  one day's rollup {day}: {day_times[-1]:.2f} s")
    day_rollup_s = round(median(day_times), 2)

    # --- Dashboard and map through the test client ----------------------------------------
    from django.conf import settings
    from django.core.cache import cache
    from django.test import Client

    from kejiyun.ops.indicators import CATALOGUE

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test Client's host
    year = ends_on.year - 1
    client = Client()
    client.force_login(province_staff())
    page = f"/ops/{PROVINCE}/?period={year}"

    def get_page() -> int:
        response = client.get(page)
        if response.status_code != 200:
            raise SystemExit(f"GET {page} answered {response.status_code}")
        return len(response.content)

    # Cold: the dashboard's cache (figures kept under the rollup job's last run) emptied before
    # each request, so every figure is read from the rollups; warm: as a second look hits it.
    dash_times, dash_bytes = timed(get_page, args.runs, before=cache.clear)
    warm_times, _ = timed(get_page, args.runs)
    keys = [i.key for i in CATALOGUE]
    calls = iter(range(10**6))

    def get_map() -> int:
        key = keys[next(calls) % len(keys)]
        url_ = f"/ops/{PROVINCE}/map.json?indicator={key}&period={year}"
        response = client.get(url_)
        if response.status_code != 200:
            raise SystemExit(f"GET {url_} answered {response.status_code}")
        return len(response.content)

    map_times, _ = timed(get_map, max(args.runs, len(keys)), before=cache.clear)
    map_warm_times, _ = timed(get_map, max(args.runs, len(keys)))

    # --- Anchor: the same figures from raw records -----------------------------------------
    y0, y1 = date(year, 1, 1), date(year, 12, 31)
    anchor_times, anchor = timed(lambda: anchor_figures(y0, y1), args.anchor_runs)

    from_rollups = rollup_figures(year)
    differ = [
        k
        for k in keys
        if (from_rollups.get(k) is None) != (anchor[k] is None)
        or (anchor[k] is not None and abs((from_rollups[k] or 0) - anchor[k]) > 1e-6)
    ]
    print(f"rollup figures equal the raw-record anchor: {not differ} {differ or ''}")
    cache.clear()
    dash_queries = queries(get_page)
    cache.clear()
    map_queries = queries(get_map)
    print(f"queries: dashboard page {dash_queries}, map data {map_queries}")

    dash_ms = round(median(dash_times), 1)
    map_ms = round(median(map_times), 1)
    warm_ms = round(median(warm_times), 1)
    map_warm_ms = round(median(map_warm_times), 1)
    anchor_ms = round(median(anchor_times), 1)
    print(f"one day's rollup: median {day_rollup_s} s over 5 days (target < 10 s)")
    print(
        f"province dashboard {page}: median {dash_ms} ms cold, {warm_ms} ms from the cache "
        f"({dash_bytes:,} bytes; target < 300 ms)"
    )
    print(
        f"map data, {len(map_times)} indicators: median {map_ms} ms cold, {map_warm_ms} ms "
        "from the cache (target < 100 ms)"
    )
    print(f"anchor, every indicator from raw records for {year}: median {anchor_ms} ms")
    print(f"anchor / dashboard: {anchor_ms / dash_ms:.1f}")
    print(
        json.dumps(
            {
                "bench": "ops",
                "scale": marker["scale"],
                "ends_on": str(ends_on),
                "rows": counts,
                "database_mib": db_mib,
                "generation_s": generation_s,
                "rollups_three_years_s": rollups_s,
                "rollup_rows": rollup_rows,
                "runs": args.runs,
                "anchor_runs": args.anchor_runs,
                "day_rollup_s": day_rollup_s,
                "province_dashboard_median_ms": dash_ms,
                "map_median_ms": map_ms,
                "province_dashboard_cached_median_ms": warm_ms,
                "map_cached_median_ms": map_warm_ms,
                "anchor_raw_median_ms": anchor_ms,
                "anchor_over_dashboard": round(anchor_ms / dash_ms, 1),
                "dashboard_queries": dash_queries,
                "map_queries": map_queries,
                "figures_equal_anchor": not differ,
                "targets_met": day_rollup_s < 10 and dash_ms < 300 and map_ms < 100,
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
