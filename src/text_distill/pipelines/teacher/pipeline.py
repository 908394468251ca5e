"""Teacher pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from .nodes import fine_tune_teacher, fine_tune_teacher_ensemble, fingerprint_teacher, prepare_teacher_base


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
                ["teacher_base", "examples", "label_names", "params:teacher"],
                ["teacher", "teacher_training_log"],
                name="fine_tune_teacher",
            ),
            Node(
                fine_tune_teacher_ensemble,
                ["teacher_base", "examples", "label_names", "params:teacher"],
                ["teacher_ensemble", "teacher_ensemble_training_log"],
                name="fine_tune_teacher_ensemble",
            ),
            Node(
                fingerprint_teacher,
                ["teacher", "teacher_ensemble", "params:teacher"],
                "teacher_fingerprint",
                name="fingerprint_teacher",
            ),
        ]
    )
