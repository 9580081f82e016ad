"""Retention playbooks (挽留措施): which action fits which at-risk customer.

A playbook matches customers by the reason they are likely to leave for (reason category,
domain.md §3), the type of churn and whether they are a key account; it carries the cost
of one action and the assumed probability that it keeps a customer who would otherwise
leave. The built-in playbooks live in ``retention/data/playbooks.toml``:

=================  ==============================  =====================  ======  =======
key                matches                         action                 cost    success
=================  ==============================  =====================  ======  =======
no_offer           type malicious                  none (never contacted)      0        0
account_visit      key accounts                    account-manager visit     300     0.35
reminder           type non_malicious              payment/renewal remind      2     0.50
complaint_fast     type retaliatory                fast complaint handling    30     0.30
price_review       reason price                    price/offer review         80     0.25
benefit_review     reason benefit                  rebate/benefit review      60     0.20
service_recovery   reason service/product/mgmt.    service recovery           40     0.25
care_call          everything else                 care call                  10     0.05
=================  ==============================  =====================  ======  =======

They are matched in ``order``; the first match wins, so malicious churn never gets an
offer, key accounts get a visit whatever their reason, and a customer without a known
reason gets a care call. Costs and success rates are assumptions of the workspace, edited
under ``[retention.playbooks.<key>]`` in ``churnradar.toml`` and checked afterwards with
the plan's control group (:func:`churnradar.retention.effect.playbook_effects`).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from churnradar import schema as s
from churnradar.exceptions import SettingsError
from churnradar.i18n import catalog, check_language, t
from churnradar.settings import PLAYBOOK_KEYS, RetentionSettings


@dataclass(frozen=True)
class Playbook:
    """One retention action and the customers it is for.

    ``reasons`` / ``types`` empty match any value, including an unknown one;
    ``key_account`` ``None`` matches key and other accounts alike. ``contact`` false
    marks a playbook whose customers are never contacted (``no_offer``).
    """

    key: str
    order: float
    reasons: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    key_account: bool | None = None
    cost: float = 0.0
    success: float = 0.0
    contact: bool = True
    name_zh: str | None = None
    name_en: str | None = None

    def name(self, lang: str | None = None) -> str:
        """The name in ``lang``: the playbook's own name, else the catalog's
        ``playbook_<key>``, else the other language's name, else the key."""
        lang = check_language(lang)
        own = self.name_zh if lang == "zh-CN" else self.name_en
        if own:
            return own
        if f"playbook_{self.key}" in catalog():
            return t(f"playbook_{self.key}", lang)
        return self.name_en or self.name_zh or self.key

    def description(self, lang: str | None = None) -> str:
        """The catalog's ``playbook_desc_<key>`` (empty for a workspace's own playbook)."""
        key = f"playbook_desc_{self.key}"
        return t(key, lang) if key in catalog() else ""

    @property
    def is_catch_all(self) -> bool:
        return not self.reasons and not self.types and self.key_account is None


@cache
def _builtin_raw() -> dict[str, Any]:
    text = resources.files("churnradar.retention").joinpath("data/playbooks.toml").read_text(
        encoding="utf-8")
    return tomllib.loads(text)


def _check(name: str, field: str, value: Any) -> Any:
    """Validate one playbook key (the settings loader checks the file; this also covers
    settings built in code)."""

    def bad(rule: str) -> SettingsError:
        return SettingsError(key="retention_err_playbook_value", name=name, field=field,
                             rule=rule, value=value)

    if field in ("cost", "success", "order"):
        if isinstance(value, bool) or not isinstance(value, int | float) or \
                not math.isfinite(value) or value < 0:
            raise bad("≥ 0")
        if field == "success" and value > 1:
            raise bad("∈ [0, 1]")
        return float(value)
    if field in ("reasons", "types"):
        names = s.REASON_CATEGORIES if field == "reasons" else s.CHURN_TYPES
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or any(x not in names for x in items):
            raise bad(f"⊆ {{{', '.join(names)}}}")
        return tuple(items)
    if field in ("key_account", "contact"):
        if not isinstance(value, bool):
            raise bad("true / false")
        return value
    if field in ("name_zh", "name_en"):
        if not isinstance(value, str) or not value.strip():
            raise bad("text")
        return value.strip()
    raise SettingsError(f"playbook {name!r}: unknown key {field!r}. Known keys: "
                        f"{', '.join(PLAYBOOK_KEYS)}")


def _make(name: str, raw: Mapping[str, Any], base: Playbook | None) -> Playbook:
    values = {f: _check(name, f, v) for f, v in raw.items()}
    if base is not None:
        return replace(base, **values)
    missing = [f for f in ("cost", "success") if f not in values]
    if missing:
        raise SettingsError(key="retention_err_playbook_incomplete", name=name,
                            missing=" + ".join(missing))
    return Playbook(key=name, order=values.pop("order", math.inf), **values)


