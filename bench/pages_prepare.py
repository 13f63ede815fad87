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
  exist or cannot sign in with a password (the prod target seeds the demo when any is missing).
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


def main(argv: list[str]) -> None:
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kejiyun.settings")
    django.setup()
    if not argv:
        raise SystemExit("usage: python -m bench.pages_prepare embed|enrol|demo-ready [USER...]")
    command, *rest = argv
    if command == "embed":
        embed()
    elif command == "enrol":
        enrol(rest)
    elif command == "demo-ready":
        demo_ready(rest)
    else:
        raise SystemExit(f"unknown step {command!r}")


if __name__ == "__main__":
    main(sys.argv[1:])
