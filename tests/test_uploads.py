"""Uploads decided by content (kejiyun/common/uploads.py): a file is accepted only if it parses
as a type the caller allows, carries no markup and is named with that type's extension. Every
sample here is a real file (pypdf, Pillow, zipfile, MP4 boxes) or a real file made hostile."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kejiyun.common.errors import ServiceError
from kejiyun.common.uploads import (
    DOCX,
    JPEG,
    MP4,
    OFFICE,
    PDF,
    PNG,
    PPTX,
    SCAN_CHUNK,
    XLSX,
    FileType,
    UploadRefused,
    bytes_check,
    upload_check,
)
from tests import builders
from tests.builders import OOXML, make_xlsx, mp4_bytes, office_bytes, pdf_bytes

EVERYTHING: tuple[FileType, ...] = (PDF, PNG, JPEG, *OFFICE, MP4)
LIMIT = 20 * 1024 * 1024


def check(name: str, data: bytes, allowed: tuple[FileType, ...] = EVERYTHING) -> FileType:
    upload = SimpleUploadedFile(name, data, content_type="application/octet-stream")
    kind = upload_check(
        upload, allowed=allowed, max_bytes=LIMIT, too_big="太大。", bad_type="类型不对。"
    )
    assert upload.tell() == 0  # read again from the start when it is stored
    return kind


def refused(name: str, data: bytes, allowed: tuple[FileType, ...] = EVERYTHING) -> UploadRefused:
    with pytest.raises(UploadRefused) as caught:
        check(name, data, allowed)
    return caught.value


def pptx_bytes() -> bytes:
    return office_bytes(f"{OOXML}.presentationml.presentation.main+xml")


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("合同.pdf", pdf_bytes(pages=3), PDF),
        ("现场.PNG", builders.png_bytes(), PNG),
        ("现场.jpg", builders.jpeg_bytes(), JPEG),
        ("现场.jpeg", builders.jpeg_bytes(), JPEG),
        ("方案.docx", office_bytes(), DOCX),
        ("名单.xlsx", make_xlsx(["姓名"], [["张三"]]), XLSX),
        ("汇报.pptx", pptx_bytes(), PPTX),
        ("科普.mp4", mp4_bytes(), MP4),
    ],
)
def test_a_real_file_is_accepted_as_the_type_it_parses_as(
    name: str, data: bytes, kind: FileType
) -> None:
    assert check(name, data) == kind


def test_the_type_comes_from_the_content_and_the_name_must_agree_with_it() -> None:
    error = refused("photo.png", builders.jpeg_bytes())
    assert error.code == "wrong_extension"
    assert error.messages == ["类型不对。文件内容是 JPEG，文件名的扩展名应为 .jpeg、.jpg。"]
    assert refused("名单.docx", make_xlsx(["姓名"], [["张三"]])).code == "wrong_extension"
    assert refused("合同", pdf_bytes()).code == "wrong_extension"
    # A type the caller does not allow is refused even when it parses.
    assert refused("合同.pdf", pdf_bytes(), allowed=(PNG, JPEG)).code == "bad_type"


@pytest.mark.parametrize("name", ["x.html", "x.pdf"])
def test_a_pdf_header_followed_by_script_is_refused_as_markup(name: str) -> None:
    error = refused(name, b"%PDF-1.4\n<script>fetch('/cases/').then(r=>r.text())</script>\n")
    assert error.code == "markup"
    assert error.messages == ["类型不对。该文件含有网页代码（<script），已拒绝。"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        # A real PDF with an HTML page appended (past the first kilobytes).
        ("a.pdf", pdf_bytes(pages=30) + b"\n<html><body>hi</body></html>"),
        # A real PNG with a script after its end chunk.
        ("a.png", builders.png_bytes() + b"<script>alert(document.cookie)</script>"),
        # An SVG in the first kilobytes of a JPEG.
        ("a.jpg", builders.jpeg_bytes()[:20] + b"<svg xmlns='http://www.w3.org/2000/svg'>"),
        # A doctype at the start, whatever follows.
        ("a.pdf", b"<!DOCTYPE html>" + pdf_bytes()),
        # A script tag across the boundary between two chunks of the scan.
        ("a.mp4", mp4_bytes(b"\x00" * (SCAN_CHUNK - len(mp4_bytes(b"")) - 3) + b"<script>")),
    ],
)
def test_markup_anywhere_in_a_file_that_parses_is_refused(name: str, data: bytes) -> None:
    assert refused(name, data).code == "markup"


def test_a_pdf_with_a_javascript_action_is_refused() -> None:
    error = refused("合同.pdf", pdf_bytes(javascript="app.alert('x')"))
    assert (error.code, error.messages) == ("bad_type", ["类型不对。PDF 中含有 JavaScript 动作。"])


def test_a_pdf_that_would_launch_a_program_is_refused() -> None:
    from pypdf import PdfWriter
    from pypdf.generic import DictionaryObject, NameObject, TextStringObject

    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer._root_object[NameObject("/OpenAction")] = DictionaryObject(
        {NameObject("/S"): NameObject("/Launch"), NameObject("/F"): TextStringObject("calc.exe")}
    )
    buffer = io.BytesIO()
    writer.write(buffer)
    error = refused("合同.pdf", buffer.getvalue())
    assert error.messages == ["类型不对。PDF 中含有启动外部程序的动作。"]


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n% only a header\n",
        pdf_bytes()[:200],
        b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    ],
)
def test_something_that_only_starts_like_a_pdf_is_refused(data: bytes) -> None:
    assert refused("合同.pdf", data).code == "bad_type"


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header claims `width` x `height` pixels, with one tiny compressed row."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("a.png", builders.png_bytes()[:40]),  # cut short
        ("a.png", png_claiming(100_000, 100_000)),  # a decompression bomb
        ("a.png", png_claiming(4, 3)),  # the pixels are not there
        ("a.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64),  # a JPEG signature and nothing else
        ("a.png", b"GIF89a" + builders.png_bytes()),  # another format
    ],
)
def test_an_image_that_pillow_cannot_decode_is_refused(name: str, data: bytes) -> None:
    assert refused(name, data).code == "bad_type"


def zip_of(members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_an_office_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    bomb = office_bytes(members={"word/media/blob.bin": b"A" * (60 * 1024 * 1024)})
    assert len(bomb) < 1024 * 1024
    error = refused("方案.docx", bomb)
    assert error.messages == ["类型不对。文件解压后过大或压缩比异常。"]
    # A high ratio alone is refused too (a small file that unpacks 1,000-fold).
    assert refused("方案.docx", office_bytes(members={"x.bin": b"\x00" * 5_000_000})).code == (
        "bad_type"
    )


def test_an_archive_with_too_many_members_is_refused() -> None:
    many = office_bytes(members={f"word/p{i}.xml": b"<p/>" for i in range(5001)})
    assert refused("方案.docx", many).messages == ["类型不对。压缩包中的文件过多。"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (zip_of({"word/document.xml": b"<w:document/>"}), "不是 Word（.docx）文件"),
        (
            office_bytes("application/vnd.ms-word.document.macroEnabled.main+xml"),
            "文件内容不是 Word（.docx）文件。",
        ),
        (b"PK\x03\x04" + b"\x00" * 200, "无法按 Word（.docx）文件读取"),
    ],
)
def test_a_zip_that_is_not_the_office_document_it_claims_is_refused(
    data: bytes, reason: str
) -> None:
    error = refused("方案.docx", data, allowed=(DOCX,))
    assert error.code == "bad_type"
    assert reason in error.messages[0]


def box(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", 8 + len(body)) + kind + body


@pytest.mark.parametrize(
    "data",
    [
        box(b"ftyp", b"isom\x00\x00\x02\x00isommp42") + box(b"mdat", b"\x00" * 16),  # no moov
        mp4_bytes()[:-4],  # the last box runs past the end
        box(b"ftyp", b"qt  \x00\x00\x02\x00qt  ") + box(b"moov", b""),  # a QuickTime brand
        mp4_bytes() + b"\x00\x00",  # trailing bytes that are not a box
    ],
)
def test_a_video_whose_boxes_do_not_make_an_mp4_is_refused(data: bytes) -> None:
    assert refused("科普.mp4", data, allowed=(MP4,)).code == "bad_type"


def test_a_file_over_the_limit_is_refused_before_it_is_read() -> None:
    upload = SimpleUploadedFile("合同.pdf", pdf_bytes())
    with pytest.raises(UploadRefused) as caught:
        upload_check(upload, allowed=(PDF,), max_bytes=100, too_big="太大。", bad_type="类型。")
    assert (caught.value.code, caught.value.messages) == ("too_big", ["太大。"])


def test_bytes_already_read_are_checked_the_same_way_with_the_callers_error() -> None:
    class SheetRefused(ServiceError):
        pass

    workbook = make_xlsx(["姓名"], [["张三"]])
    common = {"max_bytes": LIMIT, "too_big": "大", "bad_type": "类型。", "error": SheetRefused}
    assert bytes_check(workbook, filename="名单.xlsx", allowed=(XLSX,), **common) == XLSX
    # Read again later (the name was checked when it came in): no name to agree with.
    assert bytes_check(workbook, filename=None, allowed=(XLSX,), **common) == XLSX
    with pytest.raises(SheetRefused):
        bytes_check(workbook, filename="名单.csv", allowed=(XLSX,), **common)
    with pytest.raises(SheetRefused):
        bytes_check(b"not a zip", filename="名单.xlsx", allowed=(XLSX,), **common)
