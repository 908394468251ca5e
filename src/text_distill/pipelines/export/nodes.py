"""Export: the distilled student ready to ship. Its network in ONNX and in dynamic int8, checked
against the torch student on the test split, next to the student itself in the serving folder that
the MLflow model is packaged from."""

from typing import Any

import pandas as pd
import torch

from text_distill.distill.export.onnx_export import (
    EXPORTS,
    OnnxParityError,
    check_parity,
    export_onnx,
    onnx_parity,
    quantise_int8,
)
from text_distill.distill.models.student import StudentClassifier

__all__ = ["OnnxParityError", "check_onnx_parity", "export_student"]


def export_student(
    student: StudentClassifier, params: dict[str, Any]
) -> tuple[StudentClassifier, bytes, bytes]:
    """The student (unchanged: the serving folder's copy is the one the MLflow model packages), its
    network in ONNX and the same quantised to int8."""
    torch.set_num_threads(int(params["threads"]))
    onnx_model = export_onnx(student)
    return student, onnx_model, quantise_int8(onnx_model)


def check_onnx_parity(
    student: StudentClassifier,
    student_onnx: bytes,
    student_onnx_int8: bytes,
    examples: pd.DataFrame,
    params: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    """Agreement of each ONNX runtime's label with the torch student's on the test split (and the
    largest logit difference, and accuracy); the fp32 export must reach ``min_agreement``."""
    threads = int(params["threads"])
    torch.set_num_threads(threads)
    test = examples[examples["split"] == "test"]
    exports = dict(zip(EXPORTS, (student_onnx, student_onnx_int8), strict=True))
    report = onnx_parity(
        student,
        exports,
        test["text"].tolist(),
        test["label_id"].to_numpy(),
        int(params["batch_size"]),
        threads,
    )
    report["min_agreement"] = float(params["min_agreement"])
    check_parity(report, report["min_agreement"])
    metrics = {
        f"{name}_{key}": {"value": report[name][key], "step": 0}
        for name in EXPORTS
        for key in ("agreement", "accuracy")
    }
    return report, metrics
