"""Did it work? The effect of each playbook, treated against its random control group.

The plan holds back a random control group (:func:`churnradar.retention.plan.control_group`);
the user records what was done in the ``retention_actions`` table. For each playbook the
churn of the treated customers within ``effect_days`` after the action date is compared
with the churn of its control group over the same window:

    effect = churn rate (control) − churn rate (treated)

the churn prevented per customer assigned to the action (intention to treat: treated
customers count whether or not they could be reached). Because the groups were drawn at
random, the difference estimates the playbook's causal effect; its uncertainty is given
by Newcombe's hybrid score interval [1]_ and Fisher's exact test.

Only customers whose whole window has passed by ``as_of`` are counted; the others are
``pending`` (counting the early churners of an incomplete window and not its stayers
would overstate churn). Customers already gone at the action date (e.g. a win-back) are
``inactive`` and left out (as are customers without any spell).

References
----------
.. [1] Newcombe, R. G. (1998). Interval estimation for the difference between
   independent proportions: comparison of eleven methods. Statistics in Medicine 17(8),
   873–890 (method 10).
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from scipy.stats import fisher_exact

from churnradar import schema as s
from churnradar.exceptions import InputError, SchemaError
from churnradar.metrics.rates import wilson_bounds

ALL = "__all__"
TREATMENT, CONTROL = s.ACTION_GROUPS
EFFECT_COLUMNS: tuple[str, ...] = (
    "action", "treated", "treated_churned", "treated_rate", "control", "control_churned",
    "control_rate", "pending", "treated_pending", "control_pending", "inactive", "effect",
    "effect_low", "effect_high", "p_value", "customers_saved",
)
#: outcome counts added (over the treated rows) when the actions have an outcome column
OUTCOME_COLUMNS: tuple[str, ...] = s.OUTCOMES


def newcombe_interval(x1: float, n1: float, x2: float, n2: float,
                      confidence: float = 0.95) -> tuple[float, float, float]:
    """The difference ``x1/n1 − x2/n2`` and its hybrid score interval.

    Newcombe's method 10 [1]_: the Wilson score intervals ``(l1, u1)``, ``(l2, u2)`` of
    the two proportions are combined as

        lower = d − sqrt((p1 − l1)² + (u2 − p2)²)
        upper = d + sqrt((u1 − p1)² + (p2 − l2)²)

    NaN when either ``n`` is zero.

    Examples
    --------
    >>> [round(v, 4) for v in newcombe_interval(56, 70, 48, 80)]
    [0.2, 0.0524, 0.3339]
    """
    lo, hi = wilson_bounds(np.array([x1, x2], dtype=float), np.array([n1, n2], dtype=float),
                           confidence)
    if np.isnan(lo).any():
        return np.nan, np.nan, np.nan
    p1, p2 = x1 / n1, x2 / n2
    d = p1 - p2
    lower = d - np.sqrt((p1 - lo[0]) ** 2 + (hi[1] - p2) ** 2)
    upper = d + np.sqrt((hi[0] - p1) ** 2 + (p2 - lo[1]) ** 2)
    return float(d), float(lower), float(upper)


def _groups(actions: pd.DataFrame) -> pd.Series:
    if s.GROUP not in actions.columns:
        return pd.Series(TREATMENT, index=actions.index, dtype=object)
    raw = actions[s.GROUP]
    aliases = s.ENUM_ALIASES[s.GROUP]
    text = raw.where(raw.notna(), None)
    norm = text.map(lambda v: TREATMENT if v is None or (isinstance(v, str) and not v.strip())
                    else aliases.get(str(v).strip().lower(), aliases.get(str(v).strip())))
    bad = norm.isna()
    if bad.any():
        raise SchemaError(key="retention_err_out_of_range", name="retention_actions.group",
                          rule=" / ".join(s.ACTION_GROUPS), value=raw[bad].iloc[0])
    return norm.astype(object)


def _outcomes(actions: pd.DataFrame, *, as_of: dt.date, spells: pd.DataFrame,
              effect_days: int) -> pd.DataFrame:
    """Per action row: active at the action date, window complete, churned in it."""
    acts = actions.reset_index(drop=True)
    date = pd.to_datetime(acts[s.DATE])
    sp = spells[[s.CUSTOMER_ID, s.START_DATE, s.CHURN_DATE]].copy()
    sp[s.START_DATE] = pd.to_datetime(sp[s.START_DATE])
    churn = pd.to_datetime(sp[s.CHURN_DATE])
    end = pd.Timestamp(as_of)
    sp[s.CHURN_DATE] = churn.where(churn <= end)  # nothing after as_of is known
    left = pd.DataFrame({"_row": np.arange(len(acts)), s.CUSTOMER_ID: acts[s.CUSTOMER_ID],
                         "_date": date})
    m = left.merge(sp, on=s.CUSTOMER_ID, how="inner")
    live = (m[s.START_DATE] <= m["_date"]) & (m[s.CHURN_DATE].isna()
                                              | (m[s.CHURN_DATE] > m["_date"]))
    m = m[live].drop_duplicates("_row").set_index("_row")
    active = np.zeros(len(acts), dtype=bool)
    active[m.index.to_numpy()] = True
    spell_churn = pd.Series(pd.NaT, index=range(len(acts)), dtype="datetime64[ns]")
    spell_churn[m.index] = m[s.CHURN_DATE].astype("datetime64[ns]")
    due = date + pd.Timedelta(days=effect_days)
    complete = (due <= end).to_numpy()
    churned = active & complete & (spell_churn.notna() & (spell_churn <= due)).to_numpy()
    acts = acts.assign(_date=date, _active=active, _complete=complete, _churned=churned)
    return acts


def _summarise(name: str, rows: pd.DataFrame, confidence: float,
               with_outcomes: bool) -> dict[str, object]:
    counted = rows["_active"] & rows["_complete"]
    waiting = rows["_active"] & ~rows["_complete"]
    n: dict[str, int] = {}
    k: dict[str, int] = {}
    pend: dict[str, int] = {}
    for g in (TREATMENT, CONTROL):
        in_g = rows[s.GROUP] == g
        n[g] = int((in_g & counted).sum())
        k[g] = int((in_g & counted & rows["_churned"]).sum())
        pend[g] = int((in_g & waiting).sum())
    both = n[TREATMENT] > 0 and n[CONTROL] > 0
    d, lo, hi = newcombe_interval(k[CONTROL], n[CONTROL], k[TREATMENT], n[TREATMENT],
                                  confidence)
    table = [[k[CONTROL], n[CONTROL] - k[CONTROL]], [k[TREATMENT], n[TREATMENT] - k[TREATMENT]]]
    out: dict[str, object] = {
        "action": name,
        "treated": n[TREATMENT],
        "treated_churned": k[TREATMENT],
        "treated_rate": k[TREATMENT] / n[TREATMENT] if n[TREATMENT] else np.nan,
        "control": n[CONTROL],
        "control_churned": k[CONTROL],
        "control_rate": k[CONTROL] / n[CONTROL] if n[CONTROL] else np.nan,
        "pending": pend[TREATMENT] + pend[CONTROL],
        "treated_pending": pend[TREATMENT],
        "control_pending": pend[CONTROL],
        "inactive": int((~rows["_active"]).sum()),
        "effect": d,
        "effect_low": lo,
        "effect_high": hi,
        "p_value": float(fisher_exact(table)[1]) if both else np.nan,
        "customers_saved": d * n[TREATMENT] if both else np.nan,
    }
    if with_outcomes:
        treated = rows[rows[s.GROUP] == TREATMENT]
        for o in OUTCOME_COLUMNS:
            out[o] = int((treated[s.OUTCOME] == o).sum())
    return out


def playbook_effects(actions: pd.DataFrame, spells: pd.DataFrame, *, as_of: dt.date,
                     effect_days: int = 90, confidence: float = 0.95) -> pd.DataFrame:
    """The churn prevented by each playbook: treated against control.

    Parameters
    ----------
    actions
        The ``retention_actions`` table: ``customer_id``, ``action``, ``date``, ``group``
        ("treatment" / "control"; missing = treatment) and optionally ``outcome``.
        A customer with the same action and group twice counts once (the earliest date).
    spells
        ``customer_id``, ``start_date``, ``churn_date`` (NaT = still active), e.g.
        :attr:`churnradar.predict.dataset.PredictionData.spells`.
    as_of
        The data is complete up to this date; churn after it is not seen.
    effect_days
        Churn within this many days after the action date counts.
    confidence
        Level of the interval of the effect.

    Returns
    -------
    pandas.DataFrame
        One row per action (sorted by name) and a last ``"__all__"`` row (each customer
        once per group, at their earliest action), columns :data:`EFFECT_COLUMNS`:
        treated / control customers with a complete window, how many churned in it and
        the rates; ``pending`` (window not complete by ``as_of``; also per group),
        ``inactive`` (already churned at the action date); ``effect`` = control rate −
        treated rate with its Newcombe interval ``effect_low`` / ``effect_high``,
        ``p_value`` (two-sided Fisher's exact test) and ``customers_saved`` = effect ×
        treated. With an ``outcome`` column, the counts of each outcome among the treated
        (:data:`OUTCOME_COLUMNS`).
    """
    for table, frame, cols in (("retention_actions", actions,
                                (s.CUSTOMER_ID, s.ACTION, s.DATE)),
                               ("spells", spells, (s.CUSTOMER_ID, s.START_DATE,
                                                   s.CHURN_DATE))):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise SchemaError(key="retention_err_missing_columns", table=table,
                              columns=", ".join(missing))
    if effect_days < 1:
        raise InputError(key="retention_err_out_of_range", name="effect_days", rule="≥ 1",
                         value=effect_days)
    if not 0 < confidence < 1:
        raise InputError(key="retention_err_out_of_range", name="confidence",
                         rule="∈ (0, 1)", value=confidence)
    with_outcomes = s.OUTCOME in actions.columns
    acts = actions.assign(**{s.GROUP: _groups(actions)})
    acts = _outcomes(acts, as_of=as_of, spells=spells, effect_days=effect_days)
    acts = acts.sort_values("_date", kind="stable")
    per_action = acts.drop_duplicates([s.CUSTOMER_ID, s.ACTION, s.GROUP])
    rows = [_summarise(str(name), part, confidence, with_outcomes)
            for name, part in per_action.groupby(s.ACTION, sort=True)]
    overall = acts.drop_duplicates([s.CUSTOMER_ID, s.GROUP])
    rows.append(_summarise(ALL, overall, confidence, with_outcomes))
    columns = list(EFFECT_COLUMNS) + (list(OUTCOME_COLUMNS) if with_outcomes else [])
    return pd.DataFrame(rows, columns=columns)


__all__ = ["ALL", "EFFECT_COLUMNS", "OUTCOME_COLUMNS", "newcombe_interval",
           "playbook_effects"]
