"""Distillation losses.

The logit losses take a temperature that is a float or one value per example (the adaptive
schedules in ``schedules.py``). ``distillation_loss`` is the student stage's objective:
``hard_weight * CE(hard labels) + kd_weight * KD(student, teacher)``, by default with
``hard_weight = alpha`` and ``kd_weight = 1 - alpha``.
"""

from collections.abc import Callable, Sequence

import numpy as np
import torch
import torch.nn.functional as F

NO_LABEL = -1  # the hard label of a transfer-set row the teacher labelled, but no person did


def _per_example(temperature: float | torch.Tensor, logits: torch.Tensor) -> float | torch.Tensor:
    if isinstance(temperature, torch.Tensor):
        return temperature.to(logits.dtype).reshape(-1, *([1] * (logits.dim() - 1)))
    return temperature


def _t_squared(temperature: float | torch.Tensor) -> float | torch.Tensor:
    return temperature.mean() ** 2 if isinstance(temperature, torch.Tensor) else temperature**2


def kd_mse(
    student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float = 1.0
) -> torch.Tensor:
    """Mean squared error between logits / T; T = 1 is raw logits (Tang et al. 2019)."""
    t = _per_example(temperature, student_logits)
    return F.mse_loss(student_logits / t, teacher_logits / t)


def kd_kl(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float | torch.Tensor,
    scale_t_squared: bool = True,
) -> torch.Tensor:
    """KL(teacher_T || student_T) on temperature-softened distributions, by default times T^2
    (Hinton et al.) so its gradients keep their scale as T changes."""
    t = _per_example(temperature, student_logits)
    log_student = F.log_softmax(student_logits / t, dim=-1)
    log_teacher = F.log_softmax(teacher_logits / t, dim=-1)
    kl = F.kl_div(log_student, log_teacher, reduction="batchmean", log_target=True)
    return kl * _t_squared(temperature) if scale_t_squared else kl


def soft_cross_entropy(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float | torch.Tensor,
    scale_t_squared: bool = False,
) -> torch.Tensor:
    """Cross-entropy of the student against the teacher's softened distribution (TextBrewer's
    ``kd_ce_loss``); differs from ``kd_kl`` by the teacher's entropy, a constant for the student."""
    t = _per_example(temperature, student_logits)
    loss = -(F.softmax(teacher_logits / t, dim=-1) * F.log_softmax(student_logits / t, dim=-1)).sum(-1).mean()
    return loss * _t_squared(temperature) if scale_t_squared else loss


# name -> (student logits, teacher logits, T, scale by T^2) -> loss
KD_LOSSES: dict[str, Callable[..., torch.Tensor]] = {
    "mse": lambda student, teacher, temperature, scale: kd_mse(student, teacher),  # raw logits (Tang et al.)
    "mse_t": lambda student, teacher, temperature, scale: kd_mse(student, teacher, temperature),
    "kl": kd_kl,
    "soft_ce": soft_cross_entropy,
}


def standardised_targets(teacher_logits: np.ndarray) -> np.ndarray:
    """The teacher's logits centred per row (which leaves its softmax as it is) and divided by one
    standard deviation over every row: one scale for the whole training set, so an ensemble whose
    logits run to tens gives an MSE term the hard-label term can stand beside. The ranking and the
    relative margins of each row are kept."""
    centred = teacher_logits - teacher_logits.mean(axis=1, keepdims=True)
    spread = float(centred.std())
    return (centred / spread if spread > 0 else centred).astype(np.float32)


# recipe ``objective.target_scale`` -> the teacher logits the KD term reads, from the cached ones
TARGET_SCALES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "raw": lambda teacher_logits: teacher_logits,
    "standardised": standardised_targets,
}


def logit_kd_loss(
    kind: str,
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float | torch.Tensor = 1.0,
    scale_t_squared: bool = True,
) -> torch.Tensor:
    """One of ``KD_LOSSES``: ``mse`` (raw logits), ``mse_t`` (logits / T), ``kl``, ``soft_ce``."""
    if kind not in KD_LOSSES:
        raise ValueError(f"kd_loss must be one of {sorted(KD_LOSSES)}, got {kind!r}")
    return KD_LOSSES[kind](student_logits, teacher_logits, temperature, scale_t_squared)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    if mask is None:
        return values.mean()
    mask = mask.to(values.dtype)
    while mask.dim() < values.dim():
        mask = mask.unsqueeze(-1)
    mask = mask.expand_as(values)
    return (values * mask).sum() / mask.sum().clamp(min=1.0)


