"""Test data for the io tests: large CSV files written quickly with Arrow."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv


def make_transactions_csv(path: Path, n: int, *, seed: int = 0) -> Path:
    """A transactions CSV of ``n`` rows (about 44 bytes a row), written with Arrow."""
    rng = np.random.default_rng(seed)
    schema = pa.schema([(c, pa.string()) for c in
                        ("customer_id", "transaction_id", "date", "amount", "product")])
    options = pacsv.WriteOptions(quoting_style="none")
    with pacsv.CSVWriter(path, schema, write_options=options) as writer:
        for start in range(0, n, 500_000):
            m = min(500_000, n - start)
            ids = pc.cast(pa.array(rng.integers(0, 500_000, m)), pa.string())
            tx = pc.cast(pa.array(np.arange(start, start + m)), pa.string())
            days = pa.array(rng.integers(18_000, 20_000, m).astype("int32"))
            writer.write_table(pa.table({
                "customer_id": pc.binary_join_element_wise("C", pc.utf8_lpad(ids, 6, "0"), ""),
                "transaction_id": pc.binary_join_element_wise("T", pc.utf8_lpad(tx, 9, "0"),
                                                              ""),
                "date": pc.cast(pc.cast(days, pa.date32()), pa.string()),
                "amount": pc.cast(pc.round(pa.array(rng.gamma(2, 150, m)), 2), pa.string()),
                "product": pc.take(pa.array(["宽带", "套餐A", "套餐B", "话费"]),
                                   pa.array(rng.integers(0, 4, m))),
            }))
    return path
