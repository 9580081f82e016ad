"""churnradar.toml: defaults, validation naming the key, in-place edits."""

from __future__ import annotations

import datetime as dt
import tomllib

import pytest

from churnradar.exceptions import SettingsError, WorkspaceError
from churnradar.settings import DEFAULT_TOML, Settings, parse_settings
from churnradar.workspace import Workspace


def test_default_file_is_the_defaults():
    assert parse_settings(tomllib.loads(DEFAULT_TOML)) == Settings()


@pytest.mark.parametrize(("doc", "match"), [
    ({"colour": "red"}, "unknown key 'colour'"),
    ({"churn": {"inactivty_days": 30}}, r"\[churn\] unknown key 'inactivty_days'"),
    ({"metrics": {"margin": 1.5}}, r"\[metrics\] margin must be between 0 and 1"),
    ({"metrics": {"period": "week"}}, "period must be one of"),
    ({"metrics": {"basis": "middle"}}, "basis must be one of"),
    ({"churn": {"inactivity_days": "90"}}, "inactivity_days must be a whole number"),
    ({"churn": {"inactivity_days": 0}}, "inactivity_days must be at least 1"),
    ({"churn": {"as_of": "yesterday"}}, "as_of must be a date"),
    ({"language": "fr"}, "language must be one of"),
    ({"safety": {"deviation_warn": 0.9, "deviation_alert": 0.5}}, "must not be above"),
    ({"columns": {"orders": {"a": "b"}}}, r"\[columns.orders\] is not a table"),
    ({"metrics": "month"}, r"\[metrics\] must be a table"),
])
def test_bad_settings_name_the_key(doc, match):
    with pytest.raises(SettingsError, match=match):
        parse_settings(doc)


def test_workspace_create_open_and_edit(tmp_path):
    ws = Workspace.create(tmp_path / "w", language="en")
    assert ws.settings.language == "en"
    assert (tmp_path / "w" / "data").is_dir() and (tmp_path / "w" / "runs").is_dir()
    ws.set_setting("churn", "as_of", dt.date(2025, 12, 31))
    ws.set_setting("metrics", "margin", 0.05)
    again = Workspace.open(tmp_path / "w")
    assert again.settings.churn.as_of == dt.date(2025, 12, 31)
    assert again.settings.metrics.margin == 0.05
    assert "# churnradar settings" in again.settings_path.read_text(encoding="utf-8")
    before = again.settings_path.read_bytes()
    with pytest.raises(SettingsError, match="margin must be between 0 and 1"):
        again.set_setting("metrics", "margin", 2.0)
    assert again.settings_path.read_bytes() == before  # a bad edit changes nothing
    with pytest.raises(WorkspaceError, match="already a workspace"):
        Workspace.create(tmp_path / "w")
    with pytest.raises(WorkspaceError, match="not a churnradar workspace"):
        Workspace.open(tmp_path)


def test_broken_toml_is_a_clear_error(tmp_path):
    ws = Workspace.create(tmp_path / "w")
    ws.settings_path.write_text("language = \n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        Workspace.open(tmp_path / "w")


@pytest.mark.parametrize("value", ["1GB", "800 MB", "1.5GiB", ""])
def test_engine_memory_limit_accepts_sizes(value):
    assert parse_settings({"engine": {"memory_limit": value}}).engine.memory_limit == value


@pytest.mark.parametrize("value", ["lots", "1G", "1GB; DROP TABLE x"])
def test_engine_memory_limit_refuses_anything_else(value):
    with pytest.raises(SettingsError, match=r"\[engine\] memory_limit must be a size"):
        parse_settings({"engine": {"memory_limit": value}})


def test_value_and_survival_sections():
    s = parse_settings({"value": {"transaction_model": "paretonbd", "discount_rate": 0.08},
                        "survival": {"groupings": "grade, plan", "horizons": "30,365"}})
    assert s.value.transaction_model == "paretonbd" and s.value.discount_rate == 0.08
    assert s.survival.grouping_list() == ["grade", "plan"]
    assert s.survival.horizon_days() == (30, 365)
    assert Settings().survival.grouping_list() is None


@pytest.mark.parametrize("doc, match", [
    ({"value": {"transaction_model": "bg"}}, "transaction_model"),
    ({"value": {"discount_rate": 1.5}}, "discount_rate"),
    ({"value": {"high_value_share": 0.8, "medium_value_share": 0.5}}, "high_value_share"),
    ({"survival": {"horizons": "90,abc"}}, "horizons"),
    ({"survival": {"horizons": "90,90"}}, "horizons"),
    ({"survival": {"cohort_period": "week"}}, "cohort_period"),
    ({"survival": {"confidence": 1.2}}, "confidence"),
])
def test_bad_value_and_survival_settings(doc, match):
    with pytest.raises(SettingsError, match=match):
        parse_settings(doc)


def test_reasons_and_retention_sections():
    doc = tomllib.loads("""
[reasons]
controllable = "price,service"
classifier = "lexicon"
[reasons.lexicon]
price = ["太贵", "too expensive"]
[reasons.type_lexicon]
competitive = "携号转网"
[retention]
budget = 5000.0
capacity = 200
control_share = 0.2
whatif_points = "1, 3"
[retention.playbooks.reminder]
cost = 1.0
[retention.playbooks.vip]
reasons = ["price"]
types = ["competitive"]
cost = 100.0
success = 0.4
""")
    s = parse_settings(doc)
    assert s.reasons.controllable_set() == {"price", "service"}
    assert s.reasons.lexicon == {"price": ("太贵", "too expensive")}
    assert s.reasons.type_lexicon == {"competitive": ("携号转网",)}
    assert s.retention.whatif_list() == (1.0, 3.0)
    assert s.retention.playbooks["vip"]["success"] == 0.4
    assert s.retention.tier_list() == ("high", "medium")


@pytest.mark.parametrize("doc, match", [
    ({"reasons": {"controllable": "price,weather"}}, "controllable: unknown category 'weather'"),
    ({"reasons": {"classifier": "bert"}}, "classifier must be one of"),
    ({"reasons": {"lexicon": {"cost": ["贵"]}}}, r"lexicon: unknown 'cost'"),
    ({"reasons": {"lexicon": {"price": [1, 2]}}}, r"lexicon.price must be a list of words"),
    ({"reasons": {"departure_alpha": 0.7}}, "departure_alpha must be within"),
    ({"retention": {"control_share": 0.95}}, "control_share must be within"),
    ({"retention": {"whatif_points": "a,b"}}, "whatif_points must list percentage points"),
    ({"retention": {"risk_tiers": "urgent"}}, "risk_tiers must list some of"),
    ({"retention": {"budget": -1.0}}, "budget, winback_cost and word_of_mouth must not"),
    ({"retention": {"playbooks": {"x": {"colour": "red"}}}}, r"playbooks.x: unknown key 'colour'"),
    ({"retention": {"playbooks": {"x": {"success": 1.5}}}}, r"playbooks.x.success must be"),
    ({"retention": {"playbooks": {"x": {"types": ["angry"]}}}}, r"playbooks.x.types must list"),
])
def test_bad_reasons_and_retention_settings(doc, match):
    with pytest.raises(SettingsError, match=match):
        parse_settings(doc)
