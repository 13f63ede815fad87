"""The load test's own code (bench/load.py, bench/locustfile.py): locust's CSV statistics to the
printed figures and the JSON line, the TOTP codes the simulated staff type, the pages and API
operations the simulated people request (each one an existing URL), the setup step in the
database, and what the locustfile reads from real pages."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.urls import resolve
from django_otp.oath import totp as otp_totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from bench.load import (
    ROOT,
    ROUTES,
    STAFF_PREFIX,
    Figures,
    csrf_token,
    demand_form_data,
    docking_ids_open,
    figures_table,
    form_action,
    ids_linked,
    input_value,
    invitations_top_up,
    read_env_file,
    read_failures,
    read_stats,
    result_line,
    route,
    staff_prepare,
    staff_retire,
    totp,
)
from kejiyun.accounts.models import Role, User
from kejiyun.accounts.otp import second_factor_check
from kejiyun.api.api import api
from kejiyun.audit.models import AuditAction, AuditEvent
from kejiyun.cases.models import DockingRequest
from kejiyun.demands.models import Demand
from tests.builders import case_to_matching, client_for, make_case, make_worker

HEADER = (
    "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,"
    "Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,"
    "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%"
)
STATS = "\n".join(
    [
        HEADER,
        "GET,/cases/{id}/,200,3,310,402.5,40,2900,51234,4.12,0.06,"
        "310,380,420,460,700,1100,1800,2300,2900,2900,2900",
        "POST,/demands/new/,12,0,520,530.1,400,900,0,0.25,0.0,"
        "520,530,540,560,700,800,900,900,900,900,900",
        "GET,/api/v1/me,0,0,0,0,0,0,0,0.0,0.0,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A",
        ",Aggregated,212,3,320,410.0,40,2900,48000,4.37,0.06,"
        "320,390,430,470,700,1100,1700,2200,2900,2900,2900",
    ]
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text + "\n", encoding="utf-8")
    return path


def test_locusts_stats_csv_becomes_per_request_type_figures(tmp_path: Path) -> None:
    stats = read_stats(write(tmp_path, "run_stats.csv", STATS))
    assert stats == {
        "GET /cases/{id}/": Figures(
            requests=200, errors=3, error_rate=0.015, rps=4.12, p50_ms=310, p95_ms=1100, p99_ms=2300
        ),
        "POST /demands/new/": Figures(
            requests=12, errors=0, error_rate=0.0, rps=0.25, p50_ms=520, p95_ms=800, p99_ms=900
        ),
        "GET /api/v1/me": Figures(
            requests=0, errors=0, error_rate=0.0, rps=0.0, p50_ms=0, p95_ms=0, p99_ms=0
        ),
        "all": Figures(
            requests=212,
            errors=3,
            error_rate=0.0142,
            rps=4.37,
            p50_ms=320,
            p95_ms=1100,
            p99_ms=2200,
        ),
    }
    table = figures_table(stats)
    assert table[-1].split() == ["all", "4.37", "320", "1100", "2200", "212", "3", "1.42%"]
    assert table[1].split()[:3] == ["GET", "/api/v1/me", "0.00"]


def test_the_json_line_carries_each_user_counts_figures_types_and_failures(tmp_path: Path) -> None:
    stats = read_stats(write(tmp_path, "run_stats.csv", STATS))
    failures = read_failures(
        write(
            tmp_path,
            "run_failures.csv",
            'Method,Name,Error,Occurrences\nGET,/cases/{id}/,"HTTP 502",3',
        )
    )
    assert failures == [{"request": "GET /cases/{id}/", "error": "HTTP 502", "count": 3}]
    assert read_failures(tmp_path / "missing.csv") == []
    line = result_line(
        {50: stats, 200: stats},
        {50: [], 200: failures},
        base_url="https://x",
        duration_s=240,
        spawn_rate=10.0,
    )
    data = json.loads(line)
    assert data["bench"] == "load"
    assert sorted(data["users"]) == ["200", "50"]
    two_hundred = data["users"]["200"]
    assert (two_hundred["requests"], two_hundred["errors"], two_hundred["rps"]) == (212, 3, 4.37)
    assert (two_hundred["p50_ms"], two_hundred["p95_ms"], two_hundred["p99_ms"]) == (
        320,
        1100,
        2200,
    )
    assert two_hundred["types"]["GET /cases/{id}/"]["error_rate"] == 0.015
    assert "all" not in two_hundred["types"]
    assert two_hundred["failures"] == failures and data["users"]["50"]["failures"] == []
    assert data["errors"] == 6 and data["duration_s"] == 240


def test_totp_codes_are_the_ones_django_otp_accepts() -> None:
    key = "3132333435363738393031323334353637383930"  # RFC 6238's SHA-1 test secret
    assert totp(key, 59, digits=8) == "94287082"  # RFC 6238, appendix B
    assert totp(key, 1111111109, digits=8) == "07081804"
    now = time.time()
    assert totp(key, now) == f"{otp_totp(bytes.fromhex(key), 30, 0, 6, 0):06d}"


def test_the_env_file_reader_takes_what_a_shell_would(tmp_path: Path) -> None:
    path = write(tmp_path, "env", "# secrets\nexport A=1\nB='two words'\n\nC=\"x=y\"\nD=")
    assert read_env_file(path) == {"A": "1", "B": "two words", "C": "x=y", "D": ""}
    with pytest.raises(SystemExit):
        read_env_file(write(tmp_path, "bad", "NOEQUALS"))


def test_every_page_the_locustfile_requests_is_an_existing_url() -> None:
    pages = {k: v for k, v in ROUTES.items() if not v[0].startswith("api ")}
    for key, (name, _template) in pages.items():
        assert resolve(route(key, id=7, code="510100")).view_name == name, key


def test_every_api_operation_the_locustfile_calls_is_in_the_openapi_document() -> None:
    paths = api.get_openapi_schema()["paths"]
    documented = {
        (method.upper(), re.sub(r"\{[^}]+\}", "{}", path))
        for path, operations in paths.items()
        for method in operations
    }
    calls = {k: v for k, v in ROUTES.items() if v[0].startswith("api ")}
    assert len(calls) >= 10
    for key, (kind, template) in calls.items():
        assert (kind.split()[1], template.replace("{id}", "{}")) in documented, key


def test_the_locustfile_imports_and_its_people_use_only_known_routes() -> None:
    """Imported in a subprocess (locust patches the standard library with gevent on import)."""
    probe = (
        "import json, locust, bench.locustfile as f\n"
        "users = {n: (c.weight, sorted(t.__name__ for t in c.tasks))\n"
        "         for n, c in vars(f).items()\n"
        "         if isinstance(c, type) and issubclass(c, locust.User) and not c.abstract}\n"
        "print(json.dumps(users))\n"
    )
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    users = json.loads(done.stdout.strip().splitlines()[-1])
    assert {n: w for n, (w, _) in users.items()} == {
        "Visitor": 30,
        "Citizen": 30,
        "Enterprise": 12,
        "Worker": 12,
        "Staff": 8,
        "ApiClient": 8,
    }
    assert "publish" in users["Enterprise"][1] and "answer" in users["Worker"][1]
    assert "note" in users["Staff"][1] and "read" in users["Citizen"][1]
    # Every route key written in the locustfile is one of ROUTES.
    tree = ast.parse((ROOT / "bench" / "locustfile.py").read_text(encoding="utf-8"))
    used = {
        arg.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for arg in node.args
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value in ROUTES
    }
    strings = {
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and re.fullmatch(r"[a-z_]+", n.value)
    }
    assert used >= {"feed", "article_read", "demand_new", "docking", "case", "ops", "api_token"}
    assert not {s for s in strings if s.startswith(("api_", "my_", "staff_"))} - set(ROUTES)


def test_page_readers_find_tokens_links_forms_and_values() -> None:
    html = (
        '<form method="post" action="/popsci/read/event/41/finish/" hx-post="x">'
        '<input type="hidden" name="csrfmiddlewaretoken" value="tok123">'
        '<input type="hidden" name="region" id="id_region" value="510104">'
        '<a href="/cases/12/">a</a><a href="/cases/12/">again</a><a href="/cases/9/?tab=1">b</a>'
        '<a href="/cases/mine/">mine</a></form>'
    )
    assert csrf_token(html) == "tok123" and csrf_token("<p>") is None
    assert ids_linked(html, r"/cases/(\d+)/") == [12, 9]
    assert form_action(html, r"/popsci/read/event/\d+/finish/") == "/popsci/read/event/41/finish/"
    assert input_value(html, "region") == "510104" and input_value(html, "industry") is None
    picker = (
        '<input type="radio" name="industry" value="C1">'
        '<input type="radio" name="industry" value="C2" checked>'
        '<select name="county" id="id_county"><option value="">-</option>'
        '<option value="510104" selected>锦江区</option></select>'
    )
    assert input_value(picker, "industry") == "C2" and input_value(picker, "county") == "510104"


@pytest.mark.django_db
def test_the_demand_the_simulated_enterprise_writes_passes_the_form_and_goes_to_review(
    erin: User,
) -> None:
    client = client_for(erin)
    form = client.get(route("demand_new")).content.decode()
    token = csrf_token(form)
    assert token is not None
    data = demand_form_data(form, token=token, number=7, stamp="t", topic=2, budget="5-20")
    assert data["region"] == erin.organisation.region_id  # type: ignore[union-attr]
    response = client.post(route("demand_new"), data)
    assert response.status_code == 302
    demand = Demand.objects.get(title="茶叶加工工艺改进需求（t-7）")
    assert response["Location"] == route("demand", id=demand.pk)
    assert demand.status == Demand.Status.SUBMITTED


@pytest.mark.django_db
def test_setup_keys_load_staff_whose_codes_pass_and_a_second_run_duplicates_nothing(
    alice: User,
) -> None:
    first = staff_prepare(3)
    assert [a["username"] for a in first] == [f"{STAFF_PREFIX}00{i}" for i in (1, 2, 3)]
    assert first[0]["region"] == "510000"
    staff = User.objects.get(username=first[1]["username"])
    assert staff.role == Role.STAFF and staff.check_password(first[1]["password"])
    device = second_factor_check(user=staff, code=totp(first[1]["totp_key"], time.time()), ip=None)
    assert device.persistent_id.startswith("otp_totp")

    again = staff_prepare(3)
    assert User.objects.filter(username__startswith=STAFF_PREFIX).count() == 3
    assert TOTPDevice.objects.filter(user__username__startswith=STAFF_PREFIX).count() == 3
    assert again[1]["totp_key"] != first[1]["totp_key"]
    staff.refresh_from_db()
    assert staff.check_password(again[1]["password"])

    # After the runs none of them can sign in; a later setup brings them back.
    assert staff_retire() == 3
    assert staff_retire() == 0
    staff.refresh_from_db()
    assert not staff.is_active and not staff.has_usable_password()
    assert not TOTPDevice.objects.filter(user__username__startswith=STAFF_PREFIX).exists()
    assert AuditEvent.objects.filter(
        action=AuditAction.ACCOUNT_DISABLE, object_id=str(staff.pk)
    ).exists()
    back = staff_prepare(3)
    staff.refresh_from_db()
    assert staff.is_active and staff.check_password(back[1]["password"])


@pytest.mark.django_db
@pytest.mark.usefixtures("match_index")
def test_invitations_are_topped_up_once_and_the_worker_page_shows_the_open_ones(
    alice: User,
) -> None:
    cases = [case_to_matching(make_case(alice, serial=str(i)), alice) for i in (1, 2, 3)]
    worker = make_worker("demo_w_000001", "510104", "13900000001")
    province = staff_prepare(1)[0]["username"]

    assert invitations_top_up(2, province) == 2
    assert invitations_top_up(2, province) == 0  # nothing used up, nothing sent
    sent = list(DockingRequest.objects.filter(expert=worker).order_by("id"))
    assert [d.case_id for d in sent] == [cases[0].pk, cases[1].pk]

    client = client_for(worker.user)
    page = client.get(route("dockings")).content.decode()
    assert sorted(docking_ids_open(page)) == [d.pk for d in sent]
    reply = client.get(route("docking", id=sent[0].pk)).content.decode()
    answered = client.post(
        route("docking", id=sent[0].pk),
        {"csrfmiddlewaretoken": csrf_token(reply) or "", "accept": "1", "reason": ""},
    )
    assert answered.status_code == 302
    assert docking_ids_open(client.get(route("dockings")).content.decode()) == [sent[1].pk]
    assert invitations_top_up(2, province) == 1  # the answered one is replaced


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the history is PostgreSQL SQL")
def test_the_province_history_is_written_with_its_marker_or_not_at_all(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from bench import province_seed

    def broken(step: str, seconds: float, detail: dict[str, object]) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(province_seed, "marker_write", broken)
    province_seed.marker_read()  # creates the marker table
    with pytest.raises(RuntimeError):
        province_seed.history_generate(0.0001)
    assert Demand.objects.count() == 0 and "history" not in province_seed.marker_read()

    monkeypatch.undo()
    seconds, counts, ends_on = province_seed.history_generate(0.0001)
    assert seconds >= 0
    assert counts["demands_demand"] == Demand.objects.count() == 30
    done = province_seed.marker_read()["history"]
    assert (done["scale"], done["ends_on"], done["rows"]) == (0.0001, str(ends_on), counts)
