"""Segment pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from .nodes import build_char_vocabulary, build_embeddings, build_word_vocabulary, segment_examples


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                segment_examples,
                ["examples", "params:segment"],
                ["segmented_examples", "word_segmenter"],
                name="segment_examples",
            ),
            Node(
                build_word_vocabulary,
                ["segmented_examples", "params:segment.word"],
                "word_vocabulary",
                name="build_word_vocabulary",
            ),
            Node(
                build_char_vocabulary,
                ["segmented_examples", "params:segment.char"],
                "char_vocabulary",
                name="build_char_vocabulary",
            ),
            Node(
                build_embeddings,
                ["word_vocabulary", "word_vectors", "params:segment"],
                ["word_embeddings", "word_vector_coverage"],
                name="build_word_embeddings",
            ),
            Node(
                build_embeddings,
                ["char_vocabulary", "word_vectors", "params:segment"],
                ["char_embeddings", "char_vector_coverage"],
                name="build_char_embeddings",
            ),
        ]
    )
