"""Ingest pipeline wiring.

``validate_corpus`` saves the quarantine and row accounting before ``check_corpus`` may stop the run.
"""

from kedro.pipeline import Pipeline

from text_distill.pipelines import step

from .nodes import check_corpus, hold_out_test, parse_corpus, split_examples, validate_corpus


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            step(parse_corpus, ["corpus_source", "params:ingest"], "raw_corpus"),
            step(
                validate_corpus,
                ["raw_corpus", "params:ingest"],
                ["validated_examples", "quarantine", "row_accounting"],
            ),
            step(check_corpus, ["validated_examples", "row_accounting", "params:ingest"], "usable_examples"),
            step(
                split_examples,
                ["usable_examples", "params:ingest"],
                ["examples", "label_names", "split_report"],
            ),
            step(hold_out_test, "examples", ["train_dev_examples", "test_examples", "test_text_hashes"]),
        ],
        namespace="ingest",
        prefix_datasets_with_namespace=False,
    )
