"""Schedules over training steps: loss weights and the distillation temperature.

Weight schedules follow TextBrewer's names: ``constant``, ``linear_decay`` (w -> 0 at the last step),
``linear_growth`` (0 -> w). Temperature: ``constant``, ``linear_decay`` (from T to ``final``) and the
two adaptive ones of Li et al. 2019 (arXiv:1911.07471) that TextBrewer ships: ``flsw`` weights each
example by how far the student's logits point from the teacher's, ``cwsm`` by how unsure the student
is; both give a per-example temperature around the base one.
"""

from collections.abc import Callable
from typing import Any

import torch

# name -> (weight, training progress in [0, 1]) -> the weight at that point
WEIGHT_SCHEDULES: dict[str, Callable[[float, float], float]] = {
    "constant": lambda weight, progress: weight,
    "linear_decay": lambda weight, progress: weight * (1.0 - progress),
    "linear_growth": lambda weight, progress: weight * progress,
}


def scheduled_weight(weight: float, schedule: str, step: int, total_steps: int) -> float:
    """The loss weight at ``step`` (0-based) of ``total_steps``."""
    if schedule not in WEIGHT_SCHEDULES:
        raise ValueError(f"weight schedule must be one of {sorted(WEIGHT_SCHEDULES)}, got {schedule!r}")
    return WEIGHT_SCHEDULES[schedule](weight, min(max(step / max(total_steps, 1), 0.0), 1.0))


def flsw_temperature(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, base: float, beta: float, gamma: float
) -> torch.Tensor:
    """Per-example T: ``base + beta * (mean(w) - w)``, ``w = (1 - cos(student, teacher)) ** gamma``."""
    with torch.no_grad():
        cosine = torch.nn.functional.cosine_similarity(student_logits, teacher_logits, dim=-1, eps=1e-4)
        w = (1.0 - cosine).clamp(min=0.0) ** gamma
        return base + (w.mean() - w) * beta


def cwsm_temperature(student_logits: torch.Tensor, base: float, beta: float) -> torch.Tensor:
    """Per-example T: ``base + beta * (mean(w) - w)``, ``w = 1 / (max softmax(student) + 1e-3)``."""
    with torch.no_grad():
        w = 1.0 / (torch.softmax(student_logits, dim=-1).max(dim=-1).values + 1e-3)
        return base + (w.mean() - w) * beta


# name -> (base T, final T, beta, gamma) -> f(student logits, teacher logits, step, total steps) -> T
TEMPERATURE_SCHEDULES: dict[str, Callable[..., Callable[[torch.Tensor, torch.Tensor, int, int], Any]]] = {
    "constant": lambda base, final, beta, gamma: lambda s, t, step, total: base,
    "linear_decay": lambda base, final, beta, gamma: (
        lambda s, t, step, total: base + (final - base) * min(step / max(total, 1), 1.0)
    ),
    "flsw": lambda base, final, beta, gamma: (
        lambda s, t, step, total: flsw_temperature(s, t, base, beta, gamma)
    ),
    "cwsm": lambda base, final, beta, gamma: lambda s, t, step, total: cwsm_temperature(s, base, beta),
}


def temperature_schedule(
    schedule: str, base: float, final: float = 1.0, beta: float = 1.0, gamma: float = 2.0
) -> Callable[[torch.Tensor, torch.Tensor, int, int], float | torch.Tensor]:
    """``f(student_logits, teacher_logits, step, total_steps) -> T`` (a float or one T per example)."""
    if schedule not in TEMPERATURE_SCHEDULES:
        raise ValueError(
            f"temperature schedule must be one of {sorted(TEMPERATURE_SCHEDULES)}, got {schedule!r}"
        )
    return TEMPERATURE_SCHEDULES[schedule](base, final, beta, gamma)
