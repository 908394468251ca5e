"""The student training loop: mini-batches of cached teacher logits and hard labels, dev selection.

``train_student`` reads as its steps: seed and device, the schedule, the objective (``Objective``,
each batch's loss a ``BatchLoss``), resume or start (``Progress``), then per epoch a pass over the
rows, the dev scores and the kept epoch, the checkpoint and the early-stop decision. It stays a loop
of its own, not a transformers ``Trainer`` as the teacher's: for the same steps and weights,
``Trainer`` took 1.3-1.4x the loop's time an epoch on the n-gram student's runs, 2-3x on one epoch
(``bench/student_trainer.py``, docs/benchmarks.md).
"""

import copy
import hashlib
import itertools
import logging
import math
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import torch
from pydantic import Field
from sklearn.metrics import accuracy_score, f1_score
from tqdm.auto import tqdm
from transformers.utils import is_torch_bf16_available_on_device

from text_distill.distill.models.student import StudentClassifier
from text_distill.distill.objectives.adversarial import ADVERSARIAL, adversarial_backward
from text_distill.distill.objectives.intermediate import IntermediateMatching
from text_distill.distill.objectives.losses import (
    HARD_TERM_MEANS,
    KD_LOSSES,
    TARGET_SCALES,
    distillation_loss,
)
from text_distill.distill.objectives.schedules import (
    TEMPERATURE_SCHEDULES,
    WEIGHT_SCHEDULES,
    scheduled_weight,
    temperature_schedule,
)

logger = logging.getLogger(__name__)


# the recipe's constraints, read by the recipe check (``recipe.checked``); the named choices are
# their registries' names
AtLeastOne = Annotated[int, Field(ge=1)]
Positive = Annotated[float, Field(gt=0)]
WeightSchedule = Literal[tuple(WEIGHT_SCHEDULES)]  # type: ignore[valid-type]


@dataclass(frozen=True)
class ObjectiveSpec:
    """The recipe's ``objective`` group: the loss and its schedules."""

    alpha: Annotated[float, Field(ge=0, le=1)]  # hard-label weight; the KD weight is 1 - alpha
    hard_weight_schedule: WeightSchedule
    kd_weight_schedule: WeightSchedule
    kd_loss: Literal[tuple(KD_LOSSES)]  # type: ignore[valid-type]
    # labelled_rows | all_rows: what the hard term is averaged over (losses.HARD_TERM_MEANS)
    hard_term_mean: Literal[tuple(HARD_TERM_MEANS)]  # type: ignore[valid-type]
    # raw | standardised: the teacher logits as cached, or on one scale (losses.TARGET_SCALES)
    target_scale: Literal[tuple(TARGET_SCALES)]  # type: ignore[valid-type]
    temperature: Positive
    temperature_schedule: Literal[tuple(TEMPERATURE_SCHEDULES)]  # type: ignore[valid-type]
    final_temperature: Positive  # linear_decay's last T
    temperature_beta: float  # flsw / cwsm spread
    temperature_gamma: float  # flsw exponent


@dataclass(frozen=True)
class OptimiserSpec:
    """The recipe's ``optimiser`` group."""

    epochs: AtLeastOne
    min_steps: AtLeastOne | None  # at least this many optimiser steps: a small training set gets more epochs
    batch_size: AtLeastOne
    learning_rate: Positive
    weight_decay: float
    grad_clip: float
    accumulation_steps: AtLeastOne  # batches per optimiser step
    early_stopping_patience: AtLeastOne | None  # epochs without a better dev macro-F1 before stopping
    adversarial: Literal[tuple(ADVERSARIAL)] | None  # type: ignore[valid-type]  # fgm | pgd on the embedding table
    adversarial_epsilon: Positive
    pgd_steps: AtLeastOne
    pgd_step_size: Positive


@dataclass(frozen=True)
class TrainingConfig(ObjectiveSpec, OptimiserSpec):
    """What the training loop needs of a recipe, built by ``StudentRecipe.training_config``: the
    objective and optimiser groups as the recipe holds them, and the runtime. The defaults live in
    ``conf/base/parameters_student.yml`` only."""

    bf16: bool  # bf16 autocast for the forward passes where the CPU supports it
    device: str  # cpu | cuda, resolved (the student comes back on the CPU either way)
    seed: int
    progress: bool
    checkpoint: str | None = None  # file saved after every epoch; resumed if made from the same inputs


