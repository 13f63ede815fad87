"""A province's day on Kejiyun, for locust (run by bench/load.py; `make bench-load`).

Weights (share of the simulated people): anonymous visitors on the public pages 30, citizens
reading their feed and articles 30, enterprises 12, S&T workers 12, centre staff 8, API
clients 8. Everyone waits 1–5 s between actions. Every request goes through `_call`, which
names it by its ROUTES template (bench/load.py) and counts as a failure any status it did not
expect, so a redirect to the login page or a 5xx never passes as a page.

People sign in through the real forms: the demo accounts (demo_w/e/c_000001…000020, demo
password) and the load-test staff written by the setup step (KEJIYUN_LOAD_CREDENTIALS), who
answer the second-factor page with the current TOTP code. Each staff user takes an account of
its own (a TOTP code works once per account). Writes are real form posts with the page's CSRF
token: each enterprise user publishes at most MAX_DEMANDS demands; workers answer only
invitations still waiting; staff add notes to their cases; citizens finish reading.
"""

# The simulation draws its choices from `random`; nothing here is a secret.
# ruff: noqa: S311

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from typing import Any

from locust import FastHttpUser, between, task

from bench.load import (
    DEMAND_TOPICS,
    DEMO_PASSWORD,
    LOGIN_ACCOUNTS_PER_ROLE,
    csrf_token,
    demand_form_data,
    docking_ids_open,
    form_action,
    ids_linked,
    route,
    route_name,
    totp,
)

MAX_DEMANDS = 3
_SIGN_IN_ROUTES = ("login", "otp_verify", "logout")
PASSWORD = os.environ.get("KEJIYUN_LOAD_PASSWORD", DEMO_PASSWORD)
_numbers = itertools.count(1)
_staff_claims = itertools.count(0)


def _staff_accounts() -> list[dict[str, str]]:
    path = os.environ.get("KEJIYUN_LOAD_CREDENTIALS", "var/load/credentials.json")
    try:
        with open(path, encoding="utf-8") as fh:
            return list(json.load(fh)["staff"])
    except FileNotFoundError:
        return []


STAFF = _staff_accounts()


class Browser(FastHttpUser):
    """What every simulated person shares: named requests, forms with CSRF, htmx fragments."""

    abstract = True
    wait_time = between(1, 5)
    network_timeout = 60.0
    connection_timeout = 30.0

    def _call(
        self,
        method: str,
        key: str,
        *,
        expect: tuple[int, ...] = (200,),
        params: dict[str, object] | None = None,
        query: str = "",
        data: dict[str, str] | None = None,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
        referer: str | None = None,
    ) -> Any:
        if self.signed_in is False and key not in _SIGN_IN_ROUTES:
            # The last sign-in failed (a timeout under load): a person tries again first.
            self.signed_in = self.sign_in_again()
            if not self.signed_in:
                return None
        path = route(key, **(params or {})) + (f"?{query}" if query else "")
        sent = dict(headers or {})
        if method == "POST" and data is not None:
            # Browsers send both on a form post; Django checks them over HTTPS.
            sent.setdefault("Origin", self.host.rstrip("/"))
            sent.setdefault("Referer", self.host.rstrip("/") + (referer or path))
        with self.client.request(
            method,
            path,
            name=route_name(key),
            data=data,
            json=json_body,
            headers=sent,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code in expect:
                response.success()
            else:
                where = response.headers.get("Location", "") if response.headers else ""
                response.failure(f"HTTP {response.status_code} {where}".strip())
            return response

    signed_in: bool | None = None  # None: anonymous

    def sign_in_again(self) -> bool:
        return False

    def page(self, key: str, **kw: Any) -> str:
        response = self._call("GET", key, **kw)
        if response is None or response.status_code != 200:
            return ""
        return response.text or ""

    def fragment(self, key: str, **params: object) -> None:
        """An htmx fragment the page loads into place (hx-trigger="load")."""
        self._call("GET", key, params=params, headers={"HX-Request": "true"})

    def sign_in(self, username: str, password: str, *, next_key: str = "dashboard") -> bool:
        shown = self._call("GET", "login", expect=(200, 302), query=f"next={route(next_key)}")
        if shown.status_code == 302:
            return True  # signed in after all: the answer to the last try came too late
        form = shown.text or ""
        token = csrf_token(form)
        if token is None:
            return False
        response = self._call(
            "POST",
            "login",
            expect=(302,),
            query=f"next={route(next_key)}",
            data={
                "csrfmiddlewaretoken": token,
                "username": username,
                "password": password,
                "next": route(next_key),
            },
            referer=route("login"),
        )
        return response.status_code == 302

    def sign_out(self) -> None:
        token = next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), None)
        if token:
            self._call("POST", "logout", expect=(200, 302), data={"csrfmiddlewaretoken": token})
        self.client.cookiejar.clear()


