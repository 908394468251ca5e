"""Project settings: config resolvers and hooks."""

from kedro.config import OmegaConfigLoader

from text_distill.assets import package_file
from text_distill.hooks import MlflowArtifactHook

HOOKS = (MlflowArtifactHook(),)

# Telemetry would try the network on every command; this project runs offline.
DISABLE_HOOKS_FOR_PLUGINS = ("kedro-telemetry",)

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    "custom_resolvers": {"package_file": package_file},
    "config_patterns": {"mlflow": ["mlflow*", "mlflow*/**"]},
    # An environment overrides single keys (conf/smoke changes a few), not whole sections.
    "merge_strategy": {"parameters": "soft", "mlflow": "soft"},
}
