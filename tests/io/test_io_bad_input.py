"""Every kind of bad input gets a clear error and leaves the workspace byte-for-byte as it was.

Each case hashes every file (hidden temp files included) under the workspace folder before
and after the failed import.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from churnradar.exceptions import ImportFailed, InputError, SchemaError, WorkspaceError
from churnradar.io import ImportRejected, import_table, read_rejects
from churnradar.workspace import Workspace


def _xlsx_bytes() -> bytes:
    wb = openpyxl.Workbook()
    sheet = wb.active
    sheet.title = "客户"
    sheet.append(["客户编号", "客户名称"])
    sheet.append(["C9", "新客户"])
    wb.create_sheet("Sheet2")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@dataclass
class Case:
    table: str
    name: str
    content: bytes | Callable[[], bytes]
    error: type[Exception]
    fragments: list[str]
    kwargs: dict[str, Any] = field(default_factory=dict)
    #: (row, column) of the first bad row for row-level errors
    first: tuple[int, str] | None = None


def _u(text: str) -> bytes:
    return text.encode("utf-8")


CASES: dict[str, Case] = {
    "wrong_encoding_given": Case(
        "customers", "customers.csv",
        "customer_id,name\nC010,abc\nC011,华东电器\n".encode("gbk"),
        ImportFailed, ["customers.csv row 3", "cannot be decoded as utf-8",
                       "--encoding"], {"encoding": "utf-8"}),
    "undecodable_bytes": Case(
        "customers", "customers.csv",
        b"customer_id,name\nC010,abc\nC011,ab\xff\xfe\n",
        ImportFailed, ["customers.csv row 3", "neither UTF-8 nor GB18030", "--encoding"]),
    "unknown_encoding_name": Case(
        "customers", "customers.csv", _u("customer_id\nC010\n"),
        InputError, ["unknown encoding 'klingon'"], {"encoding": "klingon"}),
    "missing_required_column": Case(
        "customers", "customers.csv", _u("名称,开户日期\n华东,2024-01-01\n"),
        SchemaError, ["customers.csv: required column 'customer_id' is missing",
                      "Headers found: 名称, 开户日期"]),
    "misnamed_column_without_mapping": Case(
        "customers", "customers.csv", _u("客户号码,客户名称\nC1,华东\n"),
        SchemaError, ["required column 'customer_id' is missing",
                      "Suggestion: map it with --map 客户号码=customer_id "
                      "(web import page: 客户号码=customer_id in the column mapping)"]),
    "mapping_to_unknown_column": Case(
        "customers", "customers.csv", _u("客户号码,客户名称\nC1,华东\n"),
        SchemaError, ["'客户号码=cust_no'", "table customers has no column 'cust_no'"],
        {"mapping": {"客户号码": "cust_no"}}),
    "mapping_from_missing_header": Case(
        "customers", "customers.csv", _u("客户号码,客户名称\nC1,华东\n"),
        SchemaError, ["customers.csv", "there is no header '客户号'",
                      "Headers found: 客户号码, 客户名称"], {"mapping": {"客户号": "customer_id"}}),
    "duplicate_headers": Case(
        "customers", "customers.csv", _u("customer_id,name,name\nC1,a,b\n"),
        SchemaError, ["customers.csv: header 'name' appears twice (columns 2 and 3)"]),
    "empty_file": Case(
        "customers", "customers.csv", b"",
        ImportFailed, ["customers.csv is empty"]),
    "blank_lines_only": Case(
        "customers", "customers.csv", b"\r\n\r\n  \n",
        ImportFailed, ["customers.csv is empty"]),
    "header_only": Case(
        "customers", "customers.csv", _u("customer_id,name\n"),
        ImportFailed, ["customers.csv has a header but no data rows"]),
    "header_only_no_newline": Case(
        "customers", "customers.csv", _u("customer_id,name"),
        ImportFailed, ["customers.csv has a header but no data rows"]),
    "bad_date": Case(
        "customers", "customers.csv",
        _u("customer_id,signup_date\nC1,2024-01-05\nC2,05/01/2024\n"),
        ImportRejected, ["customers.csv row 3, column 'signup_date': '05/01/2024' is not a date",
                         "1 of 2 rows are bad"], first=(3, "signup_date")),
    "impossible_date": Case(
        "customers", "customers.csv",
        _u("customer_id,signup_date\nC1,2024-02-30\nC2,2024-02-29\n"),
        ImportRejected, ["customers.csv row 2, column 'signup_date': '2024-02-30' is not a "
                         "real date"], first=(2, "signup_date")),
    "end_before_start": Case(
        "subscriptions", "subs.csv",
        _u("customer_id,start_date,end_date\nC1,2023-06-01,2023-01-01\n"),
        ImportRejected, ["subs.csv row 2, column 'end_date': '2023-01-01' is before "
                         "start_date (2023-06-01)"], first=(2, "end_date")),
    "not_a_number": Case(
        "transactions", "transactions.csv",
        _u('customer_id,date,amount\nC1,2024-01-01,"1,234.50"\nC2,2024-01-02,"12,5"\n'),
        ImportRejected, ["transactions.csv row 3, column 'amount': '12,5' is not a number"],
        first=(3, "amount")),
    "negative_amount": Case(
        "transactions", "transactions.csv",
        _u("customer_id,date,amount\nC1,2024-01-01,-5\n"),
        ImportRejected, ["transactions.csv row 2, column 'amount': '-5' is negative"],
        first=(2, "amount")),
    "out_of_range": Case(
        "customers", "customers.csv", _u("customer_id,margin_rate\nC1,1.5\n"),
        ImportRejected, ["column 'margin_rate': '1.5' is outside the allowed range -1 to 1"],
        first=(2, "margin_rate")),
    "required_value_empty": Case(
        "customers", "customers.csv", _u("customer_id,name\nC1,a\n  ,b\n"),
        ImportRejected, ["customers.csv row 3, column 'customer_id': is empty, but the "
                         "column is required"], first=(3, "customer_id")),
    "duplicate_key": Case(
        "customers", "customers.csv", _u("customer_id,name\nC1,a\nC2,b\nC1,c\n"),
        ImportRejected, ["customers.csv row 4, column 'customer_id': duplicate key "
                         "customer_id: 'C1' is the same as row 2"], first=(4, "customer_id")),
    "duplicate_on_append": Case(
        "transactions", "more_tx.csv",
        _u("customer_id,transaction_id,date,amount\nC3,T9,2024-02-01,5\nC1,T1,2024-02-02,7\n"),
        ImportRejected, ["more_tx.csv row 3, column 'transaction_id': duplicate key "
                         "transaction_id: 'T1' is already in table transactions"],
        {"append": True}, first=(3, "transaction_id")),
    "bad_enum": Case(
        "churn_records", "churn.csv",
        _u("customer_id,churn_date,reason_category\nC1,2024-01-01,价格\nC2,2024-01-01,天气\n"),
        ImportRejected, ["churn.csv row 3, column 'reason_category': '天气' is not an allowed "
                         "value; allowed: product, price, service"], first=(3, "reason_category")),
    "bad_bool": Case(
        "customers", "customers.csv", _u("customer_id,is_key_account\nC1,是\nC2,maybe\n"),
        ImportRejected, ["customers.csv row 3, column 'is_key_account': 'maybe' is not a "
                         "yes/no value"], first=(3, "is_key_account")),
    "bad_timestamp": Case(
        "events", "events.csv",
        _u("customer_id,time,event_type\nC1,2024-01-01 10:00,login\nC1,2024-01-01 25:00,x\n"),
        ImportRejected, ["events.csv row 3, column 'time': '2024-01-01 25:00' is not a real "
                         "date or time"], first=(3, "time")),
    "too_many_fields": Case(
        "customers", "customers.csv", _u("customer_id,name\nC1,a\nC2,b,extra\n"),
        ImportRejected, ["customers.csv row 3: the row has 3 fields but the header has 2"],
        first=(3, "")),
    "unclosed_quote": Case(
        "customers", "customers.csv", _u('customer_id,name\nC1,"abc\nC2,x\nC3,y\n'),
        ImportFailed, ["customers.csv row 2: a quote is not closed"]),
    "corrupt_xlsx": Case(
        "customers", "customers.xlsx", b"this is not a workbook",
        ImportFailed, ["customers.xlsx is not a readable Excel (.xlsx) file"]),
    "truncated_xlsx": Case(
        "customers", "customers.xlsx", lambda: _xlsx_bytes()[:600],
        ImportFailed, ["customers.xlsx is not a readable Excel (.xlsx) file"]),
    "unknown_sheet": Case(
        "customers", "customers.xlsx", _xlsx_bytes,
        ImportFailed, ["customers.xlsx has no sheet named 'Kunden'. Sheets: 客户, Sheet2"],
        {"sheet": "Kunden"}),
    "old_xls": Case(
        "customers", "customers.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100,
        ImportFailed, ["customers.xls is an old Excel (.xls) workbook"]),
    "corrupt_parquet": Case(
        "customers", "customers.parquet", b"PAR1 definitely not parquet PAR1",
        ImportFailed, ["customers.parquet is not a readable Parquet file"]),
    "sheet_for_csv": Case(
        "customers", "customers.csv", _u("customer_id\nC1\n"),
        InputError, ["--sheet only applies to Excel files"], {"sheet": "x"}),
}


@pytest.mark.parametrize("case_id", list(CASES))
def test_bad_input_leaves_workspace_unchanged(case_id: str, seeded_ws: Workspace,
                                              write: Callable[..., Path],
                                              tree_hash: Callable[[Path], dict]) -> None:
    case = CASES[case_id]
    content = case.content() if callable(case.content) else case.content
    path = write(case.name, content)
    before = tree_hash(seeded_ws.root)
    with pytest.raises(case.error) as info:
        import_table(seeded_ws, case.table, path, **case.kwargs)
    message = str(info.value)
    for fragment in case.fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"
    assert tree_hash(seeded_ws.root) == before
    if case.first is not None:
        err = info.value
        assert isinstance(err, ImportRejected)
        assert (err.first.row, err.first.column) == case.first
        assert err.first.file == case.name
        # the full report exists, outside the workspace, and names the same row
        assert err.rejects_path is not None and err.rejects_path.is_file()
        assert seeded_ws.root not in err.rejects_path.parents
        rejects = read_rejects(err.rejects_path)
        assert (rejects[0].row, rejects[0].column) == case.first
        assert re.search(r"full report: \S+\.csv", message)
        err.rejects_path.unlink()


def test_missing_file(seeded_ws: Workspace, tmp_path: Path, tree_hash: Callable) -> None:
    before = tree_hash(seeded_ws.root)
    with pytest.raises(ImportFailed, match="file not found: .*nope.csv"):
        import_table(seeded_ws, "customers", tmp_path / "nope.csv")
    assert tree_hash(seeded_ws.root) == before


def test_unknown_table(seeded_ws: Workspace, write: Callable[..., Path],
                       tree_hash: Callable) -> None:
    before = tree_hash(seeded_ws.root)
    with pytest.raises(WorkspaceError, match="unknown table 'clients'"):
        import_table(seeded_ws, "clients", write("c.csv", "customer_id\nC1\n"))
    assert tree_hash(seeded_ws.root) == before


def test_reject_file_is_written_where_asked(seeded_ws: Workspace,
                                            write: Callable[..., Path],
                                            tmp_path: Path, tree_hash: Callable) -> None:
    path = write("t.csv", 'customer_id,date,amount\nC1,2024-01-01,"12,5"\nC2,x,-1\n')
    before = tree_hash(seeded_ws.root)
    report = tmp_path / "report" / "rejects.csv"
    with pytest.raises(ImportRejected) as info:
        import_table(seeded_ws, "transactions", path, reject_file=report)
    assert info.value.rejects_path == report
    assert info.value.rows_rejected == 2 and info.value.rows_read == 2
    raw = report.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens Chinese correctly
    rows = read_rejects(report)
    assert [(r.row, r.column) for r in rows] == [(2, "amount"), (3, "date"), (3, "amount")]
    assert rows[0].value == "12,5" and rows[0].reason == "'12,5' is not a number"
    assert tree_hash(seeded_ws.root) == before


def test_all_rows_bad_with_skip_bad_rows(seeded_ws: Workspace, write: Callable[..., Path],
                                         tree_hash: Callable) -> None:
    path = write("t.csv", "customer_id,date,amount\nC1,x,1\nC2,2024-01-01,-1\n")
    before = tree_hash(seeded_ws.root)
    with pytest.raises(ImportRejected, match="t.csv has no valid row \\(2 of 2 rows are bad\\)"):
        import_table(seeded_ws, "transactions", path, strict=False)
    assert tree_hash(seeded_ws.root) == before


def test_chinese_messages(seeded_ws: Workspace, write: Callable[..., Path]) -> None:
    path = write("交易.csv", '客户编号,日期,金额\nC1,2024-01-01,"12,5"\n')
    with pytest.raises(ImportRejected) as info:
        import_table(seeded_ws, "transactions", path, lang="zh-CN")
    assert str(info.value).startswith("交易.csv 第 2 行，列 'amount'：'12,5' 不是数字")
    assert "未导入任何数据，工作区保持不变" in str(info.value)
    assert info.value.rejects_path is not None
    info.value.rejects_path.unlink()


def test_bad_row_deep_in_a_big_file(seeded_ws: Workspace, write: Callable[..., Path],
                                    tree_hash: Callable) -> None:
    """A bad value at row 100,001 of 150,000 is found and named with the right row."""
    lines = ["customer_id,transaction_id,date,amount"]
    for i in range(150_000):
        amount = '"12,5"' if i == 99_999 else f"{i % 1000}.5"
        lines.append(f"C{i % 5000:05d},T{i:07d},2024-{1 + i % 12:02d}-{1 + i % 28:02d},{amount}")
    path = write("big.csv", "\n".join(lines) + "\n")
    before = tree_hash(seeded_ws.root)
    with pytest.raises(ImportRejected) as info:
        import_table(seeded_ws, "transactions", path)
    assert str(info.value).startswith(
        "big.csv row 100001, column 'amount': '12,5' is not a number")
    assert "1 of 150000 rows are bad" in str(info.value)
    assert tree_hash(seeded_ws.root) == before
    assert info.value.rejects_path is not None
    info.value.rejects_path.unlink()
