"""Teacher fine-tuning on Ray Train, the temperature sweep as Ray tasks and the recipe search on Ray
Tune, in a local Ray (2 CPUs) started once for the module: each gives what the local engine gives."""

import numpy as np
import pandas as pd
import pytest
import torch
from kedro.runner import SequentialRunner, ThreadRunner
from tests.conftest import TINY_TEACHER, tiny_encoder
from tests.stage_params import stage_params
from tests.sweep_inputs import SWEEP, run_sweep, student_inputs, study_inputs

from text_distill.distill.config import ConfigError
from text_distill.distill.training.teacher_config import TeacherConfig
from text_distill.distill.training.teacher_training import TEACHER_ENGINES, fine_tune
from text_distill.pipelines.recipe_search.nodes import search_recipe

pytestmark = pytest.mark.integration  # Ray Train and Tune on a local Ray

RAY = stage_params("ray", num_cpus=2)  # the local Ray of conftest.py's local_ray

LABELS = ["sports", "finance"]
TEACHER = {
    **TINY_TEACHER,
    "batch_size": 6,  # the whole train split: one full-batch step per epoch
    "weight_decay": 0.01,
    "device": "cpu",
}


@pytest.fixture(scope="module")
def teacher_examples() -> pd.DataFrame:
    texts = {
        "sports": ["中国队夺冠", "篮球比赛", "足球联赛", "游泳比赛"],
        "finance": ["股市大涨", "银行利率", "基金收益", "央行报告"],
    }
    rows = [
        (label_id * 10 + n, "train" if n < 3 else "dev", text, label, label_id)
        for label_id, (label, items) in enumerate(texts.items())
        for n, text in enumerate(items)
    ]
    return pd.DataFrame(rows, columns=["example_id", "split", "text", "label", "label_id"])


def test_ray_train_on_two_workers_matches_one_process_on_the_full_batch(local_ray, teacher_examples):
    base = tiny_encoder(teacher_examples["text"].tolist())
    for module in base.encoder.modules():  # dropout off: both runs must see the same forward pass
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    local, local_log = fine_tune(base, teacher_examples, LABELS, TEACHER)
    # 2 workers x 3 rows: DDP's mean of the two half-batch gradients is the full-batch gradient;
    # from the same base, which the local run left pretrained (it trains a copy)
    remote, ray_log = fine_tune(
        base,
        teacher_examples,
        LABELS,
        {**TEACHER, "engine": "ray", "ray_workers": 2, "ray_use_gpu": False},
        RAY,
    )
    local_state, ray_state = local.state_dict(), remote.state_dict()
    assert local_state.keys() == ray_state.keys()
    for name, weights in local_state.items():
        torch.testing.assert_close(ray_state[name], weights, atol=1e-5, rtol=0, msg=name)
    assert not torch.equal(local_state["head.weight"], base_head(base)), "training moved nothing"
    assert (ray_log["engine"], ray_log["device"], local_log["engine"]) == ("ray", "cpu", "local")
    for key in ("train_rows", "dev_rows", "best_epoch", "dev_accuracy", "dev_macro_f1"):
        assert ray_log[key] == local_log[key], key
    losses = [[e["loss"] for e in log["history"] if "loss" in e] for log in (local_log, ray_log)]
    np.testing.assert_allclose(losses[1], losses[0], atol=1e-5)
    texts = teacher_examples["text"].tolist()
    np.testing.assert_allclose(remote.predict_logits(texts), local.predict_logits(texts), atol=1e-5)
    assert not remote.training and next(remote.parameters()).device.type == "cpu"


def base_head(base) -> torch.Tensor:
    """The head ``fine_tune`` initialises (seeded), before any step."""
    from text_distill.distill.training.teacher_training import build_teacher

    return build_teacher(base, LABELS, TEACHER).head.weight


def test_teacher_engine_is_chosen_by_name_and_ray_needs_an_even_batch_split(teacher_examples):
    assert set(TEACHER_ENGINES) == {"local", "ray"}
    base = tiny_encoder(teacher_examples["text"].tolist())
    with pytest.raises(ValueError, match="teacher.engine must be one of"):
        fine_tune(base, teacher_examples, LABELS, {**TEACHER, "engine": "spark"})
    with pytest.raises(ConfigError, match="must split evenly over teacher.ray_workers"):  # at the start
        TeacherConfig.parse({**TEACHER, "engine": "ray", "ray_workers": 4}, "teacher")


@pytest.fixture(scope="module")
def inputs():
    return student_inputs()


def test_temperatures_as_ray_tasks_under_the_thread_runner_give_the_sequential_runs(local_ray):
    """engine ray with Kedro's ThreadRunner: each temperature's node waits on its own Ray task (one CPU
    of the local Ray's two), and each record equals the local engine's under SequentialRunner."""
    local = run_sweep(SequentialRunner(), SWEEP)
    on_ray = run_sweep(ThreadRunner(), {**SWEEP, "engine": "ray"}, RAY)
    for name in ("temperature_sweep_T_1", "temperature_sweep_T_4"):
        assert on_ray[name] == local[name], name  # params, metrics and every epoch's history
    pd.testing.assert_frame_equal(on_ray["temperature_sweep_table"], local["temperature_sweep_table"])


def test_the_search_through_tune_draws_what_optuna_alone_draws(local_ray, inputs):
    search = stage_params(
        "recipe_search",
        trials=3,
        seed=3,
        sampler="tpe",
        space={
            "student": {"objective": {"temperature": {"low": 1.0, "high": 8.0, "log": True}}},
            "augment": {"n_iter": {"low": 0, "high": 2}},
        },
        fixed={"student": {"objective": {"kd_loss": "kl"}}},
        max_concurrent_trials=1,  # one at a time: the sampler sees every result before drawing
    )
    local = search_recipe({**search, "engine": "local"}, **study_inputs(inputs))
    tuned = search_recipe({**search, "engine": "ray"}, **study_inputs(inputs, RAY))
    assert list(tuned) == list(local) == ["trial_000", "trial_001", "trial_002"]
    for name in local:
        assert tuned[name] == local[name], name