class Visitor(Browser):
    """Someone not signed in: the home page, the demand hall, the expert directory, articles."""

    weight = 30

    def on_start(self) -> None:
        self.demands: list[int] = []
        self.articles: list[int] = []

    @task(3)
    def home(self) -> None:
        self.page("home")

    @task(3)
    def hall(self) -> None:
        query = random.choice(["", "", "category=problem", "category=talent", "page=2"])
        html = self.page("demand_hall", query=query)
        self.demands = ids_linked(html, r"/demands/(\d+)/") or self.demands

    @task(3)
    def demand(self) -> None:
        if self.demands:
            self.page("demand", params={"id": random.choice(self.demands)})

    @task(2)
    def directory(self) -> None:
        self.page("talent", query=random.choice(["", "page=2", "page=3"]))

    @task(3)
    def popsci(self) -> None:
        self.articles = ids_linked(self.page("popsci"), r"/popsci/(\d+)/") or self.articles

    @task(4)
    def article(self) -> None:
        if self.articles:
            self.page("article", params={"id": random.choice(self.articles)})


class SignedIn(Browser):
    abstract = True
    prefix = ""

    def on_start(self) -> None:
        self.account = f"{self.prefix}{random.randint(1, LOGIN_ACCOUNTS_PER_ROLE):06d}"
        self.signed_in = self.sign_in(self.account, PASSWORD)

    @task(1)
    def dashboard(self) -> None:
        self.page("dashboard")

    def sign_in_again(self) -> bool:
        return self.sign_in(self.account, PASSWORD)

    def session_ends(self) -> None:
        """Sign out and in again, as people do over a day."""
        self.sign_out()
        self.signed_in = self.sign_in(self.account, PASSWORD)


class Citizen(SignedIn):
    """A citizen with a login: the personal feed, reading to the end, activities."""

    weight = 30
    prefix = "demo_c_"

    def on_start(self) -> None:
        super().on_start()
        self.articles: list[int] = []

    @task(5)
    def feed(self) -> None:
        html = self.page("feed")
        self.articles = ids_linked(html, r"/popsci/(?:read/)?(\d+)/") or self.articles

    @task(4)
    def read(self) -> None:
        if not self.articles:
            self.articles = ids_linked(self.page("popsci"), r"/popsci/(\d+)/")
            return
        html = self.page("article_read", params={"id": random.choice(self.articles)})
        action = form_action(html, r"/popsci/read/event/\d+/finish/")
        token = csrf_token(html)
        if action and token:
            event = int(action.rstrip("/").split("/")[-2])
            self._call(
                "POST",
                "read_finish",
                params={"id": event},
                data={"csrfmiddlewaretoken": token},
                headers={"HX-Request": "true", "X-CSRFToken": token},
            )

    @task(1)
    def activities(self) -> None:
        self.page("activities")

    @task(1)
    def popsci(self) -> None:
        self.page("popsci")

    @task(1)
    def relogin(self) -> None:
        if random.random() < 0.2:
            self.session_ends()


