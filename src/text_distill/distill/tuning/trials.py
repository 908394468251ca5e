"""One trial of a sweep or search: a configuration of dotted parameter paths
(``student.objective.temperature``: 4.0) -> one distilled student trained with those values over the
student parameters, selected on dev, scored on test for the table only, as a nested-run record. The
same function runs in this process, as a Ray task or in a Ray Tune trial, so the same seed gives the
same record.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from text_distill.distill.evaluation.scores import test_logits, test_scores
from text_distill.distill.models.student_kinds import STUDENT_KINDS
from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.training.recipe import StudentRecipe, merge
from text_distill.distill.training.student_inputs import StudentInputs
from text_distill.distill.training.student_training import Transfer, train_distilled
from text_distill.distill.tuning.sweeps import flatten, unflatten

PLUMBING = ("progress", "threads", "checkpoint_dir")  # how a run ran, not what it trained
# no checkpoint file shared by concurrent trials
OWN_CHECKPOINTS = {"runtime": {"checkpoint_dir": None}}
STUDENT = "student."  # a trial's keys under it override the student parameters
TEMPERATURE = "student.objective.temperature"  # where T lives in the parameters
ARCHITECTURE = "student.model.architecture"


def without_unused_teacher(
    inputs: StudentInputs, student_params: dict[str, Any], architectures: list[Any]
) -> StudentInputs:
    """The inputs, keeping the teacher only when a trial may train a student whose kind runs it
    (``StudentKind.needs_teacher``: the transformer): on Ray the trials' inputs go through the object
    store, and a teacher is hundreds of MB."""
    wanted = {student_params["model"]["architecture"], *architectures}
    kinds = [STUDENT_KINDS.get(name) for name in wanted]
    needed = any(kind is not None and kind.needs_teacher for kind in kinds)
    return inputs if needed else dataclasses.replace(inputs, teacher=None)


def student_trial(
    inputs: StudentInputs,
    test: "TestRows",
    student_params: dict[str, Any],
    evaluate_params: dict[str, Any],
    transfer: Callable[[pd.DataFrame, dict[str, Any]], pd.DataFrame] | None = None,
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """A trial: a configuration of dotted parameter paths (``student.objective.temperature``: 4.0)
    -> one distilled student trained with its ``student.*`` values over ``student_params`` and
    scored, as a nested-run record (params; metrics: the configuration's numbers, best-epoch dev
    macro-F1 and the test scores for the table; history). ``transfer`` picks the transfer rows a
    trial uses from its configuration (default: all of them)."""

    data = inputs.checked().data()  # the cache is checked once, for every trial
    soft_targets, transfer_targets, teacher = inputs.soft_targets, inputs.transfer_targets, inputs.teacher
    test_rows, teacher_logits = test.logits()
    label_names = inputs.label_names
    bins = int(evaluate_params["calibration_bins"])

    def trial(config: dict[str, Any]) -> dict[str, Any]:
        changes = unflatten(
            {key.removeprefix(STUDENT): value for key, value in config.items() if key.startswith(STUDENT)}
        )
        run_params = merge(merge(student_params, changes), OWN_CHECKPOINTS)
        rows = transfer_targets if transfer is None else transfer(transfer_targets, config)
        recipe = StudentRecipe.from_params(run_params)
        student, log = train_distilled(data, soft_targets, Transfer.of(rows), teacher, recipe)
        logits = student.predict_logits(test_rows["text"].tolist())
        scores = test_scores(test_rows["label_id"].to_numpy(), logits, label_names, teacher_logits, bins)
        best = max(log["history"], key=lambda record: record["dev_macro_f1"])
        searched = {
            key: float(value)
            for key, value in config.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        return {
            "config": config,  # what the trial set, for a search's recipe file (not logged to MLflow)
            "params": {
                key: value
                for key, value in flatten(run_params).items()
                if key.rsplit(".", 1)[-1] not in PLUMBING
            },
            "metrics": {
                **searched,
                "dev_macro_f1": best["dev_macro_f1"],
                "test_accuracy": scores["accuracy"],
                "test_macro_f1": scores["macro_f1"],
                "test_fidelity": scores["fidelity"],
                "test_ece": scores["ece"],
                "best_epoch": float(log["best_epoch"]),
                "transfer_rows": float(log["transfer_rows"]),
            },
            "history": log["history"],
        }

    return trial


@dataclasses.dataclass(frozen=True)
class TestRows:
    """The test rows and the teacher's logits for them, what a trial's table scores (never what it
    selects on)."""

    examples: pd.DataFrame
    soft_targets: pd.DataFrame

    def logits(self) -> tuple[pd.DataFrame, np.ndarray]:
        return test_logits(self.soft_targets, self.examples)


@dataclasses.dataclass(frozen=True)
class Study:
    """What every sweep or search of the student's recipe reads besides its own parameters."""

    inputs: StudentInputs
    test: TestRows
    student_params: dict[str, Any]
    evaluate_params: dict[str, Any]
    ray_params: dict[str, Any]

    @classmethod
    def of(
        cls,
        *,
        test_examples: pd.DataFrame,
        test_soft_targets: pd.DataFrame,
        student_params: dict[str, Any],
        evaluate_params: dict[str, Any],
        ray_params: dict[str, Any] | None = None,
        teacher: TeacherClassifier | None = None,
        **student_inputs: Any,
    ) -> "Study":
        """From the catalog entries by name (``pipelines.inputs.STUDY``): ``student_inputs`` are
        ``StudentInputs``' fields (a missing or unknown one is refused there)."""
        return cls(
            StudentInputs(teacher=teacher, **student_inputs),
            TestRows(test_examples, test_soft_targets),
            student_params,
            evaluate_params,
            ray_params or {},
        )

    def trial(
        self,
        architectures: list[Any],
        transfer: Callable[[pd.DataFrame, dict[str, Any]], pd.DataFrame] | None = None,
    ) -> Callable[[dict[str, Any]], dict[str, Any]]:
        """``student_trial`` over these inputs, with the teacher only if one of ``architectures`` (the
        configurations' own, besides the student parameters') needs it."""
        inputs = without_unused_teacher(self.inputs, self.student_params, architectures)
        return student_trial(inputs, self.test, self.student_params, self.evaluate_params, transfer)
