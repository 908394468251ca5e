"""The student recipe, typed: what a run trains, checked whole before anything runs.

The ``student`` parameters (``conf/base/parameters_student.yml``, the one place defaults live, with a
recipe file of ``conf/base/recipes/`` over them) come in four groups: ``model``, ``objective``,
``optimiser`` and ``runtime``. ``StudentRecipe.from_params`` builds the typed recipe: a key it does not
know (with the nearest known one named), a missing key, a value of the wrong type or a named choice no
registry holds is one ``RecipeError`` line, seconds after ``kedro run`` starts instead of after the
teacher has fine-tuned.
"""

import dataclasses
import difflib
import types
from collections.abc import Collection
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Union, get_args, get_origin, get_type_hints

import yaml

from text_distill.distill.config import ConfigError
from text_distill.distill.models.student_kinds import STUDENT_KINDS
from text_distill.distill.models.teacher_precision import DEVICES, resolve_device
from text_distill.distill.objectives.adversarial import ADVERSARIAL
from text_distill.distill.objectives.intermediate import HIDDEN_LOSSES
from text_distill.distill.objectives.losses import KD_LOSSES, TARGET_SCALES
from text_distill.distill.objectives.schedules import TEMPERATURE_SCHEDULES, WEIGHT_SCHEDULES
from text_distill.distill.training.student_loop import ObjectiveSpec, OptimiserSpec, TrainingConfig

UNITS = ("word", "char")  # what a kind reading ``unit`` reads (ngram reads n-grams, transformer pieces)


class RecipeError(ConfigError):
    """A recipe that cannot run: one line naming the key and what it accepts."""


@dataclass(frozen=True)
class ModelSpec:
    """``student.model``: the kind chosen, how it reads text, and every registered kind's options block
    under the kind's name (``student.model.ngram``...), typed by the kind (``StudentKind.options``)."""

    architecture: str
    unit: str
    max_tokens: int
    freeze_embeddings: bool
    blocks: dict[str, Any]  # kind name -> its options; a key per kind in the parameters, not ``blocks``

    @classmethod
    def recipe_keys(cls) -> dict[str, Any]:
        """The keys ``student.model`` holds, by type: the fields above, then one block per kind."""
        hints = get_type_hints(cls)
        common = {f.name: hints[f.name] for f in fields(cls) if f.name != "blocks"}
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
    threads: int
    progress: bool
    bf16: bool
    device: str  # auto (cuda when torch sees one) | cpu | cuda
    checkpoint_dir: str | None


# named choices -> the registry that implements them
CHOICES: dict[str, Collection[str]] = {
    "architecture": STUDENT_KINDS,
    "unit": UNITS,
    "kd_loss": tuple(KD_LOSSES),
    "target_scale": tuple(TARGET_SCALES),
    "hard_weight_schedule": tuple(WEIGHT_SCHEDULES),
    "kd_weight_schedule": tuple(WEIGHT_SCHEDULES),
    "temperature_schedule": tuple(TEMPERATURE_SCHEDULES),
    "adversarial": tuple(ADVERSARIAL),
    "hidden_loss": tuple(HIDDEN_LOSSES),
    "device": DEVICES,
}
AT_LEAST_ONE = {
    "epochs", "batch_size", "accumulation_steps", "threads", "max_tokens", "max_features",
    "embedding_dim", "num_layers", "filters", "min_freq", "pgd_steps", "early_stopping_patience",
    "min_steps",
}  # fmt: skip
POSITIVE = {"learning_rate", "temperature", "final_temperature", "adversarial_epsilon", "pgd_step_size"}


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


def _where(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _coerce(value: Any, kind: Any, where: str) -> Any:
    """``value`` as the annotated ``kind``: numbers widen to float, lists become tuples, dataclasses
    are built from mappings; anything else is a RecipeError."""
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        options = get_args(kind)
        if value is None and type(None) in options:
            return None
        (inner,) = [option for option in options if option is not type(None)]
        return _coerce(value, inner, where)
    if dataclasses.is_dataclass(kind):
        if not isinstance(value, dict):
            raise RecipeError(f"{where} must be a mapping of {', '.join(_keys(kind))}")
        return checked(kind, value, where)
    if origin in (tuple, list):
        if not isinstance(value, list | tuple):
            raise RecipeError(f"{where} must be a list, got {value!r}")
        arguments = get_args(kind)
        if origin is tuple and arguments and arguments[-1] is not Ellipsis and len(arguments) != len(value):
            raise RecipeError(f"{where} must have {len(arguments)} items, got {value!r}")
        inner = arguments[0] if arguments else Any
        items = [_coerce(item, inner, f"{where}[{i}]") for i, item in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if kind is Any:
        return value
    if kind is bool:
        if not isinstance(value, bool):
            raise RecipeError(f"{where} must be true or false, got {value!r}")
        return value
    if kind in (int, float):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or (kind is int and value != int(value))
        ):
            raise RecipeError(f"{where} must be {'an integer' if kind is int else 'a number'}, got {value!r}")
        return kind(value)
    if not isinstance(value, kind):
        raise RecipeError(f"{where} must be a {kind.__name__}, got {value!r}")
    return value


def _keys(spec: type) -> dict[str, Any]:
    """The keys of a dataclass ``spec``'s block and their types: its fields, or what its
    ``recipe_keys`` says (``ModelSpec``: one block per registered student kind)."""
    if hasattr(spec, "recipe_keys"):
        return spec.recipe_keys()
    hints = get_type_hints(spec)
    return {f.name: hints[f.name] for f in fields(spec)}


def checked(spec: type, values: dict[str, Any], prefix: str) -> Any:
    """The dataclass ``spec`` built from ``values`` (named ``prefix`` in errors), every key checked:
    unknown, missing, mistyped or outside its registry, a RecipeError."""
    hints = _keys(spec)
    known = list(hints)
    for key in values:
        if key in MOVED_TO_VARIANTS and key not in known:
            raise moved_to_variants(_where(prefix, key), key)
        if key not in known:
            near = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {near[0]}?)" if near else f"; known: {', '.join(known)}"
            raise RecipeError(f"{_where(prefix, key)} is not a recipe key{hint}")
    missing = [key for key in known if key not in values]
    if missing:
        raise RecipeError(f"{prefix or 'the recipe'} lacks {', '.join(missing)}")
    built = {}
    for key in known:
        value = _coerce(values[key], hints[key], _where(prefix, key))
        if key in CHOICES and value is not None and value not in CHOICES[key]:
            raise RecipeError(f"{_where(prefix, key)} must be one of {sorted(CHOICES[key])}, got {value!r}")
        if key in AT_LEAST_ONE and value is not None and value < 1:
            raise RecipeError(f"{_where(prefix, key)} must be at least 1, got {value!r}")
        if key in POSITIVE and value <= 0:
            raise RecipeError(f"{_where(prefix, key)} must be above 0, got {value!r}")
        built[key] = value
    return spec.from_keys(built) if hasattr(spec, "from_keys") else spec(**built)


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
        recipe = checked(cls, params, prefix)
        if not 0.0 <= recipe.objective.alpha <= 1.0:
            raise RecipeError(
                f"{prefix}.objective.alpha must be between 0 and 1, got {recipe.objective.alpha}"
            )
        return recipe

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
