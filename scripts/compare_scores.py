"""Whether two projects' last runs scored the same: every leaf of the evaluate stage's score files
(teacher, both students, across seeds, each baseline) whose key names no speed or size, compared
exactly. For a refactoring that must keep behaviour: run the same command in two checkouts, then

    python scripts/compare_scores.py /path/to/before /path/to/after

Exit 0 when every value is equal, 1 otherwise (the differing keys are printed)."""

import argparse
import json
import sys
from pathlib import Path
from typing import Any

SCORES = (
    "teacher_scores",
    "student_scores",
    "student_alone_scores",
    "across_seeds_scores",
    "baselines/tfidf_char_svm_scores",
    "baselines/tfidf_word_svm_scores",
)
MEASURED_NOT_SCORED = ("per_second", "latency", "seconds", "size", "params", "_ms")


def latest(project: Path, name: str) -> Any:
    """The last version of ``data/08_reporting/<name>.json``."""
    versions = sorted((project / "data/08_reporting" / f"{name}.json").glob(f"*/{Path(name).name}.json"))
    return json.loads(versions[-1].read_text(encoding="utf-8"))


def leaves(value: Any, key: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: v for name, item in value.items() for k, v in leaves(item, f"{key}.{name}").items()}
    if isinstance(value, list):
        return {k: v for n, item in enumerate(value) for k, v in leaves(item, f"{key}[{n}]").items()}
    return {key: value}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    differing = 0
    for name in SCORES:
        before, after = (leaves(latest(project, name)) for project in (args.before, args.after))
        keys = [key for key in before.keys() | after.keys() if not any(s in key for s in MEASURED_NOT_SCORED)]
        changed = sorted(key for key in keys if before.get(key) != after.get(key))
        differing += len(changed)
        shown = f": {', '.join(changed[:5])}" if changed else ""
        print(f"{name}: {len(keys)} values, {len(changed)} differ{shown}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
