"""Recipes: typed and checked whole, files combinable with any environment, a typo refused in seconds."""

import re
import shutil
import time

import pytest
import yaml

from tests.conftest import PROJECT_ROOT, kedro_cli
from tests.recipes import DEFAULT_RECIPE
from text_distill.config_loader import RecipeConfigLoader, RecipeNotFoundError
from text_distill.distill.training.recipe import RecipeError, StudentRecipe, merge

RECIPES = sorted((PROJECT_ROOT / "conf" / "base" / "recipes").glob("*.yml"))


@pytest.mark.parametrize("path", RECIPES, ids=lambda path: path.stem)
def test_every_shipped_recipe_is_a_valid_recipe(path):
    recipe = yaml.safe_load(path.read_text())
    checked = StudentRecipe.from_params(merge(DEFAULT_RECIPE.as_params(), recipe.get("student", {})))
    assert checked.as_params() == merge(DEFAULT_RECIPE.as_params(), recipe.get("student", {}))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"objective": {"kd_los": "kl"}},
            "student.objective.kd_los is not a recipe key (did you mean kd_loss?)",
        ),
        (
            {"objective": {"kd_loss": "kll"}},
            "student.objective.kd_loss must be one of ['kl', 'mse', 'mse_t', 'soft_ce']",
        ),
        (
            {"objective": {"temperature_schedule": "cosine"}},
            "student.objective.temperature_schedule must be one of",
        ),
        (
            {"optimiser": {"adversarial": "free"}},
            "student.optimiser.adversarial must be one of ['fgm', 'pgd']",
        ),
        ({"model": {"architecture": "gru"}}, "student.model.architecture must be one of"),
        (
            {"model": {"transformer": {"hidden_loss": "l1"}}},
            "student.model.transformer.hidden_loss must be one of",
        ),
        ({"optimiser": {"learning_rate": "fast"}}, "student.optimiser.learning_rate must be a number"),
        ({"optimiser": {"epochs": 0}}, "student.optimiser.epochs must be at least 1"),
        ({"objective": {"alpha": 1.5}}, "student.objective.alpha must be between 0 and 1"),
        ({"runtime": {"seed": 1.5}}, "student.runtime.seed must be an integer"),
        ({"runtime": {"replica_seeds": [43]}}, "student.runtime.replica_seeds is no longer a recipe key"),
        ({"model": {"ngram": {"char_ngrams": [1]}}}, "student.model.ngram.char_ngrams must have 2 items"),
        ({"runtime": {"progress": "yes"}}, "student.runtime.progress must be true or false"),
        ({"runtime": {"device": "gpu"}}, "student.runtime.device must be one of ['auto', 'cpu', 'cuda']"),
        ({"optimizer": {}}, "student.optimizer is not a recipe key (did you mean optimiser?)"),
    ],
)
def test_a_recipe_that_cannot_run_is_one_line_naming_the_key(changes, message):
    with pytest.raises(RecipeError, match=re.escape(message)):
        DEFAULT_RECIPE.override(changes)


def test_a_missing_key_is_named():
    params = DEFAULT_RECIPE.as_params()
    del params["optimiser"]["grad_clip"]
    with pytest.raises(RecipeError, match="student.optimiser lacks grad_clip"):
        StudentRecipe.from_params(params)


def test_the_trainer_settings_come_from_the_recipe_alone():
    config = DEFAULT_RECIPE.training_config(checkpoint="x.pt")
    assert config.learning_rate == DEFAULT_RECIPE.optimiser.learning_rate
    assert config.kd_loss == DEFAULT_RECIPE.objective.kd_loss and config.checkpoint == "x.pt"
    assert DEFAULT_RECIPE.training_config(hard_labels_only=True).alpha == 1.0
    assert config.device in ("cpu", "cuda")  # auto, resolved: cuda only where torch sees one


@pytest.fixture
def conf(tmp_path):
    """A conf folder: base parameters, a scale environment and two recipe files."""
    base = tmp_path / "base"
    (base / "recipes").mkdir(parents=True)
    (tmp_path / "scale").mkdir()
    (base / "parameters.yml").write_text(
        yaml.safe_dump(
            {
                "recipe": None,
                "student": {"optimiser": {"epochs": 4, "learning_rate": 0.01}},
                "teacher": {"seeds": []},
            }
        )
    )
    (tmp_path / "scale" / "parameters.yml").write_text(
        yaml.safe_dump({"student": {"optimiser": {"epochs": 2}}})
    )
    (base / "recipes" / "slow.yml").write_text(
        yaml.safe_dump({"student": {"optimiser": {"learning_rate": 0.001}}, "teacher": {"seeds": [7]}})
    )
    (base / "recipes" / "typo.yml").write_text(
        yaml.safe_dump({"student": {"optimiser": {"learnig_rate": 1}}})
    )
    return tmp_path


def parameters(conf, **runtime):
    loader = RecipeConfigLoader(
        str(conf), env="scale", base_env="base", runtime_params=runtime, merge_strategy={"parameters": "soft"}
    )
    return loader["parameters"]


def test_a_recipe_file_lays_over_the_environment_and_runtime_params_over_both(conf):
    assert parameters(conf)["student"]["optimiser"] == {"epochs": 2, "learning_rate": 0.01}
    chosen = parameters(conf, recipe="slow")
    assert chosen["student"]["optimiser"] == {"epochs": 2, "learning_rate": 0.001}
    assert chosen["teacher"] == {"seeds": [7]}
    pinned = parameters(conf, recipe="slow", student={"optimiser": {"learning_rate": 0.5}})
    assert pinned["student"]["optimiser"]["learning_rate"] == 0.5


def test_an_unknown_recipe_or_recipe_key_is_refused(conf):
    with pytest.raises(RecipeNotFoundError, match=r"no recipe 'fast' .* choose one of \['slow', 'typo'\]"):
        parameters(conf, recipe="fast")
    with pytest.raises(
        RecipeNotFoundError, match="sets student.optimiser.learnig_rate, which no parameters file"
    ):
        parameters(conf, recipe="typo")


def test_a_bad_recipe_fails_in_seconds_before_any_node_runs(tmp_path):
    """Through the project's CLI: one line naming the key, exit code 2, nothing trained or written."""
    project = tmp_path / "project"
    shutil.copytree(PROJECT_ROOT / "conf" / "base", project / "conf" / "base")
    (project / "conf" / "local").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()
    bad = {"student": {"objective": {"kd_loss": "kll"}}}
    (project / "conf" / "base" / "recipes" / "bad.yml").write_text(yaml.safe_dump(bad))
    start = time.perf_counter()
    result = kedro_cli(project, "--pipeline", "distill", "--params", "recipe=bad")
    assert result.exit_code == 2, result.output[-3000:]
    (error,) = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert "student.objective.kd_loss must be one of" in error and "Traceback" not in result.output
    assert time.perf_counter() - start < 60
    assert not (project / "data").exists()  # not even the corpus was read
