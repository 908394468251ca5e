"""Predict: raw texts -> normalised and screened -> segmented -> the student (torch or ONNX) -> label
and per-class probabilities. The same nodes serve the MLflow model and `kedro run --pipeline predict`."""

from typing import Any

import pandas as pd

from text_distill.distill.export.onnx_export import cached_onnx_network
from text_distill.distill.export.serving import label_texts, screen_texts
from text_distill.distill.models.student import StudentClassifier
from text_distill.errors import TextDistillError

RUNTIMES = ("torch", "onnx", "onnx_int8")


def screen_texts_to_predict(texts: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Normalised texts and a status per row (see ``text_distill.distill.export.serving``)."""
    return screen_texts(texts, int(params["max_chars"]))


def predict_labels(
    screened: pd.DataFrame,
    student: StudentClassifier,
    student_onnx: bytes,
    student_onnx_int8: bytes,
    params: dict[str, Any],
) -> pd.DataFrame:
    """Label and probabilities per row, the student run by ``params["runtime"]``."""
    runtime = params["runtime"]
    if runtime not in RUNTIMES:
        raise TextDistillError(f"predict.runtime must be one of {list(RUNTIMES)}, got {runtime!r}")
    onnx_model = {"onnx": student_onnx, "onnx_int8": student_onnx_int8}.get(runtime)
    network = None if onnx_model is None else cached_onnx_network(onnx_model, int(params["threads"]))
    return label_texts(screened, student, int(params["batch_size"]), network)
