"""The reason taxonomy of domain.md §3 — seven reason categories, six churn types — read
from ``reasons/data/taxonomy.toml``; the names come from the catalog in both languages.

Which categories are controllable (可控) is each company's own decision: the workspace
setting ``[reasons] controllable`` overrides the taxonomy's defaults.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from churnradar.i18n import t
from churnradar.schema import CHURN_TYPES, REASON_CATEGORIES
from churnradar.settings import ReasonsSettings


@dataclass(frozen=True)
class Category:
    key: str
    controllable: bool
    #: the churn type assumed for this category when no evidence names one
    default_type: str = "competitive"

    def name(self, lang: str | None = None) -> str:
        return t(f"reason_{self.key}", lang)

    def description(self, lang: str | None = None) -> str:
        return t(f"reason_desc_{self.key}", lang)


@dataclass(frozen=True)
class ChurnType:
    key: str
    #: "active" (主动流失) or "passive" (被动流失)
    group: str
    #: false: not worth retaining (malicious churn gets no retention offer)
    retain: bool

    def name(self, lang: str | None = None) -> str:
        return t(f"churn_type_{self.key}", lang)

    def description(self, lang: str | None = None) -> str:
        return t(f"churn_type_desc_{self.key}", lang)


@dataclass(frozen=True)
class Taxonomy:
    categories: tuple[Category, ...]
    types: tuple[ChurnType, ...]

    def category(self, key: str) -> Category:
        for c in self.categories:
            if c.key == key:
                return c
        raise KeyError(key)

    def churn_type(self, key: str) -> ChurnType:
        for c in self.types:
            if c.key == key:
                return c
        raise KeyError(key)

    def controllable(self) -> frozenset[str]:
        return frozenset(c.key for c in self.categories if c.controllable)

    def group_of(self) -> dict[str, str]:
        """churn type -> active / passive"""
        return {c.key: c.group for c in self.types}


@cache
def _raw() -> dict:
    text = resources.files("churnradar.reasons").joinpath("data/taxonomy.toml").read_text(
        encoding="utf-8")
    return tomllib.loads(text)


def taxonomy(settings: ReasonsSettings | None = None) -> Taxonomy:
    """The taxonomy, with the workspace's controllable categories when given."""
    raw = _raw()
    control = settings.controllable_set() if settings is not None else None
    cats = tuple(
        Category(key, bool(raw["categories"][key]["controllable"]) if control is None
                 else key in control, str(raw["categories"][key]["default_type"]))
        for key in REASON_CATEGORIES
    )
    types = tuple(ChurnType(key, str(raw["types"][key]["group"]),
                            bool(raw["types"][key]["retain"])) for key in CHURN_TYPES)
    return Taxonomy(cats, types)


__all__ = ["Category", "ChurnType", "Taxonomy", "taxonomy"]
