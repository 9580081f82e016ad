"""Why did (or will) this customer leave: one reason category and one churn type per
customer, with the evidence (domain.md §3: complaints are the main evidence of *why*).

Evidence is taken in a fixed order of trust, the first that speaks wins:

1. **recorded** — the CRM's own churn record (``churn_records.reason_category`` /
   ``churn_type``), matched to the churn by the nearest date;
2. **note** — the cancellation note or cancel reason, classified (:mod:`.classify`);
3. **complaint** — the customer's complaints in the window before the churn (or before
   today, for an at-risk customer), classified; the category most complained about;
4. **driver** — the reason the churn risk model's top drivers point to
   (:mod:`churnradar.features.reasons`);
5. **rule** — what the facts imply without words: an involuntary cancellation (payment
   failure) with no complaint is non-malicious passive churn; a malicious cue (fraud,
   bad credit) is malicious; unresolved complaints before leaving over service or product
   are retaliatory; otherwise the category's default type (taxonomy.toml).

The churn type follows the same order (recorded > the note's type words > rules). Every
input is an already classified table, so the function is plain pandas and can be tested
on hand-made rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from churnradar import schema as s
from churnradar.reasons.taxonomy import Taxonomy, taxonomy

AT = "at"
SOURCES: tuple[str, ...] = ("recorded", "note", "complaint", "driver", "rule", "none")
#: columns of :func:`attribute`'s result
COLUMNS: tuple[str, ...] = (
    s.CUSTOMER_ID, AT, s.REASON_CATEGORY, s.CHURN_TYPE, "type_group", "controllable",
    "source", "type_source", "confidence", "evidence", "complaints", "unresolved",
)


def _flag(values: pd.Series) -> pd.Series:
    """True where a value is truthy; missing is False."""
    return pd.Series([bool(v) if isinstance(v, bool | np.bool_) else False for v in values],
                     index=values.index, dtype=bool)


def _obj(values: pd.Series) -> np.ndarray:
    """Object array with None (not NaN) for missing values."""
    arr = values.to_numpy(dtype=object)
    arr[pd.isna(arr)] = None
    return arr


def _nearest(subjects: pd.DataFrame, other: pd.DataFrame, on: str, tolerance_days: int,
             cols: list[str]) -> pd.DataFrame:
    """For each subject, the row of ``other`` of the same customer nearest in time
    (within the tolerance); columns ``cols`` aligned with ``subjects``' index."""
    out = pd.DataFrame(index=subjects.index, columns=cols, dtype=object)
    if other is None or other.empty:
        return out
    left = subjects[[s.CUSTOMER_ID, AT]].reset_index().rename(columns={"index": "_row"})
    left["_t"] = pd.to_datetime(left[AT]).astype("datetime64[ns]")
    right = other[[s.CUSTOMER_ID, on, *cols]].copy()
    right["_t"] = pd.to_datetime(right[on]).astype("datetime64[ns]")
    right = right.dropna(subset=["_t"])
    left[s.CUSTOMER_ID] = left[s.CUSTOMER_ID].astype(str)
    right[s.CUSTOMER_ID] = right[s.CUSTOMER_ID].astype(str)
    m = pd.merge_asof(left.sort_values("_t"), right.drop(columns=[on]).sort_values("_t"),
                      on="_t", by=s.CUSTOMER_ID, direction="nearest",
                      tolerance=pd.Timedelta(days=tolerance_days))
    m = m.set_index("_row")
    for c in cols:
        out[c] = m[c].reindex(out.index).astype(object)
    return out


def _complaint_evidence(subjects: pd.DataFrame, complaints: pd.DataFrame | None,
                        window_days: int) -> pd.DataFrame:
    """Per subject: the category most complained about in ``[at - window, at]`` (weighted
    by confidence, the latest complaint breaking ties), its text, the number of
    complaints and of unresolved ones."""
    out = pd.DataFrame({"c_category": pd.Series(None, index=subjects.index, dtype=object),
                        "c_confidence": 0.0, "c_text": pd.Series(None, index=subjects.index,
                                                                 dtype=object),
                        "complaints": 0, "unresolved": 0}, index=subjects.index)
    if complaints is None or complaints.empty:
        return out
    left = subjects[[s.CUSTOMER_ID, AT]].reset_index().rename(columns={"index": "_row"})
    left[s.CUSTOMER_ID] = left[s.CUSTOMER_ID].astype(str)
    c = complaints.copy()
    c[s.CUSTOMER_ID] = c[s.CUSTOMER_ID].astype(str)
    j = left.merge(c, on=s.CUSTOMER_ID, how="inner")
    at = pd.to_datetime(j[AT]).astype("datetime64[ns]")
    when = pd.to_datetime(j[s.TIME]).astype("datetime64[ns]")
    j = j[(when <= at + pd.Timedelta(days=1)) & (when >= at - pd.Timedelta(days=window_days))]
    if j.empty:
        return out
    counts = j.groupby("_row").size()
    out.loc[counts.index, "complaints"] = counts.to_numpy()
    if "unresolved" in j.columns:
        unres = j.groupby("_row")["unresolved"].sum()
        out.loc[unres.index, "unresolved"] = unres.to_numpy().astype(int)
    k = j.dropna(subset=["category"])
    if k.empty:
        return out
    k = k.assign(_w=k["confidence"].astype(float).clip(lower=0.05),
                 _t=pd.to_datetime(k[s.TIME]).astype("datetime64[ns]"))
    g = (k.groupby(["_row", "category"], sort=False)
         .agg(w=("_w", "sum"), last=("_t", "max"), conf=("confidence", "mean"),
              text=(s.TEXT, "last"))
         .reset_index()
         .sort_values(["_row", "w", "last"], ascending=[True, False, False]))
    best = g.drop_duplicates("_row", keep="first").set_index("_row")
    total = g.groupby("_row")["w"].sum()
    out.loc[best.index, "c_category"] = best["category"].to_numpy()
    out.loc[best.index, "c_confidence"] = (best["conf"] * best["w"]
                                           / total.reindex(best.index)).to_numpy()
    out.loc[best.index, "c_text"] = best["text"].to_numpy()
    return out


