"""Write demo tables as CSV files the way users' own exports look.

The customers file of a Chinese export has Chinese headers, 是/否 for yes/no and the
GB18030 encoding, so that ``churnradar demo`` exercises header mapping and encoding
detection of the importer; every other file is UTF-8 with the contract's column names.
"""

from __future__ import annotations

import io
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from churnradar import i18n
from churnradar.datasets.demo import DemoData
from churnradar.schema import (
    CHANNEL,
    CUSTOMER_ID,
    GRADE,
    IS_KEY_ACCOUNT,
    MARGIN_RATE,
    NAME,
    OWNER_ID,
    REGION,
    SEGMENT,
    SIGNUP_DATE,
)

#: Chinese headers of the customers export, per industry (each a key of
#: :data:`churnradar.schema.BUILTIN_HEADER_MAP`).
CUSTOMER_HEADERS_ZH: dict[str, dict[str, str]] = {
    "telecom": {
        CUSTOMER_ID: "客户编号", NAME: "客户名称", SIGNUP_DATE: "开户日期", GRADE: "客户等级",
        IS_KEY_ACCOUNT: "是否大客户", SEGMENT: "客户类型", REGION: "地区", CHANNEL: "渠道",
        OWNER_ID: "客户经理", MARGIN_RATE: "毛利率",
    },
    "dealers": {
        CUSTOMER_ID: "经销商编号", NAME: "经销商名称", SIGNUP_DATE: "签约日期", GRADE: "等级",
        IS_KEY_ACCOUNT: "是否重点客户", SEGMENT: "行业", REGION: "大区", CHANNEL: "销售渠道",
        OWNER_ID: "业务员", MARGIN_RATE: "毛利率",
    },
}
_OPTIONS = pacsv.WriteOptions(quoting_style="needed", quoting_header="none")


def write_demo_files(data: DemoData, folder: Path, *, lang: str = "zh-CN") -> dict[str, Path]:
    """Write every table of ``data`` with rows as ``<folder>/<table>.csv``.

    A table without rows (e.g. no ``retention_actions`` in a tiny population) is not
    written, and an older file of its name is removed: the importer refuses an export
    with only a header.

    Parameters
    ----------
    data : DemoData
        From :func:`make_demo_data`.
    folder : pathlib.Path
        Created if missing; existing files of the same names are replaced.
    lang : {"zh-CN", "en"}
        ``zh-CN``: the customers file has Chinese headers (e.g. 客户编号, 客户名称,
        开户日期), 是/否 for ``is_key_account`` and is encoded in GB18030. ``en``: contract
        column names, true/false and UTF-8. Other tables are always UTF-8 with the
        contract's column names.

    Returns
    -------
    dict of str to pathlib.Path
        Table name to the file written (tables without rows are left out). Dates are
        ISO (``2024-07-01``), timestamps ``2024-07-01 09:30:00``, empty fields are
        missing values.
    """
    lang = i18n.check_language(lang)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for name, table in data.tables.items():
        path = folder / f"{name}.csv"
        if table.num_rows == 0:
            path.unlink(missing_ok=True)  # no stale file of an earlier run either
            continue
        if name == "customers" and lang == "zh-CN":
            _write_chinese(table, path, CUSTOMER_HEADERS_ZH[data.industry])
        else:
            pacsv.write_csv(table, path, write_options=_OPTIONS)
        paths[name] = path
    return paths


def _write_chinese(table: pa.Table, path: Path, headers: dict[str, str]) -> None:
    if IS_KEY_ACCOUNT in table.column_names:
        i = table.column_names.index(IS_KEY_ACCOUNT)
        flag = pc.if_else(table.column(i), "是", "否")
        table = table.set_column(i, IS_KEY_ACCOUNT, flag)
    table = table.rename_columns([headers.get(c, c) for c in table.column_names])
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, write_options=_OPTIONS)
    path.write_bytes(buffer.getvalue().decode("utf-8").encode("gb18030"))
