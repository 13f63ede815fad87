"""Steps of `make bench-pages` that run inside Kejiyun, with the bench's settings.

bench/pages.py runs this module in a subprocess whose environment is the one the measured
server gets (the throwaway SQLite database, or the `make prod-up` stack's env file), so it
reads and writes exactly the database that is served:

- `embed`: embed every profile, demand, team and result that has no vector yet (what the
  periodic job `matching.embed_vectors` does 384 texts a minute under `make run`), then bring
  the match index up to date, so the ranked lists show what users see after a few minutes;
- `enrol USERNAME...`: give each (privileged) account a confirmed TOTP authenticator, as if
  its owner had enrolled on the page (the one it already has, if any, is kept and used), and
  print {username: {key, step, t0, digits, drift}} as one JSON line, from which bench/pages.py
  computes the code the authenticator shows when it answers the verify page;
- `demo-ready USERNAME...`: print {"missing": [...]}, the accounts of the list that do not
  exist or cannot sign in with a password;
- `inprocess [--cprofile N]`: read [{"name", "user", "path"}, ...] on stdin and render each
  page in this process through Django's test client, signed in as `user` (second factor
  passed), once to warm up and then RUNS times; print {name: {"ms": median, "queries": n}}
  as one JSON line (the time and the queries of the view and every middleware, without
  gunicorn, the network or concurrency). With --cprofile N, the N functions with the most
  cumulative time of each page's timed renders go to stderr.
"""

from __future__ import annotations

import json
import os
import sys


def embed() -> None:
    from kejiyun.matching.embeddings import match_embeddings_compute
    from kejiyun.matching.tasks import sync_index

    written = match_embeddings_compute(limit=None)
    applied = sync_index()
    print(json.dumps({"vectors": written, "index_changes": applied}))


def enrol(usernames: list[str]) -> None:
    from django.db import transaction
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from kejiyun.accounts.models import User
    from kejiyun.accounts.otp import TOTP_NAME, totp_device_of

    out: dict[str, dict[str, object]] = {}
    for username in usernames:
        user = User.objects.filter(username=username).first()
        if user is None:
            raise SystemExit(f"bench-pages: 没有账号 {username}（演示数据未生成？）")
        if not user.is_privileged:
            raise SystemExit(f"bench-pages: {username} 不是需要动态口令的账号")
        with transaction.atomic():
            device = totp_device_of(user)
            if device is None:
                device = TOTPDevice.objects.create(user=user, name=TOTP_NAME, confirmed=True)
        out[username] = {
            "key": device.bin_key.hex(),
            "step": device.step,
            "t0": device.t0,
            "digits": device.digits,
            "drift": device.drift,
        }
    print(json.dumps(out))


def demo_ready(usernames: list[str]) -> None:
    from kejiyun.accounts.models import User

    usable = {
        user.username
        for user in User.objects.filter(username__in=usernames, is_active=True)
        if user.has_usable_password()
    }
    print(json.dumps({"missing": [name for name in usernames if name not in usable]}))


RUNS = 5


def inprocess(cprofile_top: int) -> None:
    import cProfile
    import io
    import pstats
    import statistics
    import time

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django_otp import DEVICE_ID_SESSION_KEY

    from kejiyun.accounts.models import User
    from kejiyun.accounts.otp import totp_device_of

    pages = json.load(sys.stdin)
    clients: dict[str | None, Client] = {}
    out: dict[str, dict[str, float | int]] = {}
    for page in pages:
        username = page["user"]
        if username not in clients:
            client = Client(HTTP_HOST="127.0.0.1", HTTP_X_FORWARDED_PROTO="https")
            if username:
                user = User.objects.get(username=username)
                client.force_login(user)
                device = totp_device_of(user)
                if device is not None:
                    session = client.session
                    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
                    session.save()
            clients[username] = client
        client = clients[username]
        first = client.get(page["path"])
        if first.status_code != 200:
            raise SystemExit(f"{page['name']} {page['path']}: HTTP {first.status_code}")
        with CaptureQueriesContext(connection) as captured:
            client.get(page["path"])
        # Counted now: the next request's request_started signal empties the log.
        queries = len(captured.captured_queries)
        profiler = cProfile.Profile() if cprofile_top else None
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            if profiler is not None:
                profiler.enable()
            client.get(page["path"])
            if profiler is not None:
                profiler.disable()
            times.append((time.perf_counter() - started) * 1000)
        out[page["name"]] = {
            "ms": round(statistics.median(times), 1),
            "queries": queries,
        }
        if profiler is not None:
            text = io.StringIO()
            stats = pstats.Stats(profiler, stream=text).sort_stats("cumulative")
            stats.print_stats(cprofile_top)
            print(f"=== {page['name']} {page['path']}\n{text.getvalue()}", file=sys.stderr)
    print(json.dumps(out))


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kejiyun.settings")
    django.setup()
    if not argv:
        raise SystemExit(
            "usage: python -m bench.pages_prepare embed|enrol|demo-ready|inprocess [...]"
        )
    command, *rest = argv
    if command == "embed":
        embed()
    elif command == "enrol":
        enrol(rest)
    elif command == "demo-ready":
        demo_ready(rest)
    elif command == "inprocess":
        inprocess(int(rest[1]) if rest[:1] == ["--cprofile"] else 0)
    else:
        raise SystemExit(f"unknown step {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
