"""Evaluate pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from .nodes import profile_models, score_student, score_teacher, summarise


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                score_teacher,
                ["soft_targets", "examples", "teacher_fingerprint", "label_names"],
                "teacher_scores",
                name="score_teacher",
            ),
            Node(
                score_student, ["student", "examples", "label_names"], "student_scores", name="score_student"
            ),
            Node(
                score_student,
                ["student_alone", "examples", "label_names"],
                "student_alone_scores",
                name="score_student_alone",
            ),
            Node(
                profile_models,
                ["teacher", "student", "student_alone", "examples", "params:evaluate"],
                "model_profile",
                name="profile_models",
            ),
            Node(
                summarise,
                [
                    "teacher_scores",
                    "student_scores",
                    "student_alone_scores",
                    "model_profile",
                    "row_accounting",
                    "teacher_fingerprint",
                    "params:evaluate",
                ],
                ["distill_summary", "distill_report", "distill_metrics"],
                name="summarise",
            ),
        ]
    )
