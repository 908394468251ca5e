"""Baselines pipeline wiring: one node per registered baseline (``distill/models/baselines.py``)."""

from functools import partial, update_wrapper

from kedro.pipeline import Node, Pipeline

from text_distill.distill.models.baselines import BASELINES

from .nodes import fit_reference_baseline


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                update_wrapper(partial(fit_reference_baseline, name), fit_reference_baseline),
                ["train_dev_examples", "word_segmenter", "label_names", "params:baselines"],
                [f"baseline_{name}", f"baseline_{name}_log"],
                name=f"fit_baseline_{name}",
            )
            for name in BASELINES
        ],
        namespace="baselines",
        prefix_datasets_with_namespace=False,
    )
