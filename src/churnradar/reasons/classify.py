"""Classify complaint and cancellation-note texts into reason categories (domain.md §3).

Two classifiers share one interface (``method``, ``predict``, ``predict_with_confidence``):

* :class:`~churnradar.reasons.lexicon.LexiconClassifier` — keywords, needs no labels;
* :class:`TextReasonClassifier` — a supervised model (character n-gram TF-IDF and
  multinomial logistic regression) learnt from labelled texts, e.g. the
  ``complaints.category`` a call centre already records. Character n-grams need no word
  segmentation and work for Chinese and English alike.

:func:`choose_classifier` measures both on the workspace's own labelled texts and keeps
the better one; :func:`classify_texts` classifies a column of texts, each distinct text
once; :func:`top_terms` finds the words that characterise each category (the report's
complaint insights).

The comparison is honest about repeated texts: complaint texts repeat a lot (templates,
canned categories, copy-paste), and a model that saw a text in training has effectively
memorised its label. The supervised model's accuracy is therefore cross-validated with
:class:`~sklearn.model_selection.GroupKFold` grouped by the text itself, so an identical
text never sits in both a training and a test fold. (Near-duplicates — the same
template with another number — can still fall on both sides; the accuracy of a model
on texts unlike any it has seen is lower.) Both accuracies are computed over all
labelled rows, repeats included, and the lexicon's counts a text without any keyword as
wrong.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, Self

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline

from churnradar.exceptions import InputError, NotFittedError, SettingsError
from churnradar.reasons.lexicon import (
    Lexicon,
    LexiconClassifier,
    domain_terms,
    is_cjk,
    load_lexicon,
    normalize_text,
    tokenize,
)
from churnradar.schema import ENUM_ALIASES, REASON_CATEGORIES, REASON_CATEGORY

ClassifierMode = Literal["auto", "lexicon", "supervised"]
CLASSIFIER_MODES: tuple[str, ...] = ("auto", "lexicon", "supervised")

ObjectArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]


class ReasonClassifier(Protocol):
    """What :func:`classify_texts` needs of a classifier."""

    method: ClassVar[str]

    def predict_with_confidence(self, texts: Sequence[str | None]) -> tuple[
            ObjectArray, FloatArray]: ...


def _clean(texts: Sequence[str | None]) -> list[str | None]:
    """Texts with blank ones as ``None``."""
    out: list[str | None] = []
    for t in texts:
        if t is None or (isinstance(t, float) and math.isnan(t)):
            out.append(None)
            continue
        s = str(t)
        out.append(s if s.strip() else None)
    return out


# ------------------------------------------------------------------------ supervised


class TextReasonClassifier:
    """Supervised reason classifier: character n-gram TF-IDF + logistic regression.

    Texts are normalised (NFKC, lower case) and cut into character n-grams within word
    boundaries (``analyzer="char_wb"``, 1 to 3 characters, sublinear term frequency),
    which needs no Chinese word segmentation. Identical ``(text, label)`` pairs are fitted
    once with their count as sample weight — the same loss as fitting every row, at a
    fraction of the cost when texts repeat (the inverse document frequencies are those of
    the distinct texts).

    Parameters
    ----------
    C : float, default 10.0
        Inverse regularisation strength of the logistic regression.
    ngram_range : tuple of int, default (1, 3)
        Character n-gram lengths.
    max_iter : int, default 1000
        Iterations of the solver (lbfgs).

    Attributes
    ----------
    classes_ : ndarray of str
        The categories seen in fitting, the columns of :meth:`predict_proba`.
    pipeline_ : sklearn.pipeline.Pipeline
        The fitted vectoriser and logistic regression.

    Examples
    --------
    >>> clf = TextReasonClassifier().fit(["套餐太贵", "客服态度差"] * 3, ["price", "service"] * 3)
    >>> clf.predict(["资费太贵了"]).tolist()
    ['price']
    """

    method: ClassVar[str] = "supervised"

    def __init__(self, *, C: float = 10.0, ngram_range: tuple[int, int] = (1, 3),
                 max_iter: int = 1000) -> None:
        self.C = C
        self.ngram_range = ngram_range
        self.max_iter = max_iter

    def _pipeline(self) -> Pipeline:
        return Pipeline([
            ("tfidf", TfidfVectorizer(analyzer="char_wb", ngram_range=self.ngram_range,
                                      sublinear_tf=True, min_df=1,
                                      preprocessor=normalize_text)),
            ("logreg", LogisticRegression(C=self.C, max_iter=self.max_iter)),
        ])

    def fit(self, texts: Sequence[str | None], y: Sequence[Any]) -> Self:
        """Learn from labelled texts (rows with a blank text or label are skipped).

        Raises
        ------
        InputError
            If ``texts`` and ``y`` differ in length, or fewer than two categories remain.
        """
        if len(texts) != len(y):
            raise InputError(f"texts and labels differ in length: {len(texts)} vs {len(y)}")
        pairs = pd.DataFrame({"text": _clean(texts), "label": _clean_labels(y)})
        pairs = pairs[pairs["text"].notna() & pairs["label"].notna()]
        grouped = pairs.groupby(["text", "label"], sort=True).size().reset_index(name="w")
        self._fit_grouped(grouped["text"].tolist(), grouped["label"].to_numpy(dtype=object),
                          grouped["w"].to_numpy(dtype=float))
        return self

    def _fit_grouped(self, texts: list[str], labels: ObjectArray, weights: FloatArray) -> None:
        classes = sorted(set(labels.tolist()))
        if len(classes) < 2:
            raise InputError(
                f"a supervised text classifier needs labelled texts of at least two "
                f"categories, got {classes or 'none'}. Suggestion: label more texts or "
                f"set [reasons] classifier = \"lexicon\"")
        pipe = self._pipeline()
        pipe.fit(texts, labels, logreg__sample_weight=weights)
        self.pipeline_ = pipe
        self.classes_ = np.asarray(pipe.classes_, dtype=object)

    def _check(self) -> None:
        if not hasattr(self, "pipeline_"):
            raise NotFittedError("this TextReasonClassifier is not fitted yet. Suggestion: "
                                 "call fit(texts, labels) first")

    def predict_proba(self, texts: Sequence[str | None]) -> FloatArray:
        """Probability of each category (columns: ``classes_``), shape ``(n, k)``."""
        self._check()
        docs = ["" if t is None else t for t in _clean(texts)]
        if not docs:
            return np.zeros((0, len(self.classes_)))
        return np.asarray(self.pipeline_.predict_proba(docs), dtype=float)

    def predict_with_confidence(self, texts: Sequence[str | None]) -> tuple[
            ObjectArray, FloatArray]:
        """Most probable category and its probability; blank texts get ``None``, 0."""
        self._check()
        clean = _clean(texts)
        labels = np.full(len(clean), None, dtype=object)
        conf = np.zeros(len(clean))
        idx = [i for i, t in enumerate(clean) if t is not None]
        if idx:
            proba = self.predict_proba([clean[i] for i in idx])
            best = proba.argmax(axis=1)
            labels[idx] = self.classes_[best]
            conf[idx] = proba[np.arange(len(idx)), best]
        return labels, conf

    def predict(self, texts: Sequence[str | None]) -> ObjectArray:
        """The most probable category of each text (``None`` for a blank text)."""
        return self.predict_with_confidence(texts)[0]

    def confidence(self, texts: Sequence[str | None]) -> FloatArray:
        """The probability of the predicted category (0 for a blank text)."""
        return self.predict_with_confidence(texts)[1]


# ------------------------------------------------------------------------ choice


def _clean_labels(labels: Sequence[Any]) -> list[str | None]:
    """Labels as canonical reason categories (aliases such as 价格 accepted)."""
    aliases = ENUM_ALIASES[REASON_CATEGORY]
    out: list[str | None] = []
    for v in labels:
        if v is None or (isinstance(v, float) and math.isnan(v)) or not str(v).strip():
            out.append(None)
            continue
        key = str(v).strip()
        canon = aliases.get(key.lower(), aliases.get(key))
        if canon is None:
            raise InputError(f"unknown reason category {v!r}. Suggestion: use one of "
                             f"{', '.join(REASON_CATEGORIES)}")
        out.append(canon)
    return out


@dataclass
class ClassifierChoice:
    """Which text classifier was chosen, and how both did on the labelled texts.

    Attributes
    ----------
    used : {"lexicon", "supervised"}
        The classifier returned.
    reason : str
        Why: ``"forced"`` (mode given), ``"too_few_labels"``, ``"supervised_better"``
        or ``"lexicon_better"``.
    lexicon_accuracy : float or None
        Share of labelled rows the lexicon classifies right (no keyword = wrong);
        ``None`` without labels.
    supervised_accuracy : float or None
        Cross-validated accuracy of the supervised model (GroupKFold by text);
        ``None`` where it was not evaluated.
    n_labelled : int
        Labelled rows (repeats included).
    n_texts : int
        Distinct labelled texts.
    n_splits : int
        Folds of the cross-validation (0: none).
    per_category : pandas.DataFrame
        ``category, n, lexicon_accuracy, supervised_accuracy``: the recall of each
        classifier per true category.
    """

    used: str
    reason: str
    lexicon_accuracy: float | None
    supervised_accuracy: float | None
    n_labelled: int
    n_texts: int
    n_splits: int
    per_category: pd.DataFrame = field(repr=False)

    @property
    def accuracy(self) -> float | None:
        """The accuracy of the classifier used."""
        return self.supervised_accuracy if self.used == "supervised" else self.lexicon_accuracy

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (NaN as ``None``)."""
        def num(v: Any) -> float | None:
            return None if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)

        return {
            "used": self.used, "reason": self.reason, "accuracy": num(self.accuracy),
            "lexicon_accuracy": num(self.lexicon_accuracy),
            "supervised_accuracy": num(self.supervised_accuracy),
            "n_labelled": int(self.n_labelled), "n_texts": int(self.n_texts),
            "n_splits": int(self.n_splits),
            "per_category": [
                {"category": str(r.category), "n": int(r.n),
                 "lexicon_accuracy": num(r.lexicon_accuracy),
                 "supervised_accuracy": num(r.supervised_accuracy)}
                for r in self.per_category.itertuples(index=False)],
        }


