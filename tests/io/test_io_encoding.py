"""Encoding detection over whole files, in blocks, with multi-byte characters split."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import churnradar.io.encoding as enc
from churnradar.exceptions import ImportFailed, InputError
from churnradar.io import detect_encoding

TEXT = "客户编号,客户名称\nC001,华东电器\nC002,北方五金\n"


@pytest.mark.parametrize(("encoding", "expected"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"),
    ("gb18030", "gb18030"), ("utf-16", "utf-16"), ("ascii", "utf-8"),
])
def test_detect(write: Callable[..., Path], encoding: str, expected: str) -> None:
    text = TEXT if encoding != "ascii" else "customer_id\nC1\n"
    assert detect_encoding(write("f.csv", text, encoding)) == expected


@pytest.mark.parametrize("block", [1, 2, 3, 5, 7, 64])
@pytest.mark.parametrize(("encoding", "expected"), [
    ("utf-8", "utf-8"), ("gb18030", "gb18030"), ("utf-8-sig", "utf-8-sig")])
def test_multibyte_characters_split_across_blocks(write: Callable[..., Path],
                                                  monkeypatch: pytest.MonkeyPatch,
                                                  block: int, encoding: str,
                                                  expected: str) -> None:
    monkeypatch.setattr(enc, "BLOCK_SIZE", block)
    path = write("f.csv", TEXT + "C003,𠮷野家䶮\n", encoding)
    assert detect_encoding(path) == expected


@pytest.mark.parametrize("block", [1, 3, 4096])
def test_bad_byte_deep_in_the_file_is_found(write: Callable[..., Path],
                                            monkeypatch: pytest.MonkeyPatch,
                                            block: int) -> None:
    monkeypatch.setattr(enc, "BLOCK_SIZE", block)
    good = TEXT.encode("utf-8") * 50
    path = write("f.csv", good + b"C999,\xff\xfe\n")
    row = good.count(b"\n") + 1
    with pytest.raises(ImportFailed) as info:
        detect_encoding(path, lang="en")
    msg = str(info.value)
    assert f"f.csv row {row} (byte {len(good) + 5}, bytes FF FE 0A)" in msg
    assert "neither UTF-8 nor GB18030" in msg


def test_truncated_character_at_end_of_file(write: Callable[..., Path]) -> None:
    data = TEXT.encode("utf-8") + "华".encode()[:2]
    # not UTF-8 (cut short) and not GB18030 either (E5 8D is half a GB18030 pair... or not)
    path = write("f.csv", data)
    try:
        found = detect_encoding(path, lang="en")
    except ImportFailed as exc:
        assert "f.csv row 4" in str(exc)
    else:
        assert found == "gb18030"


def test_explicit_encoding_checked(write: Callable[..., Path]) -> None:
    path = write("f.csv", TEXT, "utf-8")
    with pytest.raises(ImportFailed, match=r"f.csv row 1 \(byte 0, .*cannot be decoded as "
                                           r"ascii"):
        enc.scan_text(path, encoding="ascii", lang="en")
    assert enc.scan_text(path, encoding="UTF8").encoding == "utf-8"
    with pytest.raises(InputError, match="unknown encoding 'utf-9'"):
        enc.scan_text(path, encoding="utf-9", lang="en")


def test_explicit_utf8_on_a_bom_file_skips_the_bom(write: Callable[..., Path]) -> None:
    assert enc.scan_text(write("f.csv", TEXT, "utf-8-sig"), encoding="utf-8").encoding == \
        "utf-8-sig"


def test_chinese_message(write: Callable[..., Path]) -> None:
    with pytest.raises(ImportFailed, match="f.csv 第 2 行.*既不是 UTF-8 也不是 GB18030"):
        detect_encoding(write("f.csv", b"a\n\xff\n"), lang="zh-CN")


def test_line_helpers(write: Callable[..., Path]) -> None:
    path = write("f.csv", "a\nb\r\nc\n\n\r\n")
    assert enc.line_of_offset(path, 0) == 1
    assert enc.line_of_offset(path, 2) == 2
    assert enc.line_of_offset(path, 5) == 3
    assert enc.count_content_lines(path, "utf-8") == 3
    assert enc.count_content_lines(path, "utf-16") is None
