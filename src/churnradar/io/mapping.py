"""Map a file's own headers (often Chinese) to the columns of a table contract.

Precedence, highest first:

1. the explicit mapping (``--map 客户号=customer_id``),
2. the workspace settings (``[columns.customers]`` in ``churnradar.toml``),
3. the built-in map of common headers (:data:`churnradar.schema.BUILTIN_HEADER_MAP`),
4. a header equal to a contract column (case-insensitive, whitespace trimmed).

Every other header is kept as an extra column (an attribute) under its own name.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from churnradar.exceptions import SchemaError
from churnradar.i18n import t
from churnradar.schema import BUILTIN_HEADER_MAP, Column, Contract

Origin = Literal["mapping", "settings", "builtin", "name", "extra"]
_MAX_LISTED = 25


@dataclass(frozen=True)
class ColumnPlan:
    """Where one output column comes from.

    Attributes
    ----------
    index : int
        Position of the source column in the file.
    header : str
        The header as found in the file (trimmed).
    name : str
        The output column name (a contract column, or the extra column's own name).
    column : Column or None
        The contract column, or ``None`` for an extra column kept as-is.
    origin : str
        Which rule produced the name: mapping, settings, builtin, name or extra.
    """

    index: int
    header: str
    name: str
    column: Column | None
    origin: Origin


def clean_header(header: str) -> str:
    """A header without BOM and surrounding whitespace (including full-width spaces)."""
    return header.replace("\ufeff", "").strip()


def list_headers(headers: Sequence[str]) -> str:
    shown = [h for h in headers][:_MAX_LISTED]
    more = len(headers) - len(shown)
    return ", ".join(shown) + (f", … (+{more})" if more > 0 else "")


def _find_header(source: str, cleaned: list[str]) -> int | None:
    want = clean_header(source)
    for i, h in enumerate(cleaned):
        if h == want:
            return i
    folded = want.casefold()
    for i, h in enumerate(cleaned):
        if h.casefold() == folded:
            return i
    return None


def _suggest(column: str, candidates: list[str]) -> str | None:
    """The unmapped header most likely meant as ``column``."""
    if not candidates:
        return None
    aliases = [k for k, v in BUILTIN_HEADER_MAP.items() if v == column] + [column]
    best, best_score = None, 0.0
    for cand in candidates:
        for alias in aliases:
            score = difflib.SequenceMatcher(None, cand.casefold(), alias.casefold()).ratio()
            if score > best_score:
                best, best_score = cand, score
    return best if best_score >= 0.4 else candidates[0]


def resolve_mapping(
    headers: Sequence[str],
    contract: Contract,
    *,
    file: str,
    mapping: Mapping[str, str] | None = None,
    settings_mapping: Mapping[str, str] | None = None,
    lang: str | None = None,
) -> tuple[list[ColumnPlan], list[str]]:
    """Decide the output column of every header.

    Parameters
    ----------
    headers : sequence of str
        The file's headers, in order.
    contract : Contract
        The table contract.
    file : str
        File name for messages.
    mapping : mapping of str to str, optional
        Explicit ``{source header: contract column}``.
    settings_mapping : mapping of str to str, optional
        The workspace's ``[columns.<table>]``; sources absent from the file are ignored.
    lang : str, optional
        Language of messages.

    Returns
    -------
    plans : list of ColumnPlan
        One per header, in file order.
    warnings : list of str
        Headers that competed for one column, renamed extra columns.

    Raises
    ------
    SchemaError
        A duplicate header; a mapping to a column the table does not have, or from a
        header the file does not have; two explicit sources for one column; a required
        column missing (with a ``--map`` suggestion).
    """
    table = contract.table
    cleaned = [clean_header(h) for h in headers]
    names_of_contract = [c.name for c in contract.columns]
    columns_list = ", ".join(names_of_contract)
    warnings: list[str] = []

    seen: dict[str, int] = {}
    for i, h in enumerate(cleaned):
        if not h:
            continue
        if h in seen:
            raise SchemaError(t("io_duplicate_header", lang, file=file, header=h,
                                first=seen[h] + 1, second=i + 1))
        seen[h] = i

    assigned: dict[int, tuple[str, Origin]] = {}
    taken: dict[str, int] = {}

    def check_target(source: str, target: str, where: str) -> None:
        if contract.column(target) is None:
            raise SchemaError(t("io_map_unknown_target", lang, where=where, source=source,
                                target=target, table=table, columns=columns_list))

    # 1. explicit mapping
    for source, target in (mapping or {}).items():
        check_target(source, target, "--map")
        idx = _find_header(source, cleaned)
        if idx is None:
            raise SchemaError(t("io_map_unknown_source", lang, file=file, source=source,
                                target=target, headers=list_headers(cleaned)))
        if target in taken:
            raise SchemaError(t("io_map_conflict", lang, target=target,
                                first=cleaned[taken[target]], second=cleaned[idx]))
        if idx in assigned:
            raise SchemaError(t("io_map_twice", lang, source=cleaned[idx],
                                first=assigned[idx][0], second=target))
        assigned[idx] = (target, "mapping")
        taken[target] = idx

    # 2. settings
    for source, target in (settings_mapping or {}).items():
        check_target(source, target, f"churnradar.toml [columns.{table}]")
        idx = _find_header(source, cleaned)
        if idx is None or idx in assigned or target in taken:
            continue
        assigned[idx] = (target, "settings")
        taken[target] = idx

    # 3. built-in map, 4. same name: the leftmost header wins a column at the same level
    levels: tuple[Origin, ...] = ("builtin", "name")
    for level in levels:
        for i, h in enumerate(cleaned):
            if i in assigned or not h:
                continue
            guess: str | None
            if level == "builtin":
                guess = BUILTIN_HEADER_MAP.get(h) or BUILTIN_HEADER_MAP.get(h.casefold())
            else:
                guess = h.casefold() if h.casefold() in names_of_contract else None
            if guess is None or contract.column(guess) is None:
                continue
            target = guess
            if target in taken:
                if level == "builtin":
                    warnings.append(t("io_warn_competing", lang, file=file, header=h,
                                      column=target, used=cleaned[taken[target]]))
                continue
            assigned[i] = (target, level)
            taken[target] = i

    plans: list[ColumnPlan] = []
    used_names = set(taken)
    for i, h in enumerate(cleaned):
        if i in assigned:
            target, origin = assigned[i]
            plans.append(ColumnPlan(i, h, target, contract.column(target), origin))
            continue
        name = h or f"column_{i + 1}"
        if name.casefold() in names_of_contract or name in used_names:
            # e.g. a second 'customer_id' next to a mapped 客户编号: keep it, renamed
            new = f"{name}_original"
            k = 2
            while new in used_names or new in cleaned:
                new = f"{name}_original{k}"
                k += 1
            warnings.append(t("io_warn_renamed", lang, file=file, header=name, name=new))
            name = new
        used_names.add(name)
        plans.append(ColumnPlan(i, h, name, None, "extra"))

    for col in contract.columns:
        if col.required and col.name not in taken:
            unmapped = [p.header for p in plans if p.column is None and p.header]
            guess = _suggest(col.name, unmapped) or "HEADER"
            raise SchemaError(t("io_missing_column", lang, file=file, column=col.name,
                                headers=list_headers(cleaned), guess=guess))
    return plans, warnings


__all__ = ["ColumnPlan", "clean_header", "list_headers", "resolve_mapping"]
