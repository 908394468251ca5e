"""The teacher's ``Trainer`` run, the same code wherever it runs: ``teacher_trainer`` is the one place
a ``Trainer`` is built and ``run_trainer`` the one place it runs, in this process
(``fine_tune_local``) or inside each Ray Train worker (``teacher_on_ray``). Options are the
``teacher.*`` parameters as a plain dict."""

import logging
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from accelerate.utils import extract_model_from_parallel
from sklearn.metrics import accuracy_score, f1_score
from transformers import (
    DataCollatorWithPadding,
    EarlyStoppingCallback,
    EvalPrediction,
    Trainer,
    TrainingArguments,
    trainer_pt_utils,
)

from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.models.teacher_precision import resolve_device, resolve_precision

logger = logging.getLogger(__name__)


class EncodedRows(torch.utils.data.Dataset):
    """Rows (``text``, ``label_id``) tokenised as ``teacher`` reads them, for ``Trainer``."""

    def __init__(self, teacher: TeacherClassifier, rows: pd.DataFrame) -> None:
        self.features = teacher.tokenize(rows["text"].tolist())
        self.labels = rows["label_id"].tolist()

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {**{key: values[i] for key, values in self.features.items()}, "labels": self.labels[i]}

    def lengths(self) -> list[int]:
        """Each row's number of tokens."""
        return [len(ids) for ids in self.features["input_ids"]]


def dev_metrics(prediction: EvalPrediction) -> dict[str, float]:
    """Accuracy and macro-F1 of ``Trainer``'s evaluation predictions (macro-F1 selects the epoch)."""
    logits = (
        prediction.predictions[0] if isinstance(prediction.predictions, tuple) else prediction.predictions
    )
    predicted = np.asarray(logits).argmax(axis=-1)
    return {
        "accuracy": float(accuracy_score(prediction.label_ids, predicted)),
        "macro_f1": float(f1_score(prediction.label_ids, predicted, average="macro")),
    }


@dataclass
class TrainerOutcome:
    """What a ``Trainer`` run leaves besides the model: its log history and the kept epoch's dev entry."""

    history: list[dict[str, Any]]
    best: dict[str, Any]


class LengthGroupedSampler(trainer_pt_utils.LengthGroupedSampler):
    """Train rows shuffled, then sorted by token length within groups of ``group_batches`` batches
    (transformers' length grouping, whose groups are 50 batches): a batch pads less, and each group
    is still a random draw of rows."""

    def __init__(self, batch_size: int, lengths: list[int], group_batches: int) -> None:
        super().__init__(batch_size, lengths=lengths)
        self.group_batches = group_batches

    def __iter__(self) -> Iterator[int]:
        return iter(
            trainer_pt_utils.get_length_grouped_indices(
                self.lengths, self.batch_size, self.group_batches, generator=self.generator
            )
        )


