"""A disk with no room for an upload (docs/resilience.md, "The upload disk full"): both
storages refuse with `StorageFull`, a Chinese refusal, and leave no partly written file; the
case page shows the refusal on its upload form and writes nothing.

The file system's refusal is real: the kernel's limit on the size of a file this process
writes (RLIMIT_FSIZE) makes the write past it fail with EFBIG, as a full disk fails with
ENOSPC. The full disk itself, on a tmpfs of its own behind gunicorn, is drilled by
`make test-resilience` (tests/resilience/test_disk_full.py).
"""

from __future__ import annotations

import io
import os
import resource
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kejiyun.accounts.models import User
from kejiyun.cases.models import CaseAttachment
from kejiyun.common.files import FullDiskSafeStorage, PrivateStorage, StorageFull, private_storage
from tests.builders import client_for, make_case

LIMIT = 64 * 1024
MESSAGE = "服务器存储空间已满，文件没有保存。请稍后再试；如果问题持续，请联系平台管理员。"


@contextmanager
def file_size_limit(limit: int) -> Iterator[None]:
    """Files this process writes may not grow past `limit` bytes while inside. SIGXFSZ, which
    would end the process, is ignored, so the write fails with EFBIG instead."""
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)


def noise_png(side: int = 300) -> bytes:
    """A real PNG of random pixels (about side² × 3 bytes: no compression shrinks it)."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def files_in(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_both_storages_refuse_a_full_disk_and_keep_no_partial_file() -> None:
    assert isinstance(default_storage, FullDiskSafeStorage)  # MEDIA_ROOT, public uploads
    assert isinstance(private_storage(), PrivateStorage)
    assert isinstance(private_storage(), FullDiskSafeStorage)


def test_a_public_upload_with_no_room_is_refused_and_leaves_nothing(media_root: Path) -> None:
    data = os.urandom(4 * LIMIT)
    with file_size_limit(LIMIT), pytest.raises(StorageFull) as refused:
        default_storage.save("popsci/image/photo.png", ContentFile(data))
    assert refused.value.messages == [MESSAGE]
    assert refused.value.code == "storage_full"
    assert files_in(media_root) == []
    # With room again the same file is stored whole.
    name = default_storage.save("popsci/image/photo.png", ContentFile(data))
    assert (media_root / name).read_bytes() == data


@pytest.mark.django_db
def test_a_case_attachment_with_no_room_is_refused_on_the_form_and_nothing_is_written(
    alice: User, private_root: Path
) -> None:
    case = make_case(alice)
    events = case.events.count()
    photo = noise_png()
    assert len(photo) > 2 * LIMIT
    client = client_for(alice)
    with file_size_limit(LIMIT):
        response = client.post(
            f"/cases/{case.pk}/attachments/",
            {"name": "现场照片", "file": SimpleUploadedFile("现场照片.png", photo, "image/png")},
        )
    assert response.status_code == 400
    html = response.content.decode()
    assert MESSAGE in html
    assert "invalid-feedback" in html  # on the upload form
    assert CaseAttachment.objects.count() == 0
    assert case.events.count() == events
    assert files_in(private_root) == []

    stored = client.post(
        f"/cases/{case.pk}/attachments/",
        {"name": "现场照片", "file": SimpleUploadedFile("现场照片.png", photo, "image/png")},
    )
    assert stored.status_code == 302
    attachment = CaseAttachment.objects.get()
    assert Path(attachment.file.path).read_bytes() == photo
    assert files_in(private_root) == [Path(attachment.file.path)]
