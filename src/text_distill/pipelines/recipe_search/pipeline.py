"""Recipe search wiring: reads the distill chain's cache; selects on dev, never on the test split
(which its table reports beside)."""

from kedro.pipeline import Pipeline

from text_distill.pipelines import step
from text_distill.pipelines.inputs import STUDY

from .nodes import search_recipe, summarise_search


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            step(search_recipe, {**STUDY, "params": "params:recipe_search"}, "recipe_search_runs"),
            step(
                summarise_search,
                ["recipe_search_runs", "params:recipe_search"],
                ["recipe_search_table", "best_recipe"],
            ),
        ],
        namespace="recipe_search",
        prefix_datasets_with_namespace=False,
    )
