"""Fast per-customer contributions of a LightGBM model (path attribution).

LightGBM's exact TreeSHAP (``pred_contrib=True``) costs O(trees x leaves x depth^2) per
row: measured here about 5,000-10,000 rows/s on two cores for a 200-tree model, i.e.
minutes for a million customers. Path attribution ("Saabas", the method behind
``treeinterpreter`` and XGBoost's ``approx_contribs``) walks each row's path instead:
every split adds ``value(child) - value(parent)`` to the split feature, so that the
contributions of one row plus the bias add up exactly to its raw score, like SHAP
values do. Each leaf's contribution vector is fixed, so it is computed once per leaf
from the tree dump; scoring a row is then a leaf lookup (``pred_leaf``) and a sparse
sum, tens of times faster than TreeSHAP.

Path attribution gives features near the root more credit than SHAP does (it is not
consistent in the game-theoretic sense); churnradar uses it only where TreeSHAP would be
too slow (see :data:`EXACT_MAX_ROWS`), to rank a customer's top drivers.

References
----------
.. [1] Saabas, A. (2014). Interpreting random forests. https://blog.datadive.net
.. [2] Lundberg, S. M. et al. (2020). From local explanations to global understanding
   with explainable AI for trees. Nature Machine Intelligence 2, 56-67.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

#: above this many rows, "auto" uses path attribution instead of exact TreeSHAP
EXACT_MAX_ROWS = 100_000


@dataclass(frozen=True)
class PathTable:
    """Per-leaf contribution vectors of every tree, stacked: row ``offsets[t] + leaf``."""

    matrix: sp.csr_matrix  # (total leaves, features)
    offsets: np.ndarray    # first row of each tree
    bias: float            # sum of the root values


def _node_value(node: dict[str, Any]) -> float:
    return float(node["leaf_value"] if "leaf_index" in node else node["internal_value"])


def path_table(booster: Any) -> PathTable:
    """Walk every tree of ``booster`` once and store each leaf's contribution vector."""
    dump = booster.dump_model()
    n_features = len(dump["feature_names"])
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    offsets = []
    bias = 0.0
    offset = 0
    for tree in dump["tree_info"]:
        offsets.append(offset)
        root = tree["tree_structure"]
        bias += _node_value(root)
        # depth-first: (node, {feature: contribution so far})
        stack: list[tuple[dict[str, Any], dict[int, float]]] = [(root, {})]
        while stack:
            node, acc = stack.pop()
            if "leaf_index" in node:
                for f, v in acc.items():
                    rows.append(offset + int(node["leaf_index"]))
                    cols.append(f)
                    vals.append(v)
                continue
            f = int(node["split_feature"])
            parent = _node_value(node)
            for child in (node["left_child"], node["right_child"]):
                nxt = dict(acc)
                nxt[f] = nxt.get(f, 0.0) + _node_value(child) - parent
                stack.append((child, nxt))
        offset += int(tree["num_leaves"])
    matrix = sp.csr_matrix((np.asarray(vals, np.float64), (rows, cols)),
                           shape=(offset, n_features))
    return PathTable(matrix=matrix, offsets=np.asarray(offsets, np.int64), bias=bias)


def path_contributions(booster: Any, data: Any, table: PathTable | None = None,
                       *, chunk: int = 200_000, num_threads: int = 0,
                       forest: Any = None) -> np.ndarray:
    """Contributions (rows x features) plus a last column with the bias, like
    ``booster.predict(data, pred_contrib=True)``; rows add up to the raw score.

    ``forest`` (a :class:`~churnradar.predict.forest.Forest` of ``booster``) finds the
    leaves column-wise, about 3x faster than LightGBM's ``pred_leaf``."""
    table = table or path_table(booster)
    n = data.shape[0]
    out = np.empty((n, table.matrix.shape[1] + 1), np.float64)
    out[:, -1] = table.bias
    n_trees = len(table.offsets)
    for lo in range(0, n, chunk):
        part = data.iloc[lo:lo + chunk] if hasattr(data, "iloc") else data[lo:lo + chunk]
        if forest is not None:
            leaves = forest.leaves(np.asarray(part, np.float64), num_threads=num_threads or 1)
        else:
            leaves = booster.predict(part, pred_leaf=True, num_threads=num_threads)
        leaves = np.asarray(leaves, np.int64).reshape(len(part), n_trees)
        glob = (leaves + table.offsets[None, :]).ravel()
        # one row per customer with a 1 in each of its leaves: (rows x leaves) @ table
        ind = sp.csr_matrix((np.ones(glob.size, np.float64), glob,
                             np.arange(0, glob.size + 1, n_trees)),
                            shape=(len(part), table.matrix.shape[0]))
        out[lo:lo + len(part), :-1] = (ind @ table.matrix).toarray()
    return out
