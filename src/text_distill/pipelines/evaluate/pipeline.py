"""Evaluate pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    plot_evaluation,
    profile_models,
    score_across_seeds,
    score_student,
    score_teacher,
    summarise,
)

AGAINST_TEACHER = ["examples", "soft_targets", "teacher_fingerprint", "label_names", "params:evaluate"]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                score_teacher,
                ["soft_targets", "examples", "teacher_fingerprint", "label_names", "params:evaluate"],
                "teacher_scores",
                name="score_teacher",
            ),
            Node(score_student, ["student", *AGAINST_TEACHER], "student_scores", name="score_student"),
            Node(
                score_student,
                ["student_alone", *AGAINST_TEACHER],
                "student_alone_scores",
                name="score_student_alone",
            ),
            Node(
                score_across_seeds,
                [
                    "student_scores",
                    "student_alone_scores",
                    "student_replicas",
                    "student_alone_replicas",
                    "student_training_log",
                    "student_alone_training_log",
                    *AGAINST_TEACHER,
                ],
                "across_seeds_scores",
                name="score_across_seeds",
            ),
            Node(
                profile_models,
                ["teacher", "student", "student_alone", "examples", "params:evaluate"],
                "model_profile",
                name="profile_models",
            ),
            Node(
                plot_evaluation,
                [
                    "teacher_scores",
                    "student_scores",
                    "student_alone_scores",
                    "model_profile",
                    "student_training_log",
                    "student_alone_training_log",
                    "label_names",
                ],
                [
                    "confusion_matrices_plot",
                    "reliability_plot",
                    "accuracy_speed_plot",
                    "training_curves_plot",
                ],
                name="plot_evaluation",
            ),
            Node(
                summarise,
                [
                    "teacher_scores",
                    "student_scores",
                    "student_alone_scores",
                    "across_seeds_scores",
                    "model_profile",
                    "row_accounting",
                    "teacher_fingerprint",
                    "teacher_labelling",
                    "params:evaluate",
                ],
                ["distill_summary", "distill_report", "distill_metrics"],
                name="summarise",
            ),
        ]
    )
