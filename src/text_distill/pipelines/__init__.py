"""The stages' pipelines, one package each (``nodes.py``, ``pipeline.py``).

Each ``create_pipeline`` gives its nodes the stage's name as their namespace: node names read
``<stage>.<node>`` (``kedro run --from-nodes teacher.fingerprint_teacher``) and kedro viz draws each
stage as one box that opens. ``prefix_datasets_with_namespace=False`` keeps every dataset and
parameter name as the catalog has it.
"""

from collections.abc import Callable
from functools import partial, update_wrapper
from typing import Any

from kedro.pipeline import Node, Pipeline

from text_distill.variants import ngram_dataset, seed_dataset, seed_namespace


def step(
    func: Callable,
    inputs: str | list[str] | dict[str, str],
    outputs: str | list[str],
    name: str | None = None,
) -> Node:
    """A node named after the function it runs (or ``name``, for a library function a stage
    runs under its own name)."""
    return Node(func, inputs, outputs, name=name or func.__name__)


def bound(func: Callable, **arguments: Any) -> Callable:
    """``func`` with ``arguments`` fixed (a variant's seed, the registered seeds), keeping its name
    and docstring for Kedro's logs and kedro viz."""
    return update_wrapper(partial(func, **arguments), func)


def seed_variant(seed: int, nodes: list[Node]) -> Pipeline:
    """``nodes`` as the namespaced pipeline of seed ``seed``: node names ``seed_<n>.<node>`` (within
    the stage's namespace), datasets as named (``<model>_seed_<n>``, the catalog's factories)."""
    return Pipeline(nodes, namespace=seed_namespace(seed), prefix_datasets_with_namespace=False)


def trained_at_seed(
    func: Callable, inputs: list[str] | dict[str, str], model: str, seed: int, name: str | None = None
) -> Node:
    """The node that trains ``model`` with ``func`` at ``seed`` instead of the configured seed: it
    writes ``<model>_seed_<n>`` and its training log, and is named ``name`` (default: ``func``'s)."""
    outputs = [seed_dataset(model, seed), seed_dataset(model, seed, "training_log")]
    return Node(bound(func, seed=seed), inputs, outputs, name=name or func.__name__)


def teacher_members(seeds: tuple[int, ...], ngram_members: tuple[str, ...]) -> dict[str, str]:
    """The teachers whose logits make the soft targets, by the keyword of the nodes that combine
    them (teacher weights, fingerprint, labelling), each by its name in the fingerprint: the main
    one, each teacher seed variant (``seed_<n>``: ``teacher_seed_<n>``), then each n-gram member
    (``tfidf_char_svm``: ``ngram_teacher_tfidf_char_svm``)."""
    variants = {seed_namespace(seed): seed_dataset("teacher", seed) for seed in seeds}
    ngram = {member: ngram_dataset(member) for member in ngram_members}
    return {"teacher": "teacher", **variants, **ngram}
