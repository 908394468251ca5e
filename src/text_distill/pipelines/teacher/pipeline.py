"""Teacher pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from text_distill.distill.baselines import BASELINES

from .nodes import (
    choose_teacher_weights,
    fine_tune_teacher,
    fine_tune_teacher_ensemble,
    fingerprint_teacher,
    fit_ngram_teachers,
    prepare_teacher_base,
)


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                prepare_teacher_base,
                ["teacher_checkpoint", "params:teacher"],
                "teacher_base",
                name="prepare_teacher_base",
            ),
            Node(
                fine_tune_teacher,
                ["teacher_base", "train_dev_examples", "label_names", "params:teacher", "params:ray"],
                ["teacher", "teacher_training_log"],
                name="fine_tune_teacher",
            ),
            Node(
                fine_tune_teacher_ensemble,
                ["teacher_base", "train_dev_examples", "label_names", "params:teacher", "params:ray"],
                ["teacher_ensemble", "teacher_ensemble_training_log"],
                name="fine_tune_teacher_ensemble",
            ),
            Node(
                fit_ngram_teachers,
                {
                    "examples": "train_dev_examples",
                    "params": "params:teacher",
                    **{name: f"baseline_{name}" for name in BASELINES},
                },
                ["teacher_ngram", "teacher_ngram_log"],
                name="fit_ngram_teachers",
            ),
            Node(
                choose_teacher_weights,
                [
                    "teacher",
                    "teacher_ensemble",
                    "teacher_ngram",
                    "train_dev_examples",
                    "params:teacher",
                    "params:soft_targets",
                ],
                "teacher_weights",
                name="choose_teacher_weights",
            ),
            Node(
                fingerprint_teacher,
                [
                    "teacher",
                    "teacher_ensemble",
                    "teacher_ngram",
                    "teacher_weights",
                    "params:teacher",
                    "params:soft_targets",
                ],
                "teacher_fingerprint",
                name="fingerprint_teacher",
            ),
        ]
    )
