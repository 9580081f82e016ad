"""Keyword lexicon of churn reasons and churn types, and the classifier built on it.

The built-in lexicon (``reasons/data/lexicon.toml``) lists Chinese and English words per
reason category (domain.md §3: product, price, service, benefit, management, industry,
natural) and per churn type (natural, competitive, fault, non_malicious, retaliatory,
malicious). A workspace adds its own words with ``[reasons.lexicon]`` and
``[reasons.type_lexicon]``, or replaces the built-in ones (``replace_lexicon = true``).

How words are matched, and why
------------------------------
Texts are normalised first: Unicode NFKC (full-width ``，５Ｇ`` become ``,5G``), lower
case, curly apostrophes made straight, runs of whitespace made one space.

* **Chinese** entries match as substrings of the normalised text. Chinese has no spaces,
  and a segmenter's mistakes would lose hits (out of the box jieba cuts 宽带网速太慢 as
  宽带网/速/太慢, so a token match of 网速 fails); a substring of two or more characters
  rarely hits by accident.
* **English** entries match whole words only, i.e. they are compared with the word
  tokens of the text (a match must not continue a letter or digit on either side), so
  ``fee`` does not hit ``feedback`` and ``bill`` does not hit ``billion``. A trailing
  ``*`` matches any ending (``overcharg*``: overcharge, overcharged, overcharging).
  Phrases (``switched to``) match word sequences.
* ``"word:2"`` weighs an entry 2 (default 1): very specific terms such as 窜货 or 恶意.
* Where a matched entry lies inside a longer matched entry (收费 inside 乱收费, 恶意 inside
  恶意扣费), only the longer one counts, so a phrase can overrule its parts.

A text's score per category is the summed weight of its matched entries. The predicted
category is the highest score (ties: the category whose longest matched entry is longer,
then the order of :data:`~churnradar.schema.REASON_CATEGORIES`); a text without any
match gets ``None``. ``confidence = top score / (total score + 0.5)``: 0 without a match,
0.67 for a single keyword, towards 1 when several keywords agree, below 0.5 when
categories compete.

Matching runs vectorised in Arrow (one substring or RE2 search per entry over all
distinct texts), so millions of complaints cost seconds, not minutes.

:func:`tokenize` cuts texts into words for the complaint insights (top terms per
category): jieba with the domain dictionary ``reasons/data/userdict.txt`` and every
lexicon word added, for Chinese; lower-case word tokens for Latin text; punctuation and
stopwords dropped.
"""

from __future__ import annotations

import logging
import re
import tempfile
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any, ClassVar, Self

import numpy as np
import numpy.typing as npt
import pandas as pd

from churnradar.exceptions import NotFittedError, SettingsError
from churnradar.schema import CHURN_TYPES, REASON_CATEGORIES
from churnradar.settings import ReasonsSettings

if TYPE_CHECKING:
    import jieba

#: evidence prior of the confidence: top / (total + _PRIOR); one keyword gives 0.67
_PRIOR = 0.5

_CJK_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK = re.compile(f"[{_CJK_CLASS}]")
#: a run of Chinese characters, or one Latin word (letters/digits, inner ' or -)
_RUN = re.compile(f"([{_CJK_CLASS}]+)|([a-z0-9]+(?:['\\-][a-z0-9]+)*)")
#: Latin word tokens of the matcher (English entries match sequences of these)
_LATIN = re.compile(r"[a-z0-9]+")
#: characters NFKC could change (anything but ASCII, ideographs, common CJK punctuation)
_NEEDS_NFKC = re.compile(
    "[^\\x00-\\x7f\u3400-\u4dbf\u4e00-\u9fff\u3001\u3002\uff0c\uff01\uff1f\uff1b\uff1a\uff08\uff09"
    "\u201c\u201d\u2018\u2019\u300a\u300b\u3010\u3011\u2026\u2014]")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


