"""Export: the distilled student ready to ship. Its network in ONNX and in dynamic int8, checked
against the torch student on the test split, next to the student itself in the serving folder that
the MLflow model is packaged from."""

import logging
from typing import Any

import numpy as np
import pandas as pd
import torch

from text_distill.distill.onnx_export import OnnxNetwork, export_onnx, quantise_int8
from text_distill.distill.student import StudentClassifier
from text_distill.errors import TextDistillError

logger = logging.getLogger(__name__)

EXPORTS = ("onnx_fp32", "onnx_int8")


class OnnxParityError(TextDistillError):
    """The ONNX export disagrees with the torch student."""


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
    threads, batch_size = int(params["threads"]), int(params["batch_size"])
    torch.set_num_threads(threads)
    test = examples[examples["split"] == "test"]
    texts, labels = test["text"].tolist(), test["label_id"].to_numpy()
    reference = student.predict_logits(texts, batch_size)
    report: dict[str, Any] = {
        "test_texts": len(texts),
        "min_agreement": float(params["min_agreement"]),
        "torch": {"accuracy": float((reference.argmax(axis=1) == labels).mean())},
    }
    for name, onnx_model in zip(EXPORTS, (student_onnx, student_onnx_int8), strict=True):
        logits = student.predict_logits(texts, batch_size, network=OnnxNetwork(onnx_model, threads))
        report[name] = {
            "agreement": float((logits.argmax(axis=1) == reference.argmax(axis=1)).mean()),
            "max_abs_logit_difference": float(np.abs(logits - reference).max()),
            "accuracy": float((logits.argmax(axis=1) == labels).mean()),
            "size_bytes": len(onnx_model),
        }
    metrics = {
        f"{name}_{key}": {"value": report[name][key], "step": 0}
        for name in EXPORTS
        for key in ("agreement", "accuracy")
    }
    for name in EXPORTS:
        agreement = report[name]["agreement"]
        if agreement >= report["min_agreement"]:
            continue
        message = (
            f"the {name} student agrees with the torch student on {agreement:.2%} of the "
            f"{len(texts)} test texts, under export.min_agreement={report['min_agreement']}"
        )
        if name == "onnx_fp32":  # the same network in another runtime: any disagreement is a bug
            raise OnnxParityError(message)
        logger.warning("%s: serve it with predict.runtime=onnx_int8 only if that is acceptable", message)
    return report, metrics
