"""A past retention campaign with a random control group and a planted effect.

domain.md §4 asks to "measure whether actions worked". The demo operator therefore ran
one campaign, :data:`MONTHS_BEFORE_END` months before the window end (so that the
:data:`EFFECT_DAYS` after it are complete): among the customers active that day it
contacts some of those whose episode would end in a preventable churn within
:data:`TARGET_DAYS` (an imperfect risk model finds :data:`RISK_PICK` of them), mixed with
a larger number of random active customers (the model's false alarms). Customers heading
for a malicious churn get no offer (``no_offer``: not worth retaining), so they are not
in the campaign at all. A random :data:`CONTROL_SHARE` of the targeted customers is held
back as the control group and left untouched.

Each targeted customer gets the playbook of the cause the operator believes in: the
cause of the coming churn for the customers the risk model found, ``care_call`` for the
random ones (no cause known), ``account_visit`` for every key account. A treated
customer who is reached (:data:`NOT_REACHABLE` are not) and whose episode would have
ended in a preventable churn within :data:`EFFECT_DAYS` keeps the relationship with the
playbook's true success probability (:data:`PLAYBOOK_SUCCESS`): the episode then runs on
to the window end (the window ends less than a year after the campaign, so this is the
same as a churn pushed beyond a year), and a win-back planned after the averted churn
never happens. What led up to the averted churn before the campaign (complaints,
falling scores, a downgrade, fading usage) still happens; see :class:`Episodes`.

The episodes are changed before any table is derived from them, so subscriptions,
usage, complaints, surveys and churn records all agree with the campaign.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from churnradar.datasets import _arrow
from churnradar.datasets._common import EPOCH, CauseTable, Episodes, Window
from churnradar.schema import (
    ACTION,
    ACTION_GROUPS,
    CHURN_TYPES,
    CUSTOMER_ID,
    DATE,
    GROUP,
    NOTE,
    OUTCOME,
    OUTCOMES,
    REASON_CATEGORIES,
)

#: the campaign day: the first day of the month this many months before the window end
MONTHS_BEFORE_END = 5
#: the risk model looks for churn within this many days after the campaign
TARGET_DAYS = 180
#: an action can avert a churn within this many days; also the outcome's horizon
EFFECT_DAYS = 90
#: share of the customers heading for a preventable churn that the risk model finds
RISK_PICK = 0.30
#: share of the other active customers contacted anyway (the model's false alarms)
RANDOM_PICK = 0.02
#: share of the targeted customers held back as the control group
CONTROL_SHARE = 0.20
#: share of the treated customers who cannot be reached (the action has no effect)
NOT_REACHABLE = 0.15

#: the true probability that a playbook keeps a reached customer who would have left
#: for a preventable cause (keys are the retention playbooks of churnradar.retention)
PLAYBOOK_SUCCESS: dict[str, float] = {
    "reminder": 0.50,
    "complaint_fast": 0.30,
    "price_review": 0.25,
    "benefit_review": 0.20,
    "service_recovery": 0.25,
    "account_visit": 0.35,
    "care_call": 0.05,
}
ACTIONS: tuple[str, ...] = tuple(PLAYBOOK_SUCCESS)
#: what the operator's system notes for a treated customer
ACTION_NOTES: dict[str, str] = {
    "reminder": "短信及电话提醒缴费，开通自动缴费",
    "complaint_fast": "投诉升级专人处理，48小时内回复",
    "price_review": "资费评估，推荐更合适的套餐",
    "benefit_review": "续约优惠及积分权益回馈",
    "service_recovery": "上门检修并致歉，赠送补偿",
    "account_visit": "客户经理上门拜访，制定专属服务方案",
    "care_call": "关怀回访电话",
}
#: :func:`cause_playbooks` codes for causes no playbook is for
NOT_PREVENTABLE, NO_OFFER = -1, -2
_A = {name: i for i, name in enumerate(ACTIONS)}


@dataclass(frozen=True)
class Campaign:
    """The targeted customers (ascending), one entry each."""

    day: int
    customer: np.ndarray
    #: index into :data:`ACTIONS`
    action: np.ndarray
    control: np.ndarray
    #: treated and reached
    reached: np.ndarray
    #: would have churned within :data:`EFFECT_DAYS` without the campaign
    would_churn: np.ndarray
    #: the churns the campaign averted
    prevented: np.ndarray

    @property
    def churned(self) -> np.ndarray:
        """Churned within :data:`EFFECT_DAYS` after the campaign, as it happened."""
        return self.would_churn & ~self.prevented

    @property
    def date(self) -> dt.date:
        return EPOCH + dt.timedelta(days=self.day)


def campaign_day(window: Window) -> int:
    """The campaign day: first day of the month :data:`MONTHS_BEFORE_END` before the end."""
    return window.month_first_day(max(0, window.n_months - MONTHS_BEFORE_END))


def cause_playbooks(causes: CauseTable) -> np.ndarray:
    """The playbook (index into :data:`ACTIONS`) for churn of each cause (domain.md §3-4).

    Passive churn by type (reminders for non-malicious, fast complaint handling for
    retaliatory, ``NO_OFFER`` for malicious), natural churn (relocation, the need
    disappears) ``NOT_PREVENTABLE``, the rest by reason category.
    """
    by_reason = {
        "price": _A["price_review"], "benefit": _A["benefit_review"],
        "service": _A["service_recovery"], "product": _A["service_recovery"],
        "management": _A["service_recovery"],
        "industry": NOT_PREVENTABLE, "natural": NOT_PREVENTABLE,
    }
    by_type = {
        "non_malicious": _A["reminder"], "retaliatory": _A["complaint_fast"],
        "malicious": NO_OFFER, "natural": NOT_PREVENTABLE,
    }
    out = np.empty(len(causes.causes), dtype=np.int64)
    for i, (reason, kind) in enumerate(zip(causes.reason, causes.churn_type, strict=True)):
        out[i] = by_type.get(CHURN_TYPES[kind], by_reason[REASON_CATEGORIES[reason]])
    return out


def run_campaign(
    rng: np.random.Generator,
    window: Window,
    eps: Episodes,
    causes: CauseTable,
    key_account: np.ndarray,
) -> tuple[Episodes, Campaign]:
    """Run the campaign on the simulated episodes.

    Parameters
    ----------
    rng : numpy.random.Generator
    window : Window
    eps : Episodes
        Every customer's episodes, as :func:`simulate_episodes` returns them.
    causes : CauseTable
        The causes of ``eps.cause``.
    key_account : numpy.ndarray
        ``customers.is_key_account`` of every customer (they get ``account_visit``).

    Returns
    -------
    episodes : Episodes
        ``eps`` with the averted churns turned into episodes running to the window end
        (their ``averted*`` arrays set), and win-backs after an averted churn removed.
    campaign : Campaign
    """
    day = campaign_day(window)
    # episodes do not overlap: at most one per customer is active on the day
    on = np.flatnonzero((eps.start <= day) & (eps.stop > day))
    playbook = cause_playbooks(causes)[np.maximum(eps.cause[on], 0)]
    heading = eps.churned[on] & (eps.stop[on] <= day + TARGET_DAYS)
    found = heading & (playbook >= 0) & (rng.random(len(on)) < RISK_PICK)
    no_offer = heading & (playbook == NO_OFFER)
    anyway = ~found & ~no_offer & (rng.random(len(on)) < RANDOM_PICK)
    picked = np.flatnonzero(found | anyway)
    ep = on[picked]
    customer = eps.customer[ep]
    action = np.where(key_account[customer], _A["account_visit"],
                      np.where(found[picked], playbook[picked], _A["care_call"]))

    n = len(picked)
    control = np.zeros(n, dtype=bool)
    control[rng.permutation(n)[: int(round(CONTROL_SHARE * n))]] = True
    reached = ~control & (rng.random(n) >= NOT_REACHABLE)
    would_churn = eps.churned[ep] & (eps.stop[ep] <= day + EFFECT_DAYS)
    success = np.asarray(list(PLAYBOOK_SUCCESS.values()))[action]
    prevented = reached & would_churn & (playbook[picked] >= 0) & (rng.random(n) < success)
    campaign = Campaign(day, customer, action, control, reached, would_churn, prevented)
    return _avert(window, eps, ep[prevented], day), campaign


def _avert(window: Window, eps: Episodes, hit: np.ndarray, day: int) -> Episodes:
    """Episodes ``hit`` do not end in churn; later episodes of their customers go."""
    m = len(eps)
    averted = np.full(m, -1, dtype=np.int64)
    averted_cause = np.full(m, -1, dtype=np.int64)
    action_day = np.full(m, -1, dtype=np.int64)
    averted[hit] = eps.stop[hit]
    averted_cause[hit] = eps.cause[hit]
    action_day[hit] = day
    stop, churned, cause = eps.stop.copy(), eps.churned.copy(), eps.cause.copy()
    stop[hit] = window.stop_day
    churned[hit] = False
    cause[hit] = -1
    changed = Episodes(eps.customer, eps.start, stop, churned, cause, eps.number,
                       averted, averted_cause, action_day)
    # the averted episode was active on the day: any later one is a win-back after it
    later = np.isin(eps.customer, eps.customer[hit]) & (eps.start > day)
    return changed.take(np.flatnonzero(~later))


def actions_table(campaign: Campaign, ids: pa.Array) -> pa.Table:
    """``retention_actions``: one row per targeted customer.

    Treated rows have an outcome: ``not_reachable``, else ``retained`` when the customer
    did not churn within :data:`EFFECT_DAYS`, ``lost`` when they did. Control rows have
    none (nobody contacted them).
    """
    n = len(campaign.customer)
    outcome = np.where(
        ~campaign.reached, OUTCOMES.index("not_reachable"),
        np.where(campaign.churned, OUTCOMES.index("lost"), OUTCOMES.index("retained")),
    )
    notes = [ACTION_NOTES[a] for a in ACTIONS]
    return pa.table({
        CUSTOMER_ID: ids.take(pa.array(campaign.customer, type=pa.int64())),
        ACTION: _arrow.pick(ACTIONS, campaign.action),
        DATE: _arrow.dates(np.full(n, campaign.day, dtype=np.int64)),
        GROUP: _arrow.pick(ACTION_GROUPS, campaign.control.astype(np.int64)),
        OUTCOME: _arrow.pick(OUTCOMES, outcome, null=campaign.control),
        NOTE: _arrow.pick(notes, campaign.action, null=campaign.control),
    })


def planted(campaign: Campaign, ids: pa.Array) -> dict[str, Any]:
    """The truth about the campaign, to check the "did it work?" measurement against.

    ``campaign_date``
        The day of every action.
    ``campaign_success``
        :data:`PLAYBOOK_SUCCESS`, the true success probability of each playbook.
    ``campaign_size``
        Number of targeted customers (treatment and control).
    ``campaign_prevented``
        The ids of the customers whose churn the campaign averted (sorted).
    ``campaign_effect``
        Per action with treated customers, the true difference the campaign made to the
        treatment group's churn within :data:`EFFECT_DAYS`: its churn rate as it happened
        minus its rate without the campaign (negative: fewer churned). The treated-vs-
        control difference of the same churn rates estimates it.
    ``campaign_effect_all``
        The same over all treated customers.
    """
    treated = ~campaign.control
    effect: dict[str, float] = {}
    for i, name in enumerate(ACTIONS):
        who = treated & (campaign.action == i)
        if who.any():
            effect[name] = 0.0 - float(campaign.prevented[who].mean())
    prevented = ids.take(pa.array(campaign.customer[campaign.prevented], type=pa.int64()))
    return {
        "campaign_date": campaign.date,
        "campaign_success": dict(PLAYBOOK_SUCCESS),
        "campaign_size": len(campaign.customer),
        "campaign_prevented": tuple(prevented.to_pylist()),
        "campaign_effect": effect,
        "campaign_effect_all": (0.0 - float(campaign.prevented[treated].mean())
                                if treated.any() else 0.0),
    }