STOPWORDS_ZH: frozenset[str] = _words("""
的 了 是 我 我们 你 你们 您 他 她 它 他们 她们 都 也 就 还 又 在 和 与 及 或 把 被 让 给 对 从
到 这 那 这个 那个 这些 那些 一个 有 没 不 很 太 吗 呢 吧 啊 呀 哦 嗯 要 说 会 能 可以 就是
因为 所以 但是 但 而且 然后 已经 一直 现在 什么 怎么 为什么 如果 这样 那样 自己 一下 一些
个 些 次 天 月 年 元 后 前 里 上 下 中 时 时候 之后 之前 以后 以前 请 想 问 能不能 怎么办
还是 只 才 再 却 并 而 等 着 过 得 地 之 其 该 此 每 各 即 于 以 为 由 向 跟 比 像 啦 嘛 么
经常 总是 老是 根本 任何 非常 特别 真的 实在 完全 一点 有点 马上 突然 一样 这么 那么 如何
多少 几个 这边 那边 这里 那里 哪里 家里 本月 上月 每月 一个月 今年 去年 明年 问题 情况 事情
东西 希望 觉得 知道 出现 发现 进行 可能 应该 必须 所有 全部 其他 别的 还有 并且 结果 方面
直接 一次 两次 多次 几次 目前 当时 同时 其实 而是 只是 也是 都是 不是 没有 不会 不能 不了
""")

STOPWORDS_EN: frozenset[str] = _words("""
a an the and or but if then so to of in on at by for from with without into onto about
as is are was were be been being am do does did doing have has had having i me my mine
we us our you your he him his she her it its they them their this that these those
there here what which who whom whose when where why how all any both each few more
most other some such no nor not only own same than too very can will just should would
could may might must shall s t don't didn't doesn't isn't wasn't aren't weren't i'm
i've it's that's can't won't up down out over again once also still even get got
""")

STOPWORDS: frozenset[str] = STOPWORDS_ZH | STOPWORDS_EN


# ------------------------------------------------------------------------ text


def normalize_text(text: str | None) -> str:
    """``text`` as the matcher sees it: NFKC, lower case, straight apostrophes, single
    spaces; ``None`` becomes ``""``.

    NFKC (full-width ``５Ｇ`` -> ``5g``) is applied only to texts with a character outside
    ASCII, Chinese ideographs and common Chinese punctuation: it is slow on Chinese text
    and changes nothing there that matters (full-width punctuation separates words
    either way).
    """
    if text is None:
        return ""
    out = str(text)
    if _NEEDS_NFKC.search(out):
        out = unicodedata.normalize("NFKC", out)
    out = out.lower()
    if "\u2019" in out or "\u2018" in out:
        out = out.replace("\u2019", "'").replace("\u2018", "'")
    return " ".join(out.split())


def is_cjk(word: str) -> bool:
    """True when ``word`` contains a Chinese character."""
    return _CJK.search(word) is not None


# ------------------------------------------------------------------------ lexicon


@dataclass(frozen=True)
class Lexicon:
    """Keywords per reason category and per churn type.

    Entries are words or phrases, optionally with a weight suffix (``"窜货:2"``) and, for
    English, a trailing ``*`` for any ending (see the module docstring).

    Attributes
    ----------
    categories : dict of str to tuple of str
        Keywords per reason category (:data:`~churnradar.schema.REASON_CATEGORIES`).
    types : dict of str to tuple of str
        Keywords per churn type (:data:`~churnradar.schema.CHURN_TYPES`).
    """

    categories: dict[str, tuple[str, ...]]
    types: dict[str, tuple[str, ...]]

    def words(self) -> frozenset[str]:
        """Every keyword (without weights or ``*``), categories and types together."""
        return self._words

    @cached_property
    def _words(self) -> frozenset[str]:
        out: set[str] = set()
        for table in (self.categories, self.types):
            for entries in table.values():
                out.update(parse_entry(e)[0].rstrip("*") for e in entries)
        return frozenset(out)


