"""Fill in the SHA-256 of the evidence files already on record (new evidence gets it when it is
saved, `case_outcome_record`). A case whose file is missing from the private root keeps an
empty hash. Nothing to undo: going back only leaves the hashes where they are."""

import hashlib

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import migrations


def hash_the_evidence_on_record(apps, schema_editor):
    private = FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT)
    Case = apps.get_model("cases", "Case")
    for pk, name in (
        Case.objects.exclude(evidence="")
        .filter(evidence_sha256="")
        .values_list("pk", "evidence")
        .iterator()
    ):
        if not private.exists(name):
            continue
        digest = hashlib.sha256()
        with private.open(name, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
        Case.objects.filter(pk=pk).update(evidence_sha256=digest.hexdigest())


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0006_case_evidence_sha256"),
    ]

    operations = [
        migrations.RunPython(hash_the_evidence_on_record, migrations.RunPython.noop),
    ]
