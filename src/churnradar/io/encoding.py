"""Find the text encoding of a CSV file: UTF-8 (with or without BOM) or GB18030/GBK.

The whole file is checked, block by block, with an incremental decoder, so a multi-byte
character split across two blocks is handled and a stray byte deep inside a large file is
still found. GB18030 is tried when the file is not valid UTF-8 because it is a superset of
GBK and GB2312, the encodings Chinese Excel and most Chinese CRM systems export.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from churnradar.exceptions import ImportFailed, InputError
from churnradar.i18n import t

BLOCK_SIZE = 1 << 22  # 4 MiB
#: encodings whose newline is the single byte 0x0A (so lines can be counted on raw bytes)
_ASCII_COMPATIBLE = {"utf-8", "utf-8-sig", "gb18030", "gbk", "gb2312", "ascii", "latin-1",
                     "iso8859-1", "cp1252", "big5", "cp936", "hz"}


@dataclass(frozen=True)
class TextScan:
    """What a full pass over a text file found.

    Attributes
    ----------
    encoding : str
        Python codec name to decode the file with (``utf-8-sig``, ``utf-8``, ``gb18030`` ...).
    size : int
        File size in bytes.
    detected : bool
        ``True`` when the encoding was detected, ``False`` when it was given.
    odd_quotes : bool
        The file has an odd number of ``"`` bytes (ASCII-compatible encodings only), so a
        quoted value may run to the end of the file; the reader then checks the quoting.
    """

    encoding: str
    size: int
    detected: bool
    #: an odd number of ``"`` bytes: maybe a quoted value that is never closed
    odd_quotes: bool = False


def normalize_encoding(encoding: str, *, lang: str | None = None) -> str:
    """The canonical Python codec name of ``encoding`` (``"UTF8"`` -> ``"utf-8"``).

    Raises
    ------
    InputError
        Python does not know the encoding.
    """
    try:
        return codecs.lookup(encoding).name
    except LookupError as exc:
        raise InputError(t("io_unknown_encoding", lang, encoding=encoding)) from exc


def _bom(head: bytes) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


@dataclass
class _Pass:
    ok: bool
    error_offset: int = -1
    quotes: int = 0


def _utf8_valid(data: bytes) -> bool:
    """Arrow's vectorised UTF-8 check (about 10x faster than decoding in Python)."""
    if data.isascii():
        return True
    offsets = np.array([0, len(data)], dtype=np.int64)
    arr = pa.LargeStringArray.from_buffers(1, pa.py_buffer(offsets), pa.py_buffer(data))
    try:
        arr.validate(full=True)
    except pa.ArrowInvalid:
        return False
    return True


def _utf8_cut(data: bytes) -> int:
    """Length of the prefix of ``data`` that ends on a UTF-8 character boundary."""
    i = len(data) - 1
    while i >= 0 and len(data) - i <= 4 and (data[i] & 0xC0) == 0x80:
        i -= 1
    if i < 0 or data[i] < 0x80:
        return len(data)
    return i  # data[i] starts a (maybe incomplete) multi-byte character


def _decode_pass(path: Path, codec: str, start: int) -> _Pass:
    """Decode ``path`` from byte ``start`` with ``codec``; stop at the first bad byte."""
    if codec == "utf-8":
        return _utf8_pass(path, start)
    decoder = codecs.getincrementaldecoder(codec)(errors="strict")
    offset = start
    quotes = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        while True:
            block = fh.read(BLOCK_SIZE)
            final = not block
            pending = decoder.getstate()[0]
            try:
                decoder.decode(block, final=final)
            except UnicodeDecodeError as exc:
                # exc.start is relative to the bytes still pending + this block
                return _Pass(False, offset - len(pending) + exc.start)
            if final:
                return _Pass(True, quotes=quotes)
            quotes += block.count(b'"')
            offset += len(block)


def _utf8_pass(path: Path, start: int) -> _Pass:
    carry = b""
    offset = start  # file offset of carry[0]
    quotes = 0
    with open(path, "rb") as fh:
        fh.seek(start)
        while True:
            block = fh.read(BLOCK_SIZE)
            data = carry + block
            cut = len(data) if not block else _utf8_cut(data)
            chunk = data[:cut]
            if not _utf8_valid(chunk):
                try:
                    chunk.decode("utf-8")
                except UnicodeDecodeError as exc:
                    return _Pass(False, offset + exc.start)
            quotes += chunk.count(b'"')
            if not block:
                return _Pass(True, quotes=quotes)
            carry = data[cut:]
            offset += cut