class TeacherTrainer(Trainer):
    """``Trainer`` drawing length-grouped batches when ``group_batches`` is set (else its own order)."""

    def __init__(self, *args: Any, group_batches: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.group_batches = group_batches

    def _get_train_sampler(self, train_dataset: Any = None) -> torch.utils.data.Sampler | None:
        if not self.group_batches:
            return super()._get_train_sampler(train_dataset)
        dataset = train_dataset if train_dataset is not None else self.train_dataset
        batch = self.args.train_batch_size * self.args.gradient_accumulation_steps
        return LengthGroupedSampler(batch, dataset.lengths(), self.group_batches)


def training_arguments(
    params: dict[str, Any], output_dir: str, device: str, bf16: bool, per_device_batch: int
) -> TrainingArguments:
    """``TrainingArguments`` from ``teacher.*``: one evaluation and checkpoint per epoch (or every
    ``eval_steps`` steps, when set), the best on dev macro-F1 reloaded at the end."""
    return TrainingArguments(
        output_dir=output_dir,
        num_train_epochs=float(params["epochs"]),
        per_device_train_batch_size=int(per_device_batch),
        per_device_eval_batch_size=int(params["eval_batch_size"]),
        learning_rate=float(params["learning_rate"]),
        weight_decay=float(params["weight_decay"]),
        warmup_steps=float(params["warmup_ratio"]),
        lr_scheduler_type="linear",
        # eval_steps: with_planned_epochs' schedule, the one key no parameter sets
        eval_strategy="steps" if params.get("eval_steps") else "epoch",
        save_strategy="steps" if params.get("eval_steps") else "epoch",
        eval_steps=params.get("eval_steps"),
        save_steps=params.get("eval_steps"),
        save_total_limit=1,
        save_only_model=True,
        # every node writes its own copy of a checkpoint, so every worker of a multi-node run can
        # reload the best one (one process: no difference)
        save_on_each_node=True,
        load_best_model_at_end=True,
        metric_for_best_model="macro_f1",
        logging_steps=int(params["logging_steps"]),
        report_to="none",  # tracking goes through kedro-mlflow, not Trainer callbacks
        use_cpu=device == "cpu",  # otherwise Trainer places the model on the GPU
        bf16=bf16,  # autocast: weights and the saved model stay float32
        seed=int(params["seed"]),
        dataloader_num_workers=0,
        ddp_find_unused_parameters=False,  # the frozen word table is no parameter DDP syncs
        disable_tqdm=not params["progress"],
    )


def teacher_trainer(
    teacher: TeacherClassifier,
    train: pd.DataFrame,
    dev: pd.DataFrame,
    arguments: TrainingArguments,
    group_batches: int | None = None,
    patience: int | None = None,
) -> TeacherTrainer:
    """The ``Trainer`` of ``teacher`` on ``train``, evaluated on ``dev``, drawing length-grouped
    batches when ``group_batches`` is set (``teacher.length_group_batches``), stopping after
    ``patience`` dev scores without a better one (``teacher.early_stopping_patience``)."""
    stop = [] if patience is None else [EarlyStoppingCallback(early_stopping_patience=int(patience))]
    return TeacherTrainer(
        callbacks=stop,
        group_batches=group_batches,
        model=teacher,
        args=arguments,
        train_dataset=EncodedRows(teacher, train),
        eval_dataset=EncodedRows(teacher, dev),
        data_collator=DataCollatorWithPadding(teacher.tokenizer),
        compute_metrics=dev_metrics,
    )


def run_trainer(trainer: TeacherTrainer) -> TrainerOutcome:
    """Fine-tune the teacher in place with ``trainer`` (``teacher_trainer``'s) and keep the epoch best
    on dev. In a torch.distributed process group (a Ray Train worker) ``Trainer`` runs DDP over it."""
    trainer.train()
    history = trainer.state.log_history
    # the dev scores of the checkpoint Trainer kept (load_best_model_at_end): no second dev pass
    best = next(e for e in history if "eval_macro_f1" in e and e["step"] == trainer.state.best_global_step)
    return TrainerOutcome(history, best)


def unwrapped(teacher: torch.nn.Module) -> TeacherClassifier:
    """The plain float32 module on the CPU: Trainer's bf16 leaves autocast wrapped around forward
    (float32 scoring must be float32), and downstream nodes expect a CPU model."""
    return extract_model_from_parallel(teacher, keep_fp32_wrapper=False).to("cpu").eval()


def bf16_on(device: str, params: dict[str, Any]) -> bool:
    """Whether ``teacher.bf16`` means bf16 autocast on ``device``."""
    return resolve_precision(params["bf16"], device, "teacher.bf16") == "bf16"


def fine_tune_local(
    teacher: TeacherClassifier,
    train: pd.DataFrame,
    dev: pd.DataFrame,
    params: dict[str, Any],
    ray_params: dict[str, Any] | None = None,
) -> tuple[TeacherClassifier, TrainerOutcome, str]:
    """``run_trainer`` in this process on ``teacher.device``; the trained teacher, outcome, device."""
    torch.set_num_threads(int(params["threads"]))
    device = resolve_device(params["device"], "teacher.device")
    bf16 = bf16_on(device, params)
    logger.info(
        "Fine-tuning the teacher on %d train rows (%s, %s), selecting on %d dev rows",
        len(train),
        "bf16 mixed precision" if bf16 else "float32",
        device,
        len(dev),
    )
    with tempfile.TemporaryDirectory(prefix="teacher-trainer-") as workdir:
        arguments = training_arguments(params, workdir, device, bf16, params["batch_size"])
        groups, patience = params["length_group_batches"], params["early_stopping_patience"]
        outcome = run_trainer(teacher_trainer(teacher, train, dev, arguments, groups, patience))
    return unwrapped(teacher), outcome, device


def remove_tree(path: str | Path) -> None:
    """Remove a scratch directory, already gone or not."""
    shutil.rmtree(path, ignore_errors=True)
