"""Load, validate and write ``churnradar.toml``, the settings of a workspace.

The file is small and flat on purpose; every key is documented in :data:`DEFAULT_TOML`
(the text ``churnradar init`` writes). Validation names the exact key that is wrong:
``SettingsError: churnradar.toml: [metrics] margin must be between 0 and 1, got 1.5``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from churnradar.exceptions import SettingsError

LANGUAGES: tuple[str, ...] = ("zh-CN", "en")
PERIODS: tuple[str, ...] = ("month", "quarter", "year")
BASES: tuple[str, ...] = ("start", "end")
BUSINESSES: tuple[str, ...] = ("auto", "contractual", "non_contractual")

Language = Literal["zh-CN", "en"]
Period = Literal["month", "quarter", "year"]
Basis = Literal["start", "end"]
Business = Literal["auto", "contractual", "non_contractual"]


@dataclass(frozen=True)
class ChurnSettings:
    """How churn is defined (domain.md §1)."""

    #: contractual (subscriptions) / non_contractual (transactions) / auto (whichever exists)
    business: Business = "auto"
    #: non-contractual: no purchase for this many days = churned (activity-based churn)
    inactivity_days: int = 90
    #: contractual: a new subscription starting at most this many days after the previous
    #: one ended continues the same relationship (a renewal, not a churn + win-back)
    contract_gap_days: int = 1
    #: the date the data is complete up to; empty = the latest date found in the data
    as_of: dt.date | None = None


@dataclass(frozen=True)
class MetricsSettings:
    period: Period = "month"
    basis: Basis = "start"
    #: profit margin (企业盈利率) used for churn loss where no per-customer margin exists
    margin: float = 0.2
    #: segments with fewer customers at the period start are marked "too small to judge"
    min_segment_size: int = 30
    #: confidence level of the Wilson intervals
    confidence: float = 0.95
    #: a customer is "new" (acquisition cohort) for this many months after joining
    new_customer_months: int = 6


@dataclass(frozen=True)
class SafetySettings:
    """Thresholds of the four checks of the churn safety line (流失安全线, domain.md §2)."""

    #: cost of acquiring and developing one new customer
    acquisition_cost: float = 500.0
    #: cost of keeping one existing customer (the ~5x rule of thumb is a default, not a fact)
    retention_cost: float = 100.0
    #: check 1: replacement cost of the churned customers as a share of period revenue
    replacement_cost_warn: float = 0.05
    replacement_cost_alert: float = 0.10
    #: check 2: new-customer churn rate / established-customer churn rate
    new_cohort_ratio_warn: float = 2.0
    #: check 3: relative deviation of the latest period from the long-run rate
    deviation_warn: float = 0.2
    deviation_alert: float = 0.5
    #: check 4: key-account churn, annualised
    key_account_annual_warn: float = 0.10
    key_account_annual_alert: float = 0.20


def is_size(text: str) -> bool:
    """A memory size with a unit, as DuckDB takes it: ``1GB``, ``800 MB``, ``1.5GiB``."""
    import re

    return re.fullmatch(r"\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*", text,
                        re.I) is not None


@dataclass(frozen=True)
class EngineSettings:
    """Where the numbers are computed."""

    #: DuckDB memory limit; beyond it DuckDB moves intermediate tables to a temp file.
    #: Empty = no limit (DuckDB's default, 80% of RAM).
    memory_limit: str = "1GB"
    #: DuckDB worker threads; 0 = all cores
    threads: int = 0


MODEL_KINDS: tuple[str, ...] = ("lightgbm", "logistic")
CALIBRATIONS: tuple[str, ...] = ("auto", "isotonic", "sigmoid", "none")


@dataclass(frozen=True)
class PredictSettings:
    """Churn risk prediction (who will leave in the next ``horizon_days``)."""

    #: predict churn within this many days after the observation date
    horizon_days: int = 90
    #: monthly observation dates stacked for training (the latest is the held-out slice)
    observation_months: int = 12
    #: lightgbm (default) | logistic
    model: str = "lightgbm"
    #: auto (isotonic on large held-out slices, else Platt) | isotonic | sigmoid | none
    calibration: str = "auto"
    random_state: int = 0
    #: risk tiers: the riskiest share of active customers is "high", the next "medium"
    high_risk_share: float = 0.10
    medium_risk_share: float = 0.20
    #: backtest: number of evaluation dates, one month apart, ending at the latest possible
    backtest_dates: int = 3
    #: drivers listed per customer
    top_drivers: int = 3
    #: training rows kept at most (a uniform sample per observation date beyond it)
    max_training_rows: int = 2_000_000


TRANSACTION_MODELS = ("bgnbd", "paretonbd")


@dataclass(frozen=True)
class ValueSettings:
    """Customer value: CLV models, value tiers (the margin is ``[metrics] margin``)."""

    #: non-contractual purchase model: bgnbd (BG/NBD) | paretonbd (Pareto/NBD)
    transaction_model: str = "bgnbd"
    #: time unit of the purchase models in days (7 = weeks, as in the CDNOW papers)
    time_unit_days: float = 7.0
    #: CLV horizon in months
    horizon_months: int = 12
    #: annual discount rate of future cash flows
    discount_rate: float = 0.10
    #: model check: refit on the history up to N months before the data end and compare
    #: predicted with actual purchases over those months (0 = off)
    holdout_months: int = 6
    #: value tiers: the most valuable share of active customers is "high", the next "medium"
    high_value_share: float = 0.20
    medium_value_share: float = 0.30
    #: L2 penalty on the model parameters (0 = plain maximum likelihood)
    penalizer: float = 0.0


@dataclass(frozen=True)
class SurvivalSettings:
    """Time to churn: Kaplan-Meier curves, log-rank tests, the Cox model."""

    #: comma-separated groupings; empty = every one the data has (grade, segment, plan ...)
    groupings: str = ""
    #: month | quarter | year (the acquisition cohort of each customer)
    cohort_period: str = "quarter"
    #: survival probabilities reported at these days
    horizons: str = "90,180,365"
    #: active customers: the probability to stay another N days
    remaining_horizons: str = "30,90,180,365"
    confidence: float = 0.95
    #: ridge penalty of the Cox model; raise it when the fit does not converge
    penalizer: float = 0.01
    #: smaller groups are pooled into "(other)"
    min_group_size: int = 30
    max_groups: int = 16
    #: larger customer bases: the Cox model is fitted on a uniform sample of this size
    max_cox_rows: int = 200_000

    def horizon_days(self) -> tuple[int, ...]:
        return _day_list(self.horizons)

    def remaining_days(self) -> tuple[int, ...]:
        return _day_list(self.remaining_horizons)

    def grouping_list(self) -> list[str] | None:
        names = [g.strip() for g in self.groupings.split(",") if g.strip()]
        return names or None


REASON_CLASSIFIERS: tuple[str, ...] = ("auto", "lexicon", "supervised")


@dataclass(frozen=True)
class ReasonsSettings:
    """Why customers leave (domain.md §3): controllable categories, the complaint
    classifier and its lexicon, staff departures."""

    #: comma-separated reason categories the company can influence (可控); the others
    #: (by default industry and natural) are uncontrollable (不可控)
    controllable: str = "product,price,service,benefit,management"
    #: complaints up to N days before the churn (or the data end) are evidence of why
    complaint_window_days: int = 180
    #: auto (the supervised text model where its cross-validated accuracy beats the
    #: lexicon) | lexicon | supervised
    classifier: str = "auto"
    #: labelled texts needed before a supervised text model is tried
    min_labelled: int = 50
    #: staff departure: churn of an owner's customers N days after vs before leaving
    departure_window_days: int = 90
    #: significance level of the staff-departure test (Benjamini-Hochberg adjusted)
    departure_alpha: float = 0.05
    #: extra keywords per reason category, added to the built-in lexicon
    lexicon: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: extra keywords per churn type (competitive, malicious ...)
    type_lexicon: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: true: ``lexicon`` / ``type_lexicon`` replace the built-in words instead of adding
    replace_lexicon: bool = False

    def controllable_set(self) -> frozenset[str]:
        return frozenset(c.strip() for c in self.controllable.split(",") if c.strip())


#: the keys a playbook may set (retention/data/playbooks.toml has the built-in ones)
PLAYBOOK_KEYS: tuple[str, ...] = (
    "order", "reasons", "types", "key_account", "cost", "success", "contact",
    "name_zh", "name_en",
)


@dataclass(frozen=True)
class RetentionSettings:
    """The retention plan: budget, contact capacity, control group, win-back, what-if."""

    #: total cost of the plan's actions at most this much (0 = no limit)
    budget: float = 0.0
    #: at most this many customers contacted (0 = no limit)
    capacity: int = 0
    #: share of the selected customers held back as a random control group
    control_share: float = 0.1
    #: at-risk customers = these risk tiers of the prediction (comma-separated)
    risk_tiers: str = "high,medium"
    #: effect of the plan: churn within N days after the action, treated vs control
    effect_days: int = 90
    #: win-back list: customers who churned within the last N days
    winback_days: int = 180
    winback_cost: float = 50.0
    winback_success: float = 0.1
    random_state: int = 0
    #: what-if: lower the churn rate by these percentage points
    whatif_points: str = "1,2,5"
    #: what-if assumptions (domain.md §2), editable; shown as assumptions, not facts:
    #: people one churned dissatisfied customer influences, and the share who follow
    word_of_mouth: float = 5.0
    word_of_mouth_share: float = 0.0
    #: playbook overrides and additions: {"reminder": {"cost": 2.0, "success": 0.5}}
    playbooks: dict[str, dict[str, Any]] = field(default_factory=dict)

    def tier_list(self) -> tuple[str, ...]:
        return tuple(t.strip() for t in self.risk_tiers.split(",") if t.strip())

    def whatif_list(self) -> tuple[float, ...]:
        return tuple(float(p) for p in self.whatif_points.replace(" ", "").split(",") if p)


def _day_list(text: str) -> tuple[int, ...]:
    days = tuple(int(p) for p in text.replace(" ", "").split(",") if p)
    if not days or any(d <= 0 for d in days) or len(set(days)) != len(days):
        raise ValueError(text)
    return days


@dataclass(frozen=True)
class Settings:
    language: Language = "zh-CN"
    currency: str = "CNY"
    churn: ChurnSettings = field(default_factory=ChurnSettings)
    metrics: MetricsSettings = field(default_factory=MetricsSettings)
    safety: SafetySettings = field(default_factory=SafetySettings)
    engine: EngineSettings = field(default_factory=EngineSettings)
    predict: PredictSettings = field(default_factory=PredictSettings)
    value: ValueSettings = field(default_factory=ValueSettings)
    survival: SurvivalSettings = field(default_factory=SurvivalSettings)
    reasons: ReasonsSettings = field(default_factory=ReasonsSettings)
    retention: RetentionSettings = field(default_factory=RetentionSettings)
    #: per-table header mapping: {"customers": {"客户编号": "customer_id"}}
    columns: dict[str, dict[str, str]] = field(default_factory=dict)

    def with_overrides(self, **kwargs: Any) -> Settings:
        return replace(self, **kwargs)


DEFAULT_TOML = """\
# churnradar settings (客户流失雷达 设置). Every key is optional; shown are the defaults.
language = "zh-CN"          # zh-CN | en
currency = "CNY"

