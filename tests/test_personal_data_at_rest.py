"""ID numbers are encrypted at rest (docs/requirements/security.md item 16): sealed with AES-GCM
under a versioned key, found through a keyed hash, and absent in plain from rows and dumps."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import sys

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from kejiyun.accounts.models import User
from kejiyun.common.crypto import SealError, lookup_hash, mobile_lookup, parse_keys, seal, unseal
from kejiyun.spreadsheets.models import ImportBatch
from kejiyun.talent.models import ID_NUMBER_PURPOSE, TalentProfile
from tests.builders import (
    ID_NUMBER,
    WORKER_HEADERS,
    client_for,
    make_xlsx,
    upload_batch,
    worker_row,
)

KEY1 = base64.b64encode(b"1" * 32).decode()
KEY2 = base64.b64encode(b"2" * 32).decode()


def test_a_sealed_value_opens_only_for_its_purpose_and_never_repeats() -> None:
    one = seal(ID_NUMBER, purpose=ID_NUMBER_PURPOSE)
    two = seal(ID_NUMBER, purpose=ID_NUMBER_PURPOSE)
    assert one != two  # a fresh nonce each time
    assert ID_NUMBER not in one
    assert unseal(one, purpose=ID_NUMBER_PURPOSE) == ID_NUMBER
    with pytest.raises(SealError):
        unseal(one, purpose="accounts.mobile")  # copied into another column: refused
    version, _, body = one.partition(":")
    blob = bytearray(base64.b64decode(body))
    blob[-1] ^= 1
    with pytest.raises(SealError):
        unseal(f"{version}:{base64.b64encode(bytes(blob)).decode()}", purpose=ID_NUMBER_PURPOSE)
    with pytest.raises(SealError):
        unseal(f"v9:{body}", purpose=ID_NUMBER_PURPOSE)
    assert (seal("", purpose="x"), unseal("", purpose="x"), lookup_hash("", purpose="x")) == (
        "",
        "",
        "",
    )


def test_keys_rotate_by_appending_a_new_version() -> None:
    with override_settings(FIELD_ENCRYPTION_KEYS=f"v1:{KEY1}"):
        old = seal(ID_NUMBER, purpose=ID_NUMBER_PURPOSE)
    assert old.startswith("v1:")
    with override_settings(FIELD_ENCRYPTION_KEYS=f"v1:{KEY1},v2:{KEY2}"):
        new = seal(ID_NUMBER, purpose=ID_NUMBER_PURPOSE)
        assert new.startswith("v2:")
        assert unseal(old, purpose=ID_NUMBER_PURPOSE) == ID_NUMBER
        assert unseal(new, purpose=ID_NUMBER_PURPOSE) == ID_NUMBER
    with override_settings(FIELD_ENCRYPTION_KEYS=f"v2:{KEY2}"), pytest.raises(SealError):
        unseal(old, purpose=ID_NUMBER_PURPOSE)  # a retired key no longer opens anything


@pytest.mark.parametrize(
    "raw", ["v1", f"{KEY1}", "v1:not-base64!", f"v1:{base64.b64encode(b'short').decode()}"]
)
def test_malformed_keys_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        parse_keys(raw)


def test_the_lookup_hash_is_keyed_and_stable() -> None:
    first = lookup_hash(ID_NUMBER, purpose=ID_NUMBER_PURPOSE)
    assert first == lookup_hash(ID_NUMBER, purpose=ID_NUMBER_PURPOSE)
    assert len(first) == 64 and ID_NUMBER not in first
    with override_settings(FIELD_LOOKUP_KEY=KEY2):
        assert lookup_hash(ID_NUMBER, purpose=ID_NUMBER_PURPOSE) != first


@pytest.mark.django_db
def test_raw_rows_and_a_dump_hold_no_plaintext_id_number_after_an_import(alice: User) -> None:
    client = client_for(alice)
    batch = upload_batch(client, "workers", make_xlsx(WORKER_HEADERS, [worker_row()]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT rows_sealed FROM spreadsheets_importbatch")
        assert all(ID_NUMBER not in row[0] for row in cursor.fetchall())
    client.post(f"/sheets/import/batches/{batch.pk}/confirm/")
    profile = TalentProfile.objects.get(user__mobile_hash=mobile_lookup("13800001234"))
    assert profile.id_number_masked() == "5101**********" + ID_NUMBER[-4:]
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM talent_talentprofile")
        assert ID_NUMBER not in repr(cursor.fetchall())
    dump = io.StringIO()
    call_command("dumpdata", "talent.talentprofile", "spreadsheets", stdout=dump)
    assert ID_NUMBER not in dump.getvalue()
    # Exact lookup through the keyed hash.
    found = TalentProfile.objects.get(
        id_number_hash=lookup_hash(ID_NUMBER, purpose=ID_NUMBER_PURPOSE)
    )
    assert found == profile
    assert ImportBatch.objects.get().rows_sealed == ""


@pytest.mark.django_db
def test_an_id_number_already_registered_to_another_worker_is_a_row_error(alice: User) -> None:
    client = client_for(alice)
    first = upload_batch(client, "workers", make_xlsx(WORKER_HEADERS, [worker_row()]))
    client.post(f"/sheets/import/batches/{first.pk}/confirm/")
    second = upload_batch(
        client,
        "workers",
        make_xlsx(WORKER_HEADERS, [worker_row(name="王五", mobile="13800009999")]),
    )
    html = client.get(f"/sheets/import/batches/{second.pk}/").content.decode()
    assert "该身份证号已登记在另一位科技工作者名下" in html
    assert TalentProfile.objects.count() == 1


@pytest.mark.parametrize(
    ("keys", "lookup"),
    [("", ""), (",", KEY2), (" ", KEY2), (f"v1:{KEY1}", ""), (f"dev:{KEY1}", KEY2)],
)
def test_production_refuses_to_start_without_real_keys(keys: str, lookup: str) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "SECRET_KEY": "x" * 50,
        "ALLOWED_HOSTS": "kejiyun.example.cn",
        "FIELD_ENCRYPTION_KEYS": keys,
        "FIELD_LOOKUP_KEY": lookup,
    }
    done = subprocess.run(
        [sys.executable, "-c", "import kejiyun.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "FIELD_" in done.stderr