def parse_entry(entry: str) -> tuple[str, float]:
    """A lexicon entry as ``(word, weight)``: ``"窜货:2"`` -> ``("窜货", 2.0)``.

    Raises
    ------
    SettingsError
        If the entry is empty or its weight is not a positive number.
    """
    word, weight = entry, 1.0
    head, sep, tail = entry.rpartition(":")
    if sep and not head.strip():
        raise SettingsError(f"lexicon entry {entry!r} has a weight but no word. "
                            f'Suggestion: write "太贵:2"')
    if sep:
        try:
            weight = float(tail)
        except ValueError:
            weight = -1.0
        if not weight > 0 or not np.isfinite(weight):
            raise SettingsError(
                f"lexicon entry {entry!r}: the weight after ':' must be a positive number. "
                f'Suggestion: write "{head.strip()}:2" or just "{head.strip()}"')
        word = head
    word = normalize_text(word)
    if not word.rstrip("*"):
        raise SettingsError(f"lexicon entry {entry!r} is empty. Suggestion: remove it")
    return word, weight


@cache
def _builtin_raw() -> dict[str, Any]:
    text = resources.files("churnradar.reasons").joinpath("data/lexicon.toml").read_text(
        encoding="utf-8")
    return tomllib.loads(text)


def _table(raw: Mapping[str, Iterable[str]], names: tuple[str, ...],
           where: str) -> dict[str, tuple[str, ...]]:
    unknown = sorted(set(raw) - set(names))
    if unknown:
        raise SettingsError(f"{where}: unknown {unknown[0]!r}, expected one of "
                            f"{', '.join(names)}")
    out: dict[str, tuple[str, ...]] = {}
    for name in names:
        words = raw.get(name, ())
        if isinstance(words, str):
            words = (words,)
        entries = tuple(str(w).strip() for w in words if str(w).strip())
        for e in entries:
            parse_entry(e)  # validates the weight suffix
        out[name] = entries
    return out


def _merge(base: dict[str, tuple[str, ...]], extra: dict[str, tuple[str, ...]],
           replace: bool) -> dict[str, tuple[str, ...]]:
    if replace and any(extra.values()):
        return extra
    return {k: tuple(dict.fromkeys(base.get(k, ()) + extra.get(k, ()))) for k in base}


def load_lexicon(settings: ReasonsSettings | None = None) -> Lexicon:
    """The built-in lexicon, with the workspace's words.

    Parameters
    ----------
    settings : ReasonsSettings, optional
        ``settings.lexicon`` (per category) and ``settings.type_lexicon`` (per churn
        type) are added to the built-in words; with ``settings.replace_lexicon`` a table
        the settings fill (categories, types) replaces the built-in one entirely, and a
        table the settings leave empty keeps the built-in words.

    Returns
    -------
    Lexicon

    Raises
    ------
    SettingsError
        If a category or churn type is unknown, or an entry's weight is invalid.

    Examples
    --------
    >>> lex = load_lexicon(ReasonsSettings(lexicon={"price": ("贵死了",)}))
    >>> "贵死了" in lex.categories["price"] and "资费" in lex.categories["price"]
    True
    """
    raw = _builtin_raw()
    cats = _table(raw.get("categories", {}), REASON_CATEGORIES, "lexicon.toml [categories]")
    types = _table(raw.get("types", {}), CHURN_TYPES, "lexicon.toml [types]")
    if settings is not None:
        replace = bool(settings.replace_lexicon)
        cats = _merge(cats, _table(settings.lexicon, REASON_CATEGORIES, "[reasons.lexicon]"),
                      replace)
        types = _merge(types, _table(settings.type_lexicon, CHURN_TYPES,
                                     "[reasons.type_lexicon]"), replace)
    return Lexicon(categories=cats, types=types)


@cache
def _builtin_lexicon() -> Lexicon:
    """The built-in lexicon, loaded once (the tokenizer's default)."""
    return load_lexicon()


# ------------------------------------------------------------------------ tokens


@cache
def _userdict() -> tuple[tuple[str, int | None, str | None], ...]:
    text = resources.files("churnradar.reasons").joinpath("data/userdict.txt").read_text(
        encoding="utf-8")
    out: list[tuple[str, int | None, str | None]] = []
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        freq = int(parts[1]) if len(parts) > 1 else None
        tag = parts[2] if len(parts) > 2 else None
        out.append((normalize_text(parts[0]), freq, tag))
    return tuple(out)


def domain_terms(lexicon: Lexicon | None = None) -> frozenset[str]:
    """The domain vocabulary: the lexicon's words and the jieba user dictionary's."""
    words = (lexicon or _builtin_lexicon()).words()
    return words | frozenset(w for w, _f, _t in _userdict())