[churn]
business = "auto"           # auto | contractual | non_contractual
inactivity_days = 90        # non-contractual: no purchase for N days = churned
contract_gap_days = 1       # contractual: a renewal within N days is not a churn
# as_of = 2025-12-31        # data complete up to this date (default: latest date in data)

[metrics]
period = "month"            # month | quarter | year
basis = "start"             # start (C/S, industry standard) | end (C/E, textbook)
margin = 0.2                # profit margin for churn loss (企业盈利率)
min_segment_size = 30       # smaller segments are marked "too small to judge"
confidence = 0.95           # Wilson confidence intervals
new_customer_months = 6     # "new customer" window for the acquisition-peak check

[safety]                    # the churn safety line (流失安全线)
acquisition_cost = 500.0    # cost of acquiring a new customer
retention_cost = 100.0      # cost of keeping an existing one
replacement_cost_warn = 0.05
replacement_cost_alert = 0.10
new_cohort_ratio_warn = 2.0
deviation_warn = 0.2
deviation_alert = 0.5
key_account_annual_warn = 0.10
key_account_annual_alert = 0.20

[engine]
memory_limit = "1GB"        # DuckDB memory limit; beyond it, work spills to a temp file
threads = 0                 # DuckDB threads; 0 = all cores

[predict]                   # churn risk prediction
horizon_days = 90           # who will churn within N days
observation_months = 12     # monthly observation dates stacked for training
model = "lightgbm"          # lightgbm | logistic
calibration = "auto"        # auto | isotonic | sigmoid | none
random_state = 0
high_risk_share = 0.10      # riskiest 10% of active customers = high risk
medium_risk_share = 0.20    # next 20% = medium risk
backtest_dates = 3          # evaluation dates of `churnradar predict backtest`
top_drivers = 3             # drivers listed per customer
max_training_rows = 2000000 # larger training sets are sampled uniformly per date