def _evaluate(
    student: StudentClassifier, ids: Sequence[Sequence[int]], labels: np.ndarray, device: str = "cpu"
) -> dict[str, float]:
    student.eval()
    predicted = []
    with torch.inference_mode():
        for start in range(0, len(ids), 512):
            batch = [part.to(device) for part in student.batch(ids[start : start + 512])]
            predicted.append(student(*batch).argmax(-1).cpu().numpy())
    predicted = np.concatenate(predicted)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, average="macro")),
    }


def _save_checkpoint(path: str, **state: object) -> None:
    """Write atomically, so an interruption mid-write never leaves a broken checkpoint."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial_file = target.with_suffix(target.suffix + ".partial")
    torch.save(state, partial_file)
    partial_file.replace(target)


# TrainingConfig fields that do not change what is trained
_NOT_RECIPE = ("checkpoint", "progress")


def _digest(*arrays: np.ndarray | None) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _ragged(id_lists: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Token id lists as their lengths and the ids end to end."""
    lengths = np.fromiter((len(ids) for ids in id_lists), dtype=np.int64, count=len(id_lists))
    flat = np.fromiter(itertools.chain.from_iterable(id_lists), dtype=np.int64, count=int(lengths.sum()))
    return lengths, flat


def _trained_state(
    student: StudentClassifier, matcher: IntermediateMatching | None
) -> dict[str, torch.Tensor]:
    state = {f"student.{name}": value for name, value in student.state_dict().items()}
    if matcher is not None:
        state.update({f"matcher.{name}": value for name, value in matcher.state_dict().items()})
    return {name: value for name, value in state.items() if isinstance(value, torch.Tensor)}


def _weights_digest(state: dict[str, torch.Tensor]) -> str:
    digest = hashlib.sha256()
    for name, tensor in state.items():
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()


def training_provenance(
    student: StudentClassifier,
    matcher: IntermediateMatching | None,
    config: TrainingConfig,
    teacher_logits: np.ndarray | None,
    train: tuple[Sequence[Sequence[int]], np.ndarray],
    dev: tuple[Sequence[Sequence[int]], np.ndarray],
) -> dict[str, Any]:
    """What a student checkpoint is made from; resuming is right only if none of it changed.

    The teacher is known by its logits (another teacher, or soft targets rebuilt, give others) and,
    for a transformer student, by the weights cut from it; the data by the token ids and labels; the
    recipe by every training option; the model by its parameter shapes, vocabulary, labels and
    initial weights (another vocabulary, unit or set of word vectors changes them).
    """
    (train_ids, train_labels), (dev_ids, dev_labels) = train, dev  # token ids and labels
    state = _trained_state(student, matcher)
    vocabulary = "\n".join(sorted(student.token_ids, key=student.token_ids.get))
    return {
        "teacher logits": _digest(None if teacher_logits is None else np.asarray(teacher_logits, np.float32)),
        "training data": _digest(*_ragged(train_ids), np.asarray(train_labels, np.int64)),
        "dev data": _digest(*_ragged(dev_ids), np.asarray(dev_labels, np.int64)),
        "recipe": {k: v for k, v in asdict(config).items() if k not in _NOT_RECIPE},
        "model shape": {name: list(value.shape) for name, value in state.items()},
        "student": {
            "unit": student.unit,
            "labels": student.label_names,
            "max_tokens": student.max_tokens,
            "vocabulary": hashlib.sha256(vocabulary.encode()).hexdigest(),
        },
        "initial weights": _weights_digest(state),
    }


def _provenance_change(made_from: dict[str, Any] | None, provenance: dict[str, Any]) -> str | None:
    """Why a checkpoint of ``made_from`` cannot be resumed by this run, in words; None: it can."""
    if made_from is None:
        return "it records nothing of what it was made from"
    changed = []
    for key, value in provenance.items():
        before = made_from.get(key)
        if key == "recipe" and isinstance(before, dict) and before != value:
            options = sorted(k for k in {*value, *before} if before.get(k) != value.get(k))
            changed.append(f"recipe ({', '.join(options)})")
        elif before != value:
            changed.append(key)
    return f"its {', '.join(changed)} differ from this run's" if changed else None


def _resumable_checkpoint(path: str | None, provenance: dict[str, Any] | None) -> dict[str, Any] | None:
    """The checkpoint at ``path`` if it was made from these same inputs; else None, with one warning
    line saying why training starts over (the checkpoint is overwritten after the first epoch)."""
    if not path or not Path(path).exists():
        return None
    try:
        state = torch.load(path, weights_only=False)
    except Exception as exc:  # not a checkpoint this code wrote
        logger.warning(
            "Student checkpoint %s cannot be read (%s): training from the start", path, type(exc).__name__
        )
        return None
    change = _provenance_change(state.get("provenance") if isinstance(state, dict) else None, provenance)
    if change:
        logger.warning(
            "Student checkpoint %s was made from other inputs (%s): training from the start",
            path,
            change,
        )
        return None
    return state


