"""The student recipe, typed: what a run trains, checked whole before anything runs.

The ``student`` parameters (``conf/base/parameters_student.yml``, the one place defaults live, with a
recipe file of ``conf/base/recipes/`` over them) come in four groups: ``model``, ``objective``,
``optimiser`` and ``runtime``. ``StudentRecipe.from_params`` builds the typed recipe: a key it does not
know (with the nearest known one named), a missing key, a value of the wrong type, outside its limits
or a named choice no registry holds is one ``RecipeError`` line, seconds after ``kedro run`` starts
instead of after the teacher has fine-tuned.

The groups are frozen dataclasses (``ModelSpec``, ``RuntimeSpec`` here, ``ObjectiveSpec`` and
``OptimiserSpec`` in ``student_loop``, each kind's options beside the kind), their limits and choices
in their annotations (``Annotated[int, Field(ge=1)]``, ``Literal`` of a registry's names); ``checked``
validates the parameters against the strict pydantic model made from them (``config.model_of``), so
no coercion is written by hand here.
"""

import dataclasses
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Annotated, Any, Literal, get_type_hints

import yaml
from pydantic import Field, ValidationError

from text_distill.distill.config import ConfigError, as_dataclass, config_error, model_of
from text_distill.distill.models.student_kinds import STUDENT_KINDS
from text_distill.distill.models.teacher_precision import DEVICES, resolve_device
from text_distill.distill.training.student_loop import ObjectiveSpec, OptimiserSpec, TrainingConfig

UNITS = ("word", "char")  # what a kind reading ``unit`` reads (ngram reads n-grams, transformer pieces)


class RecipeError(ConfigError):
    """A recipe that cannot run: one line naming the key and what it accepts."""


@dataclass(frozen=True)
class ModelSpec:
    """``student.model``: the kind chosen, how it reads text, and every registered kind's options block
    under the kind's name (``student.model.ngram``...), typed by the kind (``StudentKind.options``)."""

    architecture: str  # one of the registered kinds (``STUDENT_KINDS``), checked by ``recipe_keys``
    unit: Literal[UNITS]  # type: ignore[valid-type]
    max_tokens: Annotated[int, Field(ge=1)]
    freeze_embeddings: bool
    blocks: dict[str, Any]  # kind name -> its options; a key per kind in the parameters, not ``blocks``

    @classmethod
    def recipe_keys(cls) -> dict[str, Any]:
        """The keys ``student.model`` holds, by type: the fields above (``architecture`` one of the
        kinds registered now), then one block per kind."""
        hints = get_type_hints(cls, include_extras=True)
        common = {f.name: hints[f.name] for f in fields(cls) if f.name != "blocks"}
        common["architecture"] = Literal[tuple(STUDENT_KINDS)]
        return {**common, **{kind.name: kind.options for kind in STUDENT_KINDS.values()}}

    @classmethod
    def from_keys(cls, values: dict[str, Any]) -> "ModelSpec":
        blocks = {name: values[name] for name in STUDENT_KINDS}
        return cls(**{key: value for key, value in values.items() if key not in blocks}, blocks=blocks)

    @property
    def options(self) -> Any:
        """The chosen architecture's options."""
        return self.blocks[self.architecture]

    def as_params(self) -> dict[str, Any]:
        common = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "blocks"}
        return {**common, **{name: dataclasses.asdict(block) for name, block in self.blocks.items()}}


@dataclass(frozen=True)
class RuntimeSpec:
    seed: int  # the kept student's; variants.yml student_seeds train it again at more seeds
    threads: Annotated[int, Field(ge=1)]
    progress: bool
    bf16: bool
    device: Literal[DEVICES]  # type: ignore[valid-type]  # auto (cuda when torch sees one) | cpu | cuda
    checkpoint_dir: str | None


# parameters that became variants of the graph (conf/base/variants.yml), by the key they became
MOVED_TO_VARIANTS = {
    "replica_seeds": "student_seeds",
    "ensemble_seeds": "teacher_seeds",
    "ngram_members": "ngram_members",
    "temperatures": "sweep_temperatures",
}


