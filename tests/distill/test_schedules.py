"""Weight and temperature schedules against hand-computed values."""

import math

import pytest
import torch

from text_distill.distill.objectives.schedules import (
    cwsm_temperature,
    flsw_temperature,
    scheduled_weight,
    temperature_schedule,
)


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [("constant", [0.8, 0.8, 0.8]), ("linear_decay", [0.8, 0.4, 0.0]), ("linear_growth", [0.0, 0.4, 0.8])],
)
def test_weight_schedules(schedule, expected):
    assert [scheduled_weight(0.8, schedule, step, 10) for step in (0, 5, 10)] == pytest.approx(expected)


def test_unknown_schedules_are_refused():
    with pytest.raises(ValueError, match="weight schedule must be one of"):
        scheduled_weight(1.0, "cosine", 0, 1)
    with pytest.raises(ValueError, match="temperature schedule must be one of"):
        temperature_schedule("cosine", 4.0)


def test_constant_and_linear_decay_temperature():
    logits = torch.zeros(2, 3)
    assert temperature_schedule("constant", 4.0)(logits, logits, 7, 10) == 4.0
    decay = temperature_schedule("linear_decay", 8.0, final=2.0)
    assert [decay(logits, logits, step, 4) for step in (0, 2, 4)] == pytest.approx([8.0, 5.0, 2.0])


def test_flsw_gives_far_examples_a_lower_temperature():
    student = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    teacher = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # cos 1 (w = 0) and cos 0 (w = 1)
    tau = flsw_temperature(student, teacher, base=4.0, beta=2.0, gamma=2.0)
    assert tau.tolist() == pytest.approx([4.0 + 2.0 * 0.5, 4.0 - 2.0 * 0.5])


def test_cwsm_gives_unsure_examples_a_lower_temperature():
    student = torch.tensor([[0.0, 0.0], [10.0, 0.0]])
    w_unsure, w_sure = 1 / (0.5 + 1e-3), 1 / (1 / (1 + math.exp(-10)) + 1e-3)
    mean = (w_unsure + w_sure) / 2
    tau = cwsm_temperature(student, base=2.0, beta=1.0)
    assert tau.tolist() == pytest.approx([2.0 + mean - w_unsure, 2.0 + mean - w_sure], rel=1e-5)
    assert temperature_schedule("cwsm", 2.0, beta=1.0)(student, student, 0, 1).tolist() == pytest.approx(
        tau.tolist()
    )
