"""The stages' pipelines, one package each (``nodes.py``, ``pipeline.py``).

Each ``create_pipeline`` gives its nodes the stage's name as their namespace: node names read
``<stage>.<node>`` (``kedro run --from-nodes teacher.fingerprint_teacher``) and kedro viz draws each
stage as one box that opens. ``prefix_datasets_with_namespace=False`` keeps every dataset and
parameter name as the catalog has it.
"""

from collections.abc import Callable

from kedro.pipeline import Node


def step(
    func: Callable,
    inputs: str | list[str] | dict[str, str],
    outputs: str | list[str],
    name: str | None = None,
) -> Node:
    """A node named after the function it runs (or ``name``, for a library function a stage
    runs under its own name)."""
    return Node(func, inputs, outputs, name=name or func.__name__)