def _cv_predictions(texts: list[str], labels: ObjectArray, weights: FloatArray,
                    n_splits: int, template: TextReasonClassifier,
                    random_state: int | None) -> ObjectArray:
    """Out-of-fold predictions of the supervised model; rows are distinct
    ``(text, label)`` pairs and the groups are the texts."""
    codes = pd.factorize(pd.Series(texts, dtype=object))[0]
    # GroupKFold assigns equal-sized groups in the order of their ids: ids in a seeded
    # random order make the folds a seeded random partition of the texts
    rng = np.random.default_rng(random_state)
    groups = rng.permutation(int(codes.max()) + 1)[codes]
    pred = np.full(len(texts), None, dtype=object)
    for train, test in GroupKFold(n_splits=n_splits).split(texts, labels, groups):
        seen = set(labels[train].tolist())
        if len(seen) < 2:  # one category left to learn from: it is the only answer
            pred[test] = next(iter(seen))
            continue
        model = TextReasonClassifier(C=template.C, ngram_range=template.ngram_range,
                                     max_iter=template.max_iter)
        model._fit_grouped([texts[i] for i in train], labels[train], weights[train])
        pred[test] = model.predict([texts[i] for i in test])
    return pred


def choose_classifier(
    texts: Sequence[str | None],
    labels: Sequence[Any],
    *,
    mode: ClassifierMode | str = "auto",
    min_labelled: int = 50,
    lexicon: Lexicon | None = None,
    random_state: int | None = 0,
) -> tuple[LexiconClassifier | TextReasonClassifier, ClassifierChoice]:
    """Choose the lexicon or a supervised model for a kind of text, and fit it.

    Parameters
    ----------
    texts : sequence of str or None
        Texts (complaints, or cancellation notes).
    labels : sequence
        Their reason category (``None`` = unlabelled; aliases such as 价格 accepted).
    mode : {"auto", "lexicon", "supervised"}
        ``auto``: the supervised model when there are at least ``min_labelled`` labelled
        texts of at least two categories and its cross-validated accuracy beats the
        lexicon's; otherwise the lexicon. ``lexicon`` / ``supervised`` force the choice
        (the supervised model is then not cross-validated / is fitted whatever the count).
    min_labelled : int, default 50
        Labelled rows needed before ``auto`` tries a supervised model.
    lexicon : Lexicon, optional
        The lexicon (default: the built-in one).
    random_state : int or None, default 0
        Seed of the assignment of texts to cross-validation folds (the fit itself,
        lbfgs, is deterministic). Same inputs and seed, same choice.

    Returns
    -------
    classifier : LexiconClassifier or TextReasonClassifier
        Fitted; the supervised one on all labelled texts.
    choice : ClassifierChoice
        Both accuracies, overall and per category.

    Raises
    ------
    SettingsError
        If ``mode`` is unknown.
    InputError
        If ``texts`` and ``labels`` differ in length, a label is not a reason category,
        or ``mode="supervised"`` without labelled texts of two categories.
    """
    if mode not in CLASSIFIER_MODES:
        raise SettingsError(f"classifier must be one of {', '.join(CLASSIFIER_MODES)}, "
                            f"got {mode!r}")
    if len(texts) != len(labels):
        raise InputError(f"texts and labels differ in length: {len(texts)} vs {len(labels)}")
    lex_clf = LexiconClassifier(lexicon=lexicon if lexicon is not None else load_lexicon())
    lex_clf.fit([])

    pairs = pd.DataFrame({"text": _clean(texts), "label": _clean_labels(labels)})
    pairs = pairs[pairs["text"].notna() & pairs["label"].notna()]
    grouped = pairs.groupby(["text", "label"], sort=True).size().reset_index(name="w")
    g_texts: list[str] = grouped["text"].tolist()
    g_labels = grouped["label"].to_numpy(dtype=object)
    weights = grouped["w"].to_numpy(dtype=float)
    n_labelled = int(weights.sum())
    n_texts = len(set(g_texts))
    n_classes = len(set(g_labels.tolist()))

    lex_ok = np.zeros(len(g_texts), dtype=bool)
    if len(g_texts):
        lex_ok = lex_clf.predict(g_texts) == g_labels
    lex_acc = float(weights[lex_ok].sum() / n_labelled) if n_labelled else None

    feasible = n_classes >= 2 and n_texts >= 2
    evaluate = feasible and (mode == "supervised"
                             or (mode == "auto" and n_labelled >= min_labelled))
    template = TextReasonClassifier()
    sup_ok: npt.NDArray[np.bool_] | None = None
    n_splits = 0
    if evaluate:
        n_splits = min(5, n_texts)
        sup_pred = _cv_predictions(g_texts, g_labels, weights, n_splits, template,
                                   random_state)
        sup_ok = sup_pred == g_labels
    sup_acc = float(weights[sup_ok].sum() / n_labelled) if sup_ok is not None else None

    if mode == "supervised":
        if not feasible:
            raise InputError(
                f"a supervised text classifier needs labelled texts of at least two "
                f"categories; got {n_labelled} labelled rows of {n_classes} categories. "
                f"Suggestion: set [reasons] classifier = \"lexicon\" or \"auto\"")
        used, reason = "supervised", "forced"
    elif mode == "lexicon":
        used, reason = "lexicon", "forced"
    elif sup_acc is None:
        used, reason = "lexicon", "too_few_labels"
    elif lex_acc is None or sup_acc > lex_acc:
        used, reason = "supervised", "supervised_better"
    else:
        used, reason = "lexicon", "lexicon_better"

    rows = []
    for cat in [c for c in REASON_CATEGORIES if c in set(g_labels.tolist())]:
        mask = g_labels == cat
        n = float(weights[mask].sum())
        rows.append({
            "category": cat, "n": int(n),
            "lexicon_accuracy": float(weights[mask & lex_ok].sum() / n),
            "supervised_accuracy": (float(weights[mask & sup_ok].sum() / n)
                                    if sup_ok is not None else float("nan")),
        })
    per_category = pd.DataFrame(rows, columns=["category", "n", "lexicon_accuracy",
                                               "supervised_accuracy"])
    choice = ClassifierChoice(used=used, reason=reason, lexicon_accuracy=lex_acc,
                              supervised_accuracy=sup_acc, n_labelled=n_labelled,
                              n_texts=n_texts, n_splits=n_splits, per_category=per_category)
    if used == "supervised":
        model = TextReasonClassifier(C=template.C, ngram_range=template.ngram_range,
                                     max_iter=template.max_iter)
        model._fit_grouped(g_texts, g_labels, weights)
        return model, choice
    return lex_clf, choice


