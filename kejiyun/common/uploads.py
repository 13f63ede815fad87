"""Every uploaded file is checked here: its size, then whether it parses as a type the caller
allows, then whether its name's extension agrees with that type.

A file is accepted only if a parser for its type reads it: PDFs with pypdf (every page is
read and no JavaScript action may be present), images with Pillow (`verify()`, then a full
decode, and the format must be the one the bytes claim), Office files (.docx, .xlsx, .pptx)
as zip archives within size, member-count and compression-ratio limits whose
`[Content_Types].xml` names the expected main part, MP4 by its box structure (an `ftyp`
box first, boxes that tile the file exactly, a `moov` box). Anything carrying markup that a
browser would run (`<script`, `<html`, `<svg`, `<!doctype`, …) is refused whatever it
claims to be. The client's file name and content type are never trusted to say what a file
is: the caller gets the `FileType` found here and stores the file under a generated name
with that type's extension and content type.

A refusal is the caller's `error` (a `ServiceError`) with code `too_big`, `bad_type`,
`markup` or `wrong_extension`; nothing has been written. Views answer it with 400.
"""

from __future__ import annotations

import io
import re
import struct
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import IO, Any

from django.core.files.uploadedfile import UploadedFile

from kejiyun.common.errors import ServiceError

MIB = 1024 * 1024
# Markup a browser would act on. The first HEAD_SCAN_BYTES are searched for every token (a
# browser sniffing a file looks there); the whole file for the long tokens, which compressed
# data practically never holds by chance.
HEAD_SCAN_BYTES = 8 * 1024
HEAD_MARKUP = re.compile(
    rb"<\s*(?:script|html|svg|!doctype|iframe|body|object|embed|xml-stylesheet)\b"
    rb"|<\?xml-stylesheet|javascript:",
    re.IGNORECASE,
)
BODY_MARKUP = re.compile(rb"<\s*(?:script|html|!doctype|iframe)\b", re.IGNORECASE)
SCAN_CHUNK = 1 * MIB
SCAN_OVERLAP = 32

# Office archives (docx/xlsx/pptx): what a real document stays within.
OFFICE_MAX_MEMBERS = 5000
OFFICE_MAX_UNPACKED_BYTES = 50 * MIB
OFFICE_MAX_RATIO = 100
CONTENT_TYPES_MAX_BYTES = 1 * MIB
# Images: no more pixels than a 50-megapixel photograph (a small PNG can claim gigapixels).
IMAGE_MAX_PIXELS = 50_000_000
# PDFs: objects visited when looking for JavaScript actions.
PDF_MAX_OBJECTS = 200_000


class UploadRefused(ServiceError):
    """The file is too big, does not parse as an allowed type, carries markup, or its name
    says another type; nothing was stored."""


class Unparsable(Exception):
    """A parser's refusal; its text is a Chinese sentence saying why."""


Parser = Callable[[IO[bytes], int], None]


@dataclass(frozen=True)
class FileType:
    """A type a file is accepted as: told apart by a signature of bytes at an offset, then
    proved by `parse` (which raises `Unparsable`)."""

    name: str
    extension: str  # the one a stored file gets
    content_type: str
    signature: bytes
    parse: Parser = field(compare=False, repr=False)
    offset: int = 0
    # Every extension a file of this type may be named with (lower case, no dot).
    extensions: frozenset[str] = frozenset()

    def matches(self, head: bytes) -> bool:
        return head[self.offset : self.offset + len(self.signature)] == self.signature

    def names_agree(self, filename: str) -> bool:
        suffix = PurePath(filename).suffix.lower().lstrip(".")
        return suffix in (self.extensions or {self.extension})


# --- Parsers ------------------------------------------------------------------------------