def moved_to_variants(where: str, key: str, kind: str = "recipe key") -> RecipeError:
    """The error for ``key`` (at ``where``, a ``kind``), which is now a variants.yml key."""
    return RecipeError(
        f"{where} is no longer a {kind}: it is a variant of the graph, "
        f"{MOVED_TO_VARIANTS[key]} in conf/base/variants.yml (or conf/local/variants.yml)"
    )


def checked(spec: type, values: Any, prefix: str) -> Any:
    """The dataclass ``spec`` built from ``values`` (named ``prefix`` in errors), every key checked
    by the strict model of its annotations (``config.model_of``): an unknown key (with the nearest
    known one, or the variants.yml key it became), missing keys, a mistyped value or one outside its
    constraints or its registry is one RecipeError line."""
    model = model_of(spec)
    if not isinstance(values, dict):
        raise RecipeError(f"{prefix or 'the recipe'} must be a mapping of {', '.join(model.model_fields)}")
    try:
        return as_dataclass(model.model_validate(values))
    except ValidationError as error:
        for problem in error.errors(include_url=False):
            key = problem["loc"][-1] if problem["loc"] else None
            if problem["type"] == "extra_forbidden" and key in MOVED_TO_VARIANTS:
                where = ".".join(str(part) for part in (prefix, *problem["loc"]) if part != "")
                raise moved_to_variants(where, key) from None
        raise config_error(error, model, prefix, error_class=RecipeError, noun="recipe key") from None


@dataclass(frozen=True)
class StudentRecipe:
    """A whole student recipe: model, distillation objective, optimiser and runtime."""

    model: ModelSpec
    objective: ObjectiveSpec
    optimiser: OptimiserSpec
    runtime: RuntimeSpec

    @classmethod
    def from_params(cls, params: dict[str, Any], prefix: str = "student") -> "StudentRecipe":
        """The recipe of the ``student`` parameters (``model``, ``objective``, ``optimiser``,
        ``runtime``), every key checked; a RecipeError names the first that cannot run."""
        return checked(cls, params, prefix)

    @classmethod
    def from_yaml(cls, path: str | Path, key: str = "student") -> "StudentRecipe":
        """The recipe under ``key`` of a parameters file, e.g. ``conf/base/parameters_student.yml``
        for benches and notebooks that run outside Kedro."""
        return cls.from_params(yaml.safe_load(Path(path).read_text(encoding="utf-8"))[key], key)

    def as_params(self) -> dict[str, Any]:
        """The ``student`` parameters again, as plain YAML-able values."""
        return {f.name: _plain(_params(getattr(self, f.name))) for f in fields(self)}

    def at_seed(self, seed: int) -> "StudentRecipe":
        """The same recipe at another seed (a seed variant: no checkpoint directory shared with the
        kept student's run)."""
        return dataclasses.replace(
            self, runtime=dataclasses.replace(self.runtime, seed=seed, checkpoint_dir=None)
        )

    def override(self, changes: dict[str, Any]) -> "StudentRecipe":
        """This recipe with ``changes`` (nested like the parameters) laid over it, checked again."""
        return StudentRecipe.from_params(merge(self.as_params(), changes))

    def training_config(
        self, checkpoint: str | None = None, hard_labels_only: bool = False
    ) -> TrainingConfig:
        """The trainer's settings; ``hard_labels_only`` (the student-alone baseline) sets alpha to 1."""
        objective = dataclasses.asdict(self.objective)
        if hard_labels_only:
            objective["alpha"] = 1.0
        optimiser = dataclasses.asdict(self.optimiser)
        runtime = {key: getattr(self.runtime, key) for key in ("seed", "progress", "bf16")}
        device = resolve_device(self.runtime.device, "student.runtime.device")
        return TrainingConfig(**objective, **optimiser, **runtime, device=device, checkpoint=checkpoint)


def _params(spec: Any) -> dict[str, Any]:
    return spec.as_params() if hasattr(spec, "as_params") else dataclasses.asdict(spec)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` laid over it key by key (mappings merged, anything else replaced)."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = value
    return merged
