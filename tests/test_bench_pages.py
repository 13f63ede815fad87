"""`make bench-pages` (bench/pages.py) without load: the wrk report it reads, the JSON line it
prints, and the anchor project booted under gunicorn as the bench serves it."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest

from bench import pages
from bench.pages import Browser, Figures, WrkRun

WRK_OUTPUT = """Running 10s test @ http://127.0.0.1:8741/
  2 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   180.12ms   40.01ms 612.00ms   80.00%
    Req/Sec   130.00     20.00   170.00     70.00%
  2650 requests in 10.00s, 9.10MB read
  Non-2xx or 3xx responses: 3
Requests/sec:    265.00
Transfer/sec:      0.91MB
BENCH_PAGES_WRK {"requests": 2650, "duration_us": 10000000, "bytes": 9542000, "non2xx": 5, \
"connect": 0, "read": 1, "write": 0, "status": 3, "timeout": 2, "p50_us": 175500, \
"p95_us": 250250, "p99_us": 401000, "max_us": 612000, "mean_us": 180120.5}
"""


def test_the_wrk_report_gives_rate_percentiles_and_every_kind_of_error() -> None:
    run = pages.parse_wrk(WRK_OUTPUT)
    assert run == WrkRun(
        requests=2650,
        seconds=10.0,
        rps=265.0,
        p50_ms=175.5,
        p95_ms=250.2,
        p99_ms=401.0,
        non2xx=5,
        socket_errors=1,
        timeouts=2,
    )
    # wrk's own status count (400 and above) is inside non2xx and is not counted twice.
    assert run.errors == 8


def test_a_wrk_output_without_the_report_line_stops_the_bench() -> None:
    with pytest.raises(pages.BenchError, match="结果行"):
        pages.parse_wrk("unable to connect to 127.0.0.1:8741 Connection refused\n")


def _run(rps: float, p99: float, *, errors: int = 0) -> WrkRun:
    return WrkRun(
        requests=int(rps * 10),
        seconds=10.0,
        rps=rps,
        p50_ms=p99 / 2,
        p95_ms=p99 * 0.9,
        p99_ms=p99,
        non2xx=errors,
        socket_errors=0,
        timeouts=0,
    )


def test_figures_are_medians_over_the_runs_and_errors_their_sum() -> None:
    figures = pages.figures_of([_run(100, 300), _run(120, 200, errors=2), _run(90, 500, errors=1)])
    assert figures == Figures(rps=100.0, p50_ms=150.0, p95_ms=270.0, p99_ms=300.0, errors=3, runs=3)


def test_the_json_line_carries_each_page_its_ratios_and_the_verdict() -> None:
    anchor_runs = [_run(250, 190), _run(260, 200), _run(270, 210)]
    anchor = pages.figures_of(anchor_runs)
    result = pages.summary(
        target="embedded",
        anchor=anchor,
        anchor_runs=anchor_runs,
        pages={
            "home": pages.figures_of([_run(130, 380)]),
            "map_data": pages.figures_of([_run(260, 150)]),
        },
    )
    line = json.loads(json.dumps(result, ensure_ascii=False))
    assert line["bench"] == "pages"
    assert line["target"] == "embedded"
    assert line["anchor"]["rps"] == 260.0
    assert line["anchor"]["p99_ms"] == 200.0
    assert line["anchor"]["rps_runs"] == [250, 260, 270]
    assert line["pages"]["home"] == {
        "rps": 130.0,
        "p50_ms": 190.0,
        "p95_ms": 342.0,
        "p99_ms": 380.0,
        "errors": 0,
        "ratio": 0.5,
        "p99_ratio": 1.9,
    }
    assert line["pages"]["map_data"]["ratio"] == 1.0
    assert line["pages"]["map_data"]["p99_ratio"] == 0.75
    assert line["min_ratio"] == 0.5
    assert line["max_p99_ratio"] == 1.9
    assert line["errors"] == 0
    assert line["target_met"] is True


def test_the_in_process_time_and_query_count_join_their_page() -> None:
    anchor = pages.figures_of([_run(260, 200)])
    result = pages.summary(
        target="embedded",
        anchor=anchor,
        anchor_runs=[_run(260, 200)],
        pages={"home": pages.figures_of([_run(130, 380)]), "map_data": anchor},
        inprocess={"home": {"ms": 12.5, "queries": 7}},
    )
    assert result["pages"]["home"]["inprocess_ms"] == 12.5
    assert result["pages"]["home"]["queries"] == 7
    assert "queries" not in result["pages"]["map_data"]


@pytest.mark.parametrize(
    ("page", "why"),
    [
        (_run(129, 200), "below half the anchor's requests per second"),
        (_run(200, 401), "p99 over twice the anchor's"),
        (_run(200, 200, errors=1), "one error"),
    ],
)
def test_the_target_is_missed_by_any_one_page(page: WrkRun, why: str) -> None:
    anchor = pages.figures_of([_run(260, 200)])
    result = pages.summary(
        target="prod",
        anchor=anchor,
        anchor_runs=[_run(260, 200)],
        pages={"home": pages.figures_of([_run(260, 200)]), "bad": pages.figures_of([page])},
    )
    assert result["target_met"] is False, why


def test_the_anchor_is_measured_before_between_and_after_the_pages() -> None:
    assert pages.anchor_points(15, 3) == [0, 8, 15]
    assert pages.anchor_points(15, 2) == [0, 15]
    assert pages.anchor_points(15, 1) == [0]


def test_the_bench_signs_in_with_the_seeded_demo_password_and_staff_accounts() -> None:
    from kejiyun.demo.seed import CITIZEN_PREFIX, DEMO_PASSWORD, STAFF_ACCOUNTS

    assert pages.DEMO_PASSWORD == DEMO_PASSWORD
    staff = {name for name, _ in STAFF_ACCOUNTS}
    assert {pages.USERS[role] for role in pages.STAFF} <= staff
    assert pages.USERS["citizen"].startswith(CITIZEN_PREFIX)


def test_the_map_data_url_is_the_one_the_dashboard_script_asks_for() -> None:
    html = (
        '<div id="ops-map" data-map-url="/ops/510000/map.json" data-geo-url="/static/x.json" '
        'data-codes="510100" data-period="2026-H1" data-indicator="cases_closed&amp;x"></div>'
    )
    assert pages.map_data_path(html) == (
        "/ops/510000/map.json?period=2026-H1&indicator=cases_closed%26x"
    )
    with pytest.raises(pages.BenchError):
        pages.map_data_path("<div></div>")


def test_the_browser_keeps_cookies_and_forgets_deleted_ones() -> None:
    browser = Browser("http://127.0.0.1:1", forwarded_https=True)
    browser._keep("sessionid=abc; HttpOnly; Path=/; SameSite=Lax; Secure")
    browser._keep("csrftoken=xyz; Path=/; SameSite=Lax; Secure")
    assert browser.cookie_header() == "csrftoken=xyz; sessionid=abc"
    browser._keep('sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/')
    assert browser.cookie_header() == "csrftoken=xyz"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def anchor_site(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The anchor project with a fresh database, served by gunicorn as the bench does."""
    place: Path = tmp_path_factory.mktemp("anchor")
    env = pages.anchor_build(place / "anchor.sqlite3", place / "setup.log")
    port = _free_port()
    command = pages.gunicorn_command("bench.anchor.wsgi:application", port)
    with pages.serving("anchor", command, env, place / "gunicorn.log") as server:
        base = f"http://127.0.0.1:{port}"
        pages.wait_answering(server, Browser(base, forwarded_https=False))
        yield base


def test_the_anchor_lists_its_20_newest_rows_through_a_template(anchor_site: str) -> None:
    answer = Browser(anchor_site, forwarded_https=False).get("/")
    assert answer.status == 200
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.text.count('<tr class="row">') == 20
    assert "第1000号记录" in answer.text  # newest first
    assert "第980号记录" not in answer.text
    pages.check_anchor(pages.Site(anchor_site, forwarded_https=False))


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_with_the_bench_script_counts_non_2xx_answers_as_errors(anchor_site: str) -> None:
    ok = pages.wrk(anchor_site + "/", seconds=1, timeout=5, headers={}, connections=2, threads=1)
    assert ok.requests > 0
    assert ok.errors == 0
    assert 0 < ok.p50_ms <= ok.p95_ms <= ok.p99_ms
    missing = pages.wrk(
        anchor_site + "/no-such-page/", seconds=1, timeout=5, headers={}, connections=2, threads=1
    )
    assert missing.requests > 0
    assert missing.non2xx == missing.requests
    assert missing.errors >= missing.requests
