"""Point-in-time restore drill (issue 15, requirement 27; docs/backup-restore.md).

Creates a scratch PostgreSQL 15 cluster in var/pitr-drill/ with WAL archiving on, migrates
the Kejiyun schema into it, takes a base backup (pg_basebackup), writes rows (users and
audit events through audit_record), notes the time and the row counts and checksums, writes
more, stops the cluster, restores the base backup into a new data folder with
recovery_target_time set to the noted time, starts it, and checks that the restored rows
are exactly those of the noted time and that audit_verify() finds the chain intact.
Prints a JSON object as its last line; exits non-zero when the restore is not exact.

    python tools/pitr_drill.py            # `make drill-restore`
    python tools/pitr_drill.py --keep     # leave var/pitr-drill/ for a look afterwards

Run as root, the PostgreSQL programs run as the `postgres` OS user (initdb refuses root).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from pgcluster import Cluster, as_pg, free_port, give_to_postgres

ROOT = Path(__file__).resolve().parent.parent
DRILL = ROOT / "var" / "pitr-drill"
DB = "kejiyun_drill"
TABLES = ("accounts_user", "audit_auditevent")


def step(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def snapshot(cluster: Cluster) -> dict[str, dict[str, Any]]:
    """Row count and a checksum of every row, per drill table."""
    out = {}
    for table in TABLES:
        rows = cluster.psql(
            f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY id)), '')"  # noqa: S608
            f" FROM {table} t",
            db=DB,
        )
        count, digest = rows.split("|")
        out[table] = {"rows": int(count), "md5": digest}
    return out


def write_rows(url: str, tag: str, n: int) -> None:
    """Write `n` users and `n` audit events through the application's own code, in a child
    process so that it connects to the drill cluster and nothing else."""
    code = f"""
import django, os
django.setup()
from kejiyun.accounts.models import User
from kejiyun.audit.models import AuditAction
from kejiyun.audit.services import audit_record
for i in range({n}):
    u = User.objects.create_user(
        username="drill_{tag}_%d" % i, password=None, display_name="演练{tag}%d" % i
    )
    audit_record(
        action=AuditAction.PASSWORD_CHANGE, user=u, ip="127.0.0.1",
        object_type="user", object_id=str(u.pk),
    )
"""
    run_django(url, ["-c", code])


def run_django(url: str, args: list[str]) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "kejiyun.settings",
        "DEBUG": "1",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(  # noqa: S603
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        capture_output=True,
    )
    return done.stdout


def main() -> int:
    parser = argparse.ArgumentParser(description="Kejiyun point-in-time restore drill")
    parser.add_argument("--keep", action="store_true", help="keep var/pitr-drill afterwards")
    args = parser.parse_args()
    began = time.monotonic()
    shutil.rmtree(DRILL, ignore_errors=True)
    data, wal, base, restored = DRILL / "data", DRILL / "wal", DRILL / "base", DRILL / "restored"
    for folder in (DRILL, wal):
        folder.mkdir(parents=True, exist_ok=True)
    give_to_postgres(DRILL, wal)
    port = free_port()
    primary = Cluster(data=data, port=port, socket_dir=DRILL, log=DRILL / "primary.log")
    standby = Cluster(data=restored, port=port, socket_dir=DRILL, log=DRILL / "restored.log")
    url = primary.url(DB)
    result: dict[str, Any] = {"drill": "pitr", "ok": False}
    try:
        step(f"initdb a scratch cluster in {data} (port {port}), WAL archived to {wal}")
        primary.initdb(
            "# Kejiyun PITR drill (docs/backup-restore.md)\n"
            "wal_level = replica\n"
            "archive_mode = on\n"
            f"archive_command = 'test ! -f {wal}/%f && cp %p {wal}/%f'\n"
            "archive_timeout = 60\n"
            "max_wal_senders = 4\n"
            "fsync = off\n"
        )
        primary.start()
        primary.psql(f"CREATE DATABASE {DB}")
        step("migrate the Kejiyun schema")
        run_django(url, ["manage.py", "migrate", "--noinput", "-v", "0"])
        step("base backup with pg_basebackup")
        as_pg(
            [
                "pg_basebackup",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-U",
                "postgres",
                "-D",
                str(base),
                "-Fp",
                "-X",
                "stream",
                "-c",
                "fast",
            ]
        )
        step("write rows (users and audit events), note the time")
        write_rows(url, "a", 20)
        at_target = snapshot(primary)
        time.sleep(1.1)
        target = primary.psql("SELECT clock_timestamp()")
        time.sleep(1.1)
        step(f"target time {target}; write more rows after it")
        write_rows(url, "b", 15)
        after = snapshot(primary)
        primary.psql("SELECT pg_switch_wal()")
        for _ in range(60):
            if (
                primary.psql(
                    "SELECT last_failed_wal IS NULL OR last_archived_time > last_failed_time"
                    " FROM pg_stat_archiver",
                )
                == "t"
                and primary.psql("SELECT archived_count > 0 FROM pg_stat_archiver") == "t"
            ):
                break
            time.sleep(0.5)
        primary.stop()
        step("restore the base backup with recovery_target_time and start it")
        shutil.copytree(base, restored, symlinks=True)
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres:postgres", str(restored)], check=True)  # noqa: S603, S607
        with (restored / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"restore_command = 'cp {wal}/%f %p'\n"
                f"recovery_target_time = '{target}'\n"
                "recovery_target_action = 'promote'\n"
                "archive_mode = off\n"
            )
        (restored / "recovery.signal").touch()
        if os.geteuid() == 0:
            shutil.chown(restored / "recovery.signal", "postgres", "postgres")
        standby.start()
        for _ in range(120):
            if standby.psql("SELECT pg_is_in_recovery()") == "f":
                break
            time.sleep(0.5)
        got = snapshot(standby)
        broken = json.loads(
            run_django(
                url,
                [
                    "-c",
                    (
                        "import django, json; django.setup(); "
                        "from kejiyun.audit.services import audit_verify; "
                        "print(json.dumps(audit_verify()))"
                    ),
                ],
            )
            .strip()
            .splitlines()[-1]
        )
        result.update(
            ok=(got == at_target and broken == [] and after != at_target),
            target_time=target,
            at_target=at_target,
            after_target=after,
            restored=got,
            audit_verify=broken,
            seconds=round(time.monotonic() - began, 1),
        )
        standby.stop()
    except subprocess.CalledProcessError as exc:
        result["error"] = f"{exc.cmd}: {exc.stderr or exc.stdout}"[-2000:]
    finally:
        standby.stop() if restored.exists() else None
        primary.stop() if data.exists() else None
        if not args.keep:
            shutil.rmtree(DRILL, ignore_errors=True)
    step(
        "restored rows equal those at the target time, audit chain intact"
        if result["ok"]
        else "DRILL FAILED"
    )
    print(json.dumps(result, ensure_ascii=False, sort_keys=True))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
