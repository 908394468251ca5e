"""The student's loop against transformers ``Trainer``: epochs of the default recipe's n-gram
student on cached teacher logits, by ``train_student`` and by a ``Trainer`` subclass whose
``compute_loss`` is the same distillation objective (same rows in the same order, batch size, AdamW,
learning rate, weight decay, clip, seed and threads; a dev evaluation after every epoch and the best
epoch kept, in memory, in both).

The student is built by the project's own builder (``embedding_student``) from the examples, words
and soft targets of the last `make distill` (the newest version all of them share):

    .venv/bin/python bench/student_trainer.py [--rows 4096] [--dev 1000] [--batch 64] [--epochs 1]
        [--rounds 5] [--data data]

Rounds rotate the two, in one process, so machine drift and a busy neighbour hit both alike. Prints
wall and process CPU seconds an epoch, each against the loop's as the median of the rounds' ratios,
each one's best dev macro-F1, the largest weight difference between the two students after the run
(0: the same objective, the same steps), and where ``Trainer``'s time goes: its step loop's
milliseconds a step (by callback; the loop's is its run less its dev passes, about) and the rest of
its run.
"""

import argparse
import copy
import statistics
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from transformers import Trainer, TrainerCallback, TrainingArguments
from transformers.trainer_callback import PrinterCallback

from text_distill.distill.data.soft_targets import logits_for
from text_distill.distill.evaluation.speed import rotating_rounds
from text_distill.distill.objectives.losses import TARGET_SCALES, distillation_loss
from text_distill.distill.objectives.schedules import scheduled_weight, temperature_schedule
from text_distill.distill.students.embedding import embedding_student
from text_distill.distill.training.recipe import StudentRecipe
from text_distill.distill.training.student_data import StudentData
from text_distill.distill.training.student_loop import TrainingConfig, train_student
from text_distill.distill.training.teacher_trainer import dev_metrics

ROOT = Path(__file__).resolve().parents[1]
DATASETS = {
    "examples": "03_primary/examples.parquet",
    "segmented": "04_feature/segmented_examples.parquet",
    "soft_targets": "07_model_output/soft_targets.parquet",
    "segmenter": "04_feature/word_segmenter.json",
    "labels": "03_primary/label_names.json",
}


def shared_version(data: Path) -> dict[str, Path]:
    """Each dataset's file in the newest version directory all of them have (one run's outputs)."""
    versions = [{p.name for p in (data / path).iterdir()} for path in DATASETS.values()]
    common = sorted(set.intersection(*versions))
    if not common:
        raise SystemExit(f"no version shared by {sorted(DATASETS.values())} under {data}: run `make distill`")
    return {name: next((data / path / common[-1]).iterdir()) for name, path in DATASETS.items()}


class Rows(torch.utils.data.Dataset):
    """Token ids, labels and (train only) teacher logits by row, for ``Trainer``."""

    def __init__(self, ids: list[list[int]], labels: np.ndarray, teacher: np.ndarray | None) -> None:
        self.ids, self.labels, self.teacher = ids, labels, teacher

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"ids": self.ids[i], "label": self.labels[i], "teacher": None if self.teacher is None else i}


class EpochOrder(torch.utils.data.Sampler):
    """``train_student``'s row order: a new permutation of one seeded generator every epoch."""

    def __init__(self, rows: int, seed: int) -> None:
        self.rows, self.rng = rows, np.random.default_rng(seed)

    def __len__(self) -> int:
        return self.rows

    def __iter__(self) -> Iterator[int]:
        return iter(self.rng.permutation(self.rows).tolist())


class KeepBest(TrainerCallback):
    """``train_student``'s selection: the weights of the epoch best on dev macro-F1, kept in memory
    and loaded at the end (``load_best_model_at_end`` would write a checkpoint every epoch)."""

    def __init__(self) -> None:
        self.best_f1, self.state = -1.0, None

    def on_evaluate(
        self, args: Any, state: Any, control: Any, model: Any, metrics: Any, **kwargs: Any
    ) -> None:
        if metrics["eval_macro_f1"] > self.best_f1:
            self.best_f1, self.state = metrics["eval_macro_f1"], copy.deepcopy(model.state_dict())

    def on_train_end(self, args: Any, state: Any, control: Any, model: Any, **kwargs: Any) -> None:
        model.load_state_dict(self.state)


