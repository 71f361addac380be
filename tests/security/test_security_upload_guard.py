"""Upload content checks: the kind from the bytes, size limits, and real decompression bombs made here."""

from __future__ import annotations

import base64
import io
import struct
import tracemalloc
import zipfile
from pathlib import Path

import polars as pl
import pytest

from pilot_roi.errors import InvalidInput
from pilot_roi.upload_guard import (
    UploadLimits,
    check_decompression,
    check_upload,
    check_upload_file,
    decode_dash_upload,
    display_name,
)

MB = 1_048_576


def _xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame({"site_code": ["KMG-ANPZ"], "value": [1.5]}).write_excel(buffer)
    return buffer.getvalue()


def _parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    pl.DataFrame({"site_code": ["KMG-ANPZ"] * 10, "value": list(range(10))}).write_parquet(buffer)
    return buffer.getvalue()


def _key(excinfo: pytest.ExceptionInfo[InvalidInput]) -> str:
    return excinfo.value.problems[0].key


@pytest.mark.parametrize(
    ("data", "name", "kind"),
    [
        (b"site_code;value\nKMG-ANPZ;1,5\n", "metrics.csv", "text"),
        ("\ufeffКод объекта,Значение\nKMG-ANPZ,1\n".encode(), "m.csv", "text"),
        ("Код объекта\tЗначение\nKMG-ANPZ\t1\n".encode("cp1251"), "m.tsv", "text"),
        ("Код объекта\tЗначение\nKMG-ANPZ\t1\n".encode("utf-16"), "m.txt", "text"),  # Excel's Unicode text
        (_xlsx_bytes(), "metrics.csv", "xlsx"),  # the name lies; the content decides
        (_xlsx_bytes(), "metrics.xlsx", "xlsx"),
        (_parquet_bytes(), "metrics.txt", "parquet"),
    ],
)
def test_kind_comes_from_content(data: bytes, name: str, kind: str) -> None:
    checked = check_upload(data, name)
    assert checked.kind == kind
    assert checked.size == len(data)
    assert len(checked.sha256) == 64


@pytest.mark.parametrize(
    ("data", "key"),
    [
        (b"", "upload.empty"),
        (b"MZ\x90\x00" + b"\x00" * 100, "upload.unsupported_type"),  # a Windows program renamed .csv
        (b"\x7fELF" + b"\x00" * 100, "upload.unsupported_type"),
        (b"%PDF-1.7\n...", "upload.unsupported_type"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "upload.old_xls"),
        (b"site,value\n\x00\x01\x02binary", "upload.unsupported_type"),
        (b"PAR1 not really parquet", "upload.bad_parquet"),  # no PAR1 footer: a damaged Parquet file
    ],
)
def test_refused_content(data: bytes, key: str) -> None:
    with pytest.raises(InvalidInput) as info:
        check_upload(data, "metrics.csv")
    assert _key(info) in (key, "upload.bad_encoding")


def test_plain_zip_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("notes.txt", "hello")
    with pytest.raises(InvalidInput) as info:
        check_upload(buffer.getvalue(), "x.xlsx")
    assert _key(info) == "upload.not_xlsx"


