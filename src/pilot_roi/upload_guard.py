"""Content checks on an uploaded file before ingestion reads it.

What the file *is* comes from its bytes, never its name: XLSX (a ZIP with a workbook inside),
Parquet (PAR1 at both ends) or text (CSV/TSV in UTF-8, UTF-16 with BOM or Windows-1251). An XLSX is refused before
any parser opens it when its ZIP directory promises too much data (total size, ratio, member count),
and its members are then inflated in bounded chunks to check that they keep the directory's promise.
The uploaded name is only ever shown (see `display_name`), never used as a path.

    checked = check_upload(data, filename)        # bytes in memory (the dashboard)
    checked = check_upload_file(path)             # a file on disk (the CLI)
    data = decode_dash_upload(contents, limits)   # dcc.Upload's data URL, size checked before decoding
    check_decompression(data)                     # bombs only, for ingestion (its readers name other faults)
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
import re
import unicodedata
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Literal

from pilot_roi.errors import InvalidInput, Problem

Kind = Literal["xlsx", "parquet", "text"]

_MB = 1_048_576
_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class UploadLimits:
    """Limits on one uploaded file. Sizes in bytes.

    `max_upload_bytes`: the file itself. `max_uncompressed_bytes`: everything an XLSX unpacks to.
    `max_ratio`: uncompressed / compressed size of any XLSX member larger than `ratio_floor_bytes`.
    `max_members`: entries in an XLSX. `max_parquet_rows`: rows a Parquet footer may declare.
    """

    max_upload_bytes: int = 50 * _MB
    max_uncompressed_bytes: int = 400 * _MB
    max_ratio: float = 200.0
    ratio_floor_bytes: int = 1 * _MB
    max_members: int = 1_000
    max_parquet_rows: int = 50_000_000

    @property
    def max_request_bytes(self) -> int:
        """A request body may hold the file base64-encoded in Dash's JSON: 4/3 of it plus 1 MiB."""
        return self.max_upload_bytes * 4 // 3 + _MB

    @classmethod
    def from_env(cls) -> UploadLimits:
        """PILOT_ROI_MAX_UPLOAD_MB (default 50) and PILOT_ROI_MAX_UNCOMPRESSED_MB (default 400)."""
        return cls(
            max_upload_bytes=int(float(os.environ.get("PILOT_ROI_MAX_UPLOAD_MB", "50")) * _MB),
            max_uncompressed_bytes=int(float(os.environ.get("PILOT_ROI_MAX_UNCOMPRESSED_MB", "400")) * _MB),
        )


@dataclass(frozen=True, slots=True)
class CheckedUpload:
    """An upload that passed the checks: its real kind, size in bytes, SHA-256 and a name safe to show."""

    kind: Kind
    size: int
    sha256: str
    display_name: str


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def display_name(filename: str | None, *, max_length: int = 120) -> str:
    """The uploaded name made safe to show and log: no folders, control or direction-changing characters.

    It is for display only; files are stored under names the program chooses.
    """
    if not filename:
        return "upload"
    name = re.split(r"[\\/]", filename)[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"))
    name = _CONTROL.sub("", name).strip().lstrip(".")
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: max_length - len(ext) - 2] + "…" + dot + ext) if dot and len(ext) <= 8 else name[:max_length]
    return name or "upload"


def _refuse(key: str, **params: object) -> InvalidInput:
    return InvalidInput([Problem(key, params=dict(params))])


def _too_large(size: int, limits: UploadLimits) -> InvalidInput:
    return _refuse("upload.too_large", size=f"{size / _MB:.1f}", limit=f"{limits.max_upload_bytes / _MB:.0f}")


_BINARY_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"MZ", "executable"),
    (b"\x7fELF", "executable"),
    (b"%PDF", "pdf"),
    (b"\x1f\x8b", "gzip"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"Rar!", "rar"),
    (b"\x89PNG", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF8", "gif"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ", "xz"),
    (b"SQLite format 3", "sqlite"),
    (b"DUCK", "duckdb"),
)