def builtin_playbooks() -> tuple[Playbook, ...]:
    """The built-in playbooks of ``retention/data/playbooks.toml``, in matching order."""
    books = tuple(_make(key, raw, Playbook(key=key, order=0.0))
                  for key, raw in _builtin_raw().items())
    return tuple(sorted(books, key=lambda b: b.order))


def load_playbooks(settings: RetentionSettings | None = None) -> tuple[Playbook, ...]:
    """The built-in playbooks with the workspace's overrides and additions, sorted by
    ``order`` (first match wins).

    ``settings.playbooks`` maps a name to keys of :data:`~churnradar.settings.PLAYBOOK_KEYS`:
    for a built-in name the keys given replace the built-in values; any other name adds a
    playbook, which needs ``cost`` and ``success``. A new playbook without ``order`` is
    placed just before the first catch-all playbook (``care_call``), so that it is
    reachable; equal orders keep the built-ins first, then the file's order.

    Raises
    ------
    SettingsError
        A new playbook lacks ``cost`` or ``success``, or a value is out of range.
    """
    books = {b.key: b for b in builtin_playbooks()}
    extra = dict(settings.playbooks) if settings is not None else {}
    added: list[str] = []
    for name, raw in extra.items():
        if not isinstance(raw, Mapping):
            raise SettingsError(f"playbooks.{name} must be a table of keys")
        books[name] = _make(name, raw, books.get(name))
        if name not in _builtin_raw():
            added.append(name)
    catch_all = [b.order for b in books.values() if b.is_catch_all and b.key not in added]
    default_order = (min(catch_all) - 1.0) if catch_all else math.inf
    for name in added:
        if math.isinf(books[name].order):
            books[name] = replace(books[name], order=default_order)
    position = {key: i for i, key in enumerate(books)}
    return tuple(sorted(books.values(), key=lambda b: (b.order, position[b.key])))


def _text_column(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(np.full(len(frame), None, dtype=object), index=frame.index)
    return frame[column]


def _key_accounts(frame: pd.DataFrame) -> np.ndarray:
    if s.IS_KEY_ACCOUNT not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    col = frame[s.IS_KEY_ACCOUNT]
    if col.dtype == bool:
        return col.to_numpy()
    return col.astype("boolean").fillna(False).to_numpy(dtype=bool)


def assign_playbooks(frame: pd.DataFrame, playbooks: tuple[Playbook, ...] | None = None
                     ) -> np.ndarray:
    """The key of the first matching playbook for each row of ``frame``.

    Parameters
    ----------
    frame
        One row per customer with ``reason_category`` and ``churn_type`` (text or
        missing; a missing column counts as not known) and ``is_key_account`` (bool;
        missing counts as false).
    playbooks
        In matching order, as :func:`load_playbooks` returns them (the default).

    Returns
    -------
    numpy.ndarray
        Object array of playbook keys; ``None`` where no playbook matches (only possible
        when the workspace has removed the catch-all by giving ``care_call`` conditions).
    """
    books = load_playbooks() if playbooks is None else playbooks
    reason = _text_column(frame, s.REASON_CATEGORY)
    ctype = _text_column(frame, s.CHURN_TYPE)
    key = _key_accounts(frame)
    out = np.full(len(frame), None, dtype=object)
    # Assign in reverse order so that the first matching playbook is written last.
    for book in reversed(books):
        mask = np.ones(len(frame), dtype=bool)
        if book.reasons:
            mask &= reason.isin(book.reasons).to_numpy()
        if book.types:
            mask &= ctype.isin(book.types).to_numpy()
        if book.key_account is not None:
            mask &= key if book.key_account else ~key
        out[mask] = book.key
    return out


def playbook_table(playbooks: tuple[Playbook, ...], lang: str | None = None) -> pd.DataFrame:
    """The playbooks as a table (key, order, name, reasons, types, key_account, cost,
    success, contact), for reports and the CLI."""
    rows = []
    for b in playbooks:
        row = {f.name: getattr(b, f.name) for f in fields(b)
               if f.name not in ("name_zh", "name_en")}
        row["name"] = b.name(lang)
        row["reasons"] = ",".join(b.reasons)
        row["types"] = ",".join(b.types)
        rows.append(row)
    cols = ["key", "order", "name", "reasons", "types", "key_account", "cost", "success",
            "contact"]
    return pd.DataFrame(rows, columns=cols)


__all__ = ["Playbook", "assign_playbooks", "builtin_playbooks", "load_playbooks",
           "playbook_table"]
