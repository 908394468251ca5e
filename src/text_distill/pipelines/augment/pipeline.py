"""Augment pipeline wiring."""

from kedro.pipeline import Pipeline

from text_distill.pipelines import step

from .nodes import build_transfer_set

# the packaged news sources (catalog entries, text_distill.datasets.news_corpora), by the name of their
# cap in augment.unlabelled.news
NEWS_SOURCES = {"inews": "news_inews", "peoples_daily": "news_peoples_daily"}


def create_pipeline(**kwargs) -> Pipeline:
    inputs = {
        "examples": "train_dev_examples",
        "test_hashes": "test_text_hashes",
        "segmented": "segmented_examples",
        "unlabelled_corpus": "unlabelled_corpus",
        "teacher_base": "teacher_base",
        "split_report": "split_report",
        "params": "params:augment",
        **NEWS_SOURCES,
    }
    return Pipeline(
        [step(build_transfer_set, inputs, ["transfer_set", "transfer_set_report"])],
        namespace="augment",
        prefix_datasets_with_namespace=False,
    )
