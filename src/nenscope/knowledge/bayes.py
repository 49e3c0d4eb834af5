"""Post-test probability from a pre-test probability and a likelihood ratio (Bayes in odds)."""

from __future__ import annotations

import math

from nenscope.core.errors import ScenarioError

__all__ = ["compute_post_test_probability"]


def compute_post_test_probability(pretest_probability: float, likelihood_ratio: float) -> float:
    """Probability of disease after a test result with the given likelihood ratio.

    Parameters
    ----------
    pretest_probability
        Probability of disease before the test, in [0, 1].
    likelihood_ratio
        LR+ for a positive result or LR− for a negative one; finite and >= 0.

    Notes
    -----
    post-test odds = pre-test odds × LR; odds = p / (1 − p) (clinical-facts.md §4, Bayesian
    note). A certain pre-test probability (0 or 1) is returned unchanged.

    Examples
    --------
    Pre-test 30 %, 68Ga-DOTATOC positive (LR+ 5.1) gives about 69 %.

    >>> round(compute_post_test_probability(0.30, 5.1), 3)
    0.686
    """
    if not 0.0 <= pretest_probability <= 1.0:
        raise ScenarioError(f"pretest_probability must be in [0, 1], got {pretest_probability}.")
    if not (math.isfinite(likelihood_ratio) and likelihood_ratio >= 0.0):
        raise ScenarioError(f"likelihood ratio must be finite and >= 0, got {likelihood_ratio}.")
    if pretest_probability in (0.0, 1.0):
        return pretest_probability
    odds = pretest_probability / (1.0 - pretest_probability) * likelihood_ratio
    return odds / (1.0 + odds)