def planned_epochs(config: OptimiserSpec, rows: int) -> int:
    """``config.epochs``, or more where ``rows`` would give fewer than ``config.min_steps`` optimiser
    steps: the schedule follows the number of rows, so 1,000 rows train as long as 85,000 do."""
    if config.min_steps is None:
        return config.epochs
    batches = math.ceil(rows / config.batch_size)
    steps_per_epoch = max(1, math.ceil(batches / config.accumulation_steps))
    return max(config.epochs, math.ceil(config.min_steps / steps_per_epoch))


@dataclass(frozen=True)
class Objective:
    """What every batch's loss is computed with: the student (and matcher), the recipe's loss and
    schedules, and the run's length in batches, which the schedules read."""

    student: StudentClassifier
    matcher: IntermediateMatching | None
    config: TrainingConfig
    temperature: Callable[[torch.Tensor, torch.Tensor, int, int], float | torch.Tensor]
    total_steps: int  # batches in the whole run
    autocast: bool  # bf16 autocast around the forward pass

    @classmethod
    def of(
        cls,
        student: StudentClassifier,
        matcher: IntermediateMatching | None,
        config: TrainingConfig,
        total_steps: int,
        autocast: bool,
    ) -> "Objective":
        """The objective of ``config``, its temperature schedule built."""
        temperature = temperature_schedule(
            config.temperature_schedule,
            config.temperature,
            config.final_temperature,
            config.temperature_beta,
            config.temperature_gamma,
        )
        return cls(student, matcher, config, temperature, total_steps, autocast)

    def weights(self, step: int) -> tuple[float, float]:
        """The hard and KD weights at ``step`` (a batch), by their schedules."""
        config = self.config
        return (
            scheduled_weight(config.alpha, config.hard_weight_schedule, step, self.total_steps),
            scheduled_weight(1.0 - config.alpha, config.kd_weight_schedule, step, self.total_steps),
        )


@dataclass(frozen=True)
class BatchLoss:
    """One batch at one step, and its loss by ``objective``: computed once for the clean backward
    pass and again, at perturbed embeddings, by adversarial training (``value``)."""

    objective: Objective
    token_ids: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor
    teacher: torch.Tensor | None  # the batch's (scaled) teacher logits; None: hard labels alone
    step: int

    def __call__(self) -> tuple[torch.Tensor, dict[str, float]]:
        """The batch's loss, divided by the accumulation steps, and its parts."""
        objective, config = self.objective, self.objective.config
        with torch.autocast("cpu", dtype=torch.bfloat16) if objective.autocast else nullcontext():
            if objective.matcher is None:
                logits, matched, matched_parts = objective.student(self.token_ids, self.lengths), None, {}
            else:
                logits, matched, matched_parts = objective.matcher(
                    objective.student.model, self.token_ids, self.lengths
                )
        logits = logits.float()  # the losses in float32 whatever the forward's precision
        teacher, step, total = self.teacher, self.step, objective.total_steps
        t = 1.0 if teacher is None else objective.temperature(logits.detach(), teacher, step, total)
        loss, parts = distillation_loss(
            logits,
            self.labels,
            teacher,
            *objective.weights(step),
            config.kd_loss,
            t,
            config.hard_term_mean,
        )
        if matched is not None:
            loss = loss + matched.float()
            parts.update(matched_parts)
        return loss / config.accumulation_steps, parts

    def value(self) -> torch.Tensor:
        """The loss alone, as adversarial training recomputes it."""
        return self()[0]


@dataclass(frozen=True)
class TrainRows:
    """The training rows on the device: token ids, hard labels and the (scaled) teacher logits."""

    ids: Sequence[Sequence[int]]
    labels: torch.Tensor
    targets: torch.Tensor | None  # None: hard labels alone
    device: str

    @classmethod
    def of(
        cls,
        ids: Sequence[Sequence[int]],
        labels: np.ndarray,
        teacher_logits: np.ndarray | None,
        config: TrainingConfig,
    ) -> "TrainRows":
        scaled = None
        if teacher_logits is not None:
            scaled = TARGET_SCALES[config.target_scale](np.asarray(teacher_logits, np.float32))
        return cls(
            ids,
            torch.tensor(np.asarray(labels), dtype=torch.long, device=config.device),
            None if scaled is None else torch.as_tensor(scaled, device=config.device),
            config.device,
        )

    def batch_loss(self, objective: Objective, index: np.ndarray, step: int) -> BatchLoss:
        """The rows at ``index`` as one batch at ``step``."""
        token_ids, lengths = (
            part.to(self.device) for part in objective.student.batch([self.ids[i] for i in index])
        )
        teacher = None if self.targets is None else self.targets[index]
        return BatchLoss(objective, token_ids, lengths, self.labels[index], teacher, step)