@lru_cache(maxsize=4)
def _tokenizer(words: frozenset[str]) -> jieba.Tokenizer:
    """A private jieba tokenizer (never jieba's global one) with the domain dictionary
    and ``words``; its cache file lives in the system temp dir."""
    import jieba

    tk = jieba.Tokenizer()
    tk.tmp_dir = tempfile.gettempdir()
    jlog = logging.getLogger("jieba")
    level = jlog.level
    jlog.setLevel(logging.WARNING)  # jieba logs its dictionary loading at DEBUG level
    try:
        tk.initialize()
    finally:
        jlog.setLevel(level)
    for word, freq, tag in _userdict():
        tk.add_word(word, freq, tag)
    for word in sorted(words):
        if is_cjk(word) and word not in tk.FREQ:
            tk.add_word(word)
    return tk


def tokenize(text: str | None, lexicon: Lexicon | None = None) -> list[str]:
    """The words of ``text``: jieba for Chinese, lower-case word tokens for Latin text.

    Parameters
    ----------
    text : str or None
        Chinese, English or mixed text.
    lexicon : Lexicon, optional
        Its Chinese words are kept whole (default: the built-in lexicon).

    Returns
    -------
    list of str
        Tokens in order, without punctuation, whitespace or stopwords.

    Examples
    --------
    >>> tokenize("宽带网速太慢!")
    ['宽带', '网速', '太慢']
    >>> tokenize("The fee is too high")
    ['fee', 'high']
    """
    norm = normalize_text(text)
    if not norm:
        return []
    tk = _tokenizer((lexicon or _builtin_lexicon()).words())
    out: list[str] = []
    for m in _RUN.finditer(norm):
        if m.group(1):
            out.extend(w for w in tk.cut(m.group(1)) if w.strip())
        else:
            out.append(m.group(2))
    return [w for w in out if w not in STOPWORDS]


# ------------------------------------------------------------------------ matching


#: one lexicon entry's effect: (label index, weight, length of the entry)
_Payload = tuple[tuple[int, float, int], ...]


