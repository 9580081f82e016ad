"""Header mapping: precedence, competing headers, errors with suggestions."""

from __future__ import annotations

import pytest

from churnradar.exceptions import SchemaError
from churnradar.io import resolve_mapping
from churnradar.schema import CONTRACTS

CUSTOMERS = CONTRACTS["customers"]


def _names(headers: list[str], **kwargs) -> dict[str, str]:  # type: ignore[no-untyped-def]
    plans, _ = resolve_mapping(headers, CUSTOMERS, file="c.csv", lang="en", **kwargs)
    return {p.header: p.name for p in plans}


def test_precedence_explicit_settings_builtin_name() -> None:
    headers = ["客户编号", "会员号", "客户名称", "name", "grade"]
    assert _names(headers) == {"客户编号": "customer_id", "会员号": "会员号",
                               "客户名称": "name", "name": "name_original", "grade": "grade"}
    assert _names(headers, settings_mapping={"会员号": "customer_id"})["会员号"] == "customer_id"
    named = _names(headers, mapping={"name": "name"}, settings_mapping={"客户名称": "name"})
    assert named["name"] == "name" and named["客户名称"] == "客户名称"


def test_builtin_competitors_warn_and_keep_the_loser() -> None:
    plans, warnings = resolve_mapping(["客户编号", "客户类型", "行业"], CUSTOMERS, file="c.csv",
                                      lang="en")
    assert [(p.header, p.name, p.origin) for p in plans] == [
        ("客户编号", "customer_id", "builtin"), ("客户类型", "segment", "builtin"),
        ("行业", "行业", "extra")]
    assert warnings == ["c.csv: headers '行业' and '客户类型' both look like column 'segment'; "
                        "used '客户类型' and kept '行业' as an extra column. Use --map to choose "
                        "(web import page: the column mapping)"]


def test_mapping_source_matches_trimmed_and_case_insensitive() -> None:
    assert _names([" Member No ", "x"], mapping={"member no": "customer_id"}) == {
        "Member No": "customer_id", "x": "x"}


def test_missing_required_suggests_the_likeliest_header() -> None:
    with pytest.raises(SchemaError) as info:
        _names(["名称", "客户号码", "开户日期"])
    assert str(info.value) == (
        "c.csv: required column 'customer_id' is missing. Headers found: 名称, 客户号码, "
        "开户日期. Suggestion: map it with --map 客户号码=customer_id "
        "(web import page: 客户号码=customer_id in the column mapping)")


def test_settings_with_an_unknown_column_is_an_error() -> None:
    with pytest.raises(SchemaError, match=r"churnradar.toml \[columns.customers\] "
                                          r"'会员号=member': table customers has no column"):
        _names(["客户编号"], settings_mapping={"会员号": "member"})


def test_settings_source_absent_from_the_file_is_ignored() -> None:
    assert _names(["客户编号"], settings_mapping={"会员号": "customer_id"}) == {
        "客户编号": "customer_id"}


def test_two_sources_for_one_column() -> None:
    with pytest.raises(SchemaError, match="column 'customer_id' two sources: 'a' and 'b'"):
        _names(["a", "b"], mapping={"a": "customer_id", "b": "customer_id"})


def test_one_header_mapped_twice() -> None:
    with pytest.raises(SchemaError, match="header 'a' to both 'customer_id' and 'name'"):
        _names(["a"], mapping={"a": "customer_id", " a ": "name"})


def test_empty_headers_get_a_name() -> None:
    assert _names(["customer_id", "", "x"]) == {"customer_id": "customer_id",
                                                "": "column_2", "x": "x"}
