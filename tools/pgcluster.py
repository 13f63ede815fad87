"""A scratch PostgreSQL cluster for drills: initdb, start, stop, restart and psql on a data
folder of its own, so the server CI runs on 5432 is never touched.

Used by the point-in-time restore drill (tools/pitr_drill.py) and the failure drills
(tests/resilience/, docs/resilience.md). Run as root, the PostgreSQL programs run as the
`postgres` OS user (initdb refuses root). `PG_BIN` names the folder of the programs
(default: PostgreSQL 15 on Debian).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def as_pg(args: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL program (as the `postgres` user when we are root); raise on failure."""
    cmd = [str(PG_BIN / args[0]), *args[1:]]
    if os.geteuid() == 0:
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)  # noqa: S603


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def give_to_postgres(*paths: Path) -> None:
    """Hand folders to the `postgres` user when we are root (it runs the cluster)."""
    if os.geteuid() == 0:
        for path in paths:
            shutil.chown(path, "postgres", "postgres")


@dataclass(frozen=True)
class Cluster:
    """One scratch cluster: its data folder, its port, and where its socket and log go."""

    data: Path
    port: int
    socket_dir: Path
    log: Path

    @property
    def url_base(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}"

    def url(self, db: str) -> str:
        return f"{self.url_base}/{db}"

    def initdb(self, conf: str = "") -> None:
        """A new cluster with trust authentication on loopback, `conf` appended to its
        postgresql.conf."""
        as_pg(
            [
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )
        with (self.data / "postgresql.conf").open("a") as file:
            file.write(f"\n# Kejiyun scratch cluster\nlisten_addresses = '127.0.0.1'\n{conf}")

    def start(self, log: Path | None = None) -> None:
        """Start and wait until it accepts connections (pg_ctl -w)."""
        as_pg(
            [
                "pg_ctl",
                "-D",
                str(self.data),
                "-l",
                str(log or self.log),
                "-w",
                "-t",
                "120",
                "-o",
                f"-p {self.port} -k {self.socket_dir}",
                "start",
            ]
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop it (fast: roll back open transactions, disconnect clients); never raises."""
        subprocess.run(  # noqa: S603
            (["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else [])
            + [str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"],
            check=False,
            capture_output=True,
        )

    def running(self) -> bool:
        done = subprocess.run(  # noqa: S603
            [str(PG_BIN / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port), "-q"],
            check=False,
        )
        return done.returncode == 0

    def psql(self, sql: str, db: str = "postgres") -> str:
        """Run `sql` and return its unaligned, tuples-only output."""
        out = as_pg(
            [
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "postgres",
                "-d",
                db,
                "-AtX",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                sql,
            ]
        )
        return out.stdout.strip()
