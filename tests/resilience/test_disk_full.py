"""Drill: the disk for uploads fills up (docs/resilience.md, "The upload disk full").

The upload folders (MEDIA_ROOT and PRIVATE_MEDIA_ROOT) live on a 4 MB tmpfs of their own,
as they would on their own volume in production. The drill fills it until the kernel says
ENOSPC, leaves 64 KB, and has county staff upload a 480 KB photo to a case through the real
page. The upload is refused with a clear Chinese message on the form; no half-written file
is left in the folder, no attachment row or case event points at a missing file, and the rest
of the site answers (pages and writes that need no disk). Once space is freed, the same
upload succeeds and downloads byte for byte.
"""

from __future__ import annotations

import errno
import hashlib
import io
import os

import pytest
from PIL import Image

from tests.resilience.conftest import Stack
from tests.resilience.stack import files_under, step

pytestmark = pytest.mark.resilience

LEFT_FREE = 64 * 1024


def noise_png() -> bytes:
    """A real PNG of random pixels: 400×400, about 480 KB, which no compression shrinks."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (400, 400), os.urandom(400 * 400 * 3)).save(buffer, format="PNG")
    return buffer.getvalue()


def fill(path: os.PathLike[str], *, leave: int) -> int:
    """Write zeros to `path` until the file system is full, then give back `leave` bytes.
    Returns the filler's size."""
    chunk = b"\0" * (256 * 1024)
    with open(path, "wb", buffering=0) as filler:
        while True:
            try:
                filler.write(chunk)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error
                break
        size = filler.tell()
        filler.truncate(size - leave)
    return size - leave


def attachment_state(stack: Stack, case_id: int) -> tuple[int, int]:
    """(attachment rows, attachment events) of the case."""
    rows = stack.value("SELECT count(*) FROM cases_caseattachment WHERE case_id = %s", case_id)
    events = stack.value(
        "SELECT count(*) FROM cases_caseevent WHERE case_id = %s AND kind = 'attachment'",
        case_id,
    )
    return int(rows), int(events)


def test_an_upload_to_a_full_disk_is_refused_cleanly_and_succeeds_once_there_is_room(
    stack: Stack,
) -> None:
    if not stack.uploads_mounted:
        if os.environ.get("RESILIENCE_SKIP_DISK_FULL") == "1":
            pytest.skip("no tmpfs could be mounted here (RESILIENCE_SKIP_DISK_FULL=1)")
        pytest.fail(
            "the disk-full drill needs a tmpfs of its own for the uploads (mount needs root "
            "or CAP_SYS_ADMIN); set RESILIENCE_SKIP_DISK_FULL=1 where that is impossible"
        )
    case_id = stack.seed["case_id"]
    private = stack.uploads / "private"
    staff = stack.staff()
    photo = noise_png()
    assert len(photo) > 4 * LEFT_FREE
    files_before = files_under(private)
    state_before = attachment_state(stack, case_id)

    filler = stack.uploads / "filler"
    filled = fill(filler, leave=LEFT_FREE)
    step(f"uploads tmpfs filled ({filled // 1024} KB), {LEFT_FREE // 1024} KB left; upload")
    try:
        refused = staff.post(
            f"/cases/{case_id}/attachments/",
            {"name": "现场照片"},
            files={"file": ("现场照片.png", photo, "image/png")},
        )
        assert refused.status_code == 400, (refused.status_code, refused.text[:300])
        assert "服务器存储空间已满，文件没有保存" in refused.text
        assert files_under(private) == files_before, "a partly written file was left behind"
        assert attachment_state(stack, case_id) == state_before
        # The rest of the site answers, and writes that need no disk go through.
        assert stack.browser().get("/").status_code == 200
        assert staff.get(f"/cases/{case_id}/").status_code == 200
        noted = staff.post(f"/cases/{case_id}/notes/", {"body": "附件上传失败：存储空间已满"})
        assert noted.status_code == 302
    finally:
        filler.unlink()

    stored = staff.post(
        f"/cases/{case_id}/attachments/",
        {"name": "现场照片"},
        files={"file": ("现场照片.png", photo, "image/png")},
    )
    assert stored.status_code == 302, (stored.status_code, stored.text[:300])
    assert attachment_state(stack, case_id) == (state_before[0] + 1, state_before[1] + 1)
    new_files = sorted(set(files_under(private)) - set(files_before))
    assert len(new_files) == 1
    assert (private / new_files[0]).read_bytes() == photo
    attachment_id = stack.value(
        "SELECT max(id) FROM cases_caseattachment WHERE case_id = %s", case_id
    )
    download = staff.get(f"/cases/{case_id}/attachments/{attachment_id}/")
    assert download.status_code == 200
    assert hashlib.sha256(download.content).digest() == hashlib.sha256(photo).digest()