def hidden_mse(
    student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """MSE between hidden states ``(batch, seq, width)`` over the tokens where ``mask`` is 1.
    Project the student first (a learned ``nn.Linear``) when the widths differ."""
    return _masked_mean((student - teacher) ** 2, mask)


def attention_mse(
    student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """MSE between attention maps ``(batch, heads, seq, seq)``; ``mask`` ``(batch, seq)`` drops
    rows and columns of padding."""
    if mask is None:
        return F.mse_loss(student, teacher)
    pair = (mask.unsqueeze(-1) * mask.unsqueeze(-2)).unsqueeze(1).to(student.dtype)
    pair = pair.expand_as(student)
    return (((student - teacher) ** 2) * pair).sum() / pair.sum().clamp(min=1.0)


def cosine_loss(
    student: torch.Tensor, teacher: torch.Tensor, mask: torch.Tensor | None = None
) -> torch.Tensor:
    """``1 - cos`` between hidden states, averaged over the tokens where ``mask`` is 1."""
    return _masked_mean(1.0 - F.cosine_similarity(student, teacher, dim=-1), mask)


def combine_teacher_logits(
    logits: Sequence[torch.Tensor], weights: Sequence[float] | None = None
) -> torch.Tensor:
    """Several teachers' logits as one target: their mean, or a weighted mean (weights normalised)."""
    stacked = torch.stack(list(logits))
    if weights is None:
        return stacked.mean(dim=0)
    w = torch.as_tensor(weights, dtype=stacked.dtype)
    if w.numel() != stacked.shape[0] or (w < 0).any() or w.sum() <= 0:
        raise ValueError(
            f"need {stacked.shape[0]} non-negative weights with a positive sum, got {list(weights)}"
        )
    return (stacked * (w / w.sum()).reshape(-1, *([1] * (stacked.dim() - 1)))).sum(dim=0)


def _hard_over_labelled_rows(student_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """CE averaged over the batch's labelled rows: each batch's labels weigh alike, however few."""
    labelled = labels != NO_LABEL
    # a batch of unlabelled rows only has no hard term (not NaN)
    if not bool(labelled.any()):
        return student_logits.sum() * 0.0
    return F.cross_entropy(student_logits[labelled], labels[labelled])


def _hard_over_all_rows(student_logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """CE summed over the labelled rows, divided by every row of the batch: the hard term weighs as
    much as its share of the rows, so 1,000 labels among 85,000 texts steer the student little."""
    labelled = labels != NO_LABEL
    if bool(labelled.all()):  # the same number as over the labelled rows, computed the same way
        return F.cross_entropy(student_logits, labels)
    losses = F.cross_entropy(student_logits[labelled], labels[labelled], reduction="sum")
    return losses / len(labels)


# recipe ``objective.hard_term_mean`` -> the hard-label term of a batch; the two agree on a batch
# whose rows all carry a label (every batch of a run without unlabelled texts)
HARD_TERM_MEANS: dict[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = {
    "labelled_rows": _hard_over_labelled_rows,
    "all_rows": _hard_over_all_rows,
}


def distillation_loss(
    student_logits: torch.Tensor,
    labels: torch.Tensor,
    teacher_logits: torch.Tensor | None,
    hard_weight: float,
    kd_weight: float,
    kd_loss: str = "mse",
    temperature: float | torch.Tensor = 1.0,
    hard_term_mean: str = "labelled_rows",
) -> tuple[torch.Tensor, dict[str, float]]:
    """``hard_weight * CE(hard labels) + kd_weight * KD(student, teacher)`` and its parts.

    Without teacher logits, or with ``kd_weight = 0``, it is hard labels alone. Rows labelled
    ``NO_LABEL`` (augmented or unlabelled texts) count in the KD term only; ``hard_term_mean`` says
    what the hard term is averaged over (``HARD_TERM_MEANS``).
    """
    hard = HARD_TERM_MEANS[hard_term_mean](student_logits, labels)
    if teacher_logits is None:  # the student-alone baseline: plain CE, whatever the weight schedules
        return hard, {"hard": hard.item()}
    if kd_weight <= 0.0:
        return hard_weight * hard, {"hard": hard.item()}
    soft = logit_kd_loss(kd_loss, student_logits, teacher_logits, temperature)
    total = hard_weight * hard + kd_weight * soft
    return total, {"hard": hard.item(), "kd": soft.item()}
