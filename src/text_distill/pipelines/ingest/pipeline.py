"""Ingest pipeline wiring."""

from kedro.pipeline import Node, Pipeline

from .nodes import parse_corpus, split_examples, validate_corpus


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(parse_corpus, ["corpus_source", "params:ingest"], "raw_corpus", name="parse_corpus"),
            Node(
                validate_corpus,
                ["raw_corpus", "params:ingest"],
                ["validated_examples", "quarantine", "row_accounting"],
                name="validate_corpus",
            ),
            Node(
                split_examples,
                ["validated_examples", "params:ingest"],
                ["examples", "label_names"],
                name="split_examples",
            ),
        ]
    )
