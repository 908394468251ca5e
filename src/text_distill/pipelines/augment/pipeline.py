"""Augment pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_transfer_set


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                build_transfer_set,
                ["examples", "segmented_examples", "unlabelled_corpus", "teacher_base", "params:augment"],
                ["transfer_set", "transfer_set_report"],
                name="build_transfer_set",
            )
        ]
    )