def sniff_kind(head: bytes, tail: bytes = b"") -> Kind:
    """The real kind of a file from its first bytes (and last 4 bytes for Parquet); InvalidInput otherwise."""
    if not head:
        raise _refuse("upload.empty")
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        if tail and not tail.endswith(b"PAR1"):
            raise _refuse("upload.bad_parquet", detail="footer")
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise _refuse("upload.old_xls")
    for magic, kind in _BINARY_MAGIC:
        if head.startswith(magic):
            raise _refuse("upload.unsupported_type", kind=kind)
    if head.startswith((b"PK\x05\x06", b"PK\x07\x08")):
        raise _refuse("upload.not_xlsx")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with BOM: Excel's "Unicode text"
        sample = head[: len(head) - len(head) % 2]
        try:
            sample.decode("utf-16")
        except UnicodeDecodeError as exc:
            if exc.start < len(sample) - 4:  # not just a surrogate pair cut by the end of the sample
                raise _refuse("upload.bad_encoding") from exc
        return "text"
    if b"\x00" in head:
        raise _refuse("upload.unsupported_type", kind="binary")
    _check_text(head)
    return "text"


def _check_text(head: bytes) -> None:
    sample = head[3:] if head.startswith(b"\xef\xbb\xbf") else head
    try:
        sample.decode("utf-8")
        return
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3:  # a multi-byte character cut by the end of the sample
            return
    try:
        text = sample.decode("cp1251")
    except UnicodeDecodeError as exc:
        raise _refuse("upload.bad_encoding") from exc
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
    if controls > len(text) // 100:
        raise _refuse("upload.unsupported_type", kind="binary")


def _check_zip(stream: BinaryIO, compressed_size: int, limits: UploadLimits, *, strict: bool = True) -> None:
    """Refuse an XLSX whose directory or actual contents unpack to too much; memory stays O(chunk).

    Not `strict`: only the bomb checks; an archive that cannot be opened or is no workbook passes (the
    reader reports it in its own words), but a member that inflates wrongly is still refused, in the reader's words
    (`ingest.xlsx_unreadable`).
    """
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        if not strict:
            return
        raise _refuse("upload.bad_zip") from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_members:
            raise _refuse("upload.zip_bomb", detail=f"{len(infos)} > {limits.max_members} members")
        declared = sum(info.file_size for info in infos)
        if declared > limits.max_uncompressed_bytes:
            raise _refuse(
                "upload.zip_bomb", detail=f"{declared / _MB:.0f} MB > {limits.max_uncompressed_bytes / _MB:.0f} MB"
            )
        if compressed_size and declared > limits.max_ratio * compressed_size and declared > limits.ratio_floor_bytes:
            raise _refuse("upload.zip_bomb", detail=f"ratio {declared / compressed_size:.0f}:1")
        names = {info.filename for info in infos}
        if strict and ("[Content_Types].xml" not in names or not any(n.startswith("xl/workbook") for n in names)):
            raise _refuse("upload.not_xlsx")
        for info in infos:
            if info.file_size > limits.ratio_floor_bytes and info.file_size > limits.max_ratio * max(
                info.compress_size, 1
            ):
                raise _refuse(
                    "upload.zip_bomb",
                    detail=f"{info.filename}: ratio {info.file_size / max(info.compress_size, 1):.0f}:1",
                )
            if info.flag_bits & 0x1:  # encrypted: nothing a reader could use, and no member is inflated past here
                raise _refuse("upload.bad_zip" if strict else "ingest.xlsx_unreadable")
        # The directory can lie: inflate each member in chunks and count what really comes out.
        total = 0
        for info in infos:
            produced = 0
            try:
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        produced += len(chunk)
                        total += len(chunk)
                        if produced > info.file_size or total > limits.max_uncompressed_bytes:
                            raise _refuse("upload.zip_bomb", detail=f"{info.filename}: more data than declared")
            except InvalidInput:
                raise
            except (
                zipfile.BadZipFile,
                zipfile.LargeZipFile,
                zlib.error,
                OSError,
                EOFError,
                NotImplementedError,
            ) as exc:
                # A member that does not inflate is refused here, not left to the reader: calamine may read past a bad
                # checksum. For ingestion (not `strict`), in the words the reader uses for any workbook it cannot read.
                raise _refuse("upload.bad_zip" if strict else "ingest.xlsx_unreadable") from exc