class Enterprise(SignedIn):
    """An enterprise user: own demands and cases, the recommended experts, publishing."""

    weight = 12
    prefix = "demo_e_"

    def on_start(self) -> None:
        super().on_start()
        self.published = 0
        self.demands: list[int] = []
        self.cases: list[int] = []

    @task(3)
    def my_demands(self) -> None:
        self.demands = ids_linked(self.page("my_demands"), r"/demands/(\d+)/") or self.demands

    @task(2)
    def my_demand(self) -> None:
        if self.demands:
            self.page("demand", params={"id": random.choice(self.demands)})

    @task(3)
    def my_cases(self) -> None:
        self.cases = ids_linked(self.page("my_cases"), r"/cases/mine/(\d+)/") or self.cases

    @task(3)
    def my_case(self) -> None:
        if self.cases:
            case = random.choice(self.cases)
            if self.page("my_case", params={"id": case}):
                self.fragment("my_case_matches", id=case)

    @task(1)
    def publish(self) -> None:
        """Write a demand on the real form and submit it for review."""
        if self.published >= MAX_DEMANDS:
            return
        form = self.page("demand_new")
        token = csrf_token(form)
        if token is None:
            return
        data = demand_form_data(
            form,
            token=token,
            number=next(_numbers),
            stamp=f"{os.getpid()}-{int(time.time())}",
            topic=random.randrange(len(DEMAND_TOPICS)),
            budget=random.choice(["lt5", "5-20", "20-50"]),
        )
        response = self._call(
            "POST", "demand_new", expect=(302,), data=data, referer=route("demand_new")
        )
        if response is not None and response.status_code == 302:
            self.published += 1

    @task(1)
    def relogin(self) -> None:
        if random.random() < 0.2:
            self.session_ends()


class Worker(SignedIn):
    """An S&T worker: docking invitations (answering those still open), the demand hall and a
    demand's page with why it was recommended."""

    weight = 12
    prefix = "demo_w_"

    def on_start(self) -> None:
        super().on_start()
        self.open: list[int] = []
        self.demands: list[int] = []

    @task(3)
    def dockings(self) -> None:
        self.open = docking_ids_open(self.page("dockings"))

    @task(2)
    def answer(self) -> None:
        if not self.open:
            return
        docking = self.open.pop(random.randrange(len(self.open)))
        html = self.page("docking", params={"id": docking})
        self.fragment("docking_why", id=docking)
        token = csrf_token(html)
        if token is None or 'data-testid="reply-form"' not in html:
            return  # answered meanwhile (another session of the same account)
        accept = random.random() < 0.7
        self._call(
            "POST",
            "docking",
            params={"id": docking},
            expect=(302,),
            data={
                "csrfmiddlewaretoken": token,
                "accept": "1" if accept else "0",
                "reason": "" if accept else "近期在外地驻点，时间上无法安排。",
            },
        )

    @task(2)
    def hall(self) -> None:
        html = self.page("demand_hall", query=random.choice(["", "category=problem", "page=2"]))
        self.demands = ids_linked(html, r"/demands/(\d+)/") or self.demands

    @task(2)
    def demand(self) -> None:
        if self.demands:
            demand = random.choice(self.demands)
            if self.page("demand", params={"id": demand}):
                self.fragment("demand_for_me", id=demand)

    @task(1)
    def relogin(self) -> None:
        if random.random() < 0.2:
            self.session_ends()


