"""The permission matrix (issue 15, requirement 8): for every URL of the site × method, the
answer each role gets (tests/permission_matrix.py). One test fails when a URL has no entry
or an entry names a URL that no longer exists; the crawler signs in as each role, asks every
URL (filled with ids of the small world's rows) with each method, an empty body for POST,
and compares the class of the answer with the matrix.

To write the entries of new URLs: run this file with PERMISSION_MATRIX_RECORD=var/pm.txt,
read what each role got in that file, and copy the lines you agree with into the matrix.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from django.db import transaction
from django.test import Client

from tests.permission_matrix import MATRIX
from tests.permission_walk import (
    ALLOWED,
    ROLES,
    answer_class,
    api_operations,
    every_url_key,
    fill,
    make_world,
)
from tests.security_figures import record_figure

pytestmark = pytest.mark.django_db

# Asked last: signing out ends the session the crawler uses.
LAST = ("POST /accounts/logout/", "GET /accounts/logout/")


def test_every_url_and_method_has_an_entry_and_every_entry_names_a_url() -> None:
    keys = every_url_key()
    missing = sorted(keys - set(MATRIX))
    stale = sorted(set(MATRIX) - keys)
    assert not missing, "URLs without an entry in tests/permission_matrix.py:\n" + "\n".join(
        missing
    )
    assert not stale, "entries naming no URL of the site:\n" + "\n".join(stale)
    bad = {k: v for k, v in MATRIX.items() if len(v) != len(ROLES) or set(v) - set("alrv")}
    assert not bad, f"entries must be {len(ROLES)} letters of a/l/r/v (roles: {ROLES}): {bad}"


@pytest.mark.crawl
def test_each_role_gets_the_answer_the_matrix_gives_on_every_url() -> None:
    started = time.monotonic()
    world = make_world()
    api_keys = set(api_operations())
    record = os.environ.get("PERMISSION_MATRIX_RECORD")
    keys = sorted(every_url_key(), key=lambda k: (k in LAST, k))
    observed: dict[str, list[str]] = {k: [] for k in keys}
    wrong: list[str] = []
    asked = proved = 0
    for index, role in enumerate(ROLES):
        client = Client(raise_request_exception=False)
        user = world["people"][role]
        if user is not None:
            client.force_login(user)
        for key in keys:
            method, path = key.split(" ", 1)
            url, real = fill(path, world["ids"], api_style=key in api_keys)
            # Each request is undone after it, so what one role's empty POST did (archiving
            # an article, signing out) does not change what the next request finds.
            with transaction.atomic():
                response = getattr(client, method.lower())(url)
                transaction.set_rollback(True)
            got = answer_class(response, method)
            response.close()  # file downloads (xlsx, pdf) hold their file open
            observed[key].append(got)
            asked += 1
            expected = MATRIX.get(key, "?" * len(ROLES))[index]
            if got == "5":
                wrong.append(f"{key} as {role}: server error or rate limit {response.status_code}")
            elif expected == ALLOWED and not real and got != ALLOWED:
                continue  # the world holds no row of this kind: not proved here
            elif got != expected and not record:
                wrong.append(
                    f"{key} as {role}: expected {expected}, got {got} "
                    f"(HTTP {response.status_code} {response.get('Location', '')})"
                )
            else:
                proved += 1
    if record:
        Path(record).write_text(
            "".join(f'    "{k}": "{"".join(v)}",\n' for k, v in observed.items()),
            encoding="utf-8",
        )
    assert not wrong, f"{len(wrong)} answers differ from the matrix:\n" + "\n".join(wrong)
    urls = len({k.split(" ", 1)[1] for k in keys})
    record_figure(
        "permission_matrix_coverage",
        f"{100 * len(set(MATRIX) & set(keys)) // len(keys)}%",
        target="100%",
        detail=f"{urls} URLs, {len(keys)} URL × method entries, {asked} requests as "
        f"{len(ROLES)} roles, {proved} answers proved in {time.monotonic() - started:.0f} s",
        urls=urls,
        entries=len(MATRIX),
    )