def _check_parquet(stream: BinaryIO, limits: UploadLimits, *, strict: bool = True) -> None:
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(stream).metadata
    except Exception as exc:  # pyarrow raises several types for a damaged footer
        if not strict:
            return
        raise _refuse("upload.bad_parquet", detail="footer") from exc
    if meta.num_rows > limits.max_parquet_rows:
        raise _refuse("upload.bad_parquet", detail=f"{meta.num_rows} rows > {limits.max_parquet_rows}")
    declared = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    if declared > limits.max_uncompressed_bytes:
        raise _refuse(
            "upload.bad_parquet", detail=f"{declared / _MB:.0f} MB > {limits.max_uncompressed_bytes / _MB:.0f} MB"
        )


def _check_stream(stream: BinaryIO, size: int, limits: UploadLimits) -> Kind:
    if size == 0:
        raise _refuse("upload.empty")
    if size > limits.max_upload_bytes:
        raise _too_large(size, limits)
    stream.seek(0)
    head = stream.read(64 * 1024)
    stream.seek(max(0, size - 4))
    tail = stream.read(4)
    kind = sniff_kind(head, tail)
    stream.seek(0)
    if kind == "xlsx":
        _check_zip(stream, size, limits)
    elif kind == "parquet":
        _check_parquet(stream, limits)
    return kind


def check_upload(data: bytes, filename: str | None = None, *, limits: UploadLimits | None = None) -> CheckedUpload:
    """Check an upload held in memory; InvalidInput (with a message key) if it must be refused."""
    limits = limits or UploadLimits.from_env()
    kind = _check_stream(io.BytesIO(data), len(data), limits)
    return CheckedUpload(kind, len(data), hashlib.sha256(data).hexdigest(), display_name(filename))


def check_upload_file(path: str | Path, *, limits: UploadLimits | None = None) -> CheckedUpload:
    """Check a file on disk without reading it whole into memory."""
    limits = limits or UploadLimits.from_env()
    path = Path(path)
    size = path.stat().st_size
    with path.open("rb") as fh:
        kind = _check_stream(fh, size, limits)
        fh.seek(0)
        digest = hashlib.sha256()
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return CheckedUpload(kind, size, digest.hexdigest(), display_name(path.name))


def check_decompression(data: bytes, *, limits: UploadLimits | None = None) -> None:
    """Only the decompression-bomb checks (ZIP/XLSX directory and inflation, Parquet footer sizes).

    For ingestion, whose readers report damaged or unsupported files in their own words: anything that
    is not a ZIP or a readable Parquet file passes untouched; no size limit on the file itself.
    """
    limits = limits or UploadLimits.from_env()
    if data.startswith(b"PK\x03\x04"):
        _check_zip(io.BytesIO(data), len(data), limits, strict=False)
    elif data.startswith(b"PAR1") and data.endswith(b"PAR1"):
        _check_parquet(io.BytesIO(data), limits, strict=False)


def decode_dash_upload(contents: str, *, limits: UploadLimits | None = None) -> bytes:
    """The bytes of a `dcc.Upload` value (`data:<type>;base64,<data>`), size-checked before decoding."""
    limits = limits or UploadLimits.from_env()
    if not isinstance(contents, str) or "," not in contents[:512]:
        raise _refuse("upload.bad_data_url")
    header, _, encoded = contents.partition(",")
    if not header.startswith("data:") or not header.endswith(";base64"):
        raise _refuse("upload.bad_data_url")
    estimated = len(encoded) * 3 // 4
    if estimated > limits.max_upload_bytes + 2:
        raise _too_large(estimated, limits)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _refuse("upload.bad_data_url") from exc
