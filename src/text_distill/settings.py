"""Project settings: config resolvers and hooks."""

from text_distill.known_warnings import ignore_known_warnings

# first: Kedro imports this module before it loads kedro-mlflow's commands (see known_warnings)
ignore_known_warnings()

from text_distill.assets import package_file  # noqa: E402
from text_distill.config_loader import RecipeConfigLoader  # noqa: E402
from text_distill.hooks import (  # noqa: E402
    ChampionHook,
    MlflowArtifactHook,
    RecipeCheckHook,
    TeacherCheckHook,
)
from text_distill.variants import VARIANTS_PATTERN  # noqa: E402

# ChampionHook: after kedro-mlflow's hook (a plugin's, called first) registered the served model
HOOKS = (RecipeCheckHook(), TeacherCheckHook(), MlflowArtifactHook(), ChampionHook())

# Telemetry would try the network on every command; this project runs offline.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-telemetry",)

# parameters take the recipe file that `--params recipe=<name>` names (conf/base/recipes/)
CONFIG_LOADER_CLASS = RecipeConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"package_file": package_file},
    "config_patterns": {"mlflow": ["mlflow*", "mlflow*/**"], **VARIANTS_PATTERN},
    # An environment overrides single keys (conf/smoke changes a few), not whole sections.
    "merge_strategy": {"parameters": "soft", "mlflow": "soft"},
}