def test_size_limit() -> None:
    limits = UploadLimits(max_upload_bytes=1 * MB)
    data = b"site,value\n" + b"KMG-ANPZ,1\n" * 100_000
    with pytest.raises(InvalidInput) as info:
        check_upload(data, "big.csv", limits=limits)
    assert _key(info) == "upload.too_large"
    assert check_upload(data[: MB // 2], "ok.csv", limits=limits).kind == "text"


def _bomb(member_mb: int, members: int = 1) -> bytes:
    """A real XLSX-shaped decompression bomb: workbook parts plus members of zeros that deflate ~1000:1."""
    buffer = io.BytesIO()
    zeros = b"\x00" * MB
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(members):
            with archive.open(f"xl/worksheets/sheet{i + 1}.xml", "w", force_zip64=True) as member:
                for _ in range(member_mb):
                    member.write(zeros)
    return buffer.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return _bomb(member_mb=150)  # ~150 KB on disk, 150 MB unpacked


def test_decompression_bomb_is_refused_quickly_with_bounded_memory(bomb: bytes) -> None:
    assert len(bomb) < 1 * MB
    limits = UploadLimits(max_upload_bytes=5 * MB, max_uncompressed_bytes=100 * MB)
    tracemalloc.start()
    with pytest.raises(InvalidInput) as info:
        check_upload(bomb, "report.xlsx", limits=limits)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert _key(info) == "upload.zip_bomb"
    assert peak < 10 * MB  # the 150 MB are never inflated: refused from the zip directory alone


def test_bomb_by_ratio_under_the_total_limit(bomb: bytes) -> None:
    limits = UploadLimits(max_upload_bytes=5 * MB, max_uncompressed_bytes=1000 * MB)
    with pytest.raises(InvalidInput) as info:
        check_upload(bomb, "report.xlsx", limits=limits)
    assert _key(info) == "upload.zip_bomb"
    assert "ratio" in str(info.value)


def test_too_many_members() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        for i in range(60):
            archive.writestr(f"xl/media/{i}.bin", b"")
    with pytest.raises(InvalidInput) as info:
        check_upload(buffer.getvalue(), "x.xlsx", limits=UploadLimits(max_members=50))
    assert _key(info) == "upload.zip_bomb"


def _lying_directory(real_mb: int, declared: int) -> bytes:
    """A bomb whose directory claims `declared` bytes for a member that really inflates to `real_mb` MB."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\x00" * (real_mb * MB))
    data = bytearray(buffer.getvalue())
    name = b"xl/worksheets/sheet1.xml"
    central = data.find(b"PK\x01\x02")
    patched = 0
    at = central
    while (at := data.find(b"PK\x01\x02", at)) != -1:
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_len]) == name:
            struct.pack_into("<I", data, at + 24, declared)  # uncompressed size in the central directory
            local = struct.unpack_from("<I", data, at + 42)[0]
            struct.pack_into("<I", data, local + 22, declared)  # and in the local header
            patched += 1
        at += 4
    assert patched == 1
    return bytes(data)


def test_a_directory_that_lies_about_sizes_is_caught_while_inflating() -> None:
    lying = _lying_directory(real_mb=30, declared=1000)
    limits = UploadLimits(max_upload_bytes=5 * MB, max_uncompressed_bytes=10 * MB)
    tracemalloc.start()
    with pytest.raises(InvalidInput) as info:
        check_upload(lying, "x.xlsx", limits=limits)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert _key(info) in ("upload.zip_bomb", "upload.bad_zip")
    assert peak < 10 * MB  # inflation stops at the limit: the 1 GB the directory claims is never made


def test_real_workbook_passes_every_zip_check() -> None:
    assert check_upload(_xlsx_bytes(), "ok.xlsx", limits=UploadLimits(max_ratio=50)).kind == "xlsx"


def test_check_upload_file_streams_from_disk(tmp_path: Path, bomb: bytes) -> None:
    path = tmp_path / "bomb.xlsx"
    path.write_bytes(bomb)
    with pytest.raises(InvalidInput):
        check_upload_file(path, limits=UploadLimits(max_uncompressed_bytes=50 * MB))
    good = tmp_path / "ok.xlsx"
    good.write_bytes(_xlsx_bytes())
    checked = check_upload_file(good)
    assert (checked.kind, checked.display_name) == ("xlsx", "ok.xlsx")


def test_dash_upload_size_is_checked_before_decoding() -> None:
    limits = UploadLimits(max_upload_bytes=1 * MB)
    payload = base64.b64encode(b"a,b\n" * 10).decode()
    assert decode_dash_upload(f"data:text/csv;base64,{payload}", limits=limits) == b"a,b\n" * 10
    huge = "data:text/csv;base64," + "A" * (2 * MB)
    with pytest.raises(InvalidInput) as info:
        decode_dash_upload(huge, limits=limits)
    assert _key(info) == "upload.too_large"
    for bad in ("no comma here", "data:text/csv,plain", "data:text/csv;base64,@@@@"):
        with pytest.raises(InvalidInput):
            decode_dash_upload(bad, limits=limits)


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\engineer\\Desktop\\данные.xlsx", "данные.xlsx"),
        ("report\u202egnp.exe", "reportgnp.exe"),  # right-to-left override removed
        ("a\r\nb.csv", "ab.csv"),
        ("..", "upload"),
        ("", "upload"),
        (None, "upload"),
        (".hidden.csv", "hidden.csv"),
    ],
)
def test_display_name_is_never_a_path(name: str | None, shown: str) -> None:
    assert display_name(name) == shown


def test_display_name_is_bounded() -> None:
    shown = display_name("x" * 500 + ".xlsx")
    assert len(shown) <= 120
    assert shown.endswith(".xlsx")


def test_decompression_only_check_for_ingestion(bomb: bytes) -> None:
    limits = UploadLimits(max_uncompressed_bytes=100 * MB)
    with pytest.raises(InvalidInput) as info:
        check_decompression(bomb, limits=limits)
    assert _key(info) == "upload.zip_bomb"
    with pytest.raises(InvalidInput):
        check_decompression(_lying_directory(real_mb=30, declared=1000), limits=limits)
    # everything else is left to the readers, which name the fault in their own words
    for data in (b"", b"PK\x03\x04broken zip", b"PAR1broken", b"\x00\x01binary", _xlsx_bytes(), _parquet_bytes()):
        check_decompression(data, limits=limits)


def _encrypted_first_member(data: bytes) -> bytes:
    """`data` (a ZIP) with its first member flagged as encrypted, in the central directory and the local header."""
    out = bytearray(data)
    central = out.find(b"PK\x01\x02")
    struct.pack_into("<H", out, central + 8, struct.unpack_from("<H", out, central + 8)[0] | 0x1)
    local = struct.unpack_from("<I", out, central + 42)[0]
    struct.pack_into("<H", out, local + 6, struct.unpack_from("<H", out, local + 6)[0] | 0x1)
    return bytes(out)


def test_an_encrypted_member_does_not_let_a_lying_directory_through() -> None:
    """Before 2026-11-28 ingestion's check stopped at an encrypted member: a later member whose directory lies about
    its size was never inflated, and the reader would have met the bomb."""
    limits = UploadLimits(max_upload_bytes=5 * MB, max_uncompressed_bytes=10 * MB)
    bomb = _encrypted_first_member(_lying_directory(real_mb=30, declared=1000))
    with pytest.raises(InvalidInput) as info:
        check_decompression(bomb, limits=limits)
    assert _key(info) == "ingest.xlsx_unreadable"
    with pytest.raises(InvalidInput) as info:
        check_upload(bomb, "x.xlsx", limits=limits)
    assert _key(info) == "upload.bad_zip"
