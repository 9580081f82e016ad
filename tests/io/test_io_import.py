"""Happy paths of import_table: encodings, Excel, Parquet, skip-bad-rows, replace, append."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from churnradar.io import ImportRejected, import_table, read_rejects, read_table_file
from churnradar.workspace import Workspace

CUSTOMERS = (
    "客户编号,客户名称,开户日期,等级,是否大客户,区域,备注\n"
    "C001,华东电器䶮,2023-01-05,A,是,华东,老客户\n"
    "C002,北方五金,2023/02/10,B,否,华北,\n"
    "C003,南方家电,2023年3月1日,A,1,华南,重点\n"
)


@pytest.mark.parametrize(("encoding", "expected"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030"),
    ("gb18030", "gb18030"),
])
def test_encodings_and_builtin_chinese_headers(ws: Workspace, write: Callable[..., Path],
                                               encoding: str, expected: str) -> None:
    text = CUSTOMERS if encoding != "gbk" else CUSTOMERS.replace("䶮", "")  # 䶮 is not in GBK
    path = write(f"客户_{encoding}.csv", text, encoding)
    result = import_table(ws, "customers", path)
    assert result.encoding == expected
    assert result.rows_read == result.rows_imported == result.total_rows_in_table == 3
    assert result.mapping == {"客户编号": "customer_id", "客户名称": "name",
                              "开户日期": "signup_date", "等级": "grade",
                              "是否大客户": "is_key_account", "区域": "region"}
    assert result.extra_columns == ["备注"]
    table = ws.read_table("customers")
    assert table.column_names == ["customer_id", "name", "signup_date", "grade",
                                  "is_key_account", "region", "备注"]
    assert table.schema.field("signup_date").type == pa.date32()
    assert table.schema.field("is_key_account").type == pa.bool_()
    rows = table.to_pylist()
    assert rows[0]["name"] == ("华东电器䶮" if encoding != "gbk" else "华东电器")
    assert [r["signup_date"] for r in rows] == [dt.date(2023, 1, 5), dt.date(2023, 2, 10),
                                               dt.date(2023, 3, 1)]
    assert [r["is_key_account"] for r in rows] == [True, False, True]
    assert rows[1]["备注"] == ""  # extra columns are kept as they are


def test_explicit_encoding(ws: Workspace, write: Callable[..., Path]) -> None:
    path = write("c.csv", "客户编号,客户名称\nC1,华东\n", "gbk")
    result = import_table(ws, "customers", path, encoding="GBK")
    assert result.encoding == "gbk"
    assert ws.read_table("customers").column("name").to_pylist() == ["华东"]


def test_utf16_tab_separated(ws: Workspace, write: Callable[..., Path]) -> None:
    """Excel's "Unicode text" export: UTF-16 with BOM, tab separated."""
    path = write("c.txt", "客户编号\t客户名称\r\nC1\t华东\r\n", "utf-16")
    result = import_table(ws, "customers", path)
    assert result.encoding == "utf-16"
    assert ws.read_table("customers").to_pylist() == [{"customer_id": "C1", "name": "华东"}]


def test_semicolon_delimiter_and_quoted_values(ws: Workspace,
                                              write: Callable[..., Path]) -> None:
    path = write("t.csv", 'customer_id;date;amount;product\n'
                          'C1;2024-01-02;"1,234.50";"宽带; 100M"\n')
    result = import_table(ws, "transactions", path)
    assert any("';'" in w for w in result.warnings)
    row = ws.read_table("transactions").to_pylist()[0]
    assert row["amount"] == 1234.5 and row["product"] == "宽带; 100M"


