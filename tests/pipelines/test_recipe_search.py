"""Recipe search with Optuna alone (engine local): one nested MLflow run per trial, a table, and the
best recipe on dev as a recipe file the parameters accept. The Ray Tune engine is checked against
this one in tests/distill/test_ray_training.py."""

from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from tests.stage_params import stage_params
from tests.sweep_inputs import student_inputs, study_inputs

from text_distill.config_loader import unknown_keys
from text_distill.datasets.mlflow_runs import MlflowNestedRunsDataset
from text_distill.distill.data.augment import first_copies
from text_distill.distill.training.recipe import StudentRecipe, merge
from text_distill.distill.tuning.studies import search_space
from text_distill.distill.tuning.sweeps import SEARCH_ENGINES
from text_distill.pipelines.recipe_search.nodes import search_recipe, summarise_search

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SEARCH = stage_params(
    "recipe_search",
    trials=4,
    seed=0,
    sampler="random",
    space={
        "student": {
            "objective": {
                "temperature": {"low": 1.0, "high": 8.0, "log": True},
                "alpha": {"low": 0.0, "high": 1.0},
            },
            "optimiser": {"learning_rate": {"low": 1.0e-3, "high": 1.0e-1, "log": True}},
        },
        "augment": {"n_iter": {"low": 0, "high": 20}},
    },
    fixed={"student": {"objective": {"kd_loss": "kl"}}},
)
SEARCHED = [
    "augment.n_iter",
    "student.objective.alpha",
    "student.objective.temperature",
    "student.optimiser.learning_rate",
]


@pytest.fixture(scope="module")
def inputs():
    return student_inputs()


@pytest.fixture(scope="module")
def runs(inputs):
    return search_recipe(SEARCH, **study_inputs(inputs))


def test_search_logs_one_nested_mlflow_run_per_trial(runs, tmp_path):
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        mlflow.set_experiment("search")
        with mlflow.start_run(run_name="recipe_search") as parent:
            MlflowNestedRunsDataset(str(tmp_path / "runs.json")).save(runs)
        client = mlflow.MlflowClient()
        children = client.search_runs(
            [parent.info.experiment_id], f"tags.mlflow.parentRunId = '{parent.info.run_id}'"
        )
    finally:
        mlflow.set_tracking_uri(previous)
    assert sorted(child.info.run_name for child in children) == [f"trial_00{n}" for n in range(4)]
    for child in children:
        record = runs[child.info.run_name]
        assert child.data.params["objective.kd_loss"] == "kl"
        assert float(child.data.params["objective.temperature"]) == pytest.approx(
            record["config"]["student.objective.temperature"]
        )
        assert child.data.metrics["dev_macro_f1"] == pytest.approx(record["metrics"]["dev_macro_f1"])
        assert {"test_accuracy", "augment.n_iter", "student.objective.alpha"} <= set(child.data.metrics)


def test_trials_draw_the_space_and_use_that_many_augmented_copies(runs):
    for record in runs.values():
        config = record["config"]
        assert sorted(set(config) - {"student.objective.kd_loss"}) == SEARCHED
        assert 1.0 <= config["student.objective.temperature"] <= 8.0
        assert 0 <= config["augment.n_iter"] <= 2  # capped at the 2 copies the transfer set holds
        assert record["metrics"]["transfer_rows"] == 6 * config["augment.n_iter"]  # 6 train examples
        assert record["params"]["objective.kd_loss"] == "kl"
    assert len({record["config"]["student.objective.alpha"] for record in runs.values()}) == 4


def test_the_best_recipe_is_chosen_on_dev_and_runs_as_a_recipe_file(runs):
    table, recipe = summarise_search(runs, SEARCH)
    assert list(table.columns) == [
        "trial",
        *SEARCHED,
        "dev_macro_f1",
        "test_accuracy",
        "test_macro_f1",
        "best",
    ]
    assert table["dev_macro_f1"].is_monotonic_decreasing and table["best"].tolist() == [
        True,
        False,
        False,
        False,
    ]
    best = runs[table.loc[0, "trial"]]["config"]
    assert recipe == {
        "student": {
            "objective": {
                "kd_loss": "kl",
                "alpha": best["student.objective.alpha"],
                "temperature": best["student.objective.temperature"],
            },
            "optimiser": {"learning_rate": best["student.optimiser.learning_rate"]},
        },
        "augment": {"n_iter": best["augment.n_iter"]},
    }
    # what `kedro run --params recipe=<name>` accepts: keys the parameters have, a valid student recipe
    parameters = {}
    for name in ("student", "augment"):
        parameters.update(yaml.safe_load((PROJECT_ROOT / f"conf/base/parameters_{name}.yml").read_text()))
    assert unknown_keys(yaml.safe_load(yaml.safe_dump(recipe)), parameters) == []
    StudentRecipe.from_params(merge(parameters["student"], recipe["student"]))
    # the test split never selects: other test scores, the same choice
    shuffled = {
        name: {**run, "metrics": {**run["metrics"], "test_accuracy": 1.0 - run["metrics"]["test_accuracy"]}}
        for name, run in runs.items()
    }
    assert summarise_search(shuffled, SEARCH)[1] == recipe


def test_the_same_seed_draws_the_same_recipes(inputs, runs):
    again = search_recipe({**SEARCH, "trials": 2}, **study_inputs(inputs))
    for name, record in again.items():
        assert record == runs[name]


def test_augmentation_size_is_searched_only_over_copies_the_cache_holds(inputs):
    transfer = inputs["transfer_targets"]
    assert search_space(SEARCH, transfer)["augment.n_iter"] == {"low": 0, "high": 2}
    assert "augment.n_iter" not in search_space(SEARCH, transfer.iloc[0:0])
    with pytest.raises(ValueError, match="a search covers student"):
        search_space({"space": {"teacher": {"epochs": {"low": 1, "high": 3}}}}, transfer)
    with pytest.raises(ValueError, match="recipe_search.engine must be one of"):
        search_recipe({**SEARCH, "engine": "dask"}, **study_inputs(inputs))
    assert set(SEARCH_ENGINES) == {"local", "ray"}


def test_a_key_both_searched_and_fixed_is_refused(inputs):
    """The trial would train the drawn value and the recipe file would hold the fixed one."""
    space = {"student": {"objective": {"kd_loss": {"choices": ["mse", "kl"]}}}}
    with pytest.raises(ValueError, match="student.objective.kd_loss both searched and fixed"):
        search_recipe({**SEARCH, "space": space}, **study_inputs(inputs))


def test_first_copies_keeps_the_first_k_augmented_copies_of_each_example():
    rows = pd.DataFrame(
        {
            "source": ["augmented", "augmented", "unlabelled", "augmented", "augmented", "augmented"],
            "origin_id": [1, 1, -1, 2, 1, 2],
            "teacher_text": ["a1", "a2", "u", "b1", "a3", "b2"],
        }
    )
    assert first_copies(rows, 1)["teacher_text"].tolist() == ["a1", "u", "b1"]
    assert first_copies(rows, 2)["teacher_text"].tolist() == ["a1", "a2", "u", "b1", "b2"]
    assert first_copies(rows, 0)["teacher_text"].tolist() == ["u"]
    assert first_copies(rows, None) is rows