# ------------------------------------------------------------------------ classify


def classify_texts(texts: Sequence[str | None], classifier: Any) -> pd.DataFrame:
    """Classify texts, each distinct text once.

    Parameters
    ----------
    texts : sequence of str or None
        One text per row; repeats are classified once and mapped back.
    classifier : LexiconClassifier, TextReasonClassifier or a fitted scikit-learn
        classifier with ``predict_proba`` and ``classes_``.

    Returns
    -------
    pandas.DataFrame
        One row per text, in order: ``category`` (str, ``None`` for a blank text or no
        keyword), ``confidence`` (float in [0, 1], 0.0 for a blank text) and ``method``
        (``"lexicon"`` / ``"supervised"``).

    Raises
    ------
    NotFittedError
        If the classifier is not fitted.
    """
    clean = _clean(texts)
    codes, uniques = pd.factorize(pd.Series(clean, dtype=object), sort=False)
    method = str(getattr(classifier, "method", "supervised"))
    u_texts = [str(u) for u in uniques]
    if hasattr(classifier, "predict_with_confidence"):
        u_labels, u_conf = classifier.predict_with_confidence(u_texts)
    elif hasattr(classifier, "predict_proba") and hasattr(classifier, "classes_"):
        proba = np.asarray(classifier.predict_proba(u_texts), dtype=float) if u_texts \
            else np.zeros((0, 1))
        best = proba.argmax(axis=1)
        u_labels = np.asarray(classifier.classes_, dtype=object)[best]
        u_conf = proba[np.arange(len(best)), best]
    else:
        raise InputError(f"{type(classifier).__name__} cannot classify texts. Suggestion: "
                         f"use choose_classifier or LexiconClassifier().fit([])")
    n = len(clean)
    category = np.full(n, None, dtype=object)
    confidence = np.zeros(n)
    ok = codes >= 0
    if len(u_texts):
        category[ok] = np.asarray(u_labels, dtype=object)[codes[ok]]
        confidence[ok] = np.clip(np.asarray(u_conf, dtype=float)[codes[ok]], 0.0, 1.0)
    return pd.DataFrame({"category": category, "confidence": confidence,
                         "method": np.full(n, method, dtype=object)})


