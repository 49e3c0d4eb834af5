"""ComBat harmonisation of features across scanners or sites (parametric empirical Bayes).

Fitted inside each cross-validation training fold (:class:`ComBatHarmoniser` in
``nenscope.models.steps``), so the validation cases never inform the batch estimates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from nenscope.models.errors import ModelInputError

__all__ = ["COMBAT_TOL", "ComBatFit", "apply_combat", "fit_combat"]

COMBAT_TOL = 1e-4
"""Relative change of the posterior batch estimates at which the EB iteration stops
(the value of Johnson et al.'s reference implementation and of neuroCombat)."""

_MAX_ITER = 1000
"""Iteration cap; the EB fixed point is reached in tens of iterations on real data."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ComBatFit:
    """ComBat estimates fitted on training cases.

    Parameters
    ----------
    batches
        Batch labels, in the row order of ``gamma_star`` and ``delta_star``.
    grand_mean
        Per-feature mean (n_features,), weighted by batch size.
    var_pooled
        Per-feature pooled within-batch variance (n_features,).
    gamma_star
        Posterior additive batch effects (n_batches, n_features), in standardised units.
    delta_star
        Posterior multiplicative batch effects (variances) (n_batches, n_features).
    """

    batches: tuple[str, ...]
    grand_mean: npt.NDArray[np.float64]
    var_pooled: npt.NDArray[np.float64]
    gamma_star: npt.NDArray[np.float64]
    delta_star: npt.NDArray[np.float64]


def _post_gamma(
    g_hat: npt.NDArray[np.float64],
    g_bar: float,
    n: int,
    d_star: npt.NDArray[np.float64],
    t2: float,
) -> npt.NDArray[np.float64]:
    return (t2 * n * g_hat + d_star * g_bar) / (t2 * n + d_star)


def _eb_batch(
    z: npt.NDArray[np.float64], g_hat: npt.NDArray[np.float64], d_hat: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Posterior (gamma*, delta*) of one batch; ``z`` is (n_cases, n_features) standardised."""
    n = z.shape[0]
    g_bar = float(np.mean(g_hat))
    t2 = float(np.var(g_hat, ddof=1))
    m = float(np.mean(d_hat))
    s2 = float(np.var(d_hat, ddof=1))
    a_prior = (2.0 * s2 + m**2) / s2
    b_prior = (m * s2 + m**3) / s2
    g_old, d_old = g_hat, d_hat
    for _ in range(_MAX_ITER):
        g_new = _post_gamma(g_hat, g_bar, n, d_old, t2)
        sum2 = np.sum((z - g_new) ** 2, axis=0)
        d_new = (0.5 * sum2 + b_prior) / (n / 2.0 + a_prior - 1.0)
        change = max(
            float(np.max(np.abs(g_new - g_old) / np.abs(g_old))),
            float(np.max(np.abs(d_new - d_old) / d_old)),
        )
        g_old, d_old = g_new, d_new
        if change <= COMBAT_TOL:
            break
    return g_old, d_old


def fit_combat(x: npt.ArrayLike, batch: Sequence[str]) -> ComBatFit:
    """Fit ComBat (parametric priors, no covariates) on training cases.

    Parameters
    ----------
    x
        Features (n_cases, n_features), no missing values.
    batch
        Batch (scanner or site) of each case; every batch needs at least 2 cases.

    Returns
    -------
    ComBatFit
        The estimates; :func:`apply_combat` harmonises cases of these batches.

    Raises
    ------
    ModelInputError
        Missing values, a batch with fewer than 2 cases, fewer than 2 batches, or fewer than
        2 features (the empirical Bayes priors pool over features).

    Notes
    -----
    Johnson WE, Li C, Rabinovic A. Adjusting batch effects in microarray expression data using
    empirical Bayes methods. Biostatistics 2007;8:118-27, doi:10.1093/biostatistics/kxj037;
    applied to radiomics by Orlhac F et al., J Nucl Med 2018;59:1321-8. The estimates follow
    neuroCombat (Fortin et al. 2018), which the tests use as an oracle.
    """
    data = np.asarray(x, dtype=np.float64)
    labels = np.asarray([str(b) for b in batch])
    if data.ndim != 2 or data.shape[0] != labels.size:
        raise ModelInputError(
            f"ComBat needs a (cases, features) table and one batch per case; got {data.shape} "
            f"and {labels.size} batch labels."
        )
    if not np.all(np.isfinite(data)):
        raise ModelInputError("ComBat needs complete features; impute missing values first.")
    names, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    if names.size < 2 or data.shape[1] < 2 or np.any(counts < 2):
        raise ModelInputError(
            "ComBat needs at least 2 batches of at least 2 cases and at least 2 features; got "
            f"batches {dict(zip(names.tolist(), counts.tolist(), strict=True))} and "
            f"{data.shape[1]} features. Merge small scanner groups or run without --harmonise."
        )
    n = data.shape[0]
    batch_means = np.stack([data[inverse == i].mean(axis=0) for i in range(names.size)])
    grand_mean = (counts / n) @ batch_means
    var_pooled = np.mean((data - batch_means[inverse]) ** 2, axis=0)
    var_pooled = np.where(var_pooled > 0, var_pooled, 1.0)  # constant feature: left as is
    z = (data - grand_mean) / np.sqrt(var_pooled)
    gammas, deltas = [], []
    for i in range(names.size):
        zi = z[inverse == i]
        g_hat = zi.mean(axis=0)
        d_hat = zi.var(axis=0, ddof=1)
        g_star, d_star = _eb_batch(zi, g_hat, d_hat)
        gammas.append(g_star)
        deltas.append(d_star)
    return ComBatFit(
        batches=tuple(names.tolist()),
        grand_mean=grand_mean,
        var_pooled=var_pooled,
        gamma_star=np.stack(gammas),
        delta_star=np.stack(deltas),
    )


def apply_combat(
    fit: ComBatFit, x: npt.ArrayLike, batch: Sequence[str]
) -> npt.NDArray[np.float64]:
    """Harmonise cases with estimates from :func:`fit_combat`.

    Parameters
    ----------
    fit
        Fitted estimates.
    x
        Features (n_cases, n_features) in the fit's feature order.
    batch
        Batch of each case; each must be one of ``fit.batches``.

    Returns
    -------
    numpy.ndarray
        Harmonised features (n_cases, n_features), float64; the input is not modified.

    Raises
    ------
    ModelInputError
        A batch the fit has not seen (ComBat cannot estimate its effect from one new case).
    """
    data = np.asarray(x, dtype=np.float64)
    index = {name: i for i, name in enumerate(fit.batches)}
    unseen = sorted({str(b) for b in batch} - set(index))
    if unseen:
        raise ModelInputError(
            f"Batch(es) {', '.join(unseen)} were not in the training data; ComBat has no "
            f"estimate for them (known: {', '.join(fit.batches)}). Harmonise with a model "
            "trained on data from that scanner, or predict without harmonisation."
        )
    rows = np.asarray([index[str(b)] for b in batch], dtype=np.intp)
    z = (data - fit.grand_mean) / np.sqrt(fit.var_pooled)
    adjusted = (z - fit.gamma_star[rows]) / np.sqrt(fit.delta_star[rows])
    out: npt.NDArray[np.float64] = adjusted * np.sqrt(fit.var_pooled) + fit.grand_mean
    return out