[value]                     # customer value (CLV); the margin is [metrics] margin
transaction_model = "bgnbd" # bgnbd | paretonbd (non-contractual purchases)
time_unit_days = 7.0        # model time unit in days (7 = weeks)
horizon_months = 12         # CLV over the next N months
discount_rate = 0.10        # annual discount rate
holdout_months = 6          # model check on the last N months (0 = off)
high_value_share = 0.20     # most valuable 20% of active customers = high value
medium_value_share = 0.30   # next 30% = medium value
penalizer = 0.0             # L2 penalty on the model parameters

[survival]                  # time to churn: Kaplan-Meier, log-rank tests, Cox model
groupings = ""              # e.g. "grade,segment,plan,cohort"; empty = every one the data has
cohort_period = "quarter"   # month | quarter | year
horizons = "90,180,365"     # survival probability reported at these days
remaining_horizons = "30,90,180,365"  # active customers: P(stay another N days)
confidence = 0.95
penalizer = 0.01            # Cox ridge penalty; raise it if the model does not converge
min_group_size = 30         # smaller groups are pooled into "(other)"
max_groups = 16
max_cox_rows = 200000       # larger bases: the Cox model is fitted on a uniform sample

[reasons]                   # why customers leave (流失原因)
controllable = "product,price,service,benefit,management"  # the others are uncontrollable
complaint_window_days = 180 # complaints up to N days before churn are evidence
classifier = "auto"         # auto | lexicon | supervised (text model when it beats the lexicon)
min_labelled = 50           # labelled texts needed before a supervised model is tried
departure_window_days = 90  # staff departure: churn N days after vs before the owner left
departure_alpha = 0.05      # significance level of the staff-departure test
replace_lexicon = false     # true: the words below replace the built-in lexicon
# [reasons.lexicon]         # extra keywords per reason category (zh or en)
# price = ["太贵", "too expensive"]
# [reasons.type_lexicon]    # extra keywords per churn type
# competitive = ["携号转网", "switched to"]