# ------------------------------------------------------------------------ insights


def top_terms(texts: Sequence[str | None], categories: Sequence[Any], *, k: int = 10,
              lexicon: Lexicon | None = None, max_texts: int | None = 20_000,
              random_state: int | None = 0) -> pd.DataFrame:
    """The words that characterise each category's texts (complaint insights).

    A term's ``count`` is the number of the category's texts that contain it, ``share``
    that count over the category's texts, and ``lift`` its share in the category over its
    share in all texts. Terms are ranked by ``count × log2(1 + lift)`` — frequent *and*
    specific — doubled for domain terms (lexicon and jieba user-dictionary words such as
    网速, 掉线, 返利), among those over-represented in the category (``lift > 1``; with a
    single category every term qualifies). Stopwords, numbers and one-character tokens
    are left out (a one-character Chinese lexicon word stays).

    Parameters
    ----------
    texts : sequence of str or None
        The texts (repeats are tokenised once).
    categories : sequence
        The category of each text (``None`` rows are ignored).
    k : int, default 10
        Terms per category.
    lexicon : Lexicon, optional
        Its words are kept whole by the tokenizer (default: the built-in lexicon).
    max_texts : int or None, default 20000
        Word segmentation costs ~0.1-0.3 ms per distinct text; with more distinct texts
        than this, shares and lifts are estimated on a seeded random sample of
        ``max_texts`` rows and ``count`` is ``share`` × the category's row count.
        ``None``: always count every text.
    random_state : int or None, default 0
        Seed of that sample.

    Returns
    -------
    pandas.DataFrame
        ``category, term, count, share, lift``; categories in taxonomy order, terms best
        first.

    Examples
    --------
    >>> df = top_terms(["宽带网速太慢", "网速太慢经常掉线", "客服态度差"],
    ...                ["product", "product", "service"], k=2)
    >>> df[df.category == "product"].term.tolist()
    ['网速', '太慢']
    """
    if len(texts) != len(categories):
        raise InputError(f"texts and categories differ in length: {len(texts)} vs "
                         f"{len(categories)}")
    if k < 1:
        raise InputError(f"k must be at least 1, got {k}")
    if max_texts is not None and max_texts < 1:
        raise InputError(f"max_texts must be at least 1 (or None), got {max_texts}")
    cols = ["category", "term", "count", "share", "lift"]
    frame = pd.DataFrame({"text": _clean(texts),
                          "category": [None if c is None or (isinstance(c, float)
                                                             and math.isnan(c))
                                       else str(c) for c in categories]})
    frame = frame[frame["text"].notna() & frame["category"].notna()]
    if frame.empty:
        return pd.DataFrame(columns=cols)
    rows_per_cat = frame.groupby("category").size()
    if max_texts is not None and frame["text"].nunique() > max_texts:
        rng = np.random.default_rng(random_state)
        keep_rows = np.sort(rng.choice(len(frame), size=max_texts, replace=False))
        frame = frame.iloc[keep_rows]
    lex = lexicon if lexicon is not None else load_lexicon()
    words = lex.words()
    domain = domain_terms(lex)

    def keep(term: str) -> bool:
        if not term or term.isdigit() or term.replace(".", "", 1).isdigit():
            return False
        return len(term) >= 2 or (is_cjk(term) and term in words)

    pairs = frame.groupby(["text", "category"], sort=False).size()
    tokens: dict[str, set[str]] = {}
    per_cat: dict[str, Counter[str]] = {}
    n_cat: Counter[str] = Counter()
    overall: Counter[str] = Counter()
    for (text, cat), n in pairs.items():
        if text not in tokens:
            tokens[text] = {t for t in tokenize(text, lex) if keep(t)}
        counter = per_cat.setdefault(cat, Counter())
        for term in tokens[text]:
            counter[term] += int(n)
            overall[term] += int(n)
        n_cat[cat] += int(n)
    n_all = sum(n_cat.values())
    order = [c for c in REASON_CATEGORIES if c in per_cat] + sorted(
        c for c in per_cat if c not in REASON_CATEGORIES)
    rows: list[dict[str, Any]] = []
    for cat in order:
        cand = []
        for term, count in per_cat[cat].items():
            share = count / n_cat[cat]
            lift = share / (overall[term] / n_all)
            if len(per_cat) > 1 and lift <= 1.0:
                continue
            boost = 2.0 if term in domain else 1.0
            # a sample's count, scaled to all the category's rows (unchanged without one)
            scaled = int(round(share * int(rows_per_cat[cat])))
            cand.append((-(scaled * math.log2(1.0 + lift) * boost), term, scaled, share, lift))
        cand.sort()
        rows.extend({"category": cat, "term": term, "count": count, "share": share,
                     "lift": lift} for _, term, count, share, lift in cand[:k])
    return pd.DataFrame(rows, columns=cols)


__all__ = [
    "CLASSIFIER_MODES", "ClassifierChoice", "ClassifierMode", "ReasonClassifier",
    "TextReasonClassifier", "choose_classifier", "classify_texts", "top_terms",
]
