"""Every uploaded file is checked here: its size, then the type its first bytes prove.

The client's file name and content type are never trusted to say what a file is; the
caller gets the type found here (popsci media are stored under a generated name with its
extension).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile

from kejiyun.common.errors import ServiceError

HEAD_BYTES = 12
MIB = 1024 * 1024


@dataclass(frozen=True)
class FileType:
    """A file type told by a signature of bytes at an offset from the start."""

    name: str
    extension: str
    signature: bytes
    offset: int = 0

    def matches(self, head: bytes) -> bool:
        return head[self.offset : self.offset + len(self.signature)] == self.signature


PDF = FileType("PDF", "pdf", b"%PDF")
PNG = FileType("PNG", "png", b"\x89PNG")
JPEG = FileType("JPEG", "jpg", b"\xff\xd8\xff")
# .xlsx and .docx are ZIP archives; what is inside is checked by whoever opens them.
OFFICE_ZIP = FileType("Office/ZIP", "zip", b"PK\x03\x04")
MP4 = FileType("MP4", "mp4", b"ftyp", offset=4)


class UploadRefused(ServiceError):
    """The file is too big or not of an allowed type; nothing was stored."""


def sniff(head: bytes, allowed: Sequence[FileType]) -> FileType | None:
    """The first of `allowed` whose signature the bytes carry, or None."""
    return next((kind for kind in allowed if kind.matches(head)), None)


def upload_check(
    upload: UploadedFile,
    *,
    allowed: Sequence[FileType],
    max_bytes: int,
    too_big: str,
    bad_type: str,
    error: type[ServiceError] = UploadRefused,
) -> FileType:
    """The type of `upload` if it is at most `max_bytes` and its bytes prove one of
    `allowed`; otherwise `error(too_big)` or `error(bad_type)` (codes `too_big`, `bad_type`).
    """
    if upload.size is None or upload.size > max_bytes:
        raise error(too_big, code="too_big")
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    kind = sniff(head, allowed)
    if kind is None:
        raise error(bad_type, code="bad_type")
    return kind


def bytes_check(
    data: bytes,
    *,
    allowed: Sequence[FileType],
    max_bytes: int,
    too_big: str,
    bad_type: str,
    error: type[ServiceError] = UploadRefused,
) -> FileType:
    """`upload_check` for a file already read into memory (spreadsheet imports)."""
    if len(data) > max_bytes:
        raise error(too_big, code="too_big")
    kind = sniff(data[:HEAD_BYTES], allowed)
    if kind is None:
        raise error(bad_type, code="bad_type")
    return kind
