"""Each stage's settings typed (teacher, soft targets, Ray, the two sweeps): the shipped parameters
parse in every environment and recipe, the models hold no defaults (the parameters files do), and a key that
cannot run is one line naming it, before the first node."""

import re

import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline, node

from tests.conftest import PROJECT_ROOT
from tests.stage_params import stage_params
from text_distill.config_loader import RecipeConfigLoader
from text_distill.distill.config import ConfigError
from text_distill.distill.labelling.soft_targets_config import SoftTargetsConfig
from text_distill.distill.runtimes.ray_config import RayConfig
from text_distill.distill.training.teacher_config import TeacherConfig
from text_distill.distill.tuning.sweep_settings import RecipeSearchConfig, TemperatureSweepConfig
from text_distill.hooks import STAGE_SETTINGS, RecipeCheckHook

MODELS = {
    "teacher": TeacherConfig,
    "soft_targets": SoftTargetsConfig,
    "ray": RayConfig,
    "temperature_sweep": TemperatureSweepConfig,
    "recipe_search": RecipeSearchConfig,
}
RECIPES = [None, *sorted(path.stem for path in (PROJECT_ROOT / "conf" / "base" / "recipes").glob("*.yml"))]


@pytest.mark.parametrize("env", ["local", "smoke"])
@pytest.mark.parametrize("recipe", RECIPES)
def test_every_environment_and_recipe_parses(env, recipe):
    loader = RecipeConfigLoader(
        str(PROJECT_ROOT / "conf"),
        env=env,
        base_env="base",
        runtime_params={"recipe": recipe} if recipe else {},
        merge_strategy={"parameters": "soft"},
    )
    parameters = loader["parameters"]
    for stage, model in MODELS.items():
        model.parse(parameters[stage], stage)


@pytest.mark.parametrize("stage", MODELS)
def test_the_models_hold_no_defaults_and_the_parameters_file_every_key(stage):
    model = MODELS[stage]
    assert all(field.is_required() for field in model.model_fields.values())
    assert set(stage_params(stage)) == set(model.model_fields)


@pytest.mark.parametrize(
    ("stage", "changes", "message"),
    [
        ("teacher", {"epoch": 2}, "teacher.epoch is not a known key (did you mean epochs?)"),
        ("teacher", {"epochs": 0}, "teacher.epochs must be at least 1, got 0"),
        ("teacher", {"epochs": "2"}, "teacher.epochs must be an integer, got '2'"),
        ("teacher", {"threads": True}, "teacher.threads must be an integer, got True"),
        ("teacher", {"bf16": "yes"}, "teacher.bf16 must be 'auto' or true or false, got 'yes'"),
        ("teacher", {"engine": "spark"}, "teacher.engine must be one of ['local', 'ray'], got 'spark'"),
        ("teacher", {"ensemble_weights": [1, "a"]}, "teacher.ensemble_weights[1] must be a number, got 'a'"),
        (
            "teacher",
            {"engine": "ray", "batch_size": 32, "ray_workers": 3},
            "teacher.batch_size 32 must split evenly over teacher.ray_workers 3",
        ),
        (
            "soft_targets",
            {"precision": "fp16"},
            "soft_targets.precision must be one of ['auto', 'bf16', 'float32'], got 'fp16'",
        ),
        (
            "soft_targets",
            {"min_agreement": 1.5},
            "soft_targets.min_agreement must be between 0 and 1, got 1.5",
        ),
        (
            "soft_targets",
            {"actor_cpu": 1},
            "soft_targets.actor_cpu is not a known key (did you mean actor_cpus?)",
        ),
        ("ray", {"adress": "auto"}, "ray.adress is not a known key (did you mean address?)"),
        ("ray", {"num_cpus": 0}, "ray.num_cpus must be at least 1, got 0"),
        ("temperature_sweep", {"trial_cpus": 0}, "temperature_sweep.trial_cpus must be above 0.0, got 0"),
        (
            "temperature_sweep",
            {"temperatures": [1, 2]},
            "temperature_sweep.temperatures is not a known key",
        ),
        (
            "recipe_search",
            {"sampler": "grid"},
            "recipe_search.sampler must be one of ['random', 'tpe'], got 'grid'",
        ),
        ("recipe_search", {"trials": 0}, "recipe_search.trials must be at least 1, got 0"),
    ],
)
def test_a_setting_that_cannot_run_is_one_line_naming_the_key(stage, changes, message):
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        MODELS[stage].parse(stage_params(stage, **changes), stage)
    assert "\n" not in str(raised.value)


def test_missing_keys_are_named_together():
    params = {key: value for key, value in stage_params("teacher").items() if key not in ("seed", "epochs")}
    with pytest.raises(ConfigError, match="^teacher lacks epochs, seed$"):
        TeacherConfig.parse(params, "teacher")


def identity(value):
    return value


@pytest.mark.parametrize("group", STAGE_SETTINGS)
def test_the_hook_parses_each_stage_s_settings_before_the_first_node(group):
    stage = group.removeprefix("params:")
    pipeline = Pipeline([node(identity, group, "x", name="reads")])
    run_params = {"project_path": str(PROJECT_ROOT)}
    good = DataCatalog({group: MemoryDataset(stage_params(stage))})
    RecipeCheckHook().before_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=good)
    typo = DataCatalog({group: MemoryDataset({**stage_params(stage), "typo_key": 1})})
    with pytest.raises(ConfigError, match=f"^{stage}.typo_key is not a known key"):
        RecipeCheckHook().before_pipeline_run(run_params=run_params, pipeline=pipeline, catalog=typo)
