"""Customer value: purchase, spend and retention models, and customer lifetime value.

* :class:`BGNBDModel` and :class:`ParetoNBDModel` -- how many purchases a customer of a
  non-contractual business will make, and the probability the customer is still alive.
* :class:`GammaGammaModel` -- expected spend per purchase.
* :class:`ShiftedBetaGeometricModel` -- retention of a contract cohort, projected.
* :func:`customer_lifetime_value` -- purchases x spend x margin, discounted.

Every model follows scikit-learn's contract (keyword arguments in ``__init__``, ``fit``
returns ``self``, fitted attributes ``params_``, ``standard_errors_``,
``log_likelihood_``, ``n_customers_``, ``converged_``) and is written by hand on SciPy:
the likelihoods are closed form, see each module for why and for the references.
"""

from churnradar.value.bgnbd import BGNBDModel
from churnradar.value.clv import DAYS_PER_YEAR, customer_lifetime_value
from churnradar.value.gammagamma import GammaGammaModel
from churnradar.value.paretonbd import ParetoNBDModel
from churnradar.value.sbg import ShiftedBetaGeometricModel

__all__ = [
    "DAYS_PER_YEAR",
    "BGNBDModel",
    "GammaGammaModel",
    "ParetoNBDModel",
    "ShiftedBetaGeometricModel",
    "customer_lifetime_value",
]
