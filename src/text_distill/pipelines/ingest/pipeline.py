"""Ingest pipeline wiring.

``validate_corpus`` saves the quarantine and row accounting before ``check_corpus`` may stop the run.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import check_corpus, hold_out_test, parse_corpus, split_examples, validate_corpus


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
                check_corpus,
                ["validated_examples", "row_accounting", "params:ingest"],
                "usable_examples",
                name="check_corpus",
            ),
            Node(
                split_examples,
                ["usable_examples", "params:ingest"],
                ["examples", "label_names"],
                name="split_examples",
            ),
            Node(hold_out_test, "examples", ["train_dev_examples", "test_examples"], name="hold_out_test"),
        ]
    )
