"""Import user files into a workspace (design.md, module ``io``).

CSV (UTF-8, UTF-8 with BOM, GBK/GB18030 — detected), Excel ``.xlsx`` and Parquet files are
mapped to a table contract (Chinese headers included), validated row by row with a reject
report, and written atomically: a failed import leaves the workspace byte-for-byte as it
was.

Examples
--------
>>> from churnradar.workspace import Workspace
>>> from churnradar.io import import_table
>>> ws = Workspace.open("shop")                                             # doctest: +SKIP
>>> import_table(ws, "customers", "客户.csv", mapping={"客户号": "customer_id"})  # doctest: +SKIP
"""

from churnradar.io.encoding import detect_encoding
from churnradar.io.importer import REJECT_CAP, ImportResult, import_table
from churnradar.io.mapping import ColumnPlan, resolve_mapping
from churnradar.io.readers import open_source, read_table_file
from churnradar.io.report import ImportRejected, Reject, read_rejects
from churnradar.io.validate import ARROW_TYPES, convert_column

__all__ = [
    "ARROW_TYPES", "ColumnPlan", "ImportRejected", "ImportResult", "REJECT_CAP", "Reject",
    "convert_column", "detect_encoding", "import_table", "open_source", "read_rejects",
    "read_table_file", "resolve_mapping",
]
