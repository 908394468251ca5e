"""Segment pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from text_distill.pipelines import step

from .nodes import build_char_vocabulary, build_embeddings, build_word_vocabulary, segment_examples


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            step(
                segment_examples,
                ["train_dev_examples", "params:segment"],
                ["segmented_examples", "word_segmenter"],
            ),
            step(build_word_vocabulary, ["segmented_examples", "params:segment.word"], "word_vocabulary"),
            step(build_char_vocabulary, ["segmented_examples", "params:segment.char"], "char_vocabulary"),
            *(
                Node(
                    build_embeddings,
                    [f"{unit}_vocabulary", "word_vectors", "params:segment"],
                    [f"{unit}_embeddings", f"{unit}_vector_coverage"],
                    name=f"build_{unit}_embeddings",
                )
                for unit in ("word", "char")
            ),
        ],
        namespace="segment",
        prefix_datasets_with_namespace=False,
    )
