"""Fixtures of the io tests: workspaces, file writers, a byte-for-byte tree hash."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from churnradar.io import import_table
from churnradar.workspace import Workspace

CUSTOMERS_CSV = (
    "客户编号,客户名称,开户日期,等级,是否大客户,区域\n"
    "C001,华东电器,2023-01-05,A,是,华东\n"
    "C002,北方五金,2023/02/10,B,否,华北\n"
    "C003,南方家电,2023年3月1日,A,1,华南\n"
)


def tree_hash(root: Path) -> dict[str, str]:
    """SHA-256 of every file under ``root`` (hidden files included), by relative path."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file():
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
        elif p.is_dir():
            out[str(p.relative_to(root)) + "/"] = "dir"
    return out


@pytest.fixture(autouse=True)
def _reports_in_tmp_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Reject reports of refused imports go to the system temp dir: keep them per test."""
    folder = tmp_path / "system-tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


@pytest.fixture(name="tree_hash")
def tree_hash_fixture() -> Callable[[Path], dict[str, str]]:
    """The :func:`tree_hash` function, for tests."""
    return tree_hash


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    """An empty workspace with English messages."""
    return Workspace.create(tmp_path / "ws", language="en")


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write(name, text, encoding="utf-8") -> path of a file outside the workspace."""
    folder = tmp_path / "in"
    folder.mkdir()

    def _write(name: str, text: str | bytes, encoding: str = "utf-8") -> Path:
        path = folder / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
        return path

    return _write


@pytest.fixture
def seeded_ws(ws: Workspace, write: Callable[..., Path]) -> Workspace:
    """A workspace that already holds customers, transactions and subscriptions."""
    import_table(ws, "customers", write("seed_customers.csv", CUSTOMERS_CSV))
    import_table(ws, "transactions", write(
        "seed_tx.csv",
        "客户编号,订单号,日期,金额\nC001,T1,2024-01-02,100\nC002,T2,2024-01-03,250.5\n"))
    import_table(ws, "subscriptions", write(
        "seed_sub.csv",
        "customer_id,product,start_date,end_date,amount_per_month\n"
        "C001,宽带,2023-01-01,2023-12-31,99\n"))
    return ws