def count_content_lines(path: str | Path, encoding: str) -> int | None:
    """Physical lines up to the last non-blank one; ``None`` for UTF-16 and the like.

    Used (on the error path only) to prove that data record *k* sits on line *k + 2*.
    """
    if encoding not in _ASCII_COMPATIBLE:
        return None
    newlines = trailing = 0
    has_content = False
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK_SIZE):
            newlines += block.count(b"\n")
            stripped = block.rstrip(b"\r\n")
            if stripped:
                has_content = True
                trailing = block[len(stripped):].count(b"\n")
            else:
                trailing += block.count(b"\n")
    return newlines - trailing + 1 if has_content else 0


def line_of_offset(path: str | Path, offset: int) -> int:
    """1-based physical line (row) holding byte ``offset`` of an ASCII-compatible file."""
    line = 1
    remaining = offset
    with open(path, "rb") as fh:
        while remaining > 0:
            block = fh.read(min(BLOCK_SIZE, remaining))
            if not block:
                break
            line += block.count(b"\n")
            remaining -= len(block)
    return line


def scan_text(path: str | Path, *, encoding: str | None = None,
              lang: str | None = None) -> TextScan:
    """Check the whole file decodes, detecting the encoding unless one is given.

    Parameters
    ----------
    path : str or Path
        The text (CSV) file.
    encoding : str, optional
        Encoding to use instead of detecting one. The file is still checked with it.
    lang : str, optional
        Language of error messages (``zh-CN`` or ``en``).

    Returns
    -------
    TextScan

    Raises
    ------
    ImportFailed
        The file does not decode with the given encoding, or (when detecting) is neither
        UTF-8 nor GB18030; the message names the row and byte offset.
    InputError
        ``encoding`` is not an encoding Python knows.
    """
    path = Path(path)
    name = path.name
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(4)
    bom = _bom(head)

    if encoding is not None:
        codec = normalize_encoding(encoding, lang=lang)
        if codec == "utf-8" and bom == "utf-8-sig":
            codec = "utf-8-sig"
        start = 3 if codec == "utf-8-sig" and bom == "utf-8-sig" else 0
        check_codec = "utf-8" if codec == "utf-8-sig" else codec
        p = _decode_pass(path, check_codec, start)
        if not p.ok:
            raise ImportFailed(t(
                "io_bad_encoding_given", lang, file=name, encoding=encoding,
                row=_row_for(path, p.error_offset, check_codec), offset=p.error_offset,
                bytes=_hex(_bytes_at(path, p.error_offset)),
                other="gb18030" if check_codec.startswith("utf") else "utf-8",
            ))
        return TextScan(codec, size, detected=False,
                        odd_quotes=check_codec in _ASCII_COMPATIBLE and p.quotes % 2 == 1)

    if bom == "utf-16":
        p = _decode_pass(path, "utf-16", 0)
        if p.ok:
            return TextScan("utf-16", size, detected=True)
    if bom == "utf-8-sig":
        p = _decode_pass(path, "utf-8", 3)
        if p.ok:
            return TextScan("utf-8-sig", size, detected=True, odd_quotes=p.quotes % 2 == 1)
        first = p
    else:
        first = _decode_pass(path, "utf-8", 0)
        if first.ok:
            return TextScan("utf-8", size, detected=True, odd_quotes=first.quotes % 2 == 1)
    second = _decode_pass(path, "gb18030", 0)
    if second.ok:
        return TextScan("gb18030", size, detected=True, odd_quotes=second.quotes % 2 == 1)
    raise ImportFailed(t(
        "io_undecodable", lang, file=name, row=line_of_offset(path, first.error_offset),
        offset=first.error_offset, bytes=_hex(_bytes_at(path, first.error_offset)),
        gb_row=line_of_offset(path, second.error_offset),
    ))


def _row_for(path: Path, offset: int, codec: str) -> int | str:
    if codec in _ASCII_COMPATIBLE:
        return line_of_offset(path, offset)
    return "?"


def _bytes_at(path: Path, offset: int, n: int = 4) -> bytes:
    with open(path, "rb") as fh:
        fh.seek(offset)
        return fh.read(n)


def _hex(data: bytes) -> str:
    return " ".join(f"{b:02X}" for b in data)


def detect_encoding(path: str | Path, *, lang: str | None = None) -> str:
    """Detect the encoding of a CSV file: ``utf-8-sig``, ``utf-8``, ``gb18030`` or ``utf-16``.

    A byte-order mark decides first; otherwise the whole file must be valid UTF-8 to be
    ``utf-8``; otherwise it must be valid GB18030 (a superset of GBK/GB2312).

    Raises
    ------
    ImportFailed
        The file is neither; the message names the row and byte offset of the first bad
        byte and suggests ``--encoding``.

    Examples
    --------
    >>> detect_encoding("客户.csv")  # doctest: +SKIP
    'gb18030'
    """
    return scan_text(path, lang=lang).encoding


__all__ = ["TextScan", "count_content_lines", "detect_encoding", "line_of_offset",
           "normalize_encoding", "scan_text"]
