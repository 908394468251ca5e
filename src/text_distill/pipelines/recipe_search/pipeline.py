"""Recipe search wiring: reads the distill chain's cache; selects on dev, never on the test split."""

from kedro.pipeline import Node, Pipeline

from text_distill.pipelines.student.pipeline import DISTILLED, VECTORS

from .nodes import search_recipe, summarise_search


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                search_recipe,
                [
                    "segmented_examples",
                    "examples",  # train and dev to train on, test for the table (never to select)
                    *DISTILLED,
                    *VECTORS,  # ends with params:student
                    "params:evaluate",
                    "params:recipe_search",
                    "params:ray",
                ],
                "recipe_search_runs",
                name="search_recipe",
            ),
            Node(
                summarise_search,
                ["recipe_search_runs", "params:recipe_search"],
                ["recipe_search_table", "best_recipe"],
                name="summarise_search",
            ),
        ]
    )
