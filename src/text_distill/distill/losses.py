"""Distillation losses: ``alpha * CE(hard labels) + (1 - alpha) * KD(student, teacher)``."""

import torch
import torch.nn.functional as F

KD_LOSSES = ("mse", "kl")


def kd_mse(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """Mean squared error between raw logits (Tang et al. 2019)."""
    return F.mse_loss(student_logits, teacher_logits)


def kd_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(teacher_T || student_T) on temperature-softened distributions, times T^2 (Hinton et al.)
    so its gradients keep their scale as T changes."""
    log_student = F.log_softmax(student_logits / temperature, dim=-1)
    log_teacher = F.log_softmax(teacher_logits / temperature, dim=-1)
    kl = F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True)
    return kl * temperature**2


def distillation_loss(
    student_logits: torch.Tensor,
    labels: torch.Tensor,
    teacher_logits: torch.Tensor | None,
    alpha: float,
    kd_loss: str = "mse",
    temperature: float = 1.0,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The weighted loss and its parts; ``alpha = 1`` (or no teacher logits) is hard labels alone."""
    hard = F.cross_entropy(student_logits, labels)
    if teacher_logits is None or alpha >= 1.0:
        return hard, {"hard": hard.item()}
    if kd_loss == "mse":
        soft = kd_mse(student_logits, teacher_logits)
    elif kd_loss == "kl":
        soft = kd_kl(student_logits, teacher_logits, temperature)
    else:
        raise ValueError(f"kd_loss must be one of {KD_LOSSES}, got {kd_loss!r}")
    total = alpha * hard + (1.0 - alpha) * soft
    return total, {"hard": hard.item(), "kd": soft.item()}
