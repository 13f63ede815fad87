"""Case attachments and outcome evidence become private files: stored under
PRIVATE_MEDIA_ROOT (outside MEDIA_ROOT and every URL) with random names, the sender's file
name and the content type kept in fields. The data step moves the files already uploaded
from MEDIA_ROOT to random names in the private root. Moving them back would publish them
again, so it is not reversed."""

import os
import uuid

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage
from django.db import migrations, models, transaction

import kejiyun.common.files

# What the bytes say a file is (extension, content type); Office files by their old name.
SIGNATURES = (
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\x89PNG", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
)
OOXML = "application/vnd.openxmlformats-officedocument"
OFFICE = {
    "docx": f"{OOXML}.wordprocessingml.document",
    "xlsx": f"{OOXML}.spreadsheetml.sheet",
    "pptx": f"{OOXML}.presentationml.presentation",
}


def _kind(data, old_name):
    for signature, extension, content_type in SIGNATURES:
        if data.startswith(signature):
            return extension, content_type
    suffix = os.path.splitext(old_name)[1].lower().lstrip(".")
    if data.startswith(b"PK\x03\x04") and suffix in OFFICE:
        return suffix, OFFICE[suffix]
    return "bin", "application/octet-stream"


def _move(name, folder, public, private):
    """Move `name` from the public root to a random name under `folder` in the private one;
    (new name, content type), or None when the file is not in the public root."""
    if not name or not public.exists(name):
        return None
    with public.open(name, "rb") as handle:
        data = handle.read()
    extension, content_type = _kind(data, name)
    new_name = private.save(f"{folder}{uuid.uuid4().hex}.{extension}", ContentFile(data))
    # The public copy goes only once the rows naming the private one are committed: were the
    # migration rolled back, the rows would still name the public file, which must be there.
    transaction.on_commit(lambda: public.delete(name))
    return new_name, content_type


def move_case_files_to_the_private_root(apps, schema_editor):
    public = FileSystemStorage(location=settings.MEDIA_ROOT)
    private = FileSystemStorage(location=settings.PRIVATE_MEDIA_ROOT)
    CaseAttachment = apps.get_model("cases", "CaseAttachment")
    Case = apps.get_model("cases", "Case")
    for item in CaseAttachment.objects.exclude(file="").iterator():
        old = item.file.name
        moved = _move(old, "cases/attachments/", public, private)
        if moved is not None:
            CaseAttachment.objects.filter(pk=item.pk).update(
                file=moved[0], content_type=moved[1], original_name=os.path.basename(old)[:200]
            )
    for case in Case.objects.exclude(evidence="").iterator():
        old = case.evidence.name
        moved = _move(old, "cases/evidence/", public, private)
        if moved is not None:
            Case.objects.filter(pk=case.pk).update(
                evidence=moved[0], evidence_type=moved[1], evidence_name=os.path.basename(old)[:200]
            )


class Migration(migrations.Migration):
    dependencies = [
        ("cases", "0003_docking_applications_and_enterprise_requests"),
    ]

    operations = [
        migrations.AddField(
            model_name="case",
            name="evidence_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="佐证材料原文件名"),
        ),
        migrations.AddField(
            model_name="case",
            name="evidence_type",
            field=models.CharField(blank=True, max_length=100, verbose_name="佐证材料类型"),
        ),
        migrations.AddField(
            model_name="caseattachment",
            name="content_type",
            field=models.CharField(blank=True, max_length=100, verbose_name="文件类型"),
        ),
        migrations.AddField(
            model_name="caseattachment",
            name="original_name",
            field=models.CharField(blank=True, max_length=200, verbose_name="原文件名"),
        ),
        migrations.AlterField(
            model_name="case",
            name="evidence",
            field=models.FileField(
                blank=True,
                max_length=200,
                storage=kejiyun.common.files.private_storage,
                upload_to="cases/evidence/",
                verbose_name="佐证材料",
            ),
        ),
        migrations.AlterField(
            model_name="caseattachment",
            name="file",
            field=models.FileField(
                max_length=200,
                storage=kejiyun.common.files.private_storage,
                upload_to="cases/attachments/",
                verbose_name="文件",
            ),
        ),
        migrations.RunPython(move_case_files_to_the_private_root, migrations.RunPython.noop),
    ]