class _Matcher:
    """Weighted keyword matching of one table (categories or types).

    Chinese entries are looked up at every position of the text (a dict lookup per
    possible entry length, only where an entry can start); English entries are matched
    against the text's Latin word tokens (a trailing ``*`` on the last word allows any
    ending). Matches inside a longer match are dropped.
    """

    def __init__(self, table: Mapping[str, tuple[str, ...]], labels: tuple[str, ...]):
        self.labels = labels
        effects: dict[tuple[str, bool], dict[int, float]] = {}
        for j, label in enumerate(labels):
            for raw in table.get(label, ()):
                word, weight = parse_entry(raw)
                prefix = word.endswith("*") and not is_cjk(word)
                core = word.rstrip("*")
                slot = effects.setdefault((core, prefix), {})
                slot[j] = max(weight, slot.get(j, 0.0))
        #: Chinese (substring) entries and, per first character, their lengths
        self.substrings: dict[str, _Payload] = {}
        first: dict[str, set[int]] = {}
        #: English entries by first token: (tokens, last token is a prefix, payload)
        self.phrases: dict[str, list[tuple[tuple[str, ...], bool, _Payload]]] = {}
        #: one-word prefix entries (``overcharg*``) and their lengths
        self.prefixes: dict[str, _Payload] = {}
        for (core, prefix), slot in effects.items():
            payload = tuple((j, w, len(core)) for j, w in sorted(slot.items()))
            if is_cjk(core):
                self.substrings[core] = payload
                first.setdefault(core[0], set()).add(len(core))
                continue
            tokens = tuple(_LATIN.findall(core))
            if not tokens:
                continue
            if prefix and len(tokens) == 1:
                self.prefixes[tokens[0]] = payload
            else:
                self.phrases.setdefault(tokens[0], []).append((tokens, prefix, payload))
        self.first = {ch: tuple(sorted(ls, reverse=True)) for ch, ls in first.items()}
        self.prefix_lengths = tuple(sorted({len(p) for p in self.prefixes}))

    def matches(self, text: str) -> list[tuple[int, int, _Payload]]:
        """``(start, end, payload)`` of every entry found in the normalised ``text``,
        without those inside a longer match."""
        found: list[tuple[int, int, _Payload]] = []
        first, subs = self.first, self.substrings
        if first:
            for i, ch in enumerate(text):
                lengths = first.get(ch)
                if lengths is None:
                    continue
                for n in lengths:
                    hit = subs.get(text[i:i + n])
                    if hit is not None:
                        found.append((i, i + n, hit))
        if self.phrases or self.prefixes:
            toks = [(m.group(), m.start(), m.end()) for m in _LATIN.finditer(text)]
            for i, (tok, start, end) in enumerate(toks):
                # phrases (and exact words) starting with this token; the first token
                # equals tokens[0] by the dict key, a one-token phrase is a word match
                for tokens, prefix, payload in self.phrases.get(tok, ()):
                    k = len(tokens)
                    if i + k > len(toks):
                        continue
                    if k > 1:
                        last = toks[i + k - 1][0]
                        if not (all(toks[i + q][0] == tokens[q] for q in range(1, k - 1))
                                and (last.startswith(tokens[-1]) if prefix
                                     else last == tokens[-1])):
                            continue
                    found.append((start, toks[i + k - 1][2], payload))
                for n in self.prefix_lengths:
                    if n > len(tok):
                        break
                    hit = self.prefixes.get(tok[:n])
                    if hit is not None:
                        found.append((start, end, hit))
        if len(found) < 2:
            return found
        # drop a match that lies inside a longer one (收费 inside 乱收费)
        return [m for m in found
                if not any(o[0] <= m[0] and m[1] <= o[1] and o[1] - o[0] > m[1] - m[0]
                           for o in found)]

    def score(self, texts: Sequence[str | None]) -> tuple[npt.NDArray[np.float64],
                                                          npt.NDArray[np.float64]]:
        """Summed weights ``(n, labels)`` and the longest matched entry ``(n, labels)``;
        each distinct text is matched once."""
        n, m = len(texts), len(self.labels)
        scores = np.zeros((n, m))
        longest = np.zeros((n, m))
        if n == 0:
            return scores, longest
        codes, uniques = pd.factorize(pd.Series(list(texts), dtype=object), sort=False)
        u_scores = np.zeros((len(uniques), m))
        u_longest = np.zeros((len(uniques), m))
        for u, text in enumerate(uniques):
            for _start, _end, payload in self.matches(normalize_text(text)):
                for j, weight, length in payload:
                    u_scores[u, j] += weight
                    if length > u_longest[u, j]:
                        u_longest[u, j] = length
        ok = codes >= 0
        scores[ok] = u_scores[codes[ok]]
        longest[ok] = u_longest[codes[ok]]
        return scores, longest

    def decide(self, texts: Sequence[str | None]) -> tuple[npt.NDArray[np.object_],
                                                           npt.NDArray[np.float64],
                                                           npt.NDArray[np.float64]]:
        """Labels (None: no match), confidence, and the score matrix."""
        scores, longest = self.score(texts)
        total = scores.sum(axis=1)
        # ties: the longer matched entry, then the label order (argmax takes the first)
        best = np.argmax(scores + longest * 1e-6, axis=1)
        top = scores[np.arange(len(scores)), best] if len(scores) else np.zeros(0)
        labels = np.full(len(scores), None, dtype=object)
        matched = total > 0
        labels[matched] = np.asarray(self.labels, dtype=object)[best[matched]]
        conf = np.where(matched, top / (total + _PRIOR), 0.0)
        return labels, conf, scores


# ------------------------------------------------------------------------ classifier