@dataclass
class Progress:
    """Where a run stands after its last finished epoch: what a checkpoint saves besides the model,
    optimiser and random states, under the same names (``best`` is the best epoch's weights)."""

    best: dict[str, torch.Tensor] | None = None
    best_f1: float = -1.0
    best_epoch: int = 0
    history: list[dict[str, float]] = field(default_factory=list)
    step: int = 0  # batches trained so far
    epoch: int = 0  # the last finished epoch

    def finish_epoch(self, record: dict[str, float], student: StudentClassifier) -> None:
        """Log the epoch's ``record`` and keep the student's weights if dev macro-F1 improved."""
        self.history.append(record)
        self.epoch = int(record["epoch"])
        logger.info("Student epoch %d: %s", self.epoch, {k: round(v, 4) for k, v in record.items()})
        if record["dev_macro_f1"] > self.best_f1:
            self.best_f1, self.best, self.best_epoch = (
                record["dev_macro_f1"],
                copy.deepcopy(student.state_dict()),
                self.epoch,
            )

    def stops_early(self, patience: int | None) -> bool:
        """Whether ``patience`` epochs have passed without a better dev macro-F1."""
        if patience is None or self.epoch - self.best_epoch < patience:
            return False
        logger.info("Early stop: dev macro-F1 has not improved for %d epochs", self.epoch - self.best_epoch)
        return True


_PROGRESS = tuple(f.name for f in fields(Progress))


def _on_device(
    student: StudentClassifier, matcher: IntermediateMatching | None, config: TrainingConfig
) -> tuple[list[torch.nn.Parameter], bool]:
    """The student and matcher moved to the device; the parameters trained (the matcher's learned
    projection, if any, along) and whether bf16 autocast is on (asked for and supported there)."""
    autocast = config.bf16 and is_torch_bf16_available_on_device(config.device)
    if config.bf16 and not autocast:
        logger.warning(
            "student.bf16 is set but this %s has no bf16 support: training in float32", config.device
        )
    student.to(config.device)
    if matcher is not None:
        matcher.to(config.device)
    return [*student.parameters(), *(matcher.parameters() if matcher is not None else [])], autocast


