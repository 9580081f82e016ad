"""Compute every churn metric of a workspace (domain.md §2) into a :class:`MetricsResult`.

The heavy work (spells, monthly revenue, revenue panel, lost revenue, flows per segment)
is expressed in Ibis and runs on the chosen engine; only small per-period tables come
back to pandas, where the stock-flow cumulation, the rates and the Wilson intervals are
finished.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import ibis
import ibis.expr.types as ir
import pandas as pd

from churnradar import schema as s
from churnradar.exceptions import InputError, WorkspaceError
from churnradar.lifecycle import Lifecycle, build_lifecycle
from churnradar.metrics import safety
from churnradar.metrics.cohorts import cohort_matrix, cohort_month
from churnradar.metrics.flows import SEG, P, flow_events, stock_table
from churnradar.metrics.periods import (
    month_index_of,
    period_end,
    period_index,
    period_index_of,
    period_label,
    period_start,
)
from churnradar.metrics.rates import PERIOD_MONTHS, wilson_bounds
from churnradar.metrics.result import (
    DIMENSIONS,
    PERIOD_COLUMNS,
    SEGMENT_COLUMNS,
    AnalysisStatus,
    MetricsResult,
)
from churnradar.metrics.revenue import (
    lost_revenue,
    monthly_revenue,
    period_revenue,
    revenue_panel,
)
from churnradar.settings import PERIODS, Settings

#: segment value for customers whose attribute is empty or who are not in customers
MISSING = "—"
#: customers-table column behind each dimension ("cohort" is derived)
DIMENSION_COLUMNS: dict[str, str] = {
    "grade": s.GRADE, "segment": s.SEGMENT, "region": s.REGION, "channel": s.CHANNEL,
    "owner": s.OWNER_ID, "key_account": s.IS_KEY_ACCOUNT,
}
#: analyses that later parts of churnradar add (shown as "not yet" in the completeness)
LATER_ANALYSES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("reasons", ("churn_records|complaints",)),
    ("complaint_insights", ("complaints",)),
    ("staff_departures", ("staff", "customers.owner_id")),
    ("risk_prediction", ("customers",)),
    ("customer_value", ("transactions",)),
    ("survival", ("customers",)),
    ("retention_plan", ("customers",)),
    ("playbook_effects", ("retention_actions",)),
)

if TYPE_CHECKING:
    from ibis.backends import BaseBackend

    from churnradar.engine import Backend
    from churnradar.workspace import Workspace

Progress = Callable[[str], None]


def _present(need: str, tables: set[str], customer_cols: set[str]) -> bool:
    """Whether a need of the completeness check is met: ``table``, ``a|b`` (either),
    ``customers.column``."""
    if "|" in need:
        return any(_present(n, tables, customer_cols) for n in need.split("|"))
    if need.startswith("customers."):
        return need.split(".", 1)[1] in customer_cols
    return need in tables


def available_dimensions(tables: dict[str, ir.Table]) -> list[str]:
    cols = tables["customers"].columns if "customers" in tables else []
    out = [d for d in DIMENSIONS if d == "cohort" or DIMENSION_COLUMNS.get(d) in cols]
    return out


def _code(dim: str) -> str:
    return f"g_{dim}"


def _label(dim: str) -> str:
    return f"v_{dim}"


def _segments(dims: Sequence[str], customers: ir.Table, cohorts: ir.Table) -> ir.Table:
    """customer_id, margin_rate, and per dimension its value ``v_<dim>`` and an integer
    code ``g_<dim>``. The big tables carry the small codes, never the texts: segments
    are then plain group-bys, with no join per dimension."""
    c = customers
    cols: dict[str, ir.Value] = {}
    if s.MARGIN_RATE in c.columns:
        cols[s.MARGIN_RATE] = c[s.MARGIN_RATE].cast("float64")
    if "cohort" in dims:
        co = cohorts.select(cid=cohorts[s.CUSTOMER_ID], cohort_m=cohorts.cohort_m)
        c = c.left_join(co, c[s.CUSTOMER_ID] == co.cid)
    for dim in dims:
        if dim == "cohort":
            val = (c.cohort_m // 12).cast("string")
        elif dim == "key_account":
            val = ibis.ifelse(c[s.IS_KEY_ACCOUNT], "key", "other")
        else:
            val = c[DIMENSION_COLUMNS[dim]].cast("string").strip()
            val = ibis.ifelse(val == "", ibis.null("string"), val)
        cols[_label(dim)] = val.fill_null(MISSING)
    t = c.select(s.CUSTOMER_ID, **cols)
    codes = {_code(d): ibis.dense_rank().over(ibis.window(order_by=t[_label(d)]))
             for d in dims}
    return t.mutate(**codes)


def _finish(df: pd.DataFrame, period: str, as_of: dt.date) -> pd.DataFrame:
    """Rates and labels from the counts and sums."""
    S, E, C = df["start_count"], df["end_count"], df["churned_count"]
    df["churn_rate_start"] = (C / S).where(S > 0)
    df["churn_rate_end"] = (C / E).where(E > 0)
    df["retention_rate_start"] = 1.0 - df["churn_rate_start"]
    df["retention_rate_end"] = 1.0 - df["churn_rate_end"]
    # period conversion (domain.md §2): annual = 1 − (1 − rate)^(12 / months per period)
    k = PERIOD_MONTHS[period]
    df["churn_rate_annualised"] = 1.0 - (1.0 - df["churn_rate_start"].clip(upper=1.0)) ** (12 / k)
    base = df["base_revenue"]
    lost = df["churned_revenue"] + df["contraction"]
    df["gross_revenue_churn"] = (lost / base).where(base > 0)
    df["net_revenue_churn"] = ((lost - df["expansion"]) / base).where(base > 0)
    df["net_revenue_retention"] = 1.0 - df["net_revenue_churn"]
    df["arpu"] = (base / S).where(S > 0)
    periods = pd.Index(df[P].unique())  # a few dozen periods, however many segments
    starts = pd.Series([period_start(int(p), period) for p in periods], index=periods)
    ends = pd.Series([period_end(int(p), period) for p in periods], index=periods)
    labels = pd.Series([period_label(int(p), period) for p in periods], index=periods)
    df["period_start"] = df[P].map(starts)
    df["period_end"] = df[P].map(ends)
    df["label"] = df[P].map(labels)
    df["complete"] = df[P].map(ends <= as_of + dt.timedelta(days=1)).astype(bool)
    return df


class _Computation:
    """The state of one metrics run; ``run()`` returns the result."""

    def __init__(self, tables: dict[str, ir.Table], settings: Settings, period: str,
                 dimensions: Sequence[str] | None, as_of: dt.date | None,
                 progress: Progress | None) -> None:
        if period not in PERIODS:
            raise InputError(key="err_period", choices=", ".join(PERIODS), value=period)
        if "customers" not in tables:
            raise WorkspaceError(key="err_no_customers")
        self.tables, self.settings, self.period = tables, settings, period
        self.progress = progress or (lambda _msg: None)
        avail = available_dimensions(tables)
        if dimensions is None:
            dims = avail
        else:
            unknown = [d for d in dimensions if d not in DIMENSIONS]
            if unknown:
                raise InputError(key="err_by", choices=", ".join(DIMENSIONS), value=unknown[0])
            missing = [d for d in dimensions if d not in avail]
            if missing:
                raise WorkspaceError(key="err_by_missing_column", dimension=missing[0],
                                     column=DIMENSION_COLUMNS.get(missing[0], missing[0]))
            dims = list(dimensions)
        self.dimensions = dims
        # key accounts are checked by the safety line even when not asked for by --by
        self.seg_dims = list(dict.fromkeys(
            [*dims, *(["key_account"] if "key_account" in avail else [])]))
        self.progress("lifecycle")
        self.lc: Lifecycle = build_lifecycle(tables, settings.churn, as_of=as_of)
        self.spells = self.lc.spells.cache()
        warm = settings.churn.inactivity_days if self.lc.business == "non_contractual" else 0
        first = self.lc.history_start + dt.timedelta(days=warm)
        self.p_hi = period_index_of(self.lc.as_of, period)
        self.p_lo = min(period_index_of(first, period) + 1, self.p_hi)
        c = tables["customers"]
        self.cohorts = cohort_month(self.spells, c).cache()
        segs = _segments(self.seg_dims, c, self.cohorts).cache()
        self.labels: dict[str, dict[int, str]] = {}
        for dim in self.seg_dims:
            pairs = segs.select(segs[_code(dim)], segs[_label(dim)]).distinct().to_pandas()
            self.labels[dim] = dict(zip(pairs.iloc[:, 0].astype(int), pairs.iloc[:, 1],
                                        strict=True))
        self.carry = [_code(d) for d in self.seg_dims]
        keep = [s.CUSTOMER_ID, *([s.MARGIN_RATE] if s.MARGIN_RATE in segs.columns else []),
                *self.carry]
        self.codes = segs.select(*keep)
        j = self.spells.left_join(self.codes, s.CUSTOMER_ID).drop(f"{s.CUSTOMER_ID}_right")
        # customers missing from the customers table get code -1 (never a dense rank)
        self.spells_w = j.mutate(**{g: j[g].fill_null(-1) for g in self.carry}).cache()

    # --- revenue inputs, computed once and cached on the engine -------------------
    def prepare_revenue(self) -> None:
        self.progress("revenue")
        mrev = monthly_revenue(self.tables, self.lc.business, self.lc.as_of)
        self.has_revenue = mrev is not None
        if mrev is None:
            return
        m = self.settings.metrics.margin
        self.mrev = mrev.cache()
        if self.period == "month":  # months are the periods: nothing to add up
            prev_rev = self.mrev.select(s.CUSTOMER_ID, **{P: self.mrev.m}, revenue="revenue",
                                        margin_amount="margin_amount")
        else:
            prev_rev = period_revenue(self.mrev, self.period)
        rw = prev_rev.left_join(self.codes, s.CUSTOMER_ID)
        self.rev_w = rw.select(P, "revenue", **{g: rw[g].fill_null(-1)
                                               for g in self.carry}).cache()
        self.panel = revenue_panel(prev_rev, self.spells_w, self.period, m,
                                   self.carry).cache()
        self.lost = lost_revenue(self.mrev, self.spells_w, self.lc.business, self.period, m,
                                 self.carry).cache()

    def _fetch(self, expr: ir.Table, dim: str | None) -> pd.DataFrame:
        """Run an aggregate grouped by period [and a segment code]; codes become labels."""
        df = expr.to_pandas()
        if dim is None:
            return df
        col = _code(dim) if _code(dim) in df.columns else SEG
        df[SEG] = df.pop(col).astype(int).map(self.labels[dim]).fillna(MISSING)
        # several codes can carry one label (absent customers and empty values)
        return df.groupby([P, SEG], as_index=False).sum()

    def table(self, dim: str | None) -> pd.DataFrame:
        """The period table overall (dim None) or per segment of ``dim``."""
        code = _code(dim) if dim is not None else None
        keys = [SEG] if dim is not None else []
        events = self._fetch(flow_events(self.spells_w, self.period, code), dim)
        df = stock_table(events, self.p_lo, self.p_hi, by_segment=dim is not None)
        sums = ["revenue", "base_revenue", "churned_revenue", "contraction", "expansion",
                "contraction_loss", "lost_revenue", "churn_loss"]
        if self.has_revenue:
            window = [P, *([code] if code else [])]
            r = self.rev_w
            rev = r.group_by(window).aggregate(revenue=r.revenue.sum())
            pn = self.panel
            pan = pn.group_by(window).aggregate(
                base_revenue=pn.prev.sum(),
                churned_revenue=ibis.ifelse(pn.churned, pn.prev, 0.0).sum(),
                contraction=pn.contraction.sum(),
                expansion=pn.expansion.sum(),
                contraction_loss=(pn.contraction * pn.mrate).sum(),
            )
            lo = self.lost
            lost = lo.group_by(window).aggregate(lost_revenue=lo.lost_revenue.sum(),
                                                 churn_loss=lo.churn_loss.sum())
            for part in (rev, pan, lost):
                df = df.merge(self._fetch(part, dim), on=[P, *keys], how="left")
            df[sums] = df[sums].astype("float64").fillna(0.0)
        else:
            for col in sums:
                df[col] = float("nan")
        return _finish(df, self.period, self.lc.as_of)

    def segment_table(self, dim: str) -> pd.DataFrame:
        df = self.table(dim)
        df["ci_low"], df["ci_high"] = wilson_bounds(
            df["churned_count"].to_numpy(), df["start_count"].to_numpy(),
            self.settings.metrics.confidence)
        df["too_small"] = df["start_count"] < self.settings.metrics.min_segment_size
        df.insert(0, "dimension", dim)
        return df[list(SEGMENT_COLUMNS)].reset_index(drop=True)

    def acquisition_split(self, p: int) -> tuple[int, int, int, int]:
        """(new S, new C, established S, established C) for period ``p``."""
        sp = self.spells
        months = self.settings.metrics.new_customer_months
        first_m = p * PERIOD_MONTHS[self.period]
        cp = period_index(sp[s.CHURN_DATE], self.period)
        active = sp.filter((period_index(sp[s.START_DATE], self.period) < p)
                           & (cp.isnull() | (cp >= p)))
        co = self.cohorts.select(cid=self.cohorts[s.CUSTOMER_ID], cm=self.cohorts.cohort_m)
        ac = active.join(co, active[s.CUSTOMER_ID] == co.cid)
        is_new = ac.cm >= first_m - months
        ch = period_index(ac[s.CHURN_DATE], self.period) == p
        row = ac.aggregate(
            ns=ibis.ifelse(is_new, 1, 0).sum(), nc=ibis.ifelse(is_new & ch, 1, 0).sum(),
            os=ibis.ifelse(~is_new, 1, 0).sum(), oc=ibis.ifelse(~is_new & ch, 1, 0).sum(),
        ).to_pandas().iloc[0]
        # an empty selection sums to null
        ns, nc, os_, oc = (0 if pd.isna(v) else int(v) for v in (row.ns, row.nc, row.os, row.oc))
        return ns, nc, os_, oc

    def completeness(self) -> list[AnalysisStatus]:
        have = set(self.tables)
        cols = set(self.tables["customers"].columns)
        out = [AnalysisStatus("churn_rates", "ran", ("customers", "subscriptions|transactions"))]
        amount = (("subscriptions.amount_per_month",) if self.lc.business == "contractual"
                  else ("transactions.amount",))
        for name in ("revenue_churn", "churn_loss"):
            out.append(AnalysisStatus(name, "ran" if self.has_revenue else "skipped", amount,
                                      () if self.has_revenue else amount))
        for dim in ("grade", "owner", "region", "segment", "channel", "key_account"):
            need = f"customers.{DIMENSION_COLUMNS[dim]}"
            ok = DIMENSION_COLUMNS[dim] in cols
            out.append(AnalysisStatus(f"by_{dim}", "ran" if ok else "skipped", (need,),
                                      () if ok else (need,)))
        out.append(AnalysisStatus("cohorts", "ran", ("customers",)))
        out.append(AnalysisStatus("safety_line", "ran", ("customers",)))
        for name, needs in LATER_ANALYSES:
            missing = tuple(t for t in needs if not _present(t, have, cols))
            # the data cannot support it: skipped; it could run but has not (yet) here:
            # the jobs that run it mark it as ran (pipeline._mark_ran)
            out.append(AnalysisStatus(name, "skipped" if missing else "not_yet", needs,
                                      missing))
        return out

    def run(self) -> MetricsResult:
        self.prepare_revenue()
        self.progress("overall")
        overall = self.table(None)
        overall = overall[list(PERIOD_COLUMNS)]
        by: dict[str, pd.DataFrame] = {}
        for dim in self.dimensions:
            self.progress(f"by {dim}")
            by[dim] = self.segment_table(dim)
        self.progress("cohorts")
        as_of = self.lc.as_of
        last_complete_m = month_index_of(as_of + dt.timedelta(days=1)) - 1
        first_m = month_index_of(period_start(self.p_lo, self.period))
        cohorts = cohort_matrix(self.cohorts, first_m, last_complete_m)
        self.progress("safety line")
        done = overall[overall["complete"]]
        latest = (done if len(done) else overall).iloc[-1]
        latest_p = period_index_of(latest["period_start"], self.period)
        cfg = self.settings.safety
        key_table = by.get("key_account")
        if key_table is None and "key_account" in available_dimensions(self.tables):
            key_table = self.segment_table("key_account")
        checks = [
            safety.check_cost(latest, cfg),
            safety.check_acquisition_peak(*self.acquisition_split(latest_p),
                                          label=latest["label"],
                                          months=self.settings.metrics.new_customer_months,
                                          cfg=cfg),
            safety.check_deviation(overall, cfg),
            safety.check_key_accounts(key_table, latest["label"], self.period, cfg),
        ]
        annual_rate = latest["churn_rate_annualised"]
        annual = float(annual_rate) if pd.notna(annual_rate) else None
        return MetricsResult(
            period=self.period,  # type: ignore[arg-type]
            as_of=as_of,
            business=self.lc.business,
            currency=self.settings.currency,
            margin=self.settings.metrics.margin,
            confidence=self.settings.metrics.confidence,
            min_segment_size=self.settings.metrics.min_segment_size,
            overall=overall.reset_index(drop=True),
            by=by,
            cohorts=cohorts,
            safety=checks,
            completeness=self.completeness(),
            annualised_churn_rate=annual,
        )


def compute_metrics_from_tables(tables: dict[str, ir.Table], settings: Settings, *,
                                period: str | None = None,
                                dimensions: Sequence[str] | None = None,
                                as_of: dt.date | None = None,
                                progress: Progress | None = None) -> MetricsResult:
    """Compute the metrics from Ibis tables on any backend (see :func:`compute_metrics`)."""
    return _Computation(tables, settings, period or settings.metrics.period, dimensions,
                        as_of, progress).run()


def compute_metrics(workspace: Workspace, *, period: str | None = None,
                    dimensions: Sequence[str] | None = None, as_of: dt.date | None = None,
                    backend: Backend = "duckdb", con: BaseBackend | None = None,
                    progress: Progress | None = None) -> MetricsResult:
    """Every churn metric of a workspace, per period and per segment.

    Parameters
    ----------
    workspace
        An open :class:`~churnradar.workspace.Workspace`.
    period
        ``"month"``, ``"quarter"`` or ``"year"`` (default: the settings).
    dimensions
        Segment breakdowns (``grade``, ``segment``, ``region``, ``channel``, ``owner``,
        ``cohort``, ``key_account``); default: every one the customers table supports.
    as_of
        The date the data is complete up to (default: settings, else latest in the data).
    backend, con
        ``"duckdb"`` (default) or ``"pyspark"``, or an open Ibis connection.
    progress
        Called with the name of each step.
    """
    from churnradar import engine

    if con is None:
        cfg = workspace.settings.engine
        con = engine.connect(backend, threads=cfg.threads or None,
                             memory_limit=cfg.memory_limit or None)
    tables = engine.tables(con, workspace)
    return compute_metrics_from_tables(tables, workspace.settings, period=period,
                                       dimensions=dimensions, as_of=as_of, progress=progress)
