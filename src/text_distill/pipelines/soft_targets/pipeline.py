"""Soft-target pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from .nodes import compute_soft_targets


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                compute_soft_targets,
                ["teacher", "teacher_ensemble", "teacher_fingerprint", "examples", "params:soft_targets"],
                "soft_targets",
                name="compute_soft_targets",
            )
        ]
    )