[retention]                 # the retention plan (挽留计划)
budget = 0.0                # total cost of the plan at most (0 = no limit)
capacity = 0                # customers contacted at most (0 = no limit)
control_share = 0.1         # random control group, to measure whether it worked
risk_tiers = "high,medium"  # at-risk customers
effect_days = 90            # did it work: churn within N days after the action
winback_days = 180          # win-back list: churned within the last N days
winback_cost = 50.0
winback_success = 0.1
random_state = 0
whatif_points = "1,2,5"     # what-if: churn rate lowered by these points
word_of_mouth = 5.0         # assumption: people one dissatisfied leaver tells (not a fact)
word_of_mouth_share = 0.0   # assumption: share of them who leave too (0 = ignore)
# [retention.playbooks.reminder]   # change a built-in playbook or add your own
# cost = 2.0
# success = 0.5

# [columns.customers]       # map your own headers to churnradar's columns
# "客户编号" = "customer_id"
"""

_SECTIONS: dict[str, type] = {
    "churn": ChurnSettings,
    "metrics": MetricsSettings,
    "safety": SafetySettings,
    "engine": EngineSettings,
    "predict": PredictSettings,
    "value": ValueSettings,
    "survival": SurvivalSettings,
    "reasons": ReasonsSettings,
    "retention": RetentionSettings,
}
_CHOICES: dict[str, tuple[str, ...]] = {
    "language": LANGUAGES,
    "business": BUSINESSES,
    "period": PERIODS,
    "basis": BASES,
    "model": MODEL_KINDS,
    "calibration": CALIBRATIONS,
    "transaction_model": TRANSACTION_MODELS,
    "cohort_period": PERIODS,
    "classifier": REASON_CLASSIFIERS,
}


def _check_choice(where: str, key: str, value: Any) -> None:
    choices = _CHOICES.get(key)
    if choices is not None and value not in choices:
        raise SettingsError(f"{where}{key} must be one of {choices}, got {value!r}")


def _coerce(where: str, key: str, value: Any, default: Any) -> Any:
    """Check one value against the type of its default."""
    if key == "as_of":
        if value in (None, ""):
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise SettingsError(f"{where}as_of must be a date like 2025-12-31, got {value!r}")
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise SettingsError(f"{where}{key} must be true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SettingsError(f"{where}{key} must be a whole number, got {value!r}")
        if value < 0:
            raise SettingsError(f"{where}{key} must not be negative, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise SettingsError(f"{where}{key} must be a number, got {value!r}")
        return float(value)
    if isinstance(default, str):
        if not isinstance(value, str):
            raise SettingsError(f"{where}{key} must be text, got {value!r}")
        _check_choice(where, key, value)
        return value
    raise SettingsError(f"{where}{key}: unsupported value {value!r}")  # pragma: no cover


def _section(name: str, cls: type, raw: Any, source: str) -> Any:
    where = f"{source}: [{name}] "
    if not isinstance(raw, dict):
        raise SettingsError(f"{where}must be a table of keys, got {raw!r}")
    known = {f.name: f for f in fields(cls)}
    defaults = cls()
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise SettingsError(
                f"{where}unknown key {key!r}. Known keys: {', '.join(sorted(known))}"
            )
        default = getattr(defaults, key)
        if isinstance(default, dict):
            values[key] = _nested(where, key, value)
        else:
            values[key] = _coerce(where, key, value, default)
    obj = cls(**values)
    _check_ranges(where, obj)
    return obj


def _nested(where: str, key: str, raw: Any) -> dict[str, Any]:
    """The sub-tables of a section: word lists (lexicons) or playbooks."""
    from churnradar.schema import CHURN_TYPES, REASON_CATEGORIES

    if not isinstance(raw, dict):
        raise SettingsError(f"{where}{key} must be a table, got {raw!r}")
    if key in ("lexicon", "type_lexicon"):
        names = REASON_CATEGORIES if key == "lexicon" else CHURN_TYPES
        out: dict[str, Any] = {}
        for name, words in raw.items():
            if name not in names:
                raise SettingsError(f"{where}{key}: unknown {name!r}, expected one of "
                                    f"{', '.join(names)}")
            if isinstance(words, str):
                words = [words]
            if not isinstance(words, list) or not all(isinstance(w, str) and w.strip()
                                                      for w in words):
                raise SettingsError(f"{where}{key}.{name} must be a list of words like "
                                    f'["太贵", "too expensive"], got {words!r}')
            out[name] = tuple(w.strip() for w in words)
        return out
    if key == "playbooks":
        books: dict[str, Any] = {}
        for name, book in raw.items():
            if not isinstance(book, dict):
                raise SettingsError(f"{where}playbooks.{name} must be a table of keys")
            unknown = set(book) - set(PLAYBOOK_KEYS)
            if unknown:
                raise SettingsError(f"{where}playbooks.{name}: unknown key "
                                    f"{sorted(unknown)[0]!r}. Known keys: "
                                    f"{', '.join(PLAYBOOK_KEYS)}")
            for num in ("cost", "success", "order"):
                v = book.get(num)
                if v is not None and (isinstance(v, bool) or not isinstance(v, int | float)
                                      or v < 0):
                    raise SettingsError(f"{where}playbooks.{name}.{num} must be a "
                                        f"non-negative number, got {v!r}")
            if book.get("success") is not None and book["success"] > 1:
                raise SettingsError(f"{where}playbooks.{name}.success must be within "
                                    f"[0, 1], got {book['success']}")
            for lst, names in (("reasons", REASON_CATEGORIES), ("types", CHURN_TYPES)):
                v = book.get(lst)
                if v is None:
                    continue
                if not isinstance(v, list) or any(x not in names for x in v):
                    raise SettingsError(f"{where}playbooks.{name}.{lst} must list values "
                                        f"of {', '.join(names)}, got {v!r}")
            books[name] = dict(book)
        return books
    raise SettingsError(f"{where}{key}: unsupported table")  # pragma: no cover


def _check_ranges(where: str, obj: Any) -> None:
    if isinstance(obj, MetricsSettings):
        if not 0.0 <= obj.margin <= 1.0:
            raise SettingsError(f"{where}margin must be between 0 and 1, got {obj.margin}")
        if not 0.5 <= obj.confidence < 1.0:
            raise SettingsError(
                f"{where}confidence must be at least 0.5 and below 1, got {obj.confidence}"
            )
        if obj.new_customer_months < 1:
            raise SettingsError(f"{where}new_customer_months must be at least 1")
    if isinstance(obj, EngineSettings) and obj.memory_limit and not is_size(obj.memory_limit):
        raise SettingsError(f"{where}memory_limit must be a size like 1GB or 800MB, "
                            f"got {obj.memory_limit!r}")
    if isinstance(obj, ChurnSettings) and obj.inactivity_days < 1:
        raise SettingsError(f"{where}inactivity_days must be at least 1")
    if isinstance(obj, PredictSettings):
        if obj.horizon_days < 1 or obj.observation_months < 2 or obj.backtest_dates < 1:
            raise SettingsError(f"{where}horizon_days and backtest_dates must be at least 1, "
                                f"observation_months at least 2")
        if not (obj.high_risk_share > 0 and obj.medium_risk_share >= 0
                and obj.high_risk_share + obj.medium_risk_share <= 1):
            raise SettingsError(f"{where}high_risk_share + medium_risk_share must be within "
                                f"(0, 1], got {obj.high_risk_share} + {obj.medium_risk_share}")
        if obj.max_training_rows < 1000:
            raise SettingsError(f"{where}max_training_rows must be at least 1000")
        if obj.top_drivers < 1:
            raise SettingsError(f"{where}top_drivers must be at least 1")
    if isinstance(obj, ValueSettings):
        if obj.time_unit_days <= 0 or obj.horizon_months < 1:
            raise SettingsError(f"{where}time_unit_days must be positive and horizon_months "
                                f"at least 1")
        if not 0.0 <= obj.discount_rate < 1.0:
            raise SettingsError(f"{where}discount_rate must be within [0, 1), "
                                f"got {obj.discount_rate}")
        if not (obj.high_value_share > 0 and obj.medium_value_share >= 0
                and obj.high_value_share + obj.medium_value_share <= 1):
            raise SettingsError(f"{where}high_value_share + medium_value_share must be within "
                                f"(0, 1], got {obj.high_value_share} + "
                                f"{obj.medium_value_share}")
        if obj.penalizer < 0:
            raise SettingsError(f"{where}penalizer must not be negative")
    if isinstance(obj, SurvivalSettings):
        for key in ("horizons", "remaining_horizons"):
            try:
                _day_list(getattr(obj, key))
            except ValueError:
                raise SettingsError(f"{where}{key} must list distinct positive days like "
                                    f"\"90,180,365\", got {getattr(obj, key)!r}") from None
        if not 0.5 <= obj.confidence < 1.0:
            raise SettingsError(f"{where}confidence must be at least 0.5 and below 1")
        if obj.penalizer < 0 or obj.min_group_size < 1 or obj.max_groups < 2 \
                or obj.max_cox_rows < 100:
            raise SettingsError(f"{where}penalizer must not be negative, min_group_size at "
                                f"least 1, max_groups at least 2, max_cox_rows at least 100")
    if isinstance(obj, ReasonsSettings):
        from churnradar.schema import REASON_CATEGORIES

        bad = sorted(obj.controllable_set() - set(REASON_CATEGORIES))
        if bad:
            raise SettingsError(f"{where}controllable: unknown category {bad[0]!r}, "
                                f"expected some of {', '.join(REASON_CATEGORIES)}")
        if obj.complaint_window_days < 1 or obj.departure_window_days < 7:
            raise SettingsError(f"{where}complaint_window_days must be at least 1 and "
                                f"departure_window_days at least 7")
        if not 0.0 < obj.departure_alpha < 0.5:
            raise SettingsError(f"{where}departure_alpha must be within (0, 0.5)")
        if obj.min_labelled < 10:
            raise SettingsError(f"{where}min_labelled must be at least 10")
    if isinstance(obj, RetentionSettings):
        if obj.budget < 0 or obj.winback_cost < 0 or obj.word_of_mouth < 0:
            raise SettingsError(f"{where}budget, winback_cost and word_of_mouth must not "
                                f"be negative")
        for name in ("control_share", "winback_success", "word_of_mouth_share"):
            if not 0.0 <= getattr(obj, name) <= (0.9 if name == "control_share" else 1.0):
                raise SettingsError(f"{where}{name} must be within [0, "
                                    f"{0.9 if name == 'control_share' else 1}], "
                                    f"got {getattr(obj, name)}")
        if not obj.tier_list() or set(obj.tier_list()) - {"high", "medium", "low"}:
            raise SettingsError(f"{where}risk_tiers must list some of high, medium, low, "
                                f"got {obj.risk_tiers!r}")
        if obj.effect_days < 1 or obj.winback_days < 1:
            raise SettingsError(f"{where}effect_days and winback_days must be at least 1")
        try:
            points = obj.whatif_list()
        except ValueError:
            points = ()
        if not points or any(not 0 < p < 100 for p in points):
            raise SettingsError(f"{where}whatif_points must list percentage points like "
                                f'"1,2,5", got {obj.whatif_points!r}')
    if isinstance(obj, SafetySettings):
        for f in fields(obj):
            if getattr(obj, f.name) < 0:
                raise SettingsError(f"{where}{f.name} must not be negative")
        pairs = [("replacement_cost_warn", "replacement_cost_alert"),
                 ("deviation_warn", "deviation_alert"),
                 ("key_account_annual_warn", "key_account_annual_alert")]
        for warn, alert in pairs:
            if getattr(obj, warn) > getattr(obj, alert):
                raise SettingsError(f"{where}{warn} must not be above {alert}")


def parse_settings(raw: dict[str, Any], source: str = "churnradar.toml") -> Settings:
    """Validate a parsed TOML document into :class:`Settings`."""
    top: dict[str, Any] = {}
    known_top = {f.name for f in fields(Settings)}
    for key, value in raw.items():
        if key not in known_top:
            raise SettingsError(
                f"{source}: unknown key {key!r}. Known keys: {', '.join(sorted(known_top))}"
            )
        if key in _SECTIONS:
            top[key] = _section(key, _SECTIONS[key], value, source)
        elif key == "columns":
            top[key] = _columns(value, source)
        else:
            top[key] = _coerce(f"{source}: ", key, value, getattr(Settings(), key))
    return Settings(**top)


def _columns(raw: Any, source: str) -> dict[str, dict[str, str]]:
    from churnradar.schema import CONTRACTS

    if not isinstance(raw, dict):
        raise SettingsError(f"{source}: [columns] must be a table of tables")
    out: dict[str, dict[str, str]] = {}
    for table, mapping in raw.items():
        if table not in CONTRACTS:
            raise SettingsError(
                f"{source}: [columns.{table}] is not a table churnradar knows. "
                f"Tables: {', '.join(CONTRACTS)}"
            )
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise SettingsError(
                f'{source}: [columns.{table}] must map header names to column names, '
                f'e.g. "客户编号" = "customer_id"'
            )
        out[table] = dict(mapping)
    return out


def load_settings(path: str | Path) -> Settings:
    """Read and validate a ``churnradar.toml``.

    Raises
    ------
    SettingsError
        The file is not valid TOML, or a key is unknown or has a wrong value.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(f"{path}: settings file not found") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from exc
    return parse_settings(raw, source=path.name)


__all__ = [
    "BASES", "BUSINESSES", "DEFAULT_TOML", "LANGUAGES", "PERIODS", "ChurnSettings",
    "EngineSettings",
    "MetricsSettings", "SafetySettings", "Settings", "load_settings", "parse_settings",
    "Language", "Period", "Basis", "Business",
]
