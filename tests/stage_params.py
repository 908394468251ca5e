"""Each stage's parameters as ``conf/base`` has them (the one place defaults live), with a test's
changes laid over: library tests pass whole settings, as a run does (the code reads every key)."""

import copy
from pathlib import Path
from typing import Any

import yaml

BASE = Path(__file__).resolve().parents[1] / "conf" / "base"


def stage_params(stage: str, **changes: Any) -> dict[str, Any]:
    """``conf/base/parameters_<stage>.yml``'s ``<stage>`` block with ``changes`` (whole keys)."""
    params = yaml.safe_load((BASE / f"parameters_{stage}.yml").read_text(encoding="utf-8"))[stage]
    return {**copy.deepcopy(params), **changes}
