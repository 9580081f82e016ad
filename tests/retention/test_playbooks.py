"""Playbooks: the built-in table, matching (first match wins), names, settings overrides."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from churnradar.exceptions import SettingsError
from churnradar.i18n import catalog, t
from churnradar.retention.plan import build_plan
from churnradar.retention.playbooks import (
    Playbook,
    assign_playbooks,
    builtin_playbooks,
    load_playbooks,
)
from churnradar.schema import CHURN_TYPES, REASON_CATEGORIES
from churnradar.settings import RetentionSettings, parse_settings

KEYS = ("no_offer", "account_visit", "reminder", "complaint_fast", "price_review",
        "benefit_review", "service_recovery", "care_call")


def test_the_built_in_playbooks_in_matching_order() -> None:
    books = builtin_playbooks()
    assert tuple(b.key for b in books) == KEYS
    assert load_playbooks() == books
    by = {b.key: b for b in books}
    assert (by["no_offer"].contact, by["no_offer"].cost, by["no_offer"].success) == \
        (False, 0.0, 0.0)
    assert by["no_offer"].types == ("malicious",)
    assert by["account_visit"].key_account is True
    assert (by["account_visit"].cost, by["account_visit"].success) == (150.0, 0.35)
    assert (by["reminder"].types, by["reminder"].cost, by["reminder"].success) == \
        (("non_malicious",), 0.5, 0.5)
    assert (by["complaint_fast"].types, by["complaint_fast"].cost) == (("retaliatory",), 10.0)
    assert (by["price_review"].reasons, by["price_review"].success) == (("price",), 0.25)
    assert (by["benefit_review"].reasons, by["benefit_review"].cost) == (("benefit",), 20.0)
    assert set(by["service_recovery"].reasons) == {"service", "product", "management"}
    assert by["care_call"].is_catch_all and by["care_call"].cost == 3.0
    assert by["care_call"].success == 0.05
    assert all(b.contact for b in books if b.key != "no_offer")


def test_names_and_descriptions_in_both_languages() -> None:
    cat = catalog()
    for key in (*KEYS, "winback_offer"):
        assert set(cat[f"playbook_{key}"]) == {"zh-CN", "en"}
        assert set(cat[f"playbook_desc_{key}"]) == {"zh-CN", "en"}
    reminder = load_playbooks()[2]
    assert reminder.name("en") == t("playbook_reminder", "en")
    assert reminder.name("zh-CN") == t("playbook_reminder", "zh-CN") != reminder.name("en")
    assert reminder.description("en")


def _frame(rows: list[tuple[object, object, object]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["reason_category", "churn_type", "is_key_account"])


@pytest.mark.parametrize(("reason", "ctype", "key", "expected"), [
    ("price", "malicious", True, "no_offer"),        # malicious first, even a key account
    (None, "malicious", False, "no_offer"),
    ("price", "competitive", True, "account_visit"),
    (None, None, True, "account_visit"),
    ("service", "non_malicious", False, "reminder"),
    ("price", "retaliatory", False, "complaint_fast"),
    ("price", "competitive", False, "price_review"),
    ("price", None, False, "price_review"),
    ("benefit", "fault", False, "benefit_review"),
    ("service", None, False, "service_recovery"),
    ("product", "fault", False, "service_recovery"),
    ("management", "competitive", False, "service_recovery"),
    ("industry", "competitive", False, "care_call"),
    ("natural", "natural", False, "care_call"),
    (None, None, False, "care_call"),
    (None, None, None, "care_call"),
    (np.nan, np.nan, None, "care_call"),
])
def test_first_match_wins(reason: object, ctype: object, key: object, expected: str) -> None:
    assert list(assign_playbooks(_frame([(reason, ctype, key)]))) == [expected]


def test_every_reason_and_type_gets_a_playbook_and_malicious_never_another() -> None:
    rows = [(r, c, k) for r in (*REASON_CATEGORIES, None) for c in (*CHURN_TYPES, None)
            for k in (True, False)]
    frame = _frame(rows)
    keys = assign_playbooks(frame)
    assert all(k in KEYS for k in keys)
    assert ((keys == "no_offer") == (frame.churn_type == "malicious").to_numpy()).all()


def test_missing_columns_mean_not_known() -> None:
    keys = assign_playbooks(pd.DataFrame({"customer_id": ["a", "b"]}))
    assert list(keys) == ["care_call", "care_call"]
    keys = assign_playbooks(pd.DataFrame({"churn_type": ["non_malicious", "malicious"]}))
    assert list(keys) == ["reminder", "no_offer"]


def test_vectorised_on_a_million_rows() -> None:
    rng = np.random.default_rng(0)
    n = 1_000_000
    frame = pd.DataFrame({
        "reason_category": rng.choice(np.array([*REASON_CATEGORIES, None], dtype=object), n),
        "churn_type": rng.choice(np.array([*CHURN_TYPES, None], dtype=object), n),
        "is_key_account": rng.random(n) < 0.01,
    })
    start = time.perf_counter()
    keys = assign_playbooks(frame)
    assert time.perf_counter() - start < 10
    small = frame.iloc[:2000]
    slow = [assign_playbooks(small.iloc[[i]])[0] for i in range(0, 2000, 97)]
    assert list(keys[:2000:97]) == slow
    assert ((keys == "no_offer") == (frame.churn_type == "malicious").to_numpy()).all()


def test_malicious_churn_is_never_selected_and_key_accounts_are_visited() -> None:
    customers = pd.DataFrame({
        "customer_id": ["bad", "key", "plain"],
        "churn_probability": [0.99, 0.9, 0.9],
        "value": [1e9, 10_000.0, 1_000.0],
        "reason_category": ["price", "price", "price"],
        "churn_type": ["malicious", "competitive", "competitive"],
        "is_key_account": [True, True, False],
    })
    plan = build_plan(customers, RetentionSettings(control_share=0.0))
    tab = plan.table.set_index("customer_id")
    assert tab.loc["bad", "action"] == "no_offer"
    assert not tab.loc["bad", "selected"] and not tab.loc["bad", "eligible"]
    assert tab.loc["key", "action"] == "account_visit" and tab.loc["key", "selected"]
    assert tab.loc["plain", "action"] == "price_review" and tab.loc["plain", "selected"]
    assert plan.summary["no_offer"] == 1
    # no strategy of the comparison contacts the malicious churner either
    assert plan.comparison.set_index("strategy").loc["top_risk", "contacted"] == 2


def test_settings_override_a_built_in() -> None:
    books = load_playbooks(RetentionSettings(playbooks={"reminder": {"cost": 5.0},
                                                        "care_call": {"name_en": "Hello"}}))
    by = {b.key: b for b in books}
    assert by["reminder"].cost == 5.0 and by["reminder"].success == 0.5
    assert by["reminder"].types == ("non_malicious",)
    assert by["care_call"].name("en") == "Hello"
    assert by["care_call"].name("zh-CN") == t("playbook_care_call", "zh-CN")
    assert tuple(b.key for b in books) == KEYS


def test_settings_add_a_playbook_before_the_catch_all() -> None:
    settings = RetentionSettings(playbooks={
        "loyalty_gift": {"reasons": ["industry"], "cost": 20, "success": 0.1,
                         "name_zh": "忠诚礼品", "name_en": "Loyalty gift"},
        "early": {"types": ["competitive"], "cost": 1, "success": 0.9, "order": 5},
    })
    books = load_playbooks(settings)
    keys = [b.key for b in books]
    assert keys[0] == "early"
    assert keys.index("loyalty_gift") == keys.index("care_call") - 1
    gift = books[keys.index("loyalty_gift")]
    assert gift.name("zh-CN") == "忠诚礼品" and gift.name("en") == "Loyalty gift"
    assert isinstance(gift, Playbook) and gift.cost == 20.0
    frame = _frame([("industry", None, False), ("price", "competitive", False)])
    assert list(assign_playbooks(frame, books)) == ["loyalty_gift", "early"]


def test_a_new_playbook_needs_cost_and_success() -> None:
    with pytest.raises(SettingsError, match="'vip_dinner'.*success"):
        load_playbooks(RetentionSettings(playbooks={"vip_dinner": {"cost": 500}}))
    with pytest.raises(SettingsError, match="'vip_dinner'.*cost \\+ success"):
        load_playbooks(RetentionSettings(playbooks={"vip_dinner": {"order": 1}}))


@pytest.mark.parametrize(("book", "match"), [
    ({"success": 1.5}, "success"),
    ({"cost": -1}, "cost"),
    ({"reasons": ["weather"]}, "reasons"),
    ({"key_account": "yes"}, "key_account"),
])
def test_bad_override_values_are_refused(book: dict[str, object], match: str) -> None:
    with pytest.raises(SettingsError, match=match):
        load_playbooks(RetentionSettings(playbooks={"reminder": book}))


def test_overrides_from_churnradar_toml() -> None:
    settings = parse_settings({"retention": {"playbooks": {
        "reminder": {"cost": 3.0, "success": 0.6},
        "sms": {"types": ["fault"], "cost": 0.5, "success": 0.05},
    }}})
    by = {b.key: b for b in load_playbooks(settings.retention)}
    assert (by["reminder"].cost, by["reminder"].success) == (3.0, 0.6)
    assert by["sms"].types == ("fault",) and by["sms"].name("en") == "sms"
