"""The two baselines churnradar is measured against (benchmarks/run.py).

(a) ``pandas_metrics``: the metrics written in plain pandas, the way a typical analyst
    would: read the Parquet files, sort, ``groupby().diff()`` for the gaps between
    purchases, ``cumsum`` for the spells, monthly counts, and the revenue parts (monthly
    revenue per customer, revenue churn, lost revenue and churn loss), overall and by
    grade.
(b) ``SQL_MONTHLY``: one hand-written DuckDB query for the monthly churn table
    (start/new/win-back/churned/end), the practical limit of what the engine can do.

Both follow churnradar's definitions exactly (``lifecycle.activity_spells``,
``metrics.flows``, ``metrics.revenue`` and the first-period rule of
``metrics.compute._Computation``), so their numbers must equal churnradar's:

- purchases at most ``inactivity_days`` apart are one spell; a spell is churned on
  ``last purchase + inactivity_days`` when that date is ``<= as_of``;
- ``as_of`` is the setting, else the latest purchase (never after today); the history
  starts at the earliest purchase;
- the first reported month is the month after ``history start + inactivity_days``
  (the warm-up), and the flows before it accumulate into its start count;
- a spell that starts and churns in the same month is neither new/win-back nor churned
  (``joined_left_count``), and has no lost revenue;
- revenue churn compares each customer's revenue in month ``p`` with ``p - 1`` for the
  customers active at the start of ``p``; lost revenue of a churned spell is its revenue
  in the month of its last purchase; churn loss is lost revenue times the margin rate
  (customers.margin_rate, else the transactions' margin, else the settings' margin).

Only non-contractual (transactions) workspaces and ``period="month"`` are covered.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

MISSING = "—"  # churnradar.metrics.compute.MISSING
COUNTS = ["start_count", "new_count", "winback_count", "churned_count", "end_count",
          "joined_left_count"]
SUMS = ["revenue", "base_revenue", "churned_revenue", "contraction", "expansion",
        "contraction_loss", "lost_revenue", "churn_loss"]


def month_of(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def first_last_month(lo: dt.date, as_of: dt.date, inactivity_days: int) -> tuple[int, int]:
    """(p_lo, p_hi): the first reported month (after the warm-up) and the as_of month."""
    p_hi = month_of(as_of)
    return min(month_of(lo + dt.timedelta(days=inactivity_days)) + 1, p_hi), p_hi


# --- (b) hand-written DuckDB SQL ------------------------------------------------------
#: $tx: transactions parquet; $n: inactivity days; $as_of: DATE or NULL (= latest date)
SQL_MONTHLY = """
WITH tx AS (
    SELECT customer_id, "date" AS d FROM read_parquet($tx)
),
-- $n >= 31: a spell lasts at least $n days before it churns, so it can never start and
-- churn in the same month (no "joined and left" spells to set apart)
bounds AS (
    SELECT min(d) AS lo,
           coalesce($as_of::DATE, least(max(d), current_date)) AS as_of
    FROM tx
),
-- one pass over the purchases: the previous and the next purchase of the same customer.
-- Same-day purchases need no DISTINCT: a gap of 0 days neither starts nor ends a spell.
w AS (
    SELECT d,
           lag(d)  OVER win AS prev,
           lead(d) OVER win AS nxt
    FROM tx
    WHERE d <= (SELECT as_of FROM bounds)
    WINDOW win AS (PARTITION BY customer_id ORDER BY d)
),
-- a spell starts at a purchase with no previous one (new) or after a gap > n (win-back);
-- it ends at a purchase with no next one within n days, churned on d + n if <= as_of
pairs AS MATERIALIZED (
    SELECT CASE WHEN prev IS NULL OR d - prev > $n
                THEN year(d) * 12 + month(d) - 1 END AS sp,
           prev IS NULL AS is_new,
           CASE WHEN (nxt IS NULL OR nxt - d > $n)
                     AND d + $n <= (SELECT as_of FROM bounds)
                THEN year(d + $n) * 12 + month(d + $n) - 1 END AS cp,
           count(*) AS k
    FROM w
    WHERE prev IS NULL OR d - prev > $n OR nxt IS NULL OR nxt - d > $n
    GROUP BY ALL
),
flows AS (
    SELECT p, sum(nw) AS new_count, sum(wb) AS winback_count, sum(ch) AS churned_count
    FROM (
        SELECT sp AS p, CASE WHEN is_new THEN k ELSE 0 END AS nw,
               CASE WHEN is_new THEN 0 ELSE k END AS wb, 0 AS ch
        FROM pairs WHERE sp IS NOT NULL
        UNION ALL
        SELECT cp, 0, 0, k FROM pairs WHERE cp IS NOT NULL
    )
    GROUP BY p
),
lim AS (
    SELECT year(as_of) * 12 + month(as_of) - 1 AS p_hi,
           least(year(lo + $n) * 12 + month(lo + $n), year(as_of) * 12 + month(as_of) - 1)
               AS p_lo
    FROM bounds
),
grid AS (
    SELECT unnest(range(least((SELECT min(p) FROM flows), p_lo), p_hi + 1)) AS p, p_lo
    FROM lim
),
stock AS (
    SELECT g.p, g.p_lo,
           coalesce(f.new_count, 0) AS new_count,
           coalesce(f.winback_count, 0) AS winback_count,
           coalesce(f.churned_count, 0) AS churned_count,
           sum(coalesce(f.new_count, 0) + coalesce(f.winback_count, 0)
               - coalesce(f.churned_count, 0)) OVER (ORDER BY g.p) AS end_count
    FROM grid g LEFT JOIN flows f USING (p)
)
SELECT p,
       end_count - new_count - winback_count + churned_count AS start_count,
       new_count, winback_count, churned_count, end_count, 0 AS joined_left_count
