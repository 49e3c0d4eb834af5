"""The model card (HTML with its plots), organised by the TRIPOD+AI reporting items.

Collins GS et al. TRIPOD+AI statement: updated guidance for reporting clinical prediction
models that use regression or machine learning methods. BMJ 2024;385:e078378,
doi:10.1136/bmj-2023-078378.
"""

from __future__ import annotations

import base64
import io
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np
from jinja2 import Environment, select_autoescape

from nenscope import __version__
from nenscope.models.nested import Task

if TYPE_CHECKING:
    from nenscope.models.train import TrainedModel

__all__ = ["render_card"]


def _png(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _figures(model: TrainedModel) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    s = model.summary
    out: list[tuple[str, str]] = []
    nested = model.nested
    if model.table.task is Task.CLASSIFICATION and len(nested.classes) == 2:
        from sklearn.metrics import roc_curve

        y = (model.table.y == nested.classes[1]).astype(int)
        fpr, tpr, _ = roc_curve(y, nested.predictions[:, 1])
        fig = Figure(figsize=(4, 4))
        ax = fig.subplots()
        ax.plot(fpr, tpr, label=f"out-of-fold AUC {s['auc']['estimate']:.3f}")
        ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.set(xlabel="1 - specificity", ylabel="sensitivity", title="ROC (nested CV)")
        ax.legend(loc="lower right")
        out.append(("ROC curve", _png(fig)))
        cal = s["calibration"]["curve"]
        fig = Figure(figsize=(4, 4))
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], ":", color="grey")
        ax.plot(cal["predicted"], cal["observed"], "o-")
        ax.set(xlabel="predicted probability", ylabel="observed fraction", title="Calibration")
        out.append(("Calibration curve (quantile bins)", _png(fig)))
        dca = s["decision_curve"]
        fig = Figure(figsize=(4, 4))
        ax = fig.subplots()
        ax.plot(dca["thresholds"], dca["model"], label="model")
        ax.plot(dca["thresholds"], dca["treat_all"], "--", label="treat all")
        ax.axhline(0.0, color="grey", lw=0.8, label="treat none")
        top = max(max(dca["model"]), max(dca["treat_all"]), 0.01)
        ax.set(ylim=(-0.05, top * 1.1), xlabel="threshold probability", ylabel="net benefit")
        ax.set_title("Decision curve")
        ax.legend()
        out.append(("Decision curve", _png(fig)))
    if model.table.task is Task.REGRESSION:
        fig = Figure(figsize=(4, 4))
        ax = fig.subplots()
        ax.scatter(nested.predictions, model.table.y, s=8)
        lo = float(min(np.min(nested.predictions), np.min(model.table.y)))
        hi = float(max(np.max(nested.predictions), np.max(model.table.y)))
        ax.plot([lo, hi], [lo, hi], ":", color="grey")
        ax.set(xlabel="predicted (out of fold)", ylabel="observed", title="Observed vs predicted")
        out.append(("Observed vs predicted", _png(fig)))
    if model.permutation_null:
        fig = Figure(figsize=(4, 3))
        ax = fig.subplots()
        ax.hist(model.permutation_null, bins=20, color="#999")
        stat = s["auc"]["estimate"] if "auc" in s else -s["mae"]["estimate"]
        ax.axvline(stat, color="red", label="observed")
        label = "AUC" if "auc" in s else "-MAE"
        ax.set(xlabel=f"{label} on permuted labels", ylabel="count", title="Permutation test")
        ax.legend()
        out.append(("Permutation null distribution", _png(fig)))
    return out


def _ci(entry: dict[str, Any]) -> str:
    low, high = entry["ci95"]
    if low is None or not np.isfinite(low):
        return f"{entry['estimate']:.3f} (CI not computable)"
    return f"{entry['estimate']:.3f} (95 % CI {low:.3f}–{high:.3f})"


def _performance(s: dict[str, Any]) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if "auc" in s:
        name = "AUC" if len(s["classes"]) == 2 else "AUC (macro one-vs-rest)"
        rows.append((name, _ci(s["auc"])))
    if "mae" in s:
        rows += [("MAE", _ci(s["mae"])), ("R²", _ci(s["r2"]))]
    grades = s.get("grade_agreement")
    if grades:
        low, high = grades["cutoffs_percent"]
        rows += [
            (f"grade accuracy (Ki-67 at {low:g} % and {high:g} %)", _ci(grades["accuracy"])),
            ("grade agreement, weighted κ (linear)", _ci(grades["kappa_linear"])),
        ]
    cal = s.get("calibration", {})
    if "slope" in cal:
        rows.append(("calibration slope", f"{cal['slope']:.2f} (ideal 1)"))
        rows.append(("calibration intercept", f"{cal['intercept']:.2f} (ideal 0)"))
    if "brier" in cal:
        rows.append(("Brier score", f"{cal['brier']:.3f}"))
    if "brier_multiclass" in cal:
        rows.append(("Brier score (multi-class)", f"{cal['brier_multiclass']:.3f}"))
    p = s.get("permutation_p")
    rows.append(
        (
            "permutation p",
            f"not computed: {s['permutation_note']}"
            if p is None
            else f"{p:.3f} ({s['permutation_note']})",
        )
    )
    return rows


def render_card(model: TrainedModel) -> str:
    """Render the model card as one self-contained HTML page (plots embedded as PNG)."""
    s = dict(model.summary)
    table = model.table
    settings = model.settings
    missing = np.asarray(table.missing)
    perm_text = f" ({s.get('permutation_note', 'not run')})"
    env = Environment(autoescape=select_autoescape(default=True))
    template = resources.files("nenscope.models").joinpath("templates/model_card.html.j2")
    return env.from_string(template.read_text(encoding="utf-8")).render(
        s=s,
        features=table.feature_names,
        batches=", ".join(table.batch_names),
        notes=table.notes,
        n_missing=int(np.sum(missing > 0)),
        max_missing=float(missing.max()) if missing.size else 0.0,
        corr=settings.validation.correlation_threshold,
        learners=", ".join(v.value for v in settings.validation.learners),
        perm_text=perm_text,
        performance=_performance(s),
        figures=_figures(model),
        top_features=list(s["selection_frequency"].items())[:20],
        version=__version__,
    )
