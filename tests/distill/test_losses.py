"""Distillation losses against hand-computed values."""

import math

import pytest
import torch
import torch.nn.functional as F

from text_distill.distill.objectives.losses import (
    NO_LABEL,
    attention_mse,
    combine_teacher_logits,
    cosine_loss,
    distillation_loss,
    hidden_mse,
    kd_kl,
    kd_mse,
    logit_kd_loss,
    soft_cross_entropy,
)

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
    total, parts = distillation_loss(STUDENT, labels, TEACHER, hard_weight=0.3, kd_weight=0.7, kd_loss="mse")
    assert parts == pytest.approx({"hard": hard, "kd": 2.5})
    assert total.item() == pytest.approx(0.3 * hard + 0.7 * 2.5)


def test_zero_kd_weight_or_no_teacher_is_hard_labels_alone():
    labels = torch.tensor([1])
    alone, parts = distillation_loss(STUDENT, labels, None, hard_weight=0.5, kd_weight=0.5)
    assert set(parts) == {"hard"}
    assert distillation_loss(STUDENT, labels, TEACHER, 1.0, 0.0)[0].item() == pytest.approx(alone.item())


def test_unknown_kd_loss_is_refused():
    with pytest.raises(ValueError, match="kd_loss must be one of"):
        distillation_loss(STUDENT, torch.tensor([0]), TEACHER, 0.5, 0.5, kd_loss="cosine")


def softmax(values: list[float], temperature: float = 1.0) -> list[float]:
    exps = [math.exp(v / temperature) for v in values]
    return [e / sum(exps) for e in exps]


def test_mse_on_logits_over_temperature():
    assert kd_mse(STUDENT, TEACHER, 2.0).item() == pytest.approx(((0.5 - 1.5) ** 2 + (0 - 0.5) ** 2) / 2)


def test_soft_cross_entropy_is_kl_plus_teacher_entropy():
    p_teacher, p_student = softmax([3.0, 1.0], 2.0), softmax([1.0, 0.0], 2.0)
    expected = -sum(t * math.log(s) for t, s in zip(p_teacher, p_student, strict=True))
    assert soft_cross_entropy(STUDENT, TEACHER, 2.0).item() == pytest.approx(expected, rel=1e-5)
    assert soft_cross_entropy(STUDENT, TEACHER, 2.0, scale_t_squared=True).item() == pytest.approx(
        4 * expected, rel=1e-5
    )
    entropy = -sum(t * math.log(t) for t in p_teacher)
    kl = kd_kl(STUDENT, TEACHER, 2.0, scale_t_squared=False).item()
    assert kl == pytest.approx(expected - entropy, rel=1e-5)


def test_per_example_temperature_matches_one_example_at_a_time():
    student = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    teacher = torch.tensor([[3.0, 1.0], [1.0, 1.0]])
    temperatures = torch.tensor([1.0, 4.0])
    per_example = [
        kd_kl(student[i : i + 1], teacher[i : i + 1], float(t), scale_t_squared=False)
        for i, t in enumerate(temperatures)
    ]
    together = kd_kl(student, teacher, temperatures, scale_t_squared=False)
    assert together.item() == pytest.approx(sum(p.item() for p in per_example) / 2, rel=1e-5)


def test_logit_kd_loss_dispatches_by_name():
    assert logit_kd_loss("mse", STUDENT, TEACHER, 4.0).item() == pytest.approx(2.5)
    assert logit_kd_loss("mse_t", STUDENT, TEACHER, 2.0).item() == pytest.approx(
        kd_mse(STUDENT, TEACHER, 2.0).item()
    )
    assert logit_kd_loss("kl", STUDENT, TEACHER, 2.0).item() == pytest.approx(
        kd_kl(STUDENT, TEACHER, 2.0).item()
    )


def test_hidden_attention_and_cosine_losses_ignore_padding():
    student = torch.tensor([[[1.0, 0.0], [5.0, 5.0]]])  # second token is padding
    teacher = torch.tensor([[[0.0, 0.0], [0.0, 0.0]]])
    mask = torch.tensor([[1, 0]])
    assert hidden_mse(student, teacher, mask).item() == pytest.approx(0.5)
    assert hidden_mse(student, teacher).item() == pytest.approx((1 + 25 + 25) / 4)
    assert cosine_loss(student, torch.tensor([[[0.0, 1.0], [1.0, 0.0]]]), mask).item() == pytest.approx(1.0)
    assert cosine_loss(student, student, mask).item() == pytest.approx(0.0, abs=1e-6)
    attention_s = torch.tensor([[[[1.0, 9.0], [9.0, 9.0]]]])
    attention_t = torch.zeros(1, 1, 2, 2)
    assert attention_mse(attention_s, attention_t, mask).item() == pytest.approx(1.0)
    assert attention_mse(attention_s, attention_t).item() == pytest.approx((1 + 81 * 3) / 4)


def test_teacher_logits_combine_by_mean_or_weights():
    first, second = torch.tensor([[1.0, 3.0]]), torch.tensor([[3.0, 5.0]])
    assert combine_teacher_logits([first, second]).tolist() == [[2.0, 4.0]]
    assert combine_teacher_logits([first, second], [3, 1]).tolist() == [[1.5, 3.5]]
    with pytest.raises(ValueError, match="need 2 non-negative weights"):
        combine_teacher_logits([first, second], [1.0])


def test_rows_without_a_hard_label_count_in_the_kd_term_only():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    teacher = torch.tensor([[1.0, 0.0], [0.0, 1.0], [3.0, 0.0]])
    labels = torch.tensor([0, NO_LABEL, NO_LABEL])
    loss, parts = distillation_loss(logits, labels, teacher, 0.5, 0.5, "mse")
    hard = F.cross_entropy(logits[:1], labels[:1])  # the labelled row alone
    soft = F.mse_loss(logits, teacher)  # every row
    assert parts["hard"] == pytest.approx(hard.item())
    assert loss.item() == pytest.approx(0.5 * hard.item() + 0.5 * soft.item())
    # a batch of transfer rows only: no hard term, not NaN
    loss, parts = distillation_loss(logits[1:], labels[1:], teacher[1:], 0.5, 0.5, "mse")
    assert parts["hard"] == 0.0
    assert loss.item() == pytest.approx(0.5 * F.mse_loss(logits[1:], teacher[1:]).item())


def test_the_hard_term_over_all_rows_weighs_as_much_as_the_labelled_share():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.5, 0.0]])
    teacher = torch.zeros_like(logits)
    labels = torch.tensor([0, 1, NO_LABEL, NO_LABEL])
    over_labelled = distillation_loss(logits, labels, teacher, 1.0, 0.0, "mse", 1.0, "labelled_rows")[1]
    over_all = distillation_loss(logits, labels, teacher, 1.0, 0.0, "mse", 1.0, "all_rows")[1]
    assert over_all["hard"] == pytest.approx(over_labelled["hard"] * 2 / 4)  # 2 labelled rows of 4
    full = torch.tensor([0, 1, 1, 0])  # every row labelled: the two means agree
    assert distillation_loss(logits, full, teacher, 1.0, 0.0, "mse", 1.0, "all_rows")[1][
        "hard"
    ] == pytest.approx(
        distillation_loss(logits, full, teacher, 1.0, 0.0, "mse", 1.0, "labelled_rows")[1]["hard"]
    )
    no_label = torch.full((4,), NO_LABEL)
    assert distillation_loss(logits, no_label, teacher, 1.0, 0.0, "mse", 1.0, "all_rows")[1]["hard"] == 0.0
