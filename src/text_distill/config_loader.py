"""Recipes as files, combinable with any environment.

A recipe (``conf/base/recipes/<name>.yml``) names an experiment: parameter groups in the shape of
``conf/base/parameters_*.yml``, only the keys it changes. ``kedro run --params recipe=hinton`` lays it
over the parameters of the environment (``--env smoke`` for scale), and ``--params`` over both, so the
one ``--env`` slot stays for scale. A recipe key that the parameters do not have is refused: a typo
never silently trains the default.
"""

from pathlib import Path
from typing import Any

import yaml
from kedro.config import OmegaConfigLoader
from omegaconf import OmegaConf

from text_distill.errors import TextDistillError

RECIPES_FOLDER = "recipes"


class RecipeNotFoundError(TextDistillError, ValueError):
    """A recipe name with no file, or a file that changes keys the parameters lack."""


def unknown_keys(overrides: dict[str, Any], known: dict[str, Any], prefix: str = "") -> list[str]:
    """Dotted keys of ``overrides`` that ``known`` lacks (mappings compared key by key)."""
    missing = []
    for key, value in overrides.items():
        where = f"{prefix}{key}"
        if key not in known:
            missing.append(where)
        elif isinstance(value, dict) and isinstance(known[key], dict):
            missing += unknown_keys(value, known[key], f"{where}.")
    return missing


def read_recipe(folder: Path, name: str) -> dict[str, Any]:
    """The recipe file ``<folder>/<name>.yml``; an unknown name lists the recipes there."""
    path = folder / f"{name}.yml"
    if not path.is_file():
        available = sorted(file.stem for file in folder.glob("*.yml"))
        raise RecipeNotFoundError(f"no recipe {name!r} in {folder}: choose one of {available}")
    recipe = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(recipe, dict) or not all(isinstance(group, dict) for group in recipe.values()):
        raise RecipeNotFoundError(f"{path} must map parameter groups (student:, teacher:, ...) to keys")
    return recipe


class RecipeConfigLoader(OmegaConfigLoader):
    """``OmegaConfigLoader`` whose parameters take the recipe the ``recipe`` parameter names."""

    def __getitem__(self, key: str) -> dict[str, Any]:
        # OmegaConf's resolvers are process-wide: the `globals` one answers for the last loader built
        # (Kedro's own, or another in this process); bind it back to this loader's environment, as
        # Kedro does for `runtime_params`, so that conf/<env>/globals.yml is the one resolved
        self._register_globals_resolver()
        config = super().__getitem__(key)
        if key != "parameters" or not config.get("recipe"):
            return config
        name = config["recipe"]
        recipe = read_recipe(Path(self.conf_source) / self.base_env / RECIPES_FOLDER, name)
        unknown = unknown_keys(recipe, config)
        if unknown:
            raise RecipeNotFoundError(
                f"recipe {name!r} sets {', '.join(unknown)}, which no parameters file has"
            )
        merged = OmegaConf.merge(config, recipe, self.runtime_params or {})
        return OmegaConf.to_container(merged, resolve=True)
