"""The student's network in ONNX (fp32) and dynamically quantised to int8, run with onnxruntime.

Only the network is exported (token ids + lengths -> logits); reading raw text (normalisation,
segmentation, vocabulary) stays with the ``StudentClassifier``, so every runtime sees the same ids.
"""

import logging
import multiprocessing
import tempfile
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import torch
from onnxruntime.quantization import QuantType, quantize_dynamic
from onnxruntime.quantization.shape_inference import quant_pre_process
from torch import nn

from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.models.student_kinds import STUDENT_KINDS
from text_distill.errors import TextDistillError

logger = logging.getLogger(__name__)

INPUT_NAMES = ("token_ids", "lengths")


def exportable_network(student: StudentClassifier) -> nn.Module:
    """The student's network in a form the ONNX exporter takes, in eval mode (no dropout)."""
    network = student.model
    exportable = STUDENT_KINDS[network.architecture].exportable  # e.g. the BiLSTM without packing
    return (network if exportable is None else exportable(network)).eval()


def export_onnx(student: StudentClassifier) -> bytes:
    """The student's network as a serialised ONNX model, batch and time axes dynamic.

    The export runs in a child process: ``torch.export`` leaves process-wide state behind, and torch
    inference in the process that ran it was 13x slower right afterwards in one measurement (on a
    busy machine; the cause is not pinned down). The evaluate stage, which Kedro may run after this
    one, measures speed, so the exporter stays out of its process."""
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(1, mp_context=spawn) as child:
        return child.submit(_export_onnx, student, torch.get_num_threads()).result()


def _export_onnx(student: StudentClassifier, threads: int) -> bytes:
    torch.set_num_threads(threads)
    # two texts of different lengths, none of length 1: the exporter specialises axes of size 1
    token_ids, lengths = student.batch([[1, 1, 1, 1, 1], [1, 1, 1]])
    batch, tokens = torch.export.Dim("batch"), torch.export.Dim("tokens")
    program = torch.onnx.export(
        exportable_network(student),
        (token_ids, lengths),
        input_names=list(INPUT_NAMES),
        output_names=["logits"],
        dynamic_shapes={"token_ids": {0: batch, 1: tokens}, "lengths": {0: batch}},
        dynamo=True,
        verbose=False,
    )
    return program.model_proto.SerializeToString()


def quantise_int8(onnx_model: bytes) -> bytes:
    """onnxruntime dynamic quantisation: int8 weights (LSTM, linear layers, embedding table),
    activations quantised on the fly. Pre-processing first folds the exporter's weight reshapes into
    constants, without which the LSTM would stay in fp32."""
    with tempfile.TemporaryDirectory() as folder:
        exported, folded, quantised = (Path(folder) / name for name in ("fp32", "folded", "int8"))
        exported.write_bytes(onnx_model)
        quant_pre_process(str(exported), str(folded), skip_symbolic_shape=True)
        quantize_dynamic(str(folded), str(quantised), weight_type=QuantType.QInt8)
        return quantised.read_bytes()


class OnnxNetwork:
    """An ONNX student network in onnxruntime, called like the torch network: (ids, lengths) -> logits."""

    def __init__(self, onnx_model: bytes, threads: int = 1) -> None:
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # no busy-waiting between runs: it would take the CPU from torch and jieba in the same process
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = onnxruntime.InferenceSession(onnx_model, options, providers=["CPUExecutionProvider"])

    def __call__(self, token_ids: torch.Tensor, lengths: torch.Tensor) -> np.ndarray:
        inputs = dict(zip(INPUT_NAMES, (token_ids.numpy(), lengths.numpy()), strict=True))
        return self.session.run(None, inputs)[0]


@lru_cache(maxsize=4)
def cached_onnx_network(onnx_model: bytes, threads: int = 1) -> OnnxNetwork:
    """One onnxruntime session per model, reused across the requests of a server."""
    return OnnxNetwork(onnx_model, threads)


EXPORTS = ("onnx_fp32", "onnx_int8")


class OnnxParityError(TextDistillError):
    """The ONNX export disagrees with the torch student."""


def onnx_parity(
    student: StudentClassifier,
    exports: dict[str, bytes],
    texts: list[str],
    labels: np.ndarray,
    batch_size: int,
    threads: int,
) -> dict[str, Any]:
    """Each export's agreement with the torch student's labels on ``texts``, its largest logit
    difference, accuracy and size, beside the torch student's accuracy."""
    reference = student.predict_logits(texts, batch_size)
    report: dict[str, Any] = {
        "test_texts": len(texts),
        "torch": {"accuracy": float((reference.argmax(axis=1) == labels).mean())},
    }
    for name, onnx_model in exports.items():
        logits = student.predict_logits(texts, batch_size, network=OnnxNetwork(onnx_model, threads))
        report[name] = {
            "agreement": float((logits.argmax(axis=1) == reference.argmax(axis=1)).mean()),
            "max_abs_logit_difference": float(np.abs(logits - reference).max()),
            "accuracy": float((logits.argmax(axis=1) == labels).mean()),
            "size_bytes": len(onnx_model),
        }
    return report


def check_parity(report: dict[str, Any], min_agreement: float) -> None:
    """Refuses an fp32 export under ``min_agreement`` (the same network in another runtime: any
    disagreement is a bug); warns for int8, whose rounding may change labels."""
    for name in EXPORTS:
        agreement = report[name]["agreement"]
        if agreement >= min_agreement:
            continue
        message = (
            f"the {name} student agrees with the torch student on {agreement:.2%} of the "
            f"{report['test_texts']} test texts, under export.min_agreement={min_agreement}"
        )
        if name == "onnx_fp32":
            raise OnnxParityError(message)
        logger.warning("%s: serve it with predict.runtime=onnx_int8 only if that is acceptable", message)
