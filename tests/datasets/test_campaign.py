"""The telecom demo's retention campaign: its table, its control group, and the planted
effect, recomputed from the tables (churn_records, subscriptions) with pandas."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from churnradar.datasets import DemoData, make_demo_data, write_demo_files
from churnradar.datasets._campaign import EFFECT_DAYS, TARGET_DAYS
from churnradar.datasets._causes import TELECOM_CAUSES
from churnradar.datasets._common import Episodes, Window, day_number
from churnradar.datasets._feedback import complaints, surveys
from churnradar.datasets._text import telecom_complaints

from .conftest import check_table
from .test_demo_truth import active_on, frame

#: the playbooks of churnradar.retention; ``no_offer`` (malicious churn) is never sent
PLAYBOOKS = {"reminder", "complaint_fast", "price_review", "benefit_review",
             "service_recovery", "account_visit", "care_call"}


@pytest.fixture(scope="module")
def actions(telecom: DemoData) -> pd.DataFrame:
    """The campaign's rows, with churn within EFFECT_DAYS after it from churn_records."""
    df = frame(telecom, "retention_actions")
    day = pd.Timestamp(telecom.planted["campaign_date"])
    churn = frame(telecom, "churn_records")
    soon = churn[(churn.churn_date > day)
                 & (churn.churn_date <= day + pd.Timedelta(days=EFFECT_DAYS))]
    return df.assign(churned=df.customer_id.isin(soon.customer_id))


def test_the_table_fits_its_contract(telecom: DemoData) -> None:
    table = telecom.tables["retention_actions"]
    check_table("retention_actions", table, telecom.start, telecom.as_of)
    assert table.num_rows == telecom.planted["campaign_size"]


def test_the_table_imports_through_the_importer(tmp_path: Path) -> None:
    io = pytest.importorskip("churnradar.io")
    workspace = pytest.importorskip("churnradar.workspace")
    data = make_demo_data("telecom", 3_000, random_state=2)
    paths = write_demo_files(data, tmp_path / "files", lang="zh-CN")
    ws = workspace.Workspace.create(tmp_path / "ws")
    io.import_table(ws, "customers", paths["customers"])
    result = io.import_table(ws, "retention_actions", paths["retention_actions"])
    original = data.tables["retention_actions"]
    assert result.rows_imported == original.num_rows > 0
    back = pq.read_table(ws.table_path("retention_actions")).select(original.column_names)
    assert back.cast(original.schema).equals(original)


def test_an_empty_campaign_writes_no_file(tmp_path: Path) -> None:
    data = make_demo_data("telecom", 1, random_state=1)
    assert data.tables["retention_actions"].num_rows == 0
    (tmp_path / "retention_actions.csv").write_text("stale")
    paths = write_demo_files(data, tmp_path)
    assert "retention_actions" not in paths
    assert not (tmp_path / "retention_actions.csv").exists()


def test_one_day_five_months_before_the_end(telecom: DemoData, actions: pd.DataFrame) -> None:
    day = telecom.planted["campaign_date"]
    assert day == dt.date(2025, 8, 1)
    assert (actions.date == pd.Timestamp(day)).all()
    assert (telecom.as_of - day).days >= EFFECT_DAYS
    assert actions.customer_id.is_unique
    assert set(actions.action) == PLAYBOOKS  # every playbook, and never no_offer


def test_a_few_percent_of_the_active_base_mostly_at_risk(
    telecom: DemoData, actions: pd.DataFrame
) -> None:
    day = pd.Timestamp(telecom.planted["campaign_date"])
    active = active_on(telecom, day)
    assert set(actions.customer_id) <= set(active)
    assert 0.02 <= len(actions) / len(active) <= 0.04
    # imperfect targeting, still far better than chance
    churn = frame(telecom, "churn_records")
    soon = churn[(churn.churn_date > day)
                 & (churn.churn_date <= day + pd.Timedelta(days=EFFECT_DAYS))]
    base_rate = np.isin(active, soon.customer_id).mean()
    control_rate = actions[actions.group == "control"].churned.mean()
    assert control_rate > 3 * base_rate
    assert (actions.action == "care_call").mean() > 0.4  # the random ones


def test_a_random_fifth_is_the_control_group(actions: pd.DataFrame) -> None:
    control = actions.group == "control"
    assert set(actions.group) == {"treatment", "control"}
    assert abs(control.mean() - 0.2) <= 0.01
    # random: the churn-bound and the key accounts are not held back more often
    for who in (actions.action != "care_call", actions.action == "care_call"):
        assert 0.1 <= control[who].mean() <= 0.3


def test_no_control_customer_has_an_outcome(actions: pd.DataFrame) -> None:
    control = actions[actions.group == "control"]
    treated = actions[actions.group == "treatment"]
    assert control.outcome.isna().all()
    assert control.note.isna().all()
    assert treated.outcome.notna().all()
    assert set(treated.outcome) == {"retained", "lost", "not_reachable"}
    assert 0.08 <= (treated.outcome == "not_reachable").mean() <= 0.22


def test_outcomes_agree_with_churn_records(actions: pd.DataFrame) -> None:
    reached = actions[actions.outcome.isin(["retained", "lost"])]
    assert ((reached.outcome == "lost") == reached.churned).all()


def test_key_accounts_get_a_visit(telecom: DemoData, actions: pd.DataFrame) -> None:
    customers = frame(telecom, "customers").set_index("customer_id")
    key = customers.is_key_account.reindex(actions.customer_id).to_numpy()
    assert ((actions.action == "account_visit").to_numpy() == key).all()