def _parse_pdf(stream: IO[bytes], size: int) -> None:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    stream.seek(0)
    if stream.read(5) != b"%PDF-":
        raise Unparsable("文件不是以 PDF 文件头开始。")
    stream.seek(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            reader = PdfReader(stream, strict=False)
            if reader.is_encrypted and not reader.decrypt(""):
                raise Unparsable("加密的 PDF 无法检查，请上传未加密的文件。")
            pages = reader.pages
            if len(pages) == 0:
                raise Unparsable("PDF 中没有页面。")
            for page in pages:
                page.mediabox  # noqa: B018 - reading each page is the check
            _refuse_pdf_javascript(reader.trailer)
        except Unparsable:
            raise
        except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
            raise Unparsable("无法按 PDF 读取该文件，文件可能已损坏。") from exc
        except RecursionError as exc:
            raise Unparsable("PDF 结构异常。") from exc


def _pdf_action_refusal(name: str) -> str:
    if name == "/Launch":
        return "PDF 中含有启动外部程序的动作。"
    return "PDF 中含有 JavaScript 动作。"


def _refuse_pdf_javascript(root: Any) -> None:
    """Walk every dictionary and array reachable from the trailer; refuse a JavaScript
    action (`/JS`, `/JavaScript`, an action of type `/JavaScript`), an action that starts
    a program (`/Launch`) or an embedded form script (`/XFA`). Names are compared decoded, so
    `/J#53` is `/JS`."""
    from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

    forbidden = {"/JS", "/JavaScript", "/Launch", "/XFA", "/RichMedia"}
    seen: set[tuple[int, int]] = set()
    todo: list[Any] = [root]
    visited = 0
    while todo:
        item = todo.pop()
        if isinstance(item, IndirectObject):
            ref = (item.idnum, item.generation)
            if ref in seen:
                continue
            seen.add(ref)
            item = item.get_object()
        visited += 1
        if visited > PDF_MAX_OBJECTS:
            raise Unparsable("PDF 对象过多，无法检查。")
        if isinstance(item, DictionaryObject):
            for key, value in item.items():
                if str(key) in forbidden:
                    raise Unparsable(_pdf_action_refusal(str(key)))
                if key == "/S" and isinstance(value, NameObject) and str(value) in forbidden:
                    raise Unparsable(_pdf_action_refusal(str(value)))
                todo.append(value)
        elif isinstance(item, ArrayObject):
            todo.extend(item)


def _image_parser(expected: str) -> Parser:
    def parse(stream: IO[bytes], size: int) -> None:
        from PIL import Image, UnidentifiedImageError

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                stream.seek(0)
                with Image.open(stream) as image:
                    if image.format != expected:
                        raise Unparsable(f"图片内容不是 {expected} 格式。")
                    width, height = image.size
                    if width * height > IMAGE_MAX_PIXELS:
                        raise Unparsable("图片像素过多。")
                    image.verify()
                # verify() leaves the image unusable: open it again and decode every pixel.
                stream.seek(0)
                with Image.open(stream) as image:
                    if image.format != expected:
                        raise Unparsable(f"图片内容不是 {expected} 格式。")
                    image.load()
        except Unparsable:
            raise
        except (
            UnidentifiedImageError,
            Image.DecompressionBombError,
            Image.DecompressionBombWarning,
            OSError,
            ValueError,
            SyntaxError,
            struct.error,
        ) as exc:
            raise Unparsable("无法按图片读取该文件，文件可能已损坏。") from exc

    return parse


OOXML = "application/vnd.openxmlformats-officedocument"
_MAIN_PARTS = re.compile(rb'ContentType\s*=\s*"([^"]+\.main\+xml)"')


def _office_parser(main_part: str, label: str) -> Parser:
    """An Office Open XML package whose `[Content_Types].xml` names `main_part` as its main
    document (macro-enabled variants name another and are refused)."""

    def parse(stream: IO[bytes], size: int) -> None:
        stream.seek(0)
        try:
            with zipfile.ZipFile(stream) as archive:
                members = archive.infolist()
                if len(members) > OFFICE_MAX_MEMBERS:
                    raise Unparsable("压缩包中的文件过多。")
                unpacked = sum(m.file_size for m in members)
                packed = sum(m.compress_size for m in members) or 1
                if unpacked > OFFICE_MAX_UNPACKED_BYTES or unpacked / packed > OFFICE_MAX_RATIO:
                    raise Unparsable("文件解压后过大或压缩比异常。")
                try:
                    info = archive.getinfo("[Content_Types].xml")
                except KeyError:
                    raise Unparsable(f"不是{label}文件（缺少 [Content_Types].xml）。") from None
                if info.file_size > CONTENT_TYPES_MAX_BYTES:
                    raise Unparsable("文件解压后过大或压缩比异常。")
                declared = archive.read(info)
        except Unparsable:
            raise
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
            raise Unparsable(f"无法按{label}文件读取，文件可能已损坏。") from exc
        mains = {m.decode("ascii", "replace") for m in _MAIN_PARTS.findall(declared)}
        if main_part not in mains:
            raise Unparsable(f"文件内容不是{label}文件。")

    return parse


MP4_BRANDS = frozenset(
    {
        b"isom",
        b"iso2",
        b"iso3",
        b"iso4",
        b"iso5",
        b"iso6",
        b"mp41",
        b"mp42",
        b"avc1",
        b"M4V ",
        b"M4VH",
        b"M4VP",
        b"dash",
        b"mmp4",
        b"MSNV",
        b"f4v ",
    }
)
_BOX_TYPE = re.compile(rb"[\x20-\x7e\xa9]{4}")


def _parse_mp4(stream: IO[bytes], size: int) -> None:
    """Top-level ISO BMFF boxes: `ftyp` first with an MP4 brand, each box's size within the
    file, the boxes tiling it exactly, and a `moov` box (the movie's description)."""
    position = 0
    kinds: list[bytes] = []
    while position < size:
        stream.seek(position)
        header = stream.read(8)
        if len(header) < 8:
            raise Unparsable("MP4 文件结构不完整。")
        length, kind = struct.unpack(">I4s", header)
        if length == 1:
            large = stream.read(8)
            if len(large) < 8:
                raise Unparsable("MP4 文件结构不完整。")
            (length,) = struct.unpack(">Q", large)
        elif length == 0:
            length = size - position
        if not _BOX_TYPE.fullmatch(kind) or length < 8 or position + length > size:
            raise Unparsable("MP4 文件结构不正确。")
        if not kinds:
            if kind != b"ftyp" or length < 16:
                raise Unparsable("文件不是以 MP4 的 ftyp 结构开始。")
            brands = stream.read(length - 8)
            compatible = {brands[i : i + 4] for i in range(0, len(brands), 4) if i != 4}
            if not compatible & MP4_BRANDS:
                raise Unparsable("不是 MP4 视频。")
        kinds.append(kind)
        position += length
    if b"moov" not in kinds:
        raise Unparsable("MP4 文件缺少 moov 结构。")


# --- The types ----------------------------------------------------------------------------

PDF = FileType("PDF", "pdf", "application/pdf", b"%PDF-", _parse_pdf, extensions=frozenset({"pdf"}))
PNG = FileType(
    "PNG",
    "png",
    "image/png",
    b"\x89PNG\r\n\x1a\n",
    _image_parser("PNG"),
    extensions=frozenset({"png"}),
)
JPEG = FileType(
    "JPEG",
    "jpg",
    "image/jpeg",
    b"\xff\xd8\xff",
    _image_parser("JPEG"),
    extensions=frozenset({"jpg", "jpeg"}),
)
DOCX = FileType(
    "Word",
    "docx",
    f"{OOXML}.wordprocessingml.document",
    b"PK\x03\x04",
    _office_parser(f"{OOXML}.wordprocessingml.document.main+xml", " Word（.docx）"),
)
XLSX = FileType(
    "Excel",
    "xlsx",
    f"{OOXML}.spreadsheetml.sheet",
    b"PK\x03\x04",
    _office_parser(f"{OOXML}.spreadsheetml.sheet.main+xml", " Excel（.xlsx）"),
)
PPTX = FileType(
    "PowerPoint",
    "pptx",
    f"{OOXML}.presentationml.presentation",
    b"PK\x03\x04",
    _office_parser(f"{OOXML}.presentationml.presentation.main+xml", " PowerPoint（.pptx）"),
)
OFFICE: tuple[FileType, ...] = (DOCX, XLSX, PPTX)
MP4 = FileType("MP4", "mp4", "video/mp4", b"ftyp", _parse_mp4, offset=4)

HEAD_BYTES = 16


# --- The checks ---------------------------------------------------------------------------


def _markup_in(stream: IO[bytes], size: int) -> bytes | None:
    """The first markup token found in the file, or None."""
    stream.seek(0)
    head = stream.read(HEAD_SCAN_BYTES)
    found = HEAD_MARKUP.search(head)
    if found:
        return found.group(0)
    stream.seek(0)
    tail = b""
    while chunk := stream.read(SCAN_CHUNK):
        window = tail + chunk
        found = BODY_MARKUP.search(window)
        if found:
            return found.group(0)
        tail = window[-SCAN_OVERLAP:]
    return None


def _refusal(error: type[ServiceError], message: str, reason: str, code: str) -> ServiceError:
    return error(f"{message}{reason}", code=code)


def stream_check(
    stream: IO[bytes],
    *,
    size: int,
    filename: str | None,
    allowed: Sequence[FileType],
    max_bytes: int,
    too_big: str,
    bad_type: str,
    error: type[ServiceError] = UploadRefused,
) -> FileType:
    """The type of the file in `stream` (size `size`, named `filename` by its sender), or a
    refusal. See the module docstring for what is checked, in this order: size, markup,
    parse, extension (skipped when `filename` is None: a file checked before, read again).
    The stream is left at its start."""
    if size > max_bytes:
        raise error(too_big, code="too_big")
    try:
        token = _markup_in(stream, size)
        if token is not None:
            shown = token.decode("ascii", "replace").strip().lower()
            raise _refusal(error, bad_type, f"该文件含有网页代码（{shown}），已拒绝。", "markup")
        stream.seek(0)
        head = stream.read(HEAD_BYTES)
        candidates = [kind for kind in allowed if kind.matches(head)]
        if not candidates:
            raise error(bad_type, code="bad_type")
        reasons: list[str] = []
        for kind in candidates:
            try:
                kind.parse(stream, size)
            except Unparsable as refused:
                reasons.append(str(refused))
                continue
            if filename is not None and not kind.names_agree(filename):
                wanted = "、".join(f".{e}" for e in sorted(kind.extensions or {kind.extension}))
                raise _refusal(
                    error,
                    bad_type,
                    f"文件内容是 {kind.name}，文件名的扩展名应为 {wanted}。",
                    "wrong_extension",
                )
            return kind
        raise _refusal(error, bad_type, reasons[0], "bad_type")
    finally:
        stream.seek(0)


def upload_check(
    upload: UploadedFile,
    *,
    allowed: Sequence[FileType],
    max_bytes: int,
    too_big: str,
    bad_type: str,
    error: type[ServiceError] = UploadRefused,
) -> FileType:
    """The type of `upload` if it is at most `max_bytes`, carries no markup, parses as one of
    `allowed` and is named with that type's extension; otherwise `error(too_big)` or
    `error(bad_type + reason)` (codes `too_big`, `markup`, `bad_type`, `wrong_extension`)."""
    if upload.size is None:
        raise error(too_big, code="too_big")
    return stream_check(
        upload,  # an UploadedFile is a readable, seekable file
        size=upload.size,
        filename=upload.name or "",
        allowed=allowed,
        max_bytes=max_bytes,
        too_big=too_big,
        bad_type=bad_type,
        error=error,
    )


def bytes_check(
    data: bytes,
    *,
    filename: str | None,
    allowed: Sequence[FileType],
    max_bytes: int,
    too_big: str,
    bad_type: str,
    error: type[ServiceError] = UploadRefused,
) -> FileType:
    """`upload_check` for a file already read into memory (spreadsheet imports)."""
    if len(data) > max_bytes:
        raise error(too_big, code="too_big")
    return stream_check(
        io.BytesIO(data),
        size=len(data),
        filename=filename,
        allowed=allowed,
        max_bytes=max_bytes,
        too_big=too_big,
        bad_type=bad_type,
        error=error,
    )
