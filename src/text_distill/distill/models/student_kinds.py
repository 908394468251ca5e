"""The student kinds: one ``StudentKind`` entry per architecture, everything the rest of the code
asks of it in one place, registered once by the kind's own module (``register_student``).

Nothing outside a kind's module branches on an architecture: the recipe check reads a kind's typed
options block (``student.model.<name>``), training its builder and how it reads text, the loader its
network class, the ONNX export its exportable network, the sweeps whether it runs the teacher, and
``StudentClassifier.encode`` its batch encoder (the speed probes measure that path). The built-in
kinds' modules are imported on first use, one kind at a time where a name is asked for, so loading
an n-gram student never imports transformers.
"""

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from text_distill.errors import TextDistillError

# modules of this package, each registering the kind of its name; the order is the recipe's
KINDS_PACKAGE = "text_distill.distill.students"  # the built-in kinds, loaded by name when first asked for
BUILT_IN = ("bilstm", "ngram", "textcnn", "transformer")
EMBEDDING_STUDENT = "text_distill.distill.students.embedding:embedding_student"

Encoder = Callable[[Sequence[str]], tuple[torch.Tensor, torch.Tensor]]  # raw texts -> padded ids, lengths


class StudentKindError(TextDistillError, ValueError):
    """An unknown student kind, or a second registration of one."""


def _import(path: str) -> Any:
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def _recipe_unit(model: Any) -> dict[str, Any]:
    return {"unit": model.unit}


def _recipe_tokens(model: Any) -> int:
    return model.max_tokens


@dataclass(frozen=True)
class StudentKind:
    """One student architecture. ``model`` in the hooks is the recipe's ``ModelSpec`` (its chosen
    options: ``model.options``); ``build`` and ``network`` may be ``module:name`` paths, imported
    when first needed (the transformer's imports transformers; a builder sits above the networks)."""

    name: str  # ``student.model.architecture`` and a saved student's ``config.json`` ``architecture``
    options: type  # dataclass of its ``student.model.<name>`` block, checked by the recipe
    network: type[nn.Module] | str  # a ConfiguredNetwork whose ``architecture`` is ``name``
    # (data, recipe, transfer rows or None, encoder source or None) -> ``student_data.Built``;
    # the default builds ``network`` over the tokens of ``reads``, initialised from ``vocabulary``
    build: Callable[..., Any] | str = EMBEDDING_STUDENT
    network_options: tuple[str, ...] = ()  # the options the default builder passes to the network
    reads: Callable[[Any], dict[str, Any]] = _recipe_unit  # model -> ``text.Segmenter`` settings
    tokens_read: Callable[[Any], int] = _recipe_tokens  # model -> tokens read per text
    # (counted tokens, StudentData, model, seed) -> (vocabulary, initial rows); None: the unit's vectors
    vocabulary: Callable[..., tuple[list[str], Any]] | None = None
    needs_teacher: bool = False  # whether training runs the teacher (sweeps ship it to trials then)
    exportable: Callable[[nn.Module], nn.Module] | None = None  # the network as the ONNX exporter takes it
    batch_encoder: Callable[[Any], Encoder | None] | None = None  # StudentClassifier -> a faster encode

    def network_class(self) -> type[nn.Module]:
        return _import(self.network) if isinstance(self.network, str) else self.network

    def builder(self) -> Callable[..., Any]:
        return _import(self.build) if isinstance(self.build, str) else self.build


class StudentKinds:
    """The registered kinds by name (built-in ones first, in ``BUILT_IN`` order)."""

    def __init__(self) -> None:
        self._kinds: dict[str, StudentKind] = {}

    def register(self, kind: StudentKind) -> StudentKind:
        if kind.name in self._kinds:
            raise StudentKindError(f"a student kind named {kind.name!r} is already registered")
        network = kind.network
        if not isinstance(network, str) and getattr(network, "architecture", None) != kind.name:
            raise StudentKindError(f"{network.__qualname__}.architecture must be {kind.name!r}")
        self._kinds[kind.name] = kind
        return kind

    def unregister(self, name: str) -> None:
        self._kinds.pop(name, None)

    def _load(self, names: Sequence[str]) -> None:
        for name in names:
            if name in BUILT_IN and name not in self._kinds:
                importlib.import_module(f"{KINDS_PACKAGE}.{name}")  # it registers itself

    def get(self, name: Any) -> StudentKind | None:
        if isinstance(name, str):
            self._load([name])
        return self._kinds.get(name)

    def __getitem__(self, name: str) -> StudentKind:
        kind = self.get(name)
        if kind is None:
            raise StudentKindError(f"unknown student architecture {name!r}, expected one of {sorted(self)}")
        return kind

    def __contains__(self, name: object) -> bool:
        return self.get(name) is not None

    def __len__(self) -> int:
        self._load(BUILT_IN)
        return len(self._kinds)

    def __iter__(self) -> Iterator[str]:
        self._load(BUILT_IN)
        built_in = [name for name in BUILT_IN if name in self._kinds]
        return iter([*built_in, *(name for name in self._kinds if name not in BUILT_IN)])

    def values(self) -> list[StudentKind]:
        return [self._kinds[name] for name in self]


STUDENT_KINDS = StudentKinds()


def register_student(kind: StudentKind) -> StudentKind:
    """Add ``kind`` (once: a second kind of the same name is refused); its module calls this."""
    return STUDENT_KINDS.register(kind)