FROM stock
WHERE p >= p_lo
ORDER BY p
"""


def sql_monthly(con, tx_path: str, inactivity_days: int, as_of: dt.date | None,
                ) -> pd.DataFrame:
    """Run :data:`SQL_MONTHLY` on a DuckDB connection."""
    if inactivity_days < 31:
        raise ValueError("the hand-written SQL assumes inactivity_days >= 31 (no spell can "
                         "then start and churn in the same month)")
    df = con.execute(SQL_MONTHLY, {"tx": tx_path, "n": inactivity_days,
                                   "as_of": as_of}).df()
    return df.astype({c: "int64" for c in ["p", *COUNTS]})


# --- (a) plain pandas ------------------------------------------------------------------
def _month(s: pd.Series) -> pd.Series:
    return s.dt.year * 12 + s.dt.month - 1


def _stock(spells: pd.DataFrame, keys: list[str], p_lo: int, p_hi: int) -> pd.DataFrame:
    """Monthly start/new/win-back/churned/end counts (per ``keys``)."""
    within = spells["cp"] == spells["sp"]  # joined and left in the same month
    starts = spells.assign(p=spells["sp"],
                           new_count=((spells["spell_no"] == 1) & ~within).astype(int),
                           winback_count=((spells["spell_no"] > 1) & ~within).astype(int),
                           churned_count=0, joined_left_count=within.astype(int))
    ch = spells[spells["cp"].notna() & ~within]
    churns = ch.assign(p=ch["cp"].astype("int64"), new_count=0, winback_count=0,
                       churned_count=1, joined_left_count=0)
    flows = ["new_count", "winback_count", "churned_count", "joined_left_count"]
    cols = [*keys, "p", *flows]
    ev = pd.concat([starts[cols], churns[cols]])
    ev = ev[ev["p"] <= p_hi]
    ev = ev.groupby([*keys, "p"])[flows].sum()
    months = range(min(int(ev.index.get_level_values("p").min()), p_lo), p_hi + 1)
    if keys:
        segs = sorted(ev.index.get_level_values(keys[0]).unique(), key=str)
        grid = pd.MultiIndex.from_product([segs, months], names=[*keys, "p"])
    else:
        grid = pd.Index(months, name="p")
    t = ev.reindex(grid, fill_value=0).reset_index()
    net = t["new_count"] + t["winback_count"] - t["churned_count"]
    t["end_count"] = net.groupby([t[k] for k in keys]).cumsum() if keys else net.cumsum()
    t["start_count"] = t["end_count"] - net
    return t[t["p"] >= p_lo].reset_index(drop=True)


#: customers-table column behind each breakdown (the same dimensions as churnradar's,
#: except the acquisition cohort)
DIM_COLUMNS = {"grade": "grade", "segment": "segment", "region": "region",
               "channel": "channel", "owner": "owner_id", "key_account": "is_key_account"}


def pandas_metrics(tx_path: str, customers_path: str, *, inactivity_days: int,
                   as_of: dt.date | None, margin: float = 0.2, revenue: bool = True,
                   dims: Sequence[str] = ("grade",)) -> dict[str, pd.DataFrame]:
    """The monthly churn table (and revenue churn, lost revenue, churn loss) in pandas.

    Returns ``{"overall": ..., "grade": ...}`` with the columns ``[segment,] p``,
    :data:`COUNTS` and (with ``revenue``) :data:`SUMS` and the rates.
    """
    n = inactivity_days
    tx = pd.read_parquet(tx_path, columns=["customer_id", "date", "amount", "margin"])
    tx["date"] = pd.to_datetime(tx["date"])
    lo = tx["date"].min().date()
    if as_of is None:
        as_of = min(tx["date"].max().date(), dt.date.today())
    cutoff = pd.Timestamp(as_of)
    tx = tx[tx["date"] <= cutoff]
    p_lo, p_hi = first_last_month(lo, as_of, n)

    # spells: sort, gaps between purchases, a new spell after a gap of more than n days
    d = tx[["customer_id", "date"]].drop_duplicates().sort_values(["customer_id", "date"])
    gap = d.groupby("customer_id")["date"].diff().dt.days
    d["spell_no"] = (gap.isna() | (gap > n)).groupby(d["customer_id"]).cumsum()
    spells = d.groupby(["customer_id", "spell_no"], as_index=False).agg(
        start_date=("date", "min"), last_date=("date", "max"))
    del d, gap
    churn = spells["last_date"] + pd.Timedelta(days=n)
    spells["churn_date"] = churn.where(churn <= cutoff)
    spells["sp"] = _month(spells["start_date"])
    spells["cp"] = _month(spells["churn_date"])  # NaN while active

    cust_cols = ["customer_id", *{DIM_COLUMNS[d] for d in dims}]
    have_rate = "margin_rate" in _parquet_columns(customers_path)
    if have_rate:
        cust_cols.append("margin_rate")
    cust = pd.read_parquet(customers_path, columns=cust_cols)
    if not have_rate:
        cust["margin_rate"] = np.nan
    seg_cols = [f"seg_{d}" for d in dims]
    for d in dims:
        col = cust[DIM_COLUMNS[d]]
        if d == "key_account":
            val = col.map({True: "key", False: "other"})
        else:
            val = col.astype("string").str.strip().replace("", pd.NA)
        cust[f"seg_{d}"] = val.fillna(MISSING).astype(object)
    cust = cust[["customer_id", *seg_cols, "margin_rate"]]

    def seg(df: pd.DataFrame) -> pd.DataFrame:
        out = df.merge(cust[["customer_id", *seg_cols]], on="customer_id", how="left")
        out[seg_cols] = out[seg_cols].fillna(MISSING)
        return out

    out: dict[str, pd.DataFrame] = {}
    keysets = [[], *[[c] for c in seg_cols]]
    names = ["overall", *dims]
    if dims:
        spells = seg(spells)
    for name, keys in zip(names, keysets, strict=True):
        out[name] = _stock(spells, keys, p_lo, p_hi)
    if not revenue:
        return out

    # monthly revenue per customer
    tx["m"] = _month(tx["date"])
    mrev = tx.groupby(["customer_id", "m"], as_index=False).agg(
        revenue=("amount", "sum"), margin_amount=("margin", "sum"))
    del tx

    # revenue churn: month p against p - 1 for the customers active at the start of p
    cur = mrev[["customer_id", "m", "revenue"]].rename(columns={"m": "p", "revenue": "cur"})
    prev = mrev.assign(p=mrev["m"] + 1)[["customer_id", "p", "revenue", "margin_amount"]]
    prev = prev.rename(columns={"revenue": "prev", "margin_amount": "prev_mg"})
    both = cur.merge(prev, on=["customer_id", "p"], how="outer")
    both[["cur", "prev"]] = both[["cur", "prev"]].fillna(0.0)
    j = both.merge(spells[["customer_id", "sp", "cp"]], on="customer_id")
    j = j[(j["sp"] < j["p"]) & (j["cp"].isna() | (j["cp"] >= j["p"]))]
    j = j.merge(cust[["customer_id", "margin_rate"]], on="customer_id", how="left")
    from_txn = (j["prev_mg"] / j["prev"]).where(j["prev"] > 0)
    j["mrate"] = j["margin_rate"].fillna(from_txn).fillna(margin)
    j["churned"] = j["cp"] == j["p"]
    j["churned_prev"] = j["prev"].where(j["churned"], 0.0)
    j["contraction"] = (j["prev"] - j["cur"]).where(~j["churned"] & (j["prev"] > j["cur"]), 0.0)
    j["expansion"] = (j["cur"] - j["prev"]).where(~j["churned"] & (j["cur"] > j["prev"]), 0.0)
    j["contraction_loss"] = j["contraction"] * j["mrate"]
    del both, cur, prev

    # lost revenue: a churned spell's revenue in the month of its last purchase
    ch = spells[spells["churn_date"].notna() & (spells["cp"] != spells["sp"])].copy()
    ch["m"] = _month(ch["last_date"])
    ch = ch.merge(mrev, on=["customer_id", "m"], how="left")
    ch = ch.merge(cust[["customer_id", "margin_rate"]], on="customer_id", how="left")
    ch["lost_revenue"] = ch["revenue"].fillna(0.0)
    ch["churn_loss"] = (ch["margin_rate"] * ch["lost_revenue"]).fillna(
        ch["margin_amount"]).fillna(ch["lost_revenue"] * margin)
    ch["p"] = ch["cp"].astype("int64")

    if dims:
        mrev, j = seg(mrev), seg(j)  # ch comes from the spells, which carry them already
    for name, keys in zip(names, keysets, strict=True):
        g = [*keys, "p"]
        rev = mrev.rename(columns={"m": "p"}).groupby(g)["revenue"].sum()
        pan = j.groupby(g).agg(base_revenue=("prev", "sum"),
                               churned_revenue=("churned_prev", "sum"),
                               contraction=("contraction", "sum"),
                               expansion=("expansion", "sum"),
                               contraction_loss=("contraction_loss", "sum"))
        lost = ch.groupby(g)[["lost_revenue", "churn_loss"]].sum()
        t = out[name]
        for part in (rev, pan, lost):
            t = t.merge(part.reset_index(), on=g, how="left")
        t[SUMS] = t[SUMS].fillna(0.0)
        s, e, c = t["start_count"], t["end_count"], t["churned_count"]
        t["churn_rate_start"] = (c / s).where(s > 0)
        t["churn_rate_end"] = (c / e).where(e > 0)
        base = t["base_revenue"]
        t["gross_revenue_churn"] = ((t["churned_revenue"] + t["contraction"]) / base).where(
            base > 0)
        t["net_revenue_retention"] = 1.0 - ((t["churned_revenue"] + t["contraction"]
                                             - t["expansion"]) / base).where(base > 0)
        out[name] = t.rename(columns={keys[0]: "segment"}) if keys else t
    return out


def _parquet_columns(path: str) -> list[str]:
    import pyarrow.parquet as pq

    return list(pq.read_schema(path).names)
