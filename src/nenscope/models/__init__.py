"""Grade / Ki-67 models on feature tables with honest validation (scikit-learn).

Nested cross-validation with patient grouping, selection and harmonisation inside the folds,
bootstrap confidence intervals, calibration, decision curves, permutation tests, a model card,
and prediction with out-of-distribution checks. Needs the ``models`` extra.
"""

from nenscope.models.combat import ComBatFit, apply_combat, fit_combat
from nenscope.models.errors import ModelInputError, OutOfDistributionError
from nenscope.models.nested import (
    Learner,
    NestedResult,
    Task,
    ValidationSettings,
    naive_cv_predictions,
    nested_cv,
    outer_splits,
)
from nenscope.models.predict import LoadedModel, PredictionResult, load_model, predict_table
from nenscope.models.table import (
    PreparedTable,
    TableSpec,
    ki67_to_grade,
    prepare_table,
    read_table,
)
from nenscope.models.train import TrainedModel, TrainSettings, train_model, write_model

__all__ = [
    "ComBatFit",
    "Learner",
    "LoadedModel",
    "ModelInputError",
    "NestedResult",
    "OutOfDistributionError",
    "PredictionResult",
    "PreparedTable",
    "TableSpec",
    "Task",
    "TrainSettings",
    "TrainedModel",
    "ValidationSettings",
    "apply_combat",
    "fit_combat",
    "ki67_to_grade",
    "load_model",
    "naive_cv_predictions",
    "nested_cv",
    "outer_splits",
    "predict_table",
    "prepare_table",
    "read_table",
    "train_model",
    "write_model",
]
