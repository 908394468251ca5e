"""Teacher pipeline wiring."""

from kedro.pipeline import Pipeline

from text_distill.distill.baselines import BASELINES
from text_distill.pipelines import step

from .nodes import (
    choose_teacher_weights,
    fine_tune_teacher,
    fine_tune_teacher_ensemble,
    fingerprint_teacher,
    fit_ngram_teachers,
    prepare_teacher_base,
)

FINE_TUNING = ["teacher_base", "train_dev_examples", "label_names", "params:teacher", "params:ray"]
# every reference baseline, by the node's keyword for it: teacher.ngram_members picks among them
NGRAM_FITTING = {
    "examples": "train_dev_examples",
    "params": "params:teacher",
    **{name: f"baseline_{name}" for name in BASELINES},
}
MEMBERS = ["teacher", "teacher_ensemble", "teacher_ngram"]
SETTINGS = ["params:teacher", "params:soft_targets"]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            step(prepare_teacher_base, ["teacher_checkpoint", "params:teacher"], "teacher_base"),
            step(fine_tune_teacher, FINE_TUNING, ["teacher", "teacher_training_log"], "fine_tune_teacher"),
            step(
                fine_tune_teacher_ensemble,
                FINE_TUNING,
                ["teacher_ensemble", "teacher_ensemble_training_log"],
                "fine_tune_teacher_ensemble",
            ),
            step(fit_ngram_teachers, NGRAM_FITTING, ["teacher_ngram", "teacher_ngram_log"]),
            step(choose_teacher_weights, [*MEMBERS, "train_dev_examples", *SETTINGS], "teacher_weights"),
            step(fingerprint_teacher, [*MEMBERS, "teacher_weights", *SETTINGS], "teacher_fingerprint"),
        ],
        namespace="teacher",
        prefix_datasets_with_namespace=False,
    )
