"""Typed configuration: the strict base every stage's settings model derives from, and the one line a
parameter that cannot run gives.

Each stage's settings are one pydantic model beside the code that reads them (``teacher``:
``training.teacher_config``; ``soft_targets``: ``labelling.soft_targets_config``; ``ray``:
``runtimes.ray_config``). The models hold no defaults: the parameters files (``conf/base``) are the
one place defaults live, so a model lists every key its stage's file must have. A model forbids
keys it does not know, is frozen, checks each value's type strictly (no ``"2"`` for 2, no ``1`` for
true) and its constraints (``ge``/``gt``, the named choices a registry holds), and a failure is one
``ConfigError`` line naming the key: an unknown key with the nearest known one, missing keys
together, a bad value with what the key accepts. ``hooks.RecipeCheckHook`` parses every stage's
settings that a run reads before its first node.

May import: nothing of the library.
"""

import difflib
from collections.abc import Mapping
from typing import Any, Self, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError

from text_distill.errors import TextDistillError


class ConfigError(TextDistillError, ValueError):
    """Parameters that cannot run: one line naming the key and what it accepts."""


class Settings(BaseModel):
    """A stage's settings: every key required (the defaults are in the parameters files), none
    unknown, frozen, strictly typed."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @classmethod
    def parse(cls, values: Any, prefix: str) -> Self:
        """The settings of ``values`` (the parameters under ``prefix``, named so in errors)."""
        if not isinstance(values, Mapping):
            raise ConfigError(f"{prefix} must be a mapping of {', '.join(cls.model_fields)}, got {values!r}")
        try:
            return cls.model_validate(dict(values))
        except ValidationError as error:
            raise config_error(error, cls, prefix) from None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model an annotation holds (``X`` or ``X | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None:
        for argument in get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None


def _field_path(model: type[BaseModel], loc: tuple[Any, ...]) -> tuple[list[str], type[BaseModel] | None]:
    """An error location as the keys a user wrote (list indices kept, a union's member tags
    dropped), and the model its last key holds (None: a plain value)."""
    path: list[str] = []
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int):
            path.append(f"[{part}]")
        elif current is not None and part in current.model_fields:
            path.append(str(part))
            current = _model_in(current.model_fields[part].annotation)
    return path, current


def _where(prefix: str, path: list[str]) -> str:
    text = prefix
    for part in path:
        text = f"{text}{part}" if part.startswith("[") else f"{text}.{part}" if text else part
    return text


def _accepts(message: str) -> str:
    return message.removeprefix("Input should be ").removeprefix("Value error, ")


def config_error(error: ValidationError, model: type[BaseModel], prefix: str) -> ConfigError:
    """The first problem of a failed validation as one line."""
    problems = error.errors(include_url=False)
    first = problems[0]
    path, _ = _field_path(model, tuple(first["loc"]))
    where = _where(prefix, path)
    if first["type"] == "extra_forbidden":  # the unknown key is the location's last part
        path, holder = _field_path(model, tuple(first["loc"])[:-1])
        where = _where(prefix, [*path, str(first["loc"][-1])])
        known = list(holder.model_fields) if holder is not None else []
        near = difflib.get_close_matches(str(first["loc"][-1]), known, n=1)
        hint = f" (did you mean {near[0]}?)" if near else f"; known: {', '.join(known)}"
        return ConfigError(f"{where} is not a known key{hint}")
    if first["type"] == "value_error" and not path:  # a check across keys: its message names them
        return ConfigError(_accepts(first["msg"]))
    if first["type"] == "missing":
        parent = _where(prefix, path[:-1])
        missing = [
            _field_path(model, tuple(p["loc"]))[0][-1]
            for p in problems
            if p["type"] == "missing" and _field_path(model, tuple(p["loc"]))[0][:-1] == path[:-1]
        ]
        return ConfigError(f"{parent or 'the settings'} lacks {', '.join(missing)}")
    # the deepest problem under the first key (a list's item rather than the list); a union's
    # members each failing at the same key: what each accepts, together
    paths = [_field_path(model, tuple(p["loc"]))[0] for p in problems]
    under = [i for i, other in enumerate(paths) if other[: len(path)] == path]
    first = problems[max(under, key=lambda i: len(paths[i]))]
    path = paths[problems.index(first)]
    where = _where(prefix, path)
    same = [p for p in problems if _field_path(model, tuple(p["loc"]))[0] == path]
    accepts = " or ".join(dict.fromkeys(_accepts(p["msg"]) for p in same))
    return ConfigError(f"{where} must be {accepts}, got {first['input']!r}")
