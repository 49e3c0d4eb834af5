"""ComBat against neuroCombat (Fortin et al.) as an independent oracle, plus its contracts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nenscope.models.combat import apply_combat, fit_combat
from nenscope.models.errors import ModelInputError


def _batched(rng: np.random.Generator) -> tuple[np.ndarray, list[str]]:
    n_per, p = 25, 12
    batch = ["A"] * n_per + ["B"] * n_per + ["C"] * n_per
    x = rng.normal(10.0, 2.0, size=(3 * n_per, p))
    x[n_per : 2 * n_per] = x[n_per : 2 * n_per] * 1.8 + 3.0  # scanner B: scale and shift
    x[2 * n_per :] -= 2.0
    return x, batch


def test_combat_matches_neurocombat() -> None:
    neurocombat = pytest.importorskip("neuroCombat").neuroCombat
    x, batch = _batched(np.random.default_rng(0))
    ours = apply_combat(fit_combat(x, batch), x, batch)
    ref = neurocombat(dat=x.T, covars=pd.DataFrame({"batch": batch}), batch_col="batch")
    # Same estimator and 1e-4 relative stopping rule; neuroCombat divides the change by the
    # signed gamma (so negative effects never hold the loop), we by its magnitude, so the two
    # stop a few iterations apart: agreement to the convergence tolerance, not round-off.
    np.testing.assert_allclose(ours, ref["data"].T, rtol=1e-4)


def test_combat_removes_location_and_scale_differences() -> None:
    x, batch = _batched(np.random.default_rng(1))
    out = apply_combat(fit_combat(x, batch), x, batch)
    b = np.asarray(batch)
    means = np.stack([out[b == k].mean(axis=0) for k in "ABC"])
    stds = np.stack([out[b == k].std(axis=0) for k in "ABC"])
    raw_gap = np.abs(x[b == "B"].mean(axis=0) - x[b == "A"].mean(axis=0)).mean()
    # EB shrinkage toward the across-feature prior leaves a residual of the order of the
    # sampling error of a batch mean (SD 2 / sqrt(25) = 0.4); the raw gap is ~11.
    assert np.abs(means - means.mean(axis=0)).max() < 0.1 * raw_gap
    np.testing.assert_allclose(stds / stds.mean(axis=0), 1.0, atol=0.25)
    assert np.shares_memory(out, x) is False


def test_unseen_batch_is_refused() -> None:
    x, batch = _batched(np.random.default_rng(2))
    fit = fit_combat(x, batch)
    with pytest.raises(ModelInputError, match="not in the training data"):
        apply_combat(fit, x[:2], ["A", "Z"])


@pytest.mark.parametrize(
    ("batch", "match"),
    [(["A"] * 10, "at least 2 batches"), (["A"] * 9 + ["B"], "at least 2 batches")],
    ids=["one-batch", "one-case-batch"],
)
def test_too_small_batches_are_refused(batch: list[str], match: str) -> None:
    x = np.random.default_rng(3).normal(size=(10, 4))
    with pytest.raises(ModelInputError, match=match):
        fit_combat(x, batch)


def test_missing_values_are_refused() -> None:
    x = np.random.default_rng(4).normal(size=(10, 4))
    x[0, 0] = np.nan
    with pytest.raises(ModelInputError, match="impute"):
        fit_combat(x, ["A"] * 5 + ["B"] * 5)
