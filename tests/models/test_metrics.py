"""Calibration, decision curve and bootstrap CIs against values derivable by hand."""

from __future__ import annotations

import numpy as np
import pytest

from nenscope.models.metrics import auc_score, bootstrap_ci, calibration, decision_curve


def test_calibration_of_well_calibrated_probabilities() -> None:
    rng = np.random.default_rng(0)
    p = rng.uniform(0.05, 0.95, 20000)
    y = (rng.random(p.size) < p).astype(float)
    cal = calibration(y, p)
    # Outcomes drawn with probability p: slope 1 and intercept 0 up to sampling error
    # (SE of the slope ~0.03 for 20,000 cases).
    assert cal.slope == pytest.approx(1.0, abs=0.1)
    assert cal.intercept == pytest.approx(0.0, abs=0.05)
    np.testing.assert_allclose(cal.curve_observed, cal.curve_predicted, atol=0.04)
    # Brier of calibrated p = E[p(1-p)] = 1/2 - E[p^2]; for U(0.05, 0.95) that is ~0.1975.
    assert cal.brier == pytest.approx(np.mean(p * (1 - p)), abs=0.005)


def test_calibration_slope_of_overconfident_probabilities() -> None:
    rng = np.random.default_rng(1)
    true_logit = rng.normal(0.0, 1.0, 20000)
    y = (rng.random(true_logit.size) < 1 / (1 + np.exp(-true_logit))).astype(float)
    overconfident = 1 / (1 + np.exp(-2.0 * true_logit))  # logits doubled: slope 1/2
    assert calibration(y, overconfident).slope == pytest.approx(0.5, abs=0.05)


def test_decision_curve_by_hand() -> None:
    y = np.array([1, 1, 0, 0])
    p = np.array([0.9, 0.4, 0.6, 0.1])
    dca = decision_curve(y, p, thresholds=[0.5])
    # At p_t = 0.5 (odds 1): act on 0.9 (TP) and 0.6 (FP): NB = 1/4 - 1/4 = 0.
    assert dca.model[0] == pytest.approx(0.0, abs=1e-12)
    # Treat all: prevalence 0.5 - 0.5 * 1 = 0.
    assert dca.treat_all[0] == pytest.approx(0.0, abs=1e-12)
    dca = decision_curve(y, p, thresholds=[0.2])
    # Odds 0.25: act on 0.9, 0.4, 0.6 -> TP 2/4, FP 1/4: 0.5 - 0.0625.
    assert dca.model[0] == pytest.approx(0.4375, abs=1e-12)


def test_bootstrap_ci_covers_the_estimate_and_resamples_patients() -> None:
    rng = np.random.default_rng(2)
    y = np.repeat(rng.integers(0, 2, 60), 3)  # 60 patients, 3 lesions each
    s = y + rng.normal(0, 1.0, y.size)
    groups = np.repeat(np.arange(60), 3)
    est = bootstrap_ci(
        lambda r: auc_score(y[r], s[r]), groups, n_boot=200, rng=np.random.default_rng(3)
    )
    assert est.ci95[0] < est.estimate < est.ci95[1]
    assert est.n_boot == 200
