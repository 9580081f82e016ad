"""Attribution of a reason and a churn type per churn, on hand-made evidence."""

from __future__ import annotations

import pandas as pd
import pytest

from churnradar.reasons.attribution import AT, accuracy, attribute
from churnradar.reasons.taxonomy import taxonomy
from churnradar.settings import ReasonsSettings


def _subjects(*rows: tuple[str, str]) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": [r[0] for r in rows],
                         AT: pd.to_datetime([r[1] for r in rows])})


def test_evidence_order_recorded_note_complaint_driver_rule() -> None:
    subj = _subjects(("a", "2025-03-01"), ("b", "2025-03-01"), ("c", "2025-03-01"),
                     ("d", "2025-03-01"), ("e", "2025-03-01"))
    recorded = pd.DataFrame({"customer_id": ["a"], "churn_date": pd.to_datetime(["2025-03-03"]),
                             "reason_category": ["price"], "churn_type": ["competitive"]})
    notes = pd.DataFrame({"customer_id": ["a", "b"], AT: pd.to_datetime(["2025-03-01"] * 2),
                          "category": ["service", "benefit"], "confidence": [0.9, 0.8],
                          "churn_type": [None, None], "involuntary": [False, False],
                          "malicious": [False, False], "text": ["态度差", "返利没兑现"]})
    complaints = pd.DataFrame({
        "customer_id": ["b", "c", "c", "c"],
        "time": pd.to_datetime(["2025-02-01", "2025-01-10", "2025-02-10", "2024-01-01"]),
        "category": ["product", "product", "product", "price"],
        "confidence": [0.9, 0.8, 0.9, 0.9], "unresolved": [False, True, False, False],
        "text": ["x", "信号差", "掉线", "old"]})
    drivers = pd.DataFrame({"customer_id": ["d", "c"], "reason": ["management", "price"],
                            "hint": ["non_malicious", None]})
    out = attribute(subj, recorded=recorded, notes=notes, complaints=complaints,
                    drivers=drivers, window_days=180)
    got = out.set_index("customer_id")
    assert got.loc["a", "reason_category"] == "price"          # recorded beats the note
    assert got.loc["a", "source"] == "recorded"
    assert got.loc["a", "churn_type"] == "competitive"
    assert got.loc["b", "reason_category"] == "benefit"        # note beats complaints
    assert got.loc["b", "source"] == "note"
    assert got.loc["c", "reason_category"] == "product"        # complaints beat drivers
    assert got.loc["c", "source"] == "complaint"
    assert got.loc["c", "complaints"] == 2                     # 2024-01-01 is outside
    assert got.loc["c", "unresolved"] == 1
    assert got.loc["c", "churn_type"] == "retaliatory"         # unresolved product grief
    assert got.loc["d", "reason_category"] == "management"     # driver
    assert got.loc["d", "churn_type"] == "non_malicious"       # the driver's hint
    assert got.loc["e", "source"] == "none"
    assert got.loc["e", "reason_category"] is None
    assert got.loc["a", "controllable"] is True
    assert got.loc["a", "type_group"] == "active"
    assert got.loc["d", "type_group"] == "passive"


def test_rules_for_involuntary_and_malicious() -> None:
    subj = _subjects(("p", "2025-05-01"), ("q", "2025-05-01"), ("r", "2025-05-01"))
    notes = pd.DataFrame({
        "customer_id": ["p", "q", "r"], AT: pd.to_datetime(["2025-05-01"] * 3),
        "category": [None, None, "industry"], "confidence": [0.0, 0.0, 0.9],
        "churn_type": [None, "malicious", None], "involuntary": [True, True, False],
        "malicious": [False, True, False], "text": ["欠费停机", "恶意欠费", "不再需要"]})
    out = attribute(subj, notes=notes).set_index("customer_id")
    assert out.loc["p", "churn_type"] == "non_malicious"       # payment failure, no grief
    assert out.loc["p", "type_source"] == "rule"
    assert out.loc["q", "churn_type"] == "malicious"
    assert out.loc["q", "reason_category"] == "natural"        # implied by the type
    assert out.loc["r", "churn_type"] == "natural"             # industry's default type
    assert out.loc["r", "controllable"] is False


def test_controllable_follows_the_workspace_setting() -> None:
    subj = _subjects(("a", "2025-01-01"))
    rec = pd.DataFrame({"customer_id": ["a"], "churn_date": pd.to_datetime(["2025-01-01"]),
                        "reason_category": ["price"], "churn_type": [None]})
    tax = taxonomy(ReasonsSettings(controllable="service"))
    out = attribute(subj, recorded=rec, tax=tax)
    assert out["controllable"].iloc[0] is False
    assert out["churn_type"].iloc[0] == "competitive"          # price's default type


def test_low_confidence_text_is_not_used() -> None:
    subj = _subjects(("a", "2025-01-01"))
    notes = pd.DataFrame({"customer_id": ["a"], AT: pd.to_datetime(["2025-01-01"]),
                          "category": ["price"], "confidence": [0.1], "churn_type": [None],
                          "involuntary": [False], "malicious": [False], "text": ["?"]})
    out = attribute(subj, notes=notes, min_confidence=0.3)
    assert out["reason_category"].iloc[0] is None


def test_recorded_match_respects_the_tolerance() -> None:
    subj = _subjects(("a", "2025-01-01"))
    rec = pd.DataFrame({"customer_id": ["a"], "churn_date": pd.to_datetime(["2025-06-01"]),
                        "reason_category": ["price"], "churn_type": ["competitive"]})
    assert attribute(subj, recorded=rec, tolerance_days=45)["source"].iloc[0] == "none"
    assert attribute(subj, recorded=rec, tolerance_days=200)["source"].iloc[0] == "recorded"


def test_accuracy_counts_only_churns_with_a_record() -> None:
    att = pd.DataFrame({"customer_id": ["a", "b", "c"],
                        AT: pd.to_datetime(["2025-01-01"] * 3),
                        "reason_category": ["price", None, "service"],
                        "churn_type": ["competitive", None, "fault"]})
    truth = pd.DataFrame({"customer_id": ["a", "b"],
                          "churn_date": pd.to_datetime(["2025-01-02", "2025-01-01"]),
                          "reason_category": ["price", "service"],
                          "churn_type": ["competitive", "fault"]})
    acc = accuracy(att, truth)
    assert acc["n"] == 2
    assert acc["category"] == pytest.approx(0.5)
    assert acc["type"] == pytest.approx(0.5)
