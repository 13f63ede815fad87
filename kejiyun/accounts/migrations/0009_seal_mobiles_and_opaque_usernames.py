"""Mobile numbers sealed at rest (security item 16), step 2 of 3: seal every user's number
and keep its keyed hash, keep only the keyed hash of every SMS code's number, and give every
account named after its number ("m13812345678", self-registration and worker sheets made
them) an opaque username ("u" + 16 random base32 letters).

Backwards it opens the users' numbers again; the SMS codes' numbers cannot be recovered from
their hashes (codes live ten minutes: nothing is lost), and the opaque usernames stay.
The purposes are spelled out here: they must never change (kejiyun/common/crypto.py).
"""

import base64
import re
import secrets

from django.db import migrations
from django.db.models import Q

from kejiyun.common.crypto import lookup_hash, seal, unseal

USER_PURPOSE = "accounts.mobile"  # kejiyun.accounts.models.MOBILE_PURPOSE
LOOKUP_PURPOSE = "mobile"  # kejiyun.common.crypto.MOBILE_LOOKUP_PURPOSE
NUMBERED_USERNAME = re.compile(r"^m1[3-9][0-9]{9}$")
BATCH = 2000


def _opaque_username(taken: set[str]) -> str:
    while True:
        name = "u" + base64.b32encode(secrets.token_bytes(10)).decode().lower()
        if name not in taken:
            taken.add(name)
            return name


def seal_forward(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    SmsCode = apps.get_model("accounts", "SmsCode")
    taken: set[str] = set()
    batch = []
    rows = User.objects.filter(Q(mobile__isnull=False) | Q(username__regex=NUMBERED_USERNAME.pattern))
    for user in rows.only("pk", "mobile", "username").iterator(chunk_size=BATCH):
        mobile = user.mobile or ""
        user.mobile_sealed = seal(mobile, purpose=USER_PURPOSE)
        user.mobile_hash = lookup_hash(mobile, purpose=LOOKUP_PURPOSE) or None
        if NUMBERED_USERNAME.match(user.username):
            user.username = _opaque_username(taken)
        batch.append(user)
        if len(batch) >= BATCH:
            User.objects.bulk_update(batch, ["mobile_sealed", "mobile_hash", "username"])
            batch = []
    User.objects.bulk_update(batch, ["mobile_sealed", "mobile_hash", "username"])
    batch = []
    for code in SmsCode.objects.only("pk", "mobile").iterator(chunk_size=BATCH):
        code.mobile_hash = lookup_hash(code.mobile, purpose=LOOKUP_PURPOSE)
        batch.append(code)
        if len(batch) >= BATCH:
            SmsCode.objects.bulk_update(batch, ["mobile_hash"])
            batch = []
    SmsCode.objects.bulk_update(batch, ["mobile_hash"])


def seal_backward(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    batch = []
    rows = User.objects.exclude(mobile_sealed="").only("pk", "mobile_sealed")
    for user in rows.iterator(chunk_size=BATCH):
        user.mobile = unseal(user.mobile_sealed, purpose=USER_PURPOSE)
        batch.append(user)
        if len(batch) >= BATCH:
            User.objects.bulk_update(batch, ["mobile"])
            batch = []
    User.objects.bulk_update(batch, ["mobile"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0008_mobile_sealed_columns"),
    ]

    operations = [migrations.RunPython(seal_forward, seal_backward)]