class LexiconClassifier:
    """Classify complaint and note texts by keywords, into reason categories and types.

    Follows the scikit-learn contract: ``__init__`` only stores, :meth:`fit` (which needs
    no labels) prepares the matchers and returns ``self``.

    Parameters
    ----------
    lexicon : Lexicon, optional
        The keywords; default :func:`load_lexicon` (the built-in lexicon).

    Attributes
    ----------
    classes_ : ndarray of str
        :data:`~churnradar.schema.REASON_CATEGORIES`, the columns of
        :meth:`predict_proba`.
    types_ : ndarray of str
        :data:`~churnradar.schema.CHURN_TYPES`, the labels of :meth:`predict_type`.
    lexicon_ : Lexicon
        The lexicon in use.

    Examples
    --------
    >>> clf = LexiconClassifier().fit([])
    >>> clf.predict(["套餐资费太贵了", "The fee is too expensive", "你好"]).tolist()
    ['price', 'price', None]
    """

    #: the ``method`` of :func:`~churnradar.reasons.classify.classify_texts`
    method: ClassVar[str] = "lexicon"

    def __init__(self, *, lexicon: Lexicon | None = None) -> None:
        self.lexicon = lexicon

    def fit(self, texts: Sequence[str | None] = (), y: Sequence[Any] | None = None) -> Self:
        """Prepare the matchers; ``texts`` and ``y`` are ignored (no learning).

        Returns
        -------
        LexiconClassifier
            ``self``.
        """
        lex = self.lexicon if self.lexicon is not None else load_lexicon()
        if not isinstance(lex, Lexicon):
            raise SettingsError(f"lexicon must be a Lexicon (see load_lexicon), got "
                                f"{type(lex).__name__}")
        self.lexicon_ = lex
        self.classes_ = np.asarray(REASON_CATEGORIES, dtype=object)
        self.types_ = np.asarray(CHURN_TYPES, dtype=object)
        self._categories = _Matcher(lex.categories, REASON_CATEGORIES)
        self._types = _Matcher(lex.types, CHURN_TYPES)
        return self

    def _check(self) -> None:
        if not hasattr(self, "lexicon_"):
            raise NotFittedError("this LexiconClassifier is not fitted yet. Suggestion: "
                                 "call fit([]) first (it needs no labels)")

    def keyword_scores(self, texts: Sequence[str | None]) -> npt.NDArray[np.float64]:
        """Summed keyword weights, shape ``(n, 7)`` in the order of ``classes_``."""
        self._check()
        return self._categories.score(texts)[0]

    def predict_proba(self, texts: Sequence[str | None]) -> npt.NDArray[np.float64]:
        """Share of each category in a text's keyword weight, shape ``(n, 7)``.

        Rows sum to 1; a text without any keyword gets the uniform row 1/7.
        """
        scores = self.keyword_scores(texts)
        total = scores.sum(axis=1, keepdims=True)
        uniform = np.full_like(scores, 1.0 / scores.shape[1])
        return np.divide(scores, total, out=uniform, where=total > 0)

    def predict_with_confidence(self, texts: Sequence[str | None]) -> tuple[
            npt.NDArray[np.object_], npt.NDArray[np.float64]]:
        """Category (``None`` without a keyword) and confidence in [0, 1] of each text."""
        self._check()
        labels, conf, _ = self._categories.decide(texts)
        return labels, conf

    def predict(self, texts: Sequence[str | None]) -> npt.NDArray[np.object_]:
        """The reason category of each text, ``None`` where no keyword matched."""
        return self.predict_with_confidence(texts)[0]

    def confidence(self, texts: Sequence[str | None]) -> npt.NDArray[np.float64]:
        """``top / (total + 0.5)`` of the keyword weights: 0 without a match, 0.67 for
        one keyword, towards 1 when many agree, lower when categories compete."""
        return self.predict_with_confidence(texts)[1]

    def predict_type(self, texts: Sequence[str | None]) -> tuple[
            npt.NDArray[np.object_], npt.NDArray[np.float64]]:
        """The churn type of each text from the type lexicon.

        Returns
        -------
        types : ndarray of object
            A :data:`~churnradar.schema.CHURN_TYPES` value, ``None`` without a keyword.
        confidence : ndarray of float
            In [0, 1], as :meth:`confidence`.
        """
        self._check()
        labels, conf, _ = self._types.decide(texts)
        return labels, conf


__all__ = [
    "STOPWORDS", "Lexicon", "LexiconClassifier", "domain_terms", "is_cjk", "load_lexicon",
    "normalize_text", "parse_entry", "tokenize",
]
