"""Where the heavy loops run: in this process (``engine: local``) or on Ray (``engine: ray``): the
engine lookup every stage uses and the Ray connection. Each engine itself sits beside what it runs
(``labelling``, ``training``, ``tuning``).

May import: config.
"""

from collections.abc import Callable
from typing import Any


def engine(registry: dict[str, Callable[..., Any]], name: str, parameter: str) -> Callable[..., Any]:
    """The engine called ``name`` in ``registry``, or an error naming ``parameter`` and the choices."""
    if name not in registry:
        raise ValueError(f"{parameter} must be one of {sorted(registry)}, got {name!r}")
    return registry[name]
