"""Fill a production database at province scale for the load test: the large demo data plus
the generated operations history (`make prod-seed-province`).

Against the database of --env-file (default var/prod/env, the `make prod-up` stack's; the
same keys as the running site, so sealed values open), in order:
1. migrate, load_regions, load_classifications (each idempotent);
2. `seed_demo --scale large --seed 1` (idempotent by its natural keys; skipped once done);
3. three years of operations history ending today (bench/generate_ops.py at --scale, default
   1: a million S&T workers, ten million citizens, 300,000 demands with their cases, …) added
   after the demo rows, in one transaction together with the marker row, so it is written
   once: a second run finds the marker and adds nothing, and an interrupted run leaves
   nothing behind to duplicate. Foreign-key triggers are off for the inserts when the
   database role is a superuser (the references are valid by construction), otherwise they
   are checked at the commit;
4. the operations rollups for those three years (rollup_days, a month per call, --jobs at a
   time), then VACUUM ANALYZE.
The marker table (province_seed_marker) records what was done and how long each step took;
the last line is one JSON object ("bench": "province-seed").

Measured on the project's 2-core machine with other sessions running (load average 10-15):
seed_demo --scale large 3,877 s (65 min; the bulk rows take about 10 min, the rest is the
cases, 65,043 service plans, the gaming scan and the rollups through the services);
rebuild_match_index over its 100,000 workers and 40,000 demands 605 s; the history at scale 1
about 60 minutes (docs/benchmarks.md, bench-ops; most of it the citizen-profile indexes) and
its rollups about 4.5 minutes. So a first run takes about two and a half hours.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from bench.common import ROOT
from bench.load import DEFAULT_ENV_FILE, read_env_file

MARKER = "province_seed_marker"


def manage(*args: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, str(ROOT / "manage.py"), *args], check=True, env=env)  # noqa: S603
    return round(time.perf_counter() - started, 1)


def marker_read() -> dict[str, Any]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER} (step text PRIMARY KEY, "
            "done_at timestamptz NOT NULL DEFAULT now(), seconds float8 NOT NULL, "
            "detail jsonb NOT NULL)"
        )
        cur.execute(f"SELECT step, seconds, detail FROM {MARKER}")  # noqa: S608
        rows = cur.fetchall()
    return {
        step: {"seconds": seconds, **(d if isinstance(d, dict) else json.loads(d))}
        for step, seconds, d in rows
    }


def marker_write(step: str, seconds: float, detail: dict[str, Any]) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {MARKER} (step, seconds, detail) VALUES (%s, %s, %s) "  # noqa: S608
            "ON CONFLICT (step) DO UPDATE SET seconds = EXCLUDED.seconds, "
            "detail = EXCLUDED.detail, done_at = now()",
            [step, seconds, json.dumps(detail, default=str)],
        )


def is_superuser() -> bool:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cur.fetchone()
    return bool(row and row[0])


def history_generate(scale: float) -> tuple[float, dict[str, int], date]:
    """The history and its marker row in one transaction: all of it or nothing."""
    from django.db import transaction
    from django.utils import timezone

    from bench.generate_ops import generate

    now = timezone.localtime()
    fast = is_superuser()
    started = time.perf_counter()
    with transaction.atomic():
        counts = generate(scale=scale, now=now, fresh=False, check_constraints=not fast, jobs=1)
        seconds = round(time.perf_counter() - started, 1)
        marker_write("history", seconds, {"scale": scale, "ends_on": now.date(), "rows": counts})
    return seconds, counts, now.date()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--env-file", type=Path, default=DEFAULT_ENV_FILE)
    parser.add_argument("--scale", type=float, default=1.0, help="of the operations history")
    parser.add_argument("--jobs", type=int, default=2, help="months rolled up at once")
    args = parser.parse_args(argv)
    if not args.env_file.exists():
        raise SystemExit(f"{args.env_file} is missing: start the stack first (make prod-up)")
    env = {
        **os.environ,
        **read_env_file(args.env_file),
        "DJANGO_SETTINGS_MODULE": "kejiyun.settings",
    }
    if not env.get("DATABASE_URL", "").startswith("postgres"):
        raise SystemExit(
            "the province-scale history is PostgreSQL SQL: DATABASE_URL must be postgres"
        )
    os.environ.update(env)
    total = time.perf_counter()
    manage("migrate", "--noinput", "-v", "0", env=env)
    manage("load_regions", env=env)
    manage("load_classifications", env=env)

    import django

    django.setup()
    from django.db import connection

    done = marker_read()
    if "demo" not in done:
        connection.close()  # the seed runs in its own process
        seconds = manage("seed_demo", "--scale", "large", "--seed", "1", env=env)
        marker_write("demo", seconds, {"scale": "large", "seed": 1})
        print(f"seed_demo --scale large: {seconds} s", flush=True)
    else:
        print(f"demo data already seeded ({done['demo']['seconds']} s then)")

    done = marker_read()
    if "history" not in done:
        print(f"generating the operations history at scale {args.scale} …", flush=True)
        seconds, counts, ends_on = history_generate(args.scale)
        print(f"history: {sum(counts.values()):,} rows in {seconds} s", flush=True)
    else:
        history = done["history"]
        ends_on = date.fromisoformat(str(history["ends_on"]))
        print(
            f"history already generated (scale {history['scale']}, ending {ends_on}, "
            f"{history['seconds']} s then)"
        )

    done = marker_read()
    if done.get("rollups", {}).get("until") != str(ends_on):
        from bench.ops import build_rollups

        start = ends_on - timedelta(days=3 * 365)
        print(f"building the rollups {start} … {ends_on}", flush=True)
        seconds = round(build_rollups(start, ends_on, args.jobs), 1)
        marker_write("rollups", seconds, {"until": str(ends_on)})
        print(f"rollups: {seconds} s", flush=True)
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
        cur.execute("SELECT pg_database_size(current_database())")
        size_mib = round(cur.fetchone()[0] / 2**20)
    steps = marker_read()
    print(
        json.dumps(
            {
                "bench": "province-seed",
                "database_mib": size_mib,
                "this_run_s": round(time.perf_counter() - total, 1),
                "steps": steps,
            },
            ensure_ascii=False,
            default=str,
        )
    )


if __name__ == "__main__":
    main()