def test_malicious_churn_gets_no_offer(telecom: DemoData, actions: pd.DataFrame) -> None:
    day = pd.Timestamp(telecom.planted["campaign_date"])
    churn = frame(telecom, "churn_records")
    bad = churn[(churn.churn_type == "malicious") & (churn.churn_date > day)
                & (churn.churn_date <= day + pd.Timedelta(days=TARGET_DAYS))]
    assert len(bad)
    assert not actions.customer_id.isin(bad.customer_id).any()


def test_every_prevented_churn_is_absent(telecom: DemoData, actions: pd.DataFrame) -> None:
    prevented = list(telecom.planted["campaign_prevented"])
    assert len(prevented) > 5
    rows = actions.set_index("customer_id").loc[prevented]
    assert (rows.group == "treatment").all()
    assert (rows.outcome == "retained").all()
    day = pd.Timestamp(telecom.planted["campaign_date"])
    churn = frame(telecom, "churn_records")
    assert not churn[churn.churn_date > day].customer_id.isin(prevented).any()
    # still subscribed at the window end: an open plan, not a cancelled one
    subs = frame(telecom, "subscriptions")
    mine = subs[subs.customer_id.isin(prevented)]
    assert mine.groupby("customer_id").end_date.apply(lambda s: s.isna().any()).all()
    late = mine[mine.end_date.isna() | (mine.end_date > day)]
    assert late.cancel_kind.isna().all() and late.cancel_reason.isna().sum() == len(prevented)


def test_the_planted_effect_is_visible(telecom: DemoData, actions: pd.DataFrame) -> None:
    success = telecom.planted["campaign_success"]
    assert set(success) == PLAYBOOKS
    assert all(0 < p < 1 for p in success.values())
    assert success["reminder"] > success["care_call"]
    truth = telecom.planted["campaign_effect_all"]
    assert truth < 0
    assert all(v <= 0 for v in telecom.planted["campaign_effect"].values())

    rate = actions.groupby("group").churned.mean()
    size = actions.groupby("group").size()
    observed = rate["treatment"] - rate["control"]
    assert observed < 0  # the treated churn less, as planted
    p = actions.churned.mean()
    se = math.sqrt(p * (1 - p) * (1 / size["treatment"] + 1 / size["control"]))
    assert abs(observed - truth) < 3 * se
    # the truth is the treated group's churn as it happened minus without the campaign
    without = rate["treatment"] - truth
    n_prevented = len(telecom.planted["campaign_prevented"])
    assert math.isclose(without * size["treatment"],
                        actions[actions.group == "treatment"].churned.sum() + n_prevented)


def test_an_averted_churn_keeps_its_past() -> None:
    """Complaints and falling scores before the averting action stay; after it only the
    background is left (the past does not depend on whether the action worked)."""
    window = Window(dt.date(2023, 1, 1), dt.date(2025, 12, 31))
    action_on, churn_on = dt.date(2025, 8, 1), dt.date(2025, 10, 1)
    n = 6_000
    averted = np.arange(n) >= n // 2
    cause = TELECOM_CAUSES.code("service_angry")  # three complaints in the last half year
    eps = Episodes(
        customer=np.arange(n),
        start=np.full(n, window.start_day),
        stop=np.where(averted, window.stop_day, day_number(churn_on)),
        churned=~averted,
        cause=np.where(averted, -1, cause),
        number=np.ones(n, dtype=np.int8),
        averted=np.where(averted, day_number(churn_on), -1),
        averted_cause=np.where(averted, cause, -1),
        action_day=np.where(averted, day_number(action_on), -1),
    )
    rng = np.random.default_rng(0)
    ids = pa.array([f"T{i:05d}" for i in range(n)])
    table, callbacks = complaints(
        rng, window, eps, TELECOM_CAUSES, ids, telecom_complaints(),
        channels=(("热线",), (1.0,)), base_per_year=0.12, base_mix={"service": 1.0},
    )
    scores = surveys(rng, window, eps, TELECOM_CAUSES, ids, n, 4.0, callbacks)

    def per_customer(df: pd.DataFrame, lo: dt.date, hi: dt.date) -> pd.Series:
        """Rows in [lo, hi) per customer, churned (False) and averted (True)."""
        inside = df[(df.time >= pd.Timestamp(lo)) & (df.time < pd.Timestamp(hi))]
        group = inside.customer_id.str[1:].astype(int) >= n // 2
        return inside.groupby(group).size().reindex([False, True], fill_value=0) / (n // 2)

    grievances = table.to_pandas()
    before = per_customer(grievances, churn_on - dt.timedelta(days=182), action_on)
    assert before[True] == pytest.approx(before[False], rel=0.1)
    after = per_customer(grievances, action_on, churn_on)
    assert after[False] > 0.8  # the burst goes on up to the churn ...
    assert after[True] < 0.1  # ... and stops at the action that averted it

    nps = scores.to_pandas().query("kind == 'NPS'")
    averted_row = nps.customer_id.str[1:].astype(int) >= n // 2

    def mean_score(lo: dt.date, hi: dt.date, mine: bool) -> float:
        inside = (nps.time >= pd.Timestamp(lo)) & (nps.time < pd.Timestamp(hi))
        return float(nps.score[inside & (averted_row == mine)].mean())

    low = churn_on - dt.timedelta(days=182)
    assert mean_score(low, action_on, True) == pytest.approx(
        mean_score(low, action_on, False), abs=0.5)
    assert mean_score(low, action_on, True) < mean_score(window.start, low, True) - 3
    assert mean_score(action_on, churn_on, True) > mean_score(action_on, churn_on, False) + 3
