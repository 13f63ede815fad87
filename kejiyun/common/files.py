"""Private files: uploads that are not public content (case attachments and outcome evidence)
live under `settings.PRIVATE_MEDIA_ROOT`, outside MEDIA_ROOT and every URL, under random
names (uuid4 hex and the extension of the type their bytes proved). They leave only through a
view that applies the access rule of the record they belong to and answers with
`private_file_response`: the stored content type, `Content-Disposition: attachment` with the
original name, `nosniff` and `no-store`. In production (`PRIVATE_FILES_ACCEL` set, e.g.
"/_private/") the view answers with `X-Accel-Redirect` and nginx sends the bytes from an
`internal` location (docs/deploy.md).

Both the private storage and the public one (`PublicStorage`, MEDIA_ROOT: published science
images, posters and videos) refuse an upload on a full disk with `StorageFull`, a refusal with
a clear Chinese message, and leave no partly written file behind (docs/resilience.md).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import uuid
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import FileSystemStorage, Storage
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpResponse, HttpResponseBase
from django.utils.translation import gettext

from kejiyun.common.errors import ServiceError
from kejiyun.common.uploads import FileType

logger = logging.getLogger(__name__)

# The file system has no room for the bytes: no space, over quota, or too large for it.
_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class StorageFull(ServiceError):
    """An upload refused because the disk for uploads is full; nothing was stored. Views
    that run the service answer it as any refusal (the reason on the form); anywhere else
    the error handler answers a 507 page (kejiyun.site.errors)."""

    def __init__(self) -> None:
        super().__init__(
            gettext(
                "服务器存储空间已满，文件没有保存。请稍后再试；如果问题持续，请联系平台管理员。"
            ),
            code="storage_full",
        )


class FullDiskSafeStorage(FileSystemStorage):
    """A file-system storage that, when the disk fills up while a file is written, removes the
    part already written and raises `StorageFull` (Django's own storage leaves the partial file
    in place and raises a bare OSError, which answers 500). The caller's transaction rolls
    back with it, so no row points at a file that is not there."""

    def _save(self, name: str, content: Any) -> str:
        target = self.path(name)
        existed = os.path.lexists(target)
        try:
            return str(super()._save(name, content))  # type: ignore[misc]  # not in the stubs
        except OSError as error:
            if error.errno not in _FULL_ERRNOS:
                raise
            if not existed:
                with contextlib.suppress(FileNotFoundError):
                    os.remove(target)
            logger.error(
                "upload refused: no space left under %s (%s)", self.location, error.strerror
            )
            raise StorageFull from error


class PublicStorage(FullDiskSafeStorage):
    """The default storage (settings.STORAGES): public uploads under MEDIA_ROOT."""


class PrivateStorage(FullDiskSafeStorage):
    """The file system under `settings.PRIVATE_MEDIA_ROOT` (read when used, so tests can
    point it elsewhere); no URL, ever."""

    def __init__(self) -> None:
        super().__init__(location=None, base_url=None)

    @property
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise ValueError("私有文件没有公开地址，请通过下载视图访问。")


PRIVATE_STORAGE = PrivateStorage()


def private_storage() -> Storage:
    """The storage of every private file field (a callable, so migrations name it)."""
    return PRIVATE_STORAGE


def random_name(kind: FileType) -> str:
    """A stored file's name: 32 random hex digits and the extension its bytes proved."""
    return f"{uuid.uuid4().hex}.{kind.extension}"


def download_name(original: str, kind_extension: str = "") -> str:
    """The name a download is offered under: the sender's base name, no folders."""
    name = PurePath(original.replace("\\", "/")).name.strip() or "下载文件"
    if kind_extension and not name.lower().endswith(f".{kind_extension}"):
        name = f"{name}.{kind_extension}"
    return name[:200]


def attachment_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266 / 5987)."""
    fallback = "".join(
        c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in filename
    )
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def private_file_response(file: FieldFile, *, filename: str, content_type: str) -> HttpResponseBase:
    """Send a private file as a download (404 if it is missing on disk)."""
    if not file or not file.name:
        raise Http404("文件不存在")
    headers = {
        "Content-Disposition": attachment_disposition(filename),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-store",
    }
    content_type = content_type or "application/octet-stream"
    accel = settings.PRIVATE_FILES_ACCEL
    if accel:
        # nginx serves the bytes from its internal location; the name is our random one.
        accelerated = HttpResponse(content_type=content_type, headers=headers)
        accelerated["X-Accel-Redirect"] = accel.rstrip("/") + "/" + quote(file.name)
        return accelerated
    try:
        handle = file.storage.open(file.name, "rb")
    except FileNotFoundError:
        raise Http404("文件不存在") from None
    streamed = FileResponse(handle, content_type=content_type)
    for name, value in headers.items():
        streamed[name] = value
    return streamed
