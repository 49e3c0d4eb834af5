"""Numbers for docs/models.md: honesty checks and the training time of a 600 x 30 table.

Usage: ``python benchmarks/bench_models.py [--skip-timing]``

- Null data (120 cases, 300 noise features, random labels): the nested estimate and its CI,
  and a naive pipeline that selects 10 features on all cases before cross-validating.
- Known effect (3 informative features among 200, 300 cases): nested estimate and CI vs the
  true AUC of the final model on 20,000 independent cases.
- scikit-learn's breast-cancer table: nested AUC (logistic regression only, and all learners).
- A 600-row, 30-feature table through ``train_model`` with the CLI defaults (timing).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from nenscope.models.metrics import auc_score, bootstrap_ci
from nenscope.models.nested import (
    Learner,
    Task,
    ValidationSettings,
    fit_final,
    naive_cv_predictions,
    nested_cv,
)
from nenscope.models.table import TableSpec, prepare_table
from nenscope.models.train import TrainSettings, train_model

LR = ValidationSettings(learners=(Learner.LOGISTIC,))


def _names(p: int) -> list[str]:
    return [f"f{i}" for i in range(p)]


def _with_ci(y: np.ndarray, s: np.ndarray) -> dict[str, object]:
    est = bootstrap_ci(
        lambda r: auc_score(y[r], s[r]),
        np.arange(y.size),
        n_boot=1000,
        rng=np.random.default_rng(0),
    )
    return {"auc": round(est.estimate, 3), "ci95": [round(v, 3) for v in est.ci95]}


def null_data() -> dict[str, object]:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=(120, 300)), rng.integers(0, 2, 120)
    nested = nested_cv(
        x, y, np.arange(120), task=Task.CLASSIFICATION, feature_names=_names(300), settings=LR
    )
    naive = naive_cv_predictions(x, y, k=10, n_splits=5, seed=0)
    return {"nested": _with_ci(y, nested.predictions[:, 1]), "naive": _with_ci(y, naive)}


def known_effect() -> dict[str, object]:
    def cohort(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        x = rng.normal(size=(n, 200))
        eta = 1.0 * x[:, 0] + 0.8 * x[:, 1] - 0.6 * x[:, 2]
        return x, (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(int)

    out = {}
    for seed in (0, 1, 2):
        x, y = cohort(300, np.random.default_rng(seed))
        s = ValidationSettings(learners=(Learner.LOGISTIC,), seed=seed)
        nested = nested_cv(
            x, y, np.arange(300), task=Task.CLASSIFICATION, feature_names=_names(200), settings=s
        )
        final = fit_final(x, y, np.arange(300), task=Task.CLASSIFICATION, settings=s)
        xt, yt = cohort(20000, np.random.default_rng(100 + seed))
        out[f"seed{seed}"] = {
            **_with_ci(y, nested.predictions[:, 1]),
            "true_auc": round(auc_score(yt, final.predict_proba(xt)[:, 1]), 3),
        }
    return out


def breast_cancer() -> dict[str, object]:
    from sklearn.datasets import load_breast_cancer

    d = load_breast_cancer()
    out = {}
    for name, settings in (("lr", LR), ("lr+rf+gb", ValidationSettings())):
        t = time.perf_counter()
        r = nested_cv(
            d.data,
            d.target,
            np.arange(d.target.size),
            task=Task.CLASSIFICATION,
            feature_names=list(d.feature_names),
            settings=settings,
        )
        out[name] = {
            **_with_ci(d.target, r.predictions[:, 1]),
            "seconds": round(time.perf_counter() - t, 1),
        }
    return out


def timing_600x30() -> dict[str, object]:
    import pandas as pd

    rng = np.random.default_rng(5)
    x = rng.normal(size=(600, 30))
    patients = np.repeat(np.arange(300), 2)
    eta = x[:, 0] - 0.7 * x[:, 1] + 0.5 * x[:, 2]
    y = (rng.random(600) < 1 / (1 + np.exp(-eta))).astype(int)
    frame = pd.DataFrame(x, columns=_names(30))
    frame["patient"] = patients
    frame["label"] = y
    table = prepare_table(frame, TableSpec(target="label", group="patient"))
    wall0, cpu0 = time.perf_counter(), time.process_time()
    model = train_model(table, "label", TrainSettings())
    s = model.summary
    return {
        "wall_s": round(time.perf_counter() - wall0, 1),
        "cpu_s": round(time.process_time() - cpu0, 1),
        "auc": s["auc"],
        "permutations_done": s["permutations"],
        "permutation_p": s["permutation_p"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-timing", action="store_true")
    args = parser.parse_args()
    import os

    report: dict[str, object] = {"load_avg_start": os.getloadavg()}
    report["null_data"] = null_data()
    report["known_effect"] = known_effect()
    report["breast_cancer"] = breast_cancer()
    if not args.skip_timing:
        report["table_600x30_cli_defaults"] = timing_600x30()
    report["load_avg_end"] = os.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
