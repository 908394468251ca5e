"""Typed configuration: the strict base every stage's settings derive from, the typed dataclasses of
the student recipe validated through it, and the one line a parameter that cannot run gives.

Each stage's settings are one pydantic model beside the code that reads them (``teacher``:
``training.teacher_config``; ``soft_targets``: ``labelling.soft_targets_config``; ``ray``:
``runtimes.ray_config``). The student recipe's groups stay frozen dataclasses (what its code
reads), their constraints in their annotations (``Annotated[int, Field(ge=1)]``, ``Literal`` of a
registry's names); ``model_of`` makes the same strict model of a dataclass's fields, and
``as_dataclass`` turns what it validated back into the dataclass (a dataclass with
``recipe_keys``/``from_keys`` names its own keys, as ``training.recipe.ModelSpec`` does with one
block per registered student kind).

Nothing here holds a default: the parameters files (``conf/base``) are the one place defaults
live, so a model lists every key its stage's file must have. A model forbids keys it does not
know, is frozen, checks each value's type strictly (no ``"2"`` for 2, no ``1`` for true; lists
are read as tuples where a field is a tuple) and its constraints, and a failure is one
``ConfigError`` line naming the key: an unknown key with the nearest known one, missing keys
together, a bad value with what the key accepts. ``hooks.RecipeCheckHook`` parses every stage's
settings that a run reads before its first node.

May import: nothing of the library.
"""

import dataclasses
import difflib
import types
from collections.abc import Mapping
from typing import Annotated, Any, Literal, Self, Union, get_args, get_origin, get_type_hints

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, create_model
from pydantic.fields import FieldInfo

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


# ---- dataclasses validated as strict models -----------------------------------------------------

_MODELS: dict[Any, type[Settings]] = {}
_SPECS: dict[type[BaseModel], type] = {}


def dataclass_keys(spec: type) -> dict[str, Any]:
    """The keys of a dataclass ``spec``'s block and their annotations: its fields, or what its
    ``recipe_keys`` says."""
    if hasattr(spec, "recipe_keys"):
        return spec.recipe_keys()
    hints = get_type_hints(spec, include_extras=True)
    return {f.name: hints[f.name] for f in dataclasses.fields(spec)}


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _validated(hint: Any) -> Any:
    """``hint`` as pydantic validates it: dataclasses as their models, tuples also from lists."""
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return model_of(hint)
    origin, arguments = get_origin(hint), get_args(hint)
    if origin is Annotated:
        return Annotated[(_validated(arguments[0]), *hint.__metadata__)]
    if origin in (Union, types.UnionType):
        return Union[tuple(_validated(argument) for argument in arguments)]  # noqa: UP007
    if origin is tuple:
        inner = tuple(argument if argument is Ellipsis else _validated(argument) for argument in arguments)
        return Annotated[tuple[inner], BeforeValidator(_as_tuple)]
    if origin is list:
        return list[tuple(_validated(argument) for argument in arguments)]
    return hint


def _spec_key(spec: type) -> tuple[Any, ...]:
    """What a dataclass's model depends on: its keys and, for a nested dataclass, that one's (a
    ``recipe_keys`` that grows with a registry makes new models)."""
    keys = dataclass_keys(spec)
    return (spec, tuple((name, _hint_key(hint)) for name, hint in keys.items()))


def _hint_key(hint: Any) -> Any:
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return _spec_key(hint)
    return hint if isinstance(hint, type) else repr(hint)


def model_of(spec: type) -> type[Settings]:
    """The strict model of the dataclass ``spec``'s keys (made once per set of keys)."""
    cache = _spec_key(spec)
    if cache not in _MODELS:
        keys = dataclass_keys(spec)
        fields: dict[str, Any] = {name: (_validated(hint), ...) for name, hint in keys.items()}
        model = create_model(spec.__name__, __base__=Settings, __module__=spec.__module__, **fields)
        _MODELS[cache], _SPECS[model] = model, spec
    return _MODELS[cache]


def as_dataclass(value: Any) -> Any:
    """A validated model back as its dataclass (nested ones too)."""
    if isinstance(value, BaseModel) and type(value) in _SPECS:
        spec = _SPECS[type(value)]
        built = {name: as_dataclass(getattr(value, name)) for name in type(value).model_fields}
        return spec.from_keys(built) if hasattr(spec, "from_keys") else spec(**built)
    if isinstance(value, list):
        return [as_dataclass(item) for item in value]
    if isinstance(value, tuple):
        return tuple(as_dataclass(item) for item in value)
    return value


# ---- one line per failure -----------------------------------------------------------------------


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


def _field_path(
    model: type[BaseModel], loc: tuple[Any, ...]
) -> tuple[list[str], type[BaseModel] | None, FieldInfo | None]:
    """An error location as the keys a user wrote (list indices kept, a union's member tags
    dropped), the model its last key holds (None: a plain value) and that key's field."""
    path: list[str] = []
    current: type[BaseModel] | None = model
    field: FieldInfo | None = None
    for part in loc:
        if isinstance(part, int):
            path.append(f"[{part}]")
            field = None
        elif current is not None and part in current.model_fields:
            path.append(str(part))
            field = current.model_fields[part]
            current = _model_in(field.annotation)
    return path, current, field