def attribute(
    subjects: pd.DataFrame,
    *,
    recorded: pd.DataFrame | None = None,
    notes: pd.DataFrame | None = None,
    complaints: pd.DataFrame | None = None,
    drivers: pd.DataFrame | None = None,
    window_days: int = 180,
    tolerance_days: int = 45,
    min_confidence: float = 0.3,
    tax: Taxonomy | None = None,
) -> pd.DataFrame:
    """Attribute a reason category and a churn type to each subject.

    Parameters
    ----------
    subjects
        ``customer_id`` and ``at`` (the churn date, or today for an at-risk customer).
    recorded
        ``customer_id``, ``churn_date``, ``reason_category``, ``churn_type`` (either may be
        null): the CRM's own record, matched by the nearest date within
        ``tolerance_days``.
    notes
        ``customer_id``, ``at``, ``category``, ``confidence``, ``churn_type`` (from the
        note's type words, may be null), ``involuntary`` (bool), ``malicious`` (bool: a
        malicious cue), ``text``: classified cancellation notes / cancel reasons.
    complaints
        ``customer_id``, ``time``, ``category``, ``confidence``, ``unresolved`` (bool),
        ``text``: classified complaints.
    drivers
        ``customer_id``, ``reason`` (category or null), ``hint`` (churn type or null):
        what the risk model's top drivers point to.
    window_days
        Complaints at most this many days before ``at`` count.
    min_confidence
        Classified notes and complaints below this confidence are not used.

    Returns
    -------
    pandas.DataFrame
        :data:`COLUMNS`, one row per subject in the subjects' order.
    """
    tax = tax or taxonomy()
    subj = subjects[[s.CUSTOMER_ID, AT]].reset_index(drop=True)
    n = len(subj)
    cat = pd.Series(None, index=subj.index, dtype=object)
    ctype = pd.Series(None, index=subj.index, dtype=object)
    source = pd.Series("none", index=subj.index, dtype=object)
    tsource = pd.Series("none", index=subj.index, dtype=object)
    conf = pd.Series(0.0, index=subj.index)
    evidence = pd.Series(None, index=subj.index, dtype=object)

    def take(mask: pd.Series, value: pd.Series, name: str, c: pd.Series | float,
             ev: pd.Series | None = None) -> None:
        m = mask & cat.isna()
        cat[m] = value[m]
        source[m] = name
        conf[m] = (c[m] if isinstance(c, pd.Series) else c)
        if ev is not None:
            evidence[m] = ev[m]

    def take_type(mask: pd.Series, value: pd.Series | str, name: str) -> None:
        m = mask & ctype.isna()
        ctype[m] = value[m] if isinstance(value, pd.Series) else value
        tsource[m] = name

    # 1. recorded
    if recorded is not None and not recorded.empty:
        r = _nearest(subj, recorded, s.CHURN_DATE, tolerance_days,
                     [s.REASON_CATEGORY, s.CHURN_TYPE])
        take(r[s.REASON_CATEGORY].notna(), r[s.REASON_CATEGORY], "recorded", 1.0)
        take_type(r[s.CHURN_TYPE].notna(), r[s.CHURN_TYPE], "recorded")
    # 2. note
    involuntary = pd.Series(False, index=subj.index)
    malicious = pd.Series(False, index=subj.index)
    if notes is not None and not notes.empty:
        cols = ["category", "confidence", s.CHURN_TYPE, "involuntary", "malicious", s.TEXT]
        nt = notes.copy()
        for col in cols:
            if col not in nt.columns:
                nt[col] = None
        m = _nearest(subj, nt, AT, tolerance_days, cols)
        nconf = pd.to_numeric(m["confidence"], errors="coerce").fillna(0.0)
        take(m["category"].notna() & (nconf >= min_confidence), m["category"], "note",
             nconf, m[s.TEXT])
        involuntary = _flag(m["involuntary"])
        malicious = _flag(m["malicious"])
        take_type(malicious, "malicious", "note")
        take_type(m[s.CHURN_TYPE].notna(), m[s.CHURN_TYPE], "note")
        evidence[evidence.isna() & m[s.TEXT].notna()] = m[s.TEXT]
    # 3. complaints
    ce = _complaint_evidence(subj, complaints, window_days)
    take(ce["c_category"].notna() & (ce["c_confidence"] >= min_confidence),
         ce["c_category"], "complaint", ce["c_confidence"].astype(float), ce["c_text"])
    # 4. drivers
    hint = pd.Series(None, index=subj.index, dtype=object)
    if drivers is not None and not drivers.empty:
        d = drivers.copy()
        d[s.CUSTOMER_ID] = d[s.CUSTOMER_ID].astype(str)
        d = d.drop_duplicates(s.CUSTOMER_ID).set_index(s.CUSTOMER_ID)
        ids = subj[s.CUSTOMER_ID].astype(str)
        reason = pd.Series(d["reason"].reindex(ids).to_numpy(), index=subj.index)
        hint = pd.Series(d["hint"].reindex(ids).to_numpy() if "hint" in d.columns
                         else [None] * n, index=subj.index, dtype=object)
        take(reason.notna(), reason, "driver", 0.5)
    # 5. rules
    take_type(involuntary & (ce["complaints"] == 0), "non_malicious", "rule")
    take_type(hint.notna(), hint, "driver")
    angry = (ce["unresolved"] > 0) & cat.isin(["service", "product"])
    take_type(angry, "retaliatory", "rule")
    take_type(involuntary, "non_malicious", "rule")
    defaults = {c.key: c.default_type for c in tax.categories}
    take_type(cat.notna(), cat.map(defaults), "rule")
    # a type with no category: the category its type implies, where one does
    by_type = {"non_malicious": None, "malicious": "natural", "natural": "natural"}
    implied = ctype.map(by_type)
    take(cat.isna() & implied.notna(), implied, "rule", 0.3)
    ok_cat = cat.isna() | cat.isin([c.key for c in tax.categories])
    ok_type = ctype.isna() | ctype.isin([t.key for t in tax.types])
    cat[~ok_cat] = None
    ctype[~ok_type] = None

    groups = tax.group_of()
    control = tax.controllable()
    out = pd.DataFrame({
        s.CUSTOMER_ID: subj[s.CUSTOMER_ID].to_numpy(),
        AT: subj[AT].to_numpy(),
        s.REASON_CATEGORY: _obj(cat),
        s.CHURN_TYPE: _obj(ctype),
        "type_group": _obj(ctype.map(groups)),
        "controllable": np.asarray(np.where(cat.isna(), None,
                                            cat.isin(sorted(control)).to_numpy()),
                                   dtype=object),
        "source": source.to_numpy(dtype=object),
        "type_source": tsource.to_numpy(dtype=object),
        "confidence": conf.astype(float).clip(0.0, 1.0).to_numpy(),
        "evidence": _obj(evidence),
        "complaints": ce["complaints"].astype(int).to_numpy(),
        "unresolved": ce["unresolved"].astype(int).to_numpy(),
    })
    return out[list(COLUMNS)]


