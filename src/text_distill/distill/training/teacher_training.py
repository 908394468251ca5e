"""Teacher fine-tuning: the teacher built from the pretrained encoder, its epochs planned from the
train rows, and the run handed to an engine of ``TEACHER_ENGINES``, which only decides where the
``Trainer`` of ``teacher_trainer`` runs: ``local`` (this process, ``teacher.device``) or ``ray``
(``TorchTrainer`` workers, ``teacher_on_ray``, imported only then). Options are the ``teacher.*``
parameters as the plain dict Kedro gives, every key there and checked before the run starts
(``teacher_config.TeacherConfig``); ``with_planned_epochs`` adds ``eval_steps``, the one key no
parameter sets.
"""

import copy
import logging
from collections.abc import Callable
from typing import Any

import pandas as pd
import torch

from text_distill.distill.models.teacher import PretrainedEncoder, TeacherClassifier
from text_distill.distill.runtimes import engine
from text_distill.distill.training.teacher_trainer import TrainerOutcome, fine_tune_local

logger = logging.getLogger(__name__)


def build_teacher(
    base: PretrainedEncoder, label_names: list[str], params: dict[str, Any]
) -> TeacherClassifier:
    """Encoder + mean-pool head, the head initialised under ``params.seed``. The encoder is a copy of
    ``base``'s: training the teacher leaves ``base`` pretrained (other teachers and the
    student-alone's transformer start from it)."""
    torch.manual_seed(int(params["seed"]))
    teacher = TeacherClassifier(
        copy.deepcopy(base), label_names, params["max_length"], params["text_prefix"], params["dropout"]
    )
    if params["freeze_word_embeddings"]:
        # Most of e5-small's parameters are its 250k-piece word table: freezing it keeps the
        # multilingual vocabulary intact and halves the optimiser's work.
        teacher.encoder.get_input_embeddings().weight.requires_grad_(False)
    return teacher


MIN_EVALUATIONS = 4  # dev scores, at least, of a teacher whose epochs min_steps raised


def with_planned_epochs(params: dict[str, Any], train_rows: int) -> dict[str, Any]:
    """``teacher.*`` with more epochs where ``train_rows`` would give fewer than ``teacher.min_steps``
    optimiser steps (null: as given), so 1,000 labels get the steps 85,000 get in one epoch; dev is
    then scored every ``eval_steps`` steps, about as often as the epochs asked for would score it
    (the best scored epoch is kept), the last epoch included."""
    min_steps = params["min_steps"]
    if min_steps is None:
        return params
    asked, steps_per_epoch = int(params["epochs"]), -(-train_rows // int(params["batch_size"]))
    epochs = max(asked, -(-min_steps // steps_per_epoch))
    if epochs == asked:
        return params
    every = -(-epochs // max(asked, MIN_EVALUATIONS))  # epochs between dev scores
    epochs = every * -(-epochs // every)
    logger.info(
        "%d train rows: %d teacher epochs for teacher.min_steps, dev scored every %d epochs",
        *(train_rows, epochs, every),
    )
    return {**params, "epochs": epochs, "eval_steps": every * steps_per_epoch}


def training_splits(examples: pd.DataFrame, params: dict[str, Any]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Train rows (``params.train_rows`` of them, sampled under the seed, when set) and dev rows.
    The test split is never returned."""
    train = examples[examples["split"] == "train"]
    if params["train_rows"] is not None and params["train_rows"] < len(train):
        train = train.sample(n=int(params["train_rows"]), random_state=int(params["seed"]))
    return train, examples[examples["split"] == "dev"]


def fine_tune_ray(*run: Any) -> tuple[TeacherClassifier, TrainerOutcome, str]:
    """``run_trainer`` on ``teacher.ray_workers`` Ray Train workers: ``fine_tune_local``'s arguments
    to ``teacher_on_ray.fine_tune_on_ray``, imported here (the local engine never imports Ray)."""
    from text_distill.distill.training.teacher_on_ray import fine_tune_on_ray

    return fine_tune_on_ray(*run)


# teacher.engine -> (teacher, train, dev, teacher params, ray params) -> (teacher, outcome, device)
TEACHER_ENGINES: dict[
    str,
    Callable[
        [TeacherClassifier, pd.DataFrame, pd.DataFrame, dict[str, Any], dict[str, Any] | None],
        tuple[TeacherClassifier, TrainerOutcome, str],
    ],
] = {"local": fine_tune_local, "ray": fine_tune_ray}


def fine_tune(
    base: PretrainedEncoder,
    examples: pd.DataFrame,
    label_names: list[str],
    params: dict[str, Any],
    ray_params: dict[str, Any] | None = None,
    *,
    seed: int | None = None,
) -> tuple[TeacherClassifier, dict[str, Any]]:
    """Fine-tune encoder + mean-pool head on ``train`` on ``teacher.engine`` and keep the epoch best
    on ``dev`` macro-F1; the teacher and its training log. At ``seed`` instead of ``params.seed``
    when given (multi-teacher: a teacher seed variant, ``seed_<n>``). The test split is never seen
    here."""
    if seed is not None:
        params = {**params, "seed": seed}
    engine_name = params["engine"]
    run = engine(TEACHER_ENGINES, engine_name, "teacher.engine")
    teacher = build_teacher(base, label_names, params)
    train, dev = training_splits(examples, params)
    params = with_planned_epochs(params, len(train))
    teacher, outcome, device = run(teacher, train, dev, params, ray_params or {})
    log = {
        "engine": engine_name,
        "device": device,
        "train_rows": len(train),
        "dev_rows": len(dev),
        "epochs": params["epochs"],
        "best_epoch": outcome.best["epoch"],
        "dev_accuracy": outcome.best["eval_accuracy"],
        "dev_macro_f1": outcome.best["eval_macro_f1"],
        "history": outcome.history,
    }
    logger.info(
        "Teacher selected on dev: accuracy %.4f, macro-F1 %.4f", log["dev_accuracy"], log["dev_macro_f1"]
    )
    return teacher, log