class Staff(Browser):
    """A centre's staff member: the work queue, case pages with the ranked experts, notes,
    the demands of the jurisdiction, the operations dashboard and its map."""

    weight = 8

    def on_start(self) -> None:
        self.cases: list[int] = []
        self.demands: list[int] = []
        self.region = ""
        self.last_step = -1
        if not STAFF:
            raise RuntimeError("no load-test staff: run bench/load.py's setup first")
        self.staff = STAFF[next(_staff_claims) % len(STAFF)]
        self.signed_in = self.staff_sign_in()

    def sign_in_again(self) -> bool:
        return self.staff_sign_in()

    def staff_sign_in(self) -> bool:
        if not self.sign_in(self.staff["username"], self.staff["password"]):
            return False
        for _ in range(3):
            step = int(time.time() // 30)
            if step <= self.last_step:  # this code was used: wait for the next one
                time.sleep(30 * (step + 1) - time.time() + 0.5)
                continue
            form = self.page("otp_verify")
            token = csrf_token(form)
            if token is None:
                return False
            code = totp(self.staff["totp_key"], time.time())
            self.last_step = int(time.time() // 30)
            response = self._call(
                "POST",
                "otp_verify",
                expect=(302,),
                data={"csrfmiddlewaretoken": token, "code": code, "next": route("queue")},
            )
            if response.status_code == 302:
                return True
        return False

    @task(4)
    def queue(self) -> None:
        html = self.page("queue", query=random.choice(["", "scope=all", "scope=all&page=2"]))
        self.cases = ids_linked(html, r"/cases/(\d+)/") or self.cases

    @task(4)
    def case(self) -> None:
        if self.cases:
            case = random.choice(self.cases)
            if self.page("case", params={"id": case}):
                self.fragment("case_matches", id=case)

    @task(1)
    def note(self) -> None:
        if not self.cases:
            return
        case = random.choice(self.cases)
        html = self.page("case", params={"id": case})
        token = csrf_token(html)
        if token:
            self._call(
                "POST",
                "case_note",
                params={"id": case},
                expect=(302,),
                data={"csrfmiddlewaretoken": token, "body": "已电话联系企业，确认需求细节。"},
                referer=route("case", id=case),
            )

    @task(2)
    def demands_list(self) -> None:
        html = self.page("staff_demands", query=random.choice(["", "page=2"]))
        self.demands = ids_linked(html, r"/demands/staff/(\d+)/") or self.demands

    @task(2)
    def demand(self) -> None:
        if self.demands:
            demand = random.choice(self.demands)
            if self.page("staff_demand", params={"id": demand}):
                self.fragment("staff_demand_matches", id=demand)

    @task(2)
    def ops(self) -> None:
        if not self.region:
            response = self._call("GET", "ops_home", expect=(302,))
            headers = response.headers if response is not None else None
            location = (headers or {}).get("Location", "") or ""
            found = re.search(r"/ops/(\d{6})/", location)
            self.region = found[1] if found else self.staff["region"]
        self.page("ops", params={"code": self.region})

    @task(2)
    def ops_map(self) -> None:
        code = self.region or self.staff["region"]
        indicator = random.choice(["demands_published", "cases_opened", "workers_registered"])
        self.page("ops_map", params={"code": code}, query=f"indicator={indicator}")


class ApiClient(FastHttpUser):
    """A program on the open API with a bearer token from the password grant: an enterprise's
    system following its demands and cases, a worker's app, a citizen's feed reader."""

    weight = 8
    wait_time = between(2, 6)
    network_timeout = 60.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        self.kind = random.choice(["e", "w", "c"])
        self.login = f"demo_{self.kind}_{random.randint(1, LOGIN_ACCOUNTS_PER_ROLE):06d}"
        self.token = ""
        self.expires = 0.0
        self.ids: list[int] = []

    def _api(self, key: str, *, params: dict[str, object] | None = None, query: str = "") -> Any:
        if time.time() >= self.expires:
            self._token()
        if not self.token:
            return None  # no token yet: the program retries the grant later
        path = route(key, **(params or {})) + (f"?{query}" if query else "")
        with self.client.get(
            path,
            name=route_name(key),
            headers={"Authorization": f"Bearer {self.token}"},
            catch_response=True,
        ) as response:
            if response.status_code == 200:
                response.success()
                return response.json()
            response.failure(f"HTTP {response.status_code}")
            if response.status_code == 401:
                self.token, self.expires = "", 0.0
            return None

    def _token(self) -> None:
        with self.client.post(
            route("api_token"),
            name=route_name("api_token"),
            json={"grant_type": "password", "login": self.login, "password": PASSWORD},
            catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                self.token, self.expires = "", time.time() + 30  # try again later
                return
            response.success()
            body = response.json()
            self.token = body["access_token"]
            self.expires = time.time() + int(body.get("expires_in", 900)) - 30

    @task(2)
    def me(self) -> None:
        self._api("api_me")

    @task(4)
    def work(self) -> None:
        if self.kind == "e":
            if random.random() < 0.5:
                self._api("api_my_demands")
            else:
                body = self._api("api_my_cases")
                self.ids = [c["id"] for c in (body or {}).get("items", [])] or self.ids
                if self.ids:
                    self._api("api_my_case_timeline", params={"id": random.choice(self.ids)})
        elif self.kind == "w":
            if random.random() < 0.5:
                self._api("api_recommended")
            else:
                self._api("api_dockings")
        else:
            self._api(random.choice(["api_feed", "api_articles"]))

    @task(2)
    def hall(self) -> None:
        body = self._api("api_hall")
        ids = [d["id"] for d in (body or {}).get("items", [])]
        if ids:
            self._api("api_hall_demand", params={"id": random.choice(ids)})