def test_xlsx_with_sheet_name(ws: Workspace, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "说明"
    first.append(["这张表不是数据"])
    sheet = wb.create_sheet("交易明细")
    sheet.append(["客户编号", "订单号", "交易日期", "金额", "产品"])
    sheet.append([1001, "T1", dt.datetime(2024, 1, 5), 99.5, "宽带"])
    sheet.append([])  # a blank row: skipped, but row numbers stay Excel's
    sheet.append([1002, "T2", dt.date(2024, 2, 6), 100, "话费"])
    sheet.append(["C3", "T3", "2024/03/07", "¥1,200", None])
    path = tmp_path / "交易.xlsx"
    wb.save(path)
    result = import_table(ws, "transactions", path, sheet="交易明细")
    assert result.format == "xlsx" and result.sheet == "交易明细" and result.encoding is None
    rows = ws.read_table("transactions").to_pylist()
    assert [r["customer_id"] for r in rows] == ["1001", "1002", "C3"]
    assert [r["date"] for r in rows] == [dt.date(2024, 1, 5), dt.date(2024, 2, 6),
                                        dt.date(2024, 3, 7)]
    assert [r["amount"] for r in rows] == [99.5, 100.0, 1200.0]
    # errors name Excel's own row numbers
    sheet.append(["C4", "T4", "2024-02-30", 5, "x"])
    wb.save(path)
    with pytest.raises(ImportRejected) as info:
        import_table(ws, "transactions", path, sheet="交易明细")
    assert str(info.value).startswith("交易.xlsx row 6, column 'date': '2024-02-30'")


def test_xlsx_first_sheet_by_default(ws: Workspace, tmp_path: Path) -> None:
    wb = openpyxl.Workbook()
    wb.active.append(["customer_id", "is_key_account"])
    wb.active.append(["C1", True])
    wb.create_sheet("other")
    path = tmp_path / "c.xlsx"
    wb.save(path)
    result = import_table(ws, "customers", path)
    assert any("several sheets" in w for w in result.warnings)
    assert ws.read_table("customers").to_pylist() == [
        {"customer_id": "C1", "is_key_account": True}]


def test_parquet_with_types(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "events.parquet"
    pq.write_table(pa.table({
        "customer_id": pa.array([1, 2], pa.int64()),
        "time": pa.array([dt.datetime(2024, 1, 1, 8, 30, 15, 500000),
                          dt.datetime(2024, 1, 2)], pa.timestamp("us")),
        "event_type": pa.array(["login", "call"]).dictionary_encode(),
        "value": pa.array([1.5, float("nan")]),
        "device": ["ios", "android"],
    }), path)
    result = import_table(ws, "events", path)
    assert result.format == "parquet" and result.rows_imported == 2
    table = ws.read_table("events")
    assert table.schema.field("customer_id").type == pa.string()
    # whole seconds; Parquet itself has no second unit, so it reads back as timestamp[ms]
    assert pa.types.is_timestamp(table.schema.field("time").type)
    assert table.schema.field("event_type").type == pa.string()
    assert table.to_pylist() == [
        {"customer_id": "1", "time": dt.datetime(2024, 1, 1, 8, 30, 15), "event_type": "login",
         "value": 1.5, "device": "ios"},
        {"customer_id": "2", "time": dt.datetime(2024, 1, 2), "event_type": "call",
         "value": None, "device": "android"},
    ]


def test_skip_bad_rows_writes_rejects_in_run_folder(ws: Workspace,
                                                   write: Callable[..., Path]) -> None:
    path = write("tx.csv", "客户编号,订单号,日期,金额\n"
                           "C1,T1,2024-01-01,10\n"
                           "C2,T2,2024-13-01,20\n"
                           "C3,T3,2024-01-03,-1\n"
                           "C4,T1,2024-01-04,40\n"
                           "C5,T5,2024-01-05,50\n")
    result = import_table(ws, "transactions", path, strict=False)
    assert (result.rows_read, result.rows_imported, result.rows_rejected) == (5, 2, 3)
    assert result.run_dir is not None and result.run_dir.parent == ws.runs_dir
    assert result.rejects_path == result.run_dir / "rejects.csv"
    rejects = read_rejects(result.rejects_path)
    assert [(r.row, r.column) for r in rejects] == [
        (3, "date"), (4, "amount"), (5, "transaction_id")]
    assert rejects[2].reason == "duplicate key transaction_id: 'T1' is the same as row 2"
    assert ws.read_table("transactions").column("transaction_id").to_pylist() == ["T1", "T5"]
    summary = json.loads((result.run_dir / "import.json").read_text(encoding="utf-8"))
    assert summary["rows_rejected"] == 3 and summary["strict"] is False
    assert (result.run_dir / "manifest.json").is_file()


def test_reimport_replaces_and_append_adds(ws: Workspace, write: Callable[..., Path]) -> None:
    first = write("a.csv", "customer_id,transaction_id,date,amount\nC1,T1,2024-01-01,1\n"
                           "C2,T2,2024-01-02,2\n")
    second = write("b.csv", "customer_id,transaction_id,date,amount,channel\n"
                            "C3,T3,2024-02-01,3,app\n")
    import_table(ws, "transactions", first)
    import_table(ws, "transactions", second)
    assert ws.read_table("transactions").column("customer_id").to_pylist() == ["C3"]
    import_table(ws, "transactions", first)
    result = import_table(ws, "transactions", second, append=True)
    assert result.rows_imported == 1 and result.total_rows_in_table == 3
    table = ws.read_table("transactions")
    assert table.column("transaction_id").to_pylist() == ["T1", "T2", "T3"]
    # the union of columns: old rows have no channel
    assert table.column("channel").to_pylist() == [None, None, "app"]
    assert ws.table_info("transactions")["mode"] == "append"


def test_append_skips_duplicates_of_existing_rows(ws: Workspace,
                                                  write: Callable[..., Path]) -> None:
    import_table(ws, "customers", write("a.csv", "customer_id,name\nC1,a\nC2,b\n"))
    result = import_table(ws, "customers", write("b.csv", "customer_id,name\nC2,b2\nC3,c\n"),
                          append=True, strict=False)
    assert (result.rows_imported, result.rows_rejected, result.total_rows_in_table) == (1, 1, 3)
    assert result.rejects_path is not None
    reject = read_rejects(result.rejects_path)[0]
    assert (reject.row, reject.reason) == (
        2, "duplicate key customer_id: 'C2' is already in table customers")
    assert ws.read_table("customers").to_pylist() == [
        {"customer_id": "C1", "name": "a"}, {"customer_id": "C2", "name": "b"},
        {"customer_id": "C3", "name": "c"}]


def test_metadata_and_summary(ws: Workspace, write: Callable[..., Path]) -> None:
    path = write("c.csv", "客户编号,客户名称\nC1,华东\n", "gbk")
    result = import_table(ws, "customers", path)
    info = ws.table_info("customers")
    assert info["source"] == "c.csv" and info["encoding"] == "gb18030"
    assert info["mapping"] == {"客户编号": "customer_id", "客户名称": "name"}
    assert info["rows"] == 1 and "imported_at" in info
    file_meta = pq.ParquetFile(ws.table_path("customers")).metadata.metadata
    stored = json.loads(file_meta[b"churnradar"])
    assert stored["rows_imported"] == 1 and stored["rows_rejected"] == 0
    assert result.run_dir is not None
    summary = json.loads((result.run_dir / "import.json").read_text(encoding="utf-8"))
    assert summary["table"] == "customers" and summary["encoding"] == "gb18030"
    assert summary["rows_imported"] == 1 and summary["rejects_path"] is None


def test_progress_is_reported(ws: Workspace, write: Callable[..., Path],
                              monkeypatch: pytest.MonkeyPatch) -> None:
    import churnradar.io.readers as readers

    monkeypatch.setattr(readers, "CSV_BLOCK_SIZE", 1 << 16)
    lines = ["customer_id,date,amount"] + [f"C{i},2024-01-01,{i}" for i in range(20_000)]
    path = write("t.csv", "\n".join(lines) + "\n")
    calls: list[tuple[int, int | None]] = []
    import_table(ws, "transactions", path, progress=lambda d, t: calls.append((d, t)))
    size = path.stat().st_size
    assert calls[0] == (0, size) and calls[-1] == (size, size)
    assert len(calls) > 5
    assert all(a[0] <= b[0] for a, b in zip(calls, calls[1:], strict=False))


def test_settings_mapping_and_precedence(ws: Workspace, write: Callable[..., Path]) -> None:
    ws.settings = ws.settings.with_overrides(columns={"customers": {"会员号": "customer_id",
                                                                    "不存在": "name"}})
    path = write("c.csv", "会员号,客户编号,名字\nM1,C1,张三\n")
    result = import_table(ws, "customers", path)
    # settings beat the built-in map; the built-in candidate is kept as an extra column
    assert result.mapping == {"会员号": "customer_id"}
    assert ws.read_table("customers").to_pylist() == [
        {"customer_id": "M1", "客户编号": "C1", "名字": "张三"}]
    assert any("'客户编号'" in w for w in result.warnings)
    # an explicit mapping beats the settings
    result = import_table(ws, "customers", path, mapping={"客户编号": "customer_id",
                                                          "名字": "name"})
    assert result.mapping == {"客户编号": "customer_id", "名字": "name"}
    assert ws.read_table("customers").to_pylist() == [
        {"customer_id": "C1", "name": "张三", "会员号": "M1"}]


def test_same_named_column_next_to_a_mapped_one_is_kept(ws: Workspace,
                                                        write: Callable[..., Path]) -> None:
    path = write("c.csv", "客户编号,Customer_ID \nC1,legacy-1\n")
    result = import_table(ws, "customers", path)
    assert result.mapping == {"客户编号": "customer_id"}
    assert ws.read_table("customers").to_pylist() == [
        {"customer_id": "C1", "Customer_ID_original": "legacy-1"}]
    assert any("Customer_ID_original" in w for w in result.warnings)


def test_case_insensitive_same_name(ws: Workspace, write: Callable[..., Path]) -> None:
    path = write("c.csv", " Customer_ID , NAME\nC1,x\n")
    result = import_table(ws, "customers", path)
    assert result.mapping == {"Customer_ID": "customer_id", "NAME": "name"}


def test_row_numbers_with_blank_lines_and_multiline_values(
        ws: Workspace, write: Callable[..., Path]) -> None:
    text = ('customer_id,name\n'
            'C1,"two\nlines"\n'
            '\n'
            'C2,b\n'
            'C2,c\n')
    with pytest.raises(ImportRejected) as info:
        import_table(ws, "customers", write("c.csv", text))
    # the text editor shows the duplicate C2 on line 6 and the first on line 5
    assert str(info.value).startswith(
        "c.csv row 6, column 'customer_id': duplicate key customer_id: 'C2' is the same as "
        "row 5")
    assert info.value.rejects_path is not None
    info.value.rejects_path.unlink()


def test_optional_key_ignores_missing_ids(ws: Workspace, write: Callable[..., Path]) -> None:
    path = write("t.csv", "customer_id,transaction_id,date,amount\n"
                          "C1,,2024-01-01,1\nC1,,2024-01-01,1\nC2,T2,2024-01-01,2\n")
    result = import_table(ws, "transactions", path)
    assert result.rows_imported == 3


def test_composite_key_with_empty_product(ws: Workspace, write: Callable[..., Path]) -> None:
    path = write("s.csv", "customer_id,product,start_date\n"
                          "C1,,2024-01-01\nC1,,2024-01-01\nC1,宽带,2024-01-01\n")
    with pytest.raises(ImportRejected) as info:
        import_table(ws, "subscriptions", path)
    assert info.value.first.row == 3
    assert info.value.first.column == "customer_id+product+start_date"
    assert info.value.rejects_path is not None
    info.value.rejects_path.unlink()


def test_enum_aliases_are_canonical(ws: Workspace, write: Callable[..., Path]) -> None:
    path = write("c.csv", "客户编号,流失日期,流失原因,流失类型\n"
                          "C1,2024-01-01,价格流失,竞争流失\nC2,2024-01-02,SERVICE,Non-Malicious\n"
                          "C3,2024-01-03,,\n")
    import_table(ws, "churn_records", path)
    rows = ws.read_table("churn_records").to_pylist()
    assert [(r["reason_category"], r["churn_type"]) for r in rows] == [
        ("price", "competitive"), ("service", "non_malicious"), (None, None)]


def test_read_table_file(write: Callable[..., Path]) -> None:
    path = write("c.csv", CUSTOMERS, "gb18030")
    table = read_table_file(path)
    assert table.column_names[:3] == ["客户编号", "客户名称", "开户日期"]
    assert table.num_rows == 3
    assert all(f.type == pa.string() for f in table.schema)