class StepClock(TrainerCallback):
    """Seconds from each epoch's start to its last optimiser step's end, summed: the step loop
    alone, without ``train()``'s setup and teardown or the dev evaluations."""

    def __init__(self) -> None:
        self.seconds, self.began, self.stepped = 0.0, 0.0, 0.0

    def on_epoch_begin(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.began = time.perf_counter()

    def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.stepped = time.perf_counter()

    def on_epoch_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
        self.seconds += self.stepped - self.began


class DistillTrainer(Trainer):
    """``compute_loss`` = ``train_student``'s objective: ``distillation_loss`` of the student's logits
    against the hard labels and the cached (scaled) teacher logits, weights and T by schedule. Rows
    come in ``train_student``'s order, so both make the same steps."""

    def __init__(self, *args: Any, config: TrainingConfig, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.config = config
        self.temperature = temperature_schedule(
            config.temperature_schedule,
            config.temperature,
            config.final_temperature,
            config.temperature_beta,
            config.temperature_gamma,
        )

    def _get_train_sampler(self, train_dataset: Any = None) -> torch.utils.data.Sampler:
        return EpochOrder(len(self.train_dataset), self.config.seed)

    def compute_loss(
        self, model: Any, inputs: dict[str, Any], return_outputs: bool = False, num_items_in_batch: Any = None
    ) -> Any:
        config, step, total = self.config, self.state.global_step, self.state.max_steps
        logits = model(inputs["token_ids"], inputs["lengths"]).float()
        teacher = inputs.get("teacher")
        weights = (
            scheduled_weight(config.alpha, config.hard_weight_schedule, step, total),
            scheduled_weight(1.0 - config.alpha, config.kd_weight_schedule, step, total),
        )
        t = 1.0 if teacher is None else self.temperature(logits.detach(), teacher, step, total)
        loss, _ = distillation_loss(
            logits, inputs["labels"], teacher, *weights, config.kd_loss, t, config.hard_term_mean
        )
        return (loss, {"logits": logits}) if return_outputs else loss


def trainer_run(
    student, train: Rows, dev: Rows, config: TrainingConfig, workdir: str
) -> tuple[float, float, float]:
    """``config.epochs`` on ``Trainer``: its construction seconds, step-loop seconds and best dev
    macro-F1."""
    start = time.perf_counter()
    targets = torch.as_tensor(TARGET_SCALES[config.target_scale](train.teacher))

    def collate(rows: list[dict[str, Any]]) -> dict[str, Any]:
        token_ids, lengths = student.batch([row["ids"] for row in rows])
        batch = {
            "token_ids": token_ids,
            "lengths": lengths,
            "labels": torch.tensor([int(row["label"]) for row in rows]),
        }
        if rows[0]["teacher"] is not None:
            batch["teacher"] = targets[[row["teacher"] for row in rows]]
        return batch

    arguments = TrainingArguments(
        output_dir=workdir,
        num_train_epochs=float(config.epochs),
        per_device_train_batch_size=config.batch_size,
        per_device_eval_batch_size=512,  # train_student's evaluation batch
        gradient_accumulation_steps=config.accumulation_steps,
        learning_rate=config.learning_rate,
        weight_decay=config.weight_decay,
        max_grad_norm=config.grad_clip,
        lr_scheduler_type="constant",  # train_student has no learning-rate schedule
        optim="adamw_torch",
        eval_strategy="epoch",
        save_strategy="no",
        logging_strategy="epoch",
        label_names=["labels"],
        remove_unused_columns=False,
        report_to="none",
        use_cpu=True,
        seed=config.seed,
        dataloader_num_workers=0,
        dataloader_pin_memory=False,
        disable_tqdm=True,
    )
    trainer = DistillTrainer(
        model=student,
        args=arguments,
        train_dataset=train,
        eval_dataset=dev,
        data_collator=collate,
        compute_metrics=dev_metrics,
        config=config,
        callbacks=[clock := StepClock(), best := KeepBest()],
    )
    trainer.remove_callback(PrinterCallback)  # the log lines, not the work
    built = time.perf_counter() - start
    trainer.train()
    return built, clock.seconds, best.best_f1


def dev_pass(student, ids: list[list[int]]) -> float:
    """Seconds of one prediction pass over dev as ``train_student`` evaluates (512 rows a batch)."""
    start = time.perf_counter()
    student.eval()
    with torch.inference_mode():
        for i in range(0, len(ids), 512):
            student(*student.batch(ids[i : i + 512])).argmax(-1)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=4096, help="train rows")
    parser.add_argument("--dev", type=int, default=1000, help="dev rows")
    parser.add_argument("--batch", type=int, default=64, help="batch size (smoke: 64, base: 512)")
    parser.add_argument("--epochs", type=int, default=1, help="in one run (a run's fixed cost amortised)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=ROOT / "data")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    files = shared_version(args.data)
    examples = pd.read_parquet(files["examples"])
    examples = pd.concat(
        [
            examples[examples["split"] == "train"].head(args.rows),
            examples[examples["split"] == "dev"].head(args.dev),
        ]
    )
    recipe = StudentRecipe.from_yaml(ROOT / "conf/base/parameters_student.yml").override(
        {
            "optimiser": {"epochs": args.epochs, "min_steps": None, "batch_size": args.batch},
            "runtime": {"progress": False, "device": "cpu", "threads": args.threads},
        }
    )
    assert recipe.model.architecture == "ngram", "the default student is the n-gram bag"
    data = StudentData(
        examples,
        pd.read_parquet(files["segmented"]),
        ([], np.zeros((0, 1), np.float32)),  # the n-gram kind counts its own vocabulary
        ([], np.zeros((0, 1), np.float32)),
        pd.read_json(files["segmenter"], typ="series")["segmenter"],
        pd.read_json(files["labels"], typ="series").tolist(),
    )
    torch.manual_seed(recipe.runtime.seed)  # the head's initial weights, as student_training.seeded does
    built = embedding_student(data, recipe)
    initial = built.student
    train_rows, dev_rows = (data.split(examples, name) for name in ("train", "dev"))
    train_ids = [initial.ids(tokens) for tokens in built.train_tokens]
    dev_ids = [initial.ids(tokens) for tokens in built.dev_tokens]
    train_labels, dev_labels = train_rows["label_id"].to_numpy(), dev_rows["label_id"].to_numpy()
    logits = logits_for(pd.read_parquet(files["soft_targets"]), train_rows["example_id"])
    config = recipe.training_config()
    train, dev = Rows(train_ids, train_labels, logits), Rows(dev_ids, dev_labels, None)
    steps = -(-len(train_ids) // config.batch_size) * args.epochs

    built_seconds: list[float] = []
    loop_seconds: dict[str, list[float]] = {"train_student": [], "Trainer": []}
    cpu_seconds: dict[str, list[float]] = {"train_student": [], "Trainer": []}
    f1: dict[str, float] = {}
    weights: dict[str, dict[str, torch.Tensor]] = {}

    def timed(mode: str, _round: int) -> float:
        student = copy.deepcopy(initial)
        torch.manual_seed(config.seed)
        start, cpu = time.perf_counter(), time.process_time()
        if mode == "train_student":
            history = train_student(student, train_ids, train_labels, logits, dev_ids, dev_labels, config)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            f1[mode] = max(record["dev_macro_f1"] for record in history)
            loop_seconds[mode].append(wall - args.epochs * dev_pass(student, dev_ids))  # its steps, about
        else:
            with tempfile.TemporaryDirectory(prefix="student-trainer-") as workdir:
                built_s, loop_s, f1[mode] = trainer_run(student, train, dev, config, workdir)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            built_seconds.append(built_s)
            loop_seconds[mode].append(loop_s)
        cpu_seconds[mode].append(cpu / args.epochs)
        weights[mode] = {k: v.detach().clone() for k, v in student.state_dict().items()}
        return wall / args.epochs

    modes = ("train_student", "Trainer")
    for mode in modes:  # warm-up: imports and lazy initialisation are not per-run cost
        timed(mode, -1)
    for values in (built_seconds, *loop_seconds.values(), *cpu_seconds.values()):
        values.clear()
    seconds = rotating_rounds(timed, modes, args.rounds)  # wall seconds an epoch

    def against_loop(times: dict[str, list[float]], mode: str) -> float:
        """The median over rounds of this round's time over the loop's: a busy neighbour slows both
        runs of a round alike, so a round's ratio is steadier than a ratio of medians."""
        return statistics.median(t / base for t, base in zip(times[mode], times[modes[0]], strict=True))

    print(
        f"n-gram student ({initial.model.embedding.num_embeddings:,} features), {len(train_ids)} train rows, "
        f"{len(dev_ids)} dev rows, batch {config.batch_size}, {args.epochs} epochs ({steps} steps) a run, "
        f"{args.threads} threads, {args.rounds} rounds\n"
    )
    print(
        "| run | wall s/epoch best | wall s/epoch median | CPU s/epoch median | wall vs loop | CPU vs loop "
        "| best dev macro-F1 |"
    )
    print("|---|---|---|---|---|---|---|")
    for mode in modes:
        print(
            f"| {mode} | {min(seconds[mode]):.3f} | {statistics.median(seconds[mode]):.3f} "
            f"| {statistics.median(cpu_seconds[mode]):.3f} | {against_loop(seconds, mode):.2f}x "
            f"| {against_loop(cpu_seconds, mode):.2f}x | {f1[mode]:.4f} |"
        )
    apart = max((weights[modes[0]][k] - weights[modes[1]][k]).abs().max().item() for k in weights[modes[0]])
    per_step = {mode: statistics.median(loop_seconds[mode]) * 1000 / steps for mode in modes}
    trainer_rest = statistics.median(
        w * args.epochs - loop for w, loop in zip(seconds["Trainer"], loop_seconds["Trainer"], strict=True)
    )
    print(f"\nlargest weight difference after the run, loop against Trainer: {apart:.2e}")
    print(
        f"step loop, median ms/step: train_student {per_step['train_student']:.2f} (its run less its dev "
        f"passes), Trainer {per_step['Trainer']:.2f} (by callback); the rest of a Trainer run (construction "
        f"{statistics.median(built_seconds):.3f} s, setup, dev evaluations, teardown): {trainer_rest:.2f} s"
    )
    print(
        "all rounds (wall s/epoch): "
        + "; ".join(f"{m}: {', '.join(f'{s:.2f}' for s in seconds[m])}" for m in modes)
    )


if __name__ == "__main__":
    main()
