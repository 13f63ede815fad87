"""Fuzz the open API with schemathesis, as several demo roles (`make test-api-fuzz`).

Every operation in the live OpenAPI document (`/api/v1/openapi.json`) is fuzzed, whatever
routers exist when this runs: nothing here names an operation. Steps:

1. a scratch SQLite database, var/fuzz.sqlite3 (deleted first): migrate, load_regions,
   load_classifications and `seed_demo --scale small --seed 1`, as `make run` does;
2. `manage.py runserver 127.0.0.1:<free port> --noreload` with DEBUG=1 and the API rate
   limits raised (the fuzzer would otherwise meet 429s), stopped whatever happens;
3. a personal access token with every scope for each role in ROLES
   (`manage.py api_token_issue`), plus one anonymous pass without a token;
4. `schemathesis run` once per role, with a fixed seed and at most API_FUZZ_EXAMPLES
   generated cases per operation in the fuzzing phase (plus, for the province staff, the
   coverage phase's boundary cases), two roles at a time, failing on any 5xx and on any
   answer the document does not describe (CHECKS; docs/api-fuzzing.md says why these);
5. one line per role with its case and request counts, a total, and exit status 1 if any
   run found a failure (its full schemathesis output is printed then; the reports are kept
   in var/fuzz-reports/<role>/).

Operations that end a credential (sign-out, token revocation: SELF_ENDING) would cut a
role's run short, so they run in a second, last pass of each role; and each token is
checked before and after its main pass, so a missed one fails the run loudly.

Environment: API_FUZZ_EXAMPLES (default 12 up to 50 operations, fewer beyond: 600 //
operations, at least 4), API_FUZZ_SEED (default 1), API_FUZZ_WORKERS
(schemathesis workers per run, default 2), API_FUZZ_PARALLEL (roles at a time, default 2),
API_FUZZ_KEEP=1 keeps var/fuzz.sqlite3, API_FUZZ_REUSE=1 keeps the seeded database in
var/fuzz-seeded.sqlite3 and starts from a copy of it next time (for a developer's
repeated runs; delete it after a migration or a change to the demo data).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
DB = VAR / "fuzz.sqlite3"
SEEDED = VAR / "fuzz-seeded.sqlite3"  # kept only with API_FUZZ_REUSE=1
REPORTS = VAR / "fuzz-reports"
SERVER_LOG = VAR / "fuzz-server.log"
SETUP_LOG = VAR / "fuzz-setup.log"
PYTHON = sys.executable
SCHEMATHESIS = str(Path(PYTHON).parent / "schemathesis")

# (label, demo username, schemathesis phases); the demo accounts are made by `seed_demo`
# (kejiyun/demo/seed.py). The coverage phase (every boundary value of every parameter, a
# number of cases set by the schema, not by API_FUZZ_EXAMPLES) runs for the widest role only,
# to keep the whole target within its time; the others get the examples and fuzzing phases.
FULL = "examples,coverage,fuzzing"
QUICK = "examples,fuzzing"
ROLES: tuple[tuple[str, str, str], ...] = (
    ("province staff", "demo_staff_province", FULL),
    ("county staff", "demo_staff_jinjiang", QUICK),
    ("enterprise user", "demo_e_000001", QUICK),
    ("worker", "demo_w_000001", QUICK),
    ("citizen", "demo_c_000001", QUICK),
    ("anonymous", "", QUICK),
)
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "missing_required_header",
    "unsupported_method",
)
# Operations that may end the credential they are called with (and DELETE on a path about
# tokens): run last.
SELF_ENDING = re.compile(r"(revoke|logout|log-out|sign-?out)", re.IGNORECASE)


class Failed(Exception):
    pass


@dataclass
class Result:
    label: str
    cases: int
    requests: int
    failures: int
    output: str


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("KEJIYUN_TESTING", None)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{DB}",
            "DEBUG": "1",
            "API_RATE_PER_IP_PER_MINUTE": "1000000",
            "API_RATE_PER_TOKEN_PER_MINUTE": "1000000",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def _manage(*args: str, log: Path | None = None) -> str:
    done = subprocess.run(  # noqa: S603  (our own manage.py, fixed arguments)
        [PYTHON, "manage.py", *args], cwd=ROOT, env=_env(), capture_output=True, text=True
    )
    if log is not None:
        with log.open("a") as out:
            out.write(f"$ manage.py {' '.join(args)}\n{done.stdout}{done.stderr}\n")
    if done.returncode != 0:
        raise Failed(f"manage.py {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def database_prepare() -> None:
    for path in (DB, Path(f"{DB}-wal"), Path(f"{DB}-shm"), SETUP_LOG):
        path.unlink(missing_ok=True)
    started = time.monotonic()
    reuse = os.environ.get("API_FUZZ_REUSE") == "1"
    if reuse and SEEDED.exists():
        shutil.copyfile(SEEDED, DB)
        _manage("migrate", "--noinput", log=SETUP_LOG)
        print(f"api fuzz: demo database copied from {SEEDED} (API_FUZZ_REUSE=1)")
        return
    _manage("migrate", "--noinput", log=SETUP_LOG)
    _manage("load_regions", log=SETUP_LOG)
    _manage("load_classifications", log=SETUP_LOG)
    _manage("seed_demo", "--scale", "small", "--seed", "1", log=SETUP_LOG)
    if reuse:
        # The last connection to close checkpoints the write-ahead log into the file.
        shutil.copyfile(DB, SEEDED)
    print(f"api fuzz: demo database ready in {time.monotonic() - started:.0f} s ({DB})")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def get(url: str, token: str = "") -> tuple[int, bytes]:
    request = urllib.request.Request(url)  # noqa: S310  (http://127.0.0.1 only)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            return int(answer.status), answer.read()
    except urllib.error.HTTPError as error:
        return int(error.code), error.read()


def server_start(port: int) -> subprocess.Popen[bytes]:
    log = SERVER_LOG.open("wb")
    server = subprocess.Popen(  # noqa: S603
        [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise Failed(f"the server exited ({server.returncode}); see {SERVER_LOG}")
        try:
            if get(f"http://127.0.0.1:{port}/api/v1/openapi.json")[0] == 200:
                return server
        except OSError:
            pass
        time.sleep(0.5)
    raise Failed(f"the server did not answer within 90 s; see {SERVER_LOG}")


def server_stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def tokens_issue() -> dict[str, str]:
    """One personal access token with every scope per signed-in role (issued side by side:
    each is a Django start-up)."""
    running = {
        username: subprocess.Popen(  # noqa: S603
            [PYTHON, "manage.py", "api_token_issue", "--user", username, "--days", "1"],
            cwd=ROOT,
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _, username, _ in ROLES
        if username
    }
    tokens = {}
    for username, process in running.items():
        out, err = process.communicate()
        if process.returncode != 0:
            raise Failed(f"api_token_issue --user {username} failed:\n{out}{err}")
        tokens[username] = out.strip()
    return tokens


def self_ending_operations(schema: dict[str, Any]) -> list[str]:
    return sorted(
        operation.get("operationId", "")
        for path, item in schema.get("paths", {}).items()
        for method, operation in item.items()
        if SELF_ENDING.search(path)
        or SELF_ENDING.search(operation.get("operationId", ""))
        or (method == "delete" and "token" in path.lower())
    )


def examples_per_operation(operations: int) -> int:
    """API_FUZZ_EXAMPLES, or 12 cases per operation up to 50 operations and fewer beyond
    (never under 4), so the whole target stays within about four minutes as the API grows."""
    chosen = os.environ.get("API_FUZZ_EXAMPLES")
    if chosen:
        return int(chosen)
    return max(4, min(12, 600 // max(operations, 1)))


def schemathesis_run(
    *,
    base: str,
    label: str,
    token: str,
    phases: str,
    examples: int,
    filters: list[str],
    stage: str,
) -> tuple[int, int, int, str]:
    """One schemathesis run: (cases, requests, failures, its console output)."""
    folder = REPORTS / re.sub(r"\W+", "-", label) / stage
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    command = [
        SCHEMATHESIS,
        "run",
        f"{base}/api/v1/openapi.json",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        phases,
        "--seed",
        os.environ.get("API_FUZZ_SEED", "1"),
        "--max-examples",
        str(examples),
        "--workers",
        os.environ.get("API_FUZZ_WORKERS", "2"),
        "--generation-database",
        "none",
        "--request-timeout",
        "30",
        "--suppress-health-check",
        "all",
        "--no-color",
        "--report",
        "json,ndjson",
        "--report-dir",
        str(folder),
        "--report-json-path",
        str(folder / "run.json"),
        "--report-ndjson-path",
        str(folder / "events.ndjson"),
        *filters,
    ]
    if token:
        command += ["--header", f"Authorization: Bearer {token}"]
    done = subprocess.run(  # noqa: S603
        command, cwd=folder, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"}
    )
    output = done.stdout + done.stderr
    report = folder / "run.json"
    if not report.exists():
        raise Failed(f"schemathesis wrote no report for {label} ({stage}):\n{output}")
    summary = json.loads(report.read_text())
    requests = 0
    for line in (folder / "events.ndjson").read_text().splitlines():
        event = json.loads(line)
        finished = event.get("ScenarioFinished")
        if finished:
            requests += len(finished.get("recorder", {}).get("interactions", {}))
    cases = int(summary["test_cases"]["generated"])
    failures = len(summary.get("failures", [])) + len(summary.get("errors", []))
    if done.returncode != 0 and failures == 0:
        failures = 1  # schemathesis refused the run for a reason the report does not list
    return cases, requests, failures, output


def role_run(
    *, base: str, label: str, token: str, phases: str, examples: int, self_ending: list[str]
) -> Result:
    def alive() -> bool:
        return get(f"{base}/api/v1/me", token)[0] == 200

    if token and not alive():
        raise Failed(f"the {label} token does not authenticate GET /api/v1/me")
    excluded = [arg for op in self_ending for arg in ("--exclude-operation-id", op)]
    cases, requests, failures, output = schemathesis_run(
        base=base,
        label=label,
        token=token,
        phases=phases,
        examples=examples,
        filters=excluded,
        stage="main",
    )
    if token and not alive():
        failures += 1
        output += (
            f"\nThe {label} token stopped working during the run: an operation revoked it. "
            "Name it in SELF_ENDING (tools/api_fuzz.py) so it runs last.\n"
        )
    if self_ending:
        included = [arg for op in self_ending for arg in ("--include-operation-id", op)]
        more = schemathesis_run(
            base=base,
            label=label,
            token=token,
            phases=phases,
            examples=examples,
            filters=included,
            stage="last",
        )
        cases, requests, failures = cases + more[0], requests + more[1], failures + more[2]
        output += "\n--- operations that end the credential ---\n" + more[3]
    return Result(label, cases, requests, failures, output)


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if not Path(SCHEMATHESIS).exists():
        print(f"api fuzz: {SCHEMATHESIS} is missing (make setup installs it)", file=sys.stderr)
        return 2
    VAR.mkdir(exist_ok=True)
    started = time.monotonic()
    server = None
    try:
        database_prepare()
        port = free_port()
        server = server_start(port)
        base = f"http://127.0.0.1:{port}"
        schema = json.loads(get(f"{base}/api/v1/openapi.json")[1])
        operations = sum(len(item) for item in schema.get("paths", {}).values())
        self_ending = self_ending_operations(schema)
        tokens = tokens_issue()
        examples = examples_per_operation(operations)
        print(
            f"api fuzz: {operations} operations at {base}/api/v1/, {examples} fuzzed cases "
            f"per operation and role, seed {os.environ.get('API_FUZZ_SEED', '1')}, "
            f"checks {', '.join(CHECKS)}"
            + (f"; run last: {', '.join(self_ending)}" if self_ending else "")
        )
        # Roles run side by side (API_FUZZ_PARALLEL, default 2): while the server answers
        # one, schemathesis generates the next cases of another.
        with ThreadPoolExecutor(max_workers=int(os.environ.get("API_FUZZ_PARALLEL", "2"))) as pool:
            futures = [
                pool.submit(
                    role_run,
                    base=base,
                    label=label,
                    token=tokens.get(username, ""),
                    phases=phases,
                    examples=examples,
                    self_ending=self_ending,
                )
                for label, username, phases in ROLES
            ]
            results = [future.result() for future in futures]
        for (label, username, phases), result in zip(ROLES, results, strict=True):
            who = f"{label} ({username})" if username else label
            print(
                f"api fuzz: {who:<38} {result.cases:>6} cases {result.requests:>6} requests "
                f"{result.failures:>3} failures  ({phases})"
            )
            if result.failures:
                print(result.output)
        total_cases = sum(r.cases for r in results)
        total_requests = sum(r.requests for r in results)
        total_failures = sum(r.failures for r in results)
        print(
            f"api fuzz: total {total_cases} cases, {total_requests} requests, "
            f"{total_failures} failures over {operations} operations and {len(results)} roles "
            f"in {time.monotonic() - started:.0f} s"
        )
        return 1 if total_failures else 0
    except Failed as error:
        print(f"api fuzz: {error}", file=sys.stderr)
        return 1
    finally:
        if server is not None:
            server_stop(server)
        if os.environ.get("API_FUZZ_KEEP") != "1":
            for path in (DB, Path(f"{DB}-wal"), Path(f"{DB}-shm")):
                path.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
