"""Where and in what precision the teacher runs: device and bf16 choice, and the float32 check.

bf16 autocast makes teacher inference cheaper where the device supports it, but its logits are not
float32's: before a store is filled with bf16 logits, a sample (the dev split) is scored both ways
and bf16 is refused when the labels it gives agree too rarely. No Kedro imports.
"""

from typing import Any

import numpy as np
import torch
from transformers.utils import is_torch_bf16_available_on_device

from text_distill.errors import TextDistillError

DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("auto", "bf16", "float32")


class DeviceError(TextDistillError, ValueError):
    """An unknown or unavailable device or precision was asked for."""


class PrecisionAgreementError(TextDistillError):
    """bf16 logits disagree with float32 on too many labels to be stored."""


def resolve_device(name: str = "auto", parameter: str = "device") -> str:
    """``auto`` -> ``cuda`` when torch sees a CUDA device, else ``cpu``; ``cpu`` and ``cuda`` as
    asked, ``cuda`` only when one is there. ``parameter`` names the setting in error messages."""
    if name not in DEVICES:
        raise DeviceError(f"{parameter} must be one of {list(DEVICES)}, got {name!r}")
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            f"{parameter} is cuda but torch {torch.__version__} sees no CUDA device: "
            f"set {parameter}: auto or cpu"
        )
    return name


def fast_bf16(device: str) -> bool:
    """Whether bf16 runs in hardware on ``device``: a CUDA device with bf16, or a CPU with
    AVX512-BF16 or AMX. Elsewhere torch emulates it: on an AVX512 Xeon without either, bf16 autocast
    trained e5-small 3x slower than float32 and scored it 3-4x slower (docs/benchmarks.md)."""
    if device == "cuda":
        return is_torch_bf16_available_on_device("cuda")
    return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())


def resolve_precision(name: str | bool, device: str, parameter: str = "soft_targets.precision") -> str:
    """``auto`` -> ``bf16`` where ``device`` runs bf16 in hardware (``fast_bf16``), else ``float32``;
    ``bf16`` (or true) wherever torch supports it, even emulated; ``float32`` (or false)."""
    if isinstance(name, bool):  # teacher.bf16: true | false
        name = "bf16" if name else "float32"
    if name not in PRECISIONS:
        raise DeviceError(f"{parameter} must be one of {list(PRECISIONS)}, got {name!r}")
    supported = is_torch_bf16_available_on_device(device)
    if name == "auto":
        return "bf16" if supported and fast_bf16(device) else "float32"
    if name == "bf16" and not supported:
        raise DeviceError(f"{parameter} is bf16 but {device} has no bf16 support: set {parameter}: float32")
    return name


def precision_agreement(fp32_logits: np.ndarray, low_logits: np.ndarray) -> dict[str, Any]:
    """How far lower-precision logits are from float32's for the same texts: the share of rows with
    the same arg-max label, the largest absolute logit difference, and the number of rows (no rows
    agree vacuously)."""
    fp32_logits, low_logits = np.asarray(fp32_logits, np.float32), np.asarray(low_logits, np.float32)
    if fp32_logits.shape != low_logits.shape:
        raise ValueError(f"logits of shapes {fp32_logits.shape} and {low_logits.shape} do not pair up")
    rows = len(fp32_logits)
    if rows == 0:
        return {"rows": 0, "agreement": 1.0, "max_abs_logit_diff": 0.0}
    same = fp32_logits.argmax(axis=-1) == low_logits.argmax(axis=-1)
    return {
        "rows": rows,
        "agreement": float(same.mean()),
        "max_abs_logit_diff": float(np.abs(fp32_logits - low_logits).max()),
    }


def check_precision_agreement(
    agreement: dict[str, Any], min_agreement: float = 0.999, precision: str = "bf16"
) -> None:
    """Refuse ``precision`` when its labels agree with float32's on fewer than ``min_agreement`` of
    the rows of ``agreement`` (from ``precision_agreement``)."""
    if agreement["agreement"] < min_agreement:
        raise PrecisionAgreementError(
            f"{precision} teacher logits agree with float32 on {agreement['agreement']:.2%} of "
            f"{agreement['rows']} dev labels (max logit difference {agreement['max_abs_logit_diff']:.3g}), "
            f"below soft_targets.min_agreement {min_agreement}: set `soft_targets.precision: float32` "
            "(or auto, which falls back to it) and rerun `kedro run --from-nodes teacher.fingerprint_teacher`"
        )