def _schedule(config: TrainingConfig, rows: int) -> tuple[int, int]:
    """The run's epochs (``min_steps`` may raise them: ``planned_epochs``) and its length in
    batches, which the weight and temperature schedules read."""
    epochs = planned_epochs(config, rows)
    if epochs != config.epochs:
        logger.info("%d training rows: %d epochs for student.optimiser.min_steps", rows, epochs)
    return epochs, epochs * -(-rows // config.batch_size)


def _resume(
    config: TrainingConfig,
    provenance: dict[str, Any] | None,
    objective: Objective,
    optimiser: torch.optim.Optimizer,
    rng: np.random.Generator,
) -> Progress:
    """The progress of the checkpoint made from these same inputs, its weights, optimiser and random
    states loaded; a new run's progress where there is none (``_resumable_checkpoint``)."""
    state = _resumable_checkpoint(config.checkpoint, provenance)
    if state is None:
        return Progress()
    objective.student.load_state_dict(state["student"])
    if objective.matcher is not None:
        objective.matcher.load_state_dict(state["matcher"])  # the learned projection, if any
    optimiser.load_state_dict(state["optimiser"])
    rng.bit_generator.state = state["numpy_rng"]
    torch.set_rng_state(state["torch_rng"])
    logger.info("Resuming student training from %s after epoch %d", config.checkpoint, state["epoch"])
    return Progress(**{name: state[name] for name in _PROGRESS})


def _train_epoch(
    objective: Objective,
    rows: TrainRows,
    optimiser: torch.optim.Optimizer,
    trained: list[torch.nn.Parameter],
    rng: np.random.Generator,
    progress: Progress,
) -> dict[str, float]:
    """One pass over the rows in a new random order, ``progress.step`` counting the batches; the
    mean of each loss part over the rows, ``train_`` before its name."""
    student, config = objective.student, objective.config
    student.train()
    order = rng.permutation(len(rows.ids))
    sums: dict[str, float] = {}
    batches = range(0, len(order), config.batch_size)
    epoch = progress.epoch + 1
    for start in tqdm(batches, desc=f"student epoch {epoch}", disable=not config.progress, mininterval=5):
        index = order[start : start + config.batch_size]
        compute = rows.batch_loss(objective, index, progress.step)
        loss, parts = compute()
        loss.backward()
        if config.adversarial:
            parts["adversarial"] = adversarial_backward(
                student.parameters(),
                student.model.embedding,
                compute.value,
                config.adversarial,
                config.adversarial_epsilon,
                config.pgd_steps,
                config.pgd_step_size,
            )
        progress.step += 1
        # an optimiser step every accumulation_steps batches, and after an epoch's last batch
        if progress.step % config.accumulation_steps == 0 or start + config.batch_size >= len(order):
            torch.nn.utils.clip_grad_norm_(trained, config.grad_clip)
            optimiser.step()
            optimiser.zero_grad()
        parts["loss"] = loss.item() * config.accumulation_steps
        for name, value in parts.items():
            sums[name] = sums.get(name, 0.0) + value * len(index)
    return {f"train_{name}": value / len(order) for name, value in sums.items()}


def _write_checkpoint(
    objective: Objective,
    optimiser: torch.optim.Optimizer,
    rng: np.random.Generator,
    progress: Progress,
    provenance: dict[str, Any] | None,
) -> None:
    """Everything a resumed run needs to go on as if never stopped, and what it was made from."""
    _save_checkpoint(
        objective.config.checkpoint,
        student=objective.student.state_dict(),
        matcher=objective.matcher.state_dict() if objective.matcher is not None else None,
        optimiser=optimiser.state_dict(),
        numpy_rng=rng.bit_generator.state,
        torch_rng=torch.get_rng_state(),
        provenance=provenance,
        **{name: getattr(progress, name) for name in _PROGRESS},
    )


def _keep_best(student: StudentClassifier, matcher: IntermediateMatching | None, progress: Progress) -> None:
    """The best epoch's weights, on the CPU, in eval mode: what the catalog, export and serving expect."""
    student.load_state_dict(progress.best)
    student.to("cpu").eval()
    if matcher is not None:
        matcher.to("cpu")


def train_student(
    student: StudentClassifier,
    train_ids: Sequence[Sequence[int]],
    train_labels: np.ndarray,
    teacher_logits: np.ndarray | None,
    dev_ids: Sequence[Sequence[int]],
    dev_labels: np.ndarray,
    config: TrainingConfig,
    matcher: IntermediateMatching | None = None,
) -> list[dict[str, float]]:
    """Train in place and keep the epoch with the best dev macro-F1; returns the per-epoch history.

    ``teacher_logits=None`` (or ``alpha=1``) trains on hard labels alone: the student-alone baseline.
    ``matcher`` adds intermediate-layer matching against an online teacher pass (its projection, if
    any, is trained along).
    """
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)  # the rows' order, epoch by epoch
    trained, autocast = _on_device(student, matcher, config)
    optimiser = torch.optim.AdamW(
        [p for p in trained if p.requires_grad], lr=config.learning_rate, weight_decay=config.weight_decay
    )
    epochs, total_steps = _schedule(config, len(train_ids))
    objective = Objective.of(student, matcher, config, total_steps, autocast)
    rows = TrainRows.of(train_ids, train_labels, teacher_logits, config)
    provenance = None
    if config.checkpoint:
        train, dev = (train_ids, train_labels), (dev_ids, dev_labels)
        provenance = training_provenance(student, matcher, config, teacher_logits, train, dev)
    progress = _resume(config, provenance, objective, optimiser, rng)
    optimiser.zero_grad()
    for epoch in range(progress.epoch + 1, epochs + 1):
        record = {"epoch": epoch, **_train_epoch(objective, rows, optimiser, trained, rng, progress)}
        scores = _evaluate(student, dev_ids, dev_labels, config.device)
        progress.finish_epoch({**record, **{f"dev_{k}": v for k, v in scores.items()}}, student)
        if config.checkpoint:
            _write_checkpoint(objective, optimiser, rng, progress, provenance)
        if progress.stops_early(config.early_stopping_patience):
            break
    _keep_best(student, matcher, progress)
    return progress.history
