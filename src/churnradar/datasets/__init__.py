"""Demo data: realistic, seeded churn simulations with their ground truth.

>>> from churnradar.datasets import make_demo_data, write_demo_files
>>> demo = make_demo_data("telecom", n_customers=1_000, random_state=0)
>>> demo.tables["customers"].num_rows
1000
"""

from churnradar.datasets.demo import INDUSTRIES, DemoData, Industry, make_demo_data
from churnradar.datasets.files import CUSTOMER_HEADERS_ZH, write_demo_files
from churnradar.datasets.telco import load_telco

__all__ = [
    "CUSTOMER_HEADERS_ZH", "INDUSTRIES", "DemoData", "Industry", "make_demo_data",
    "load_telco", "write_demo_files",
]
