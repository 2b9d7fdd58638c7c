"""The MLflow pyfunc that wraps a CalibratedBooster: what the registry stores and scoring loads.

``predict`` takes customer_features rows (plus the offer or channel column) and returns calibrated
probabilities; ``unwrap_python_model().model`` gives scoring the booster for reason codes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mlflow.pyfunc
import numpy as np
import pandas as pd

from models.calibrated_booster import CalibratedBooster

ARTIFACT_KEY = "calibrated_booster"


class NextBestActionModel(mlflow.pyfunc.PythonModel):
    model: CalibratedBooster

    def load_context(self, context: mlflow.pyfunc.PythonModelContext) -> None:
        self.model = CalibratedBooster.load(Path(context.artifacts[ARTIFACT_KEY]))

    def predict(
        self,
        context: mlflow.pyfunc.PythonModelContext,
        model_input: pd.DataFrame,
        params: dict[str, Any] | None = None,
    ) -> np.ndarray:
        return self.model.predict_proba(model_input)
