"""Fixtures shared by the test suites: small demo workspaces for the reasons and retention
jobs, imported through the importer as a user's files would be."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from churnradar.datasets import DemoData, make_demo_data
from churnradar.pipeline import demo_workspace
from churnradar.workspace import Workspace

#: (industry, customers, seed)
DEMOS = {"telecom": ("telecom", 3000, 0), "dealers": ("dealers", 4000, 0)}


@pytest.fixture(scope="session")
def demo_sources(tmp_path_factory) -> dict[str, tuple[Path, DemoData]]:
    """One pristine workspace per industry (copy it before writing runs into it)."""
    out = {}
    for key, (industry, n, seed) in DEMOS.items():
        data = make_demo_data(industry, n_customers=n, random_state=seed)  # type: ignore[arg-type]
        folder = tmp_path_factory.mktemp(f"src_{key}") / "ws"
        demo_workspace(folder, data)
        out[key] = (folder, data)
    return out


@pytest.fixture
def demo_ws(demo_sources, tmp_path):
    """A fresh copy of a demo workspace: ``demo_ws("telecom") -> (Workspace, DemoData)``."""
    def make(key: str) -> tuple[Workspace, DemoData]:
        src, data = demo_sources[key]
        dst = tmp_path / key
        shutil.copytree(src, dst)
        return Workspace.open(dst), data
    return make


@pytest.fixture(scope="session")
def trained_telecom(demo_sources, tmp_path_factory):
    """A copy of the telecom demo workspace with a trained churn risk model:
    ``(Workspace, DemoData, PredictionData)`` (shared: jobs may add runs to it)."""
    from churnradar.predict.jobs import open_data, train_job

    src, data = demo_sources["telecom"]
    dst = tmp_path_factory.mktemp("trained") / "ws"
    shutil.copytree(src, dst)
    ws = Workspace.open(dst)
    pdata = open_data(ws)
    train_job(ws, data=pdata)
    return ws, data, pdata


@pytest.fixture(scope="session")
def web_source(trained_telecom, tmp_path_factory) -> Path:
    """The telecom demo workspace after the main job (scores, value, reasons, plan) with
    its web snapshot built: copy it before changing it (:func:`web`)."""
    from churnradar.pipeline import build_report
    from churnradar.web.store import Store

    ws, _data, pdata = trained_telecom
    dst = tmp_path_factory.mktemp("web") / "ws"
    shutil.copytree(ws.root, dst)
    wsc = Workspace.open(dst)
    build_report(wsc, lang="zh-CN", data=pdata)
    Store(wsc).current().close()
    return dst