def accuracy(attributed: pd.DataFrame, truth: pd.DataFrame, *,
             tolerance_days: int = 45) -> dict[str, float | int | None]:
    """Share of attributed churns whose category (and type) equal the recorded ones.

    ``truth``: ``customer_id``, ``churn_date``, ``reason_category``, ``churn_type``.
    Churns with no recorded truth are left out; an attribution of ``None`` counts wrong.
    """
    t = _nearest(attributed, truth, s.CHURN_DATE, tolerance_days,
                 [s.REASON_CATEGORY, s.CHURN_TYPE])
    has = t[s.REASON_CATEGORY].notna()
    n = int(has.sum())
    if n == 0:
        return {"n": 0, "category": None, "type": None}
    cat_ok = (attributed[s.REASON_CATEGORY].to_numpy(dtype=object)[has]
              == t[s.REASON_CATEGORY].to_numpy(dtype=object)[has])
    has_t = t[s.CHURN_TYPE].notna()
    type_ok = (attributed[s.CHURN_TYPE].to_numpy(dtype=object)[has_t]
               == t[s.CHURN_TYPE].to_numpy(dtype=object)[has_t])
    return {"n": n, "category": float(np.mean(cat_ok)),
            "type": float(np.mean(type_ok)) if int(has_t.sum()) else None}


__all__ = ["AT", "COLUMNS", "SOURCES", "accuracy", "attribute"]
