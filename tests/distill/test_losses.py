"""Distillation losses against hand-computed values."""

import math

import pytest
import torch

from text_distill.distill.losses import distillation_loss, kd_kl, kd_mse

STUDENT = torch.tensor([[1.0, 0.0]])
TEACHER = torch.tensor([[3.0, 1.0]])


def test_mse_on_raw_logits():
    assert kd_mse(STUDENT, TEACHER).item() == pytest.approx(((1 - 3) ** 2 + (0 - 1) ** 2) / 2)


def test_kl_on_softened_distributions_scaled_by_t_squared():
    temperature = 2.0
    p_teacher = [
        math.exp(1.5) / (math.exp(1.5) + math.exp(0.5)),
        math.exp(0.5) / (math.exp(1.5) + math.exp(0.5)),
    ]
    p_student = [math.exp(0.5) / (math.exp(0.5) + 1), 1 / (math.exp(0.5) + 1)]
    expected = sum(t * math.log(t / s) for t, s in zip(p_teacher, p_student, strict=True)) * temperature**2
    assert kd_kl(STUDENT, TEACHER, temperature).item() == pytest.approx(expected, rel=1e-5)
    assert kd_kl(TEACHER, TEACHER, 4.0).item() == pytest.approx(0.0, abs=1e-6)


def test_weighted_sum_of_hard_and_soft():
    labels = torch.tensor([0])
    hard = -math.log(math.exp(1.0) / (math.exp(1.0) + 1))
    total, parts = distillation_loss(STUDENT, labels, TEACHER, alpha=0.3, kd_loss="mse")
    assert parts == pytest.approx({"hard": hard, "kd": 2.5})
    assert total.item() == pytest.approx(0.3 * hard + 0.7 * 2.5)


def test_alpha_one_or_no_teacher_is_hard_labels_alone():
    labels = torch.tensor([1])
    alone, parts = distillation_loss(STUDENT, labels, None, alpha=0.5)
    assert set(parts) == {"hard"}
    assert distillation_loss(STUDENT, labels, TEACHER, alpha=1.0)[0].item() == pytest.approx(alone.item())


def test_unknown_kd_loss_is_refused():
    with pytest.raises(ValueError, match="kd_loss must be one of"):
        distillation_loss(STUDENT, torch.tensor([0]), TEACHER, alpha=0.5, kd_loss="cosine")