def _where(prefix: str, path: list[str]) -> str:
    text = prefix
    for part in path:
        text = f"{text}{part}" if part.startswith("[") else f"{text}.{part}" if text else part
    return text


def _choices(annotation: Any) -> list[Any]:
    """The named choices a ``Literal`` in ``annotation`` holds."""
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    return [choice for argument in get_args(annotation) for choice in _choices(argument)]


def _tuple_length(annotation: Any) -> int | None:
    """The number of items a fixed-length ``tuple[...]`` in ``annotation`` holds."""
    if get_origin(annotation) is tuple and Ellipsis not in get_args(annotation):
        return len(get_args(annotation))
    for argument in get_args(annotation):
        found = _tuple_length(argument)
        if found is not None:
            return found
    return None


def _one_of(choices: list[Any]) -> str:
    return repr(choices[0]) if len(choices) == 1 else f"one of {sorted(choices)}"


def _bounds(field: FieldInfo | None) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for constraint in field.metadata if field is not None else []:
        for name in ("ge", "gt", "le", "lt"):
            if getattr(constraint, name, None) is not None:
                found[name] = getattr(constraint, name)
    return found


def _accepts(problem: dict[str, Any], field: FieldInfo | None) -> str:
    """What a key accepts, in the recipe's words."""
    kind, context = problem["type"], problem.get("ctx") or {}
    bounds = _bounds(field)
    if kind in ("greater_than_equal", "less_than_equal") and {"ge", "le"} <= set(bounds):
        return f"be between {bounds['ge']} and {bounds['le']}"
    words = {
        "greater_than_equal": lambda: f"at least {context['ge']}",
        "greater_than": lambda: f"above {context['gt']}",
        "less_than_equal": lambda: f"at most {context['le']}",
        "less_than": lambda: f"below {context['lt']}",
        "literal_error": lambda: _one_of(_choices(field.annotation)) if field else context["expected"],
        "int_type": lambda: "an integer",
        "int_from_float": lambda: "an integer",
        "float_type": lambda: "a number",
        "bool_type": lambda: "true or false",
        "string_type": lambda: "a string",
        "none_required": lambda: "null",
        "list_type": lambda: "a list",
        "tuple_type": lambda: "a list",
        "too_long": lambda: f"{context.get('max_length')} items",
        "too_short": lambda: f"{context.get('min_length')} items",
        "model_type": lambda: "a mapping",
    }
    if kind in words:
        text = words[kind]()
        return f"have {text}" if kind in ("too_long", "too_short") else f"be {text}"
    return "be " + problem["msg"].removeprefix("Input should be ").removeprefix("Value error, ")


def config_error(
    error: ValidationError,
    model: type[BaseModel],
    prefix: str,
    *,
    error_class: type[ConfigError] | None = None,
    noun: str = "known key",
) -> ConfigError:
    """The first problem of a failed validation as one line (an ``error_class``, by default a
    ``ConfigError``; an unknown key "is not a ``noun``")."""
    make = error_class or ConfigError
    problems = error.errors(include_url=False)
    first = problems[0]
    if first["type"] == "extra_forbidden":  # the unknown key is the location's last part
        path, holder, _ = _field_path(model, tuple(first["loc"])[:-1])
        where = _where(prefix, [*path, str(first["loc"][-1])])
        known = list(holder.model_fields) if holder is not None else []
        near = difflib.get_close_matches(str(first["loc"][-1]), known, n=1)
        hint = f" (did you mean {near[0]}?)" if near else f"; known: {', '.join(known)}"
        return make(f"{where} is not a {noun}{hint}")
    paths = [_field_path(model, tuple(p["loc"])) for p in problems]
    path, _, _ = paths[0]
    if first["type"] == "value_error" and not path:  # a check across keys: its message names them
        return make(first["msg"].removeprefix("Value error, "))
    if first["type"] == "missing" and path and path[-1].startswith("["):  # a tuple's item
        _, _, field = _field_path(model, tuple(first["loc"])[:-1])
        items = _tuple_length(field.annotation) if field is not None else None
        return make(f"{_where(prefix, path[:-1])} must have {items} items, got {first['input']!r}")
    if first["type"] == "missing":
        missing = [
            other[-1]
            for (other, _, _), problem in zip(paths, problems, strict=True)
            if problem["type"] == "missing" and other[:-1] == path[:-1]
        ]
        return make(f"{_where(prefix, path[:-1]) or 'the recipe'} lacks {', '.join(missing)}")
    # the deepest problem under the first key (a list's item rather than the list); a union's
    # members each failing at the same key: what each accepts, together
    under = [i for i, (other, _, _) in enumerate(paths) if other[: len(path)] == path]
    chosen = max(under, key=lambda i: len(paths[i][0]))
    path, _, field = paths[chosen]
    same = [i for i, (other, _, _) in enumerate(paths) if other == path and problems[i]["type"] != "missing"]
    accepts = " or ".join(dict.fromkeys(_accepts(problems[i], paths[i][2]) for i in same))
    accepts = accepts.replace(" or be ", " or ")
    return make(f"{_where(prefix, path)} must {accepts}, got {problems[chosen]['input']!r}")
