"""Segment pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_word_embeddings, build_word_vocabulary, segment_examples


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(segment_examples, "examples", "segmented_examples", name="segment_examples"),
            Node(
                build_word_vocabulary,
                ["segmented_examples", "params:segment"],
                "word_vocabulary",
                name="build_word_vocabulary",
            ),
            Node(
                build_word_embeddings,
                ["word_vocabulary", "word_vectors", "params:segment"],
                ["word_embeddings", "word_vector_coverage"],
                name="build_word_embeddings",
            ),
        ]
    )
