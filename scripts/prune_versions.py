"""Prune old versions of the catalog's versioned datasets under data/: keep the newest ``--keep``
versions of each (default 2), delete the rest. A dry run unless ``--apply``.

    .venv/bin/python scripts/prune_versions.py [--keep 2] [--apply] [--data data]

Kedro writes each versioned dataset to ``<filepath>/<version>/<name>``, a version being a timestamp
like ``2026-11-30T16.22.50.123Z``; every distill run adds one per dataset (the teacher alone is about
470 MB). The newest versions are the ones a run loads by default; pin an older one you still need
with ``--load-versions`` only if you keep it here. MLflow keeps its own copies of logged artifacts
(small: reports, plots, students, the teacher's fingerprint): delete runs in `mlflow ui`, then run
`mlflow gc --backend-store-uri sqlite:///mlflow.db`.
"""

import argparse
import re
import shutil
from pathlib import Path

VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}\.\d{2}\.\d{2}\.\d{3}Z$")


def versioned_datasets(data: Path) -> dict[Path, list[Path]]:
    """Each versioned dataset folder and its version folders, oldest first."""
    found: dict[Path, list[Path]] = {}
    for version in data.rglob("*"):
        if version.is_dir() and VERSION.match(version.name):
            found.setdefault(version.parent, []).append(version)
    return {dataset: sorted(versions) for dataset, versions in sorted(found.items())}


def size(path: Path) -> int:
    return sum(item.stat().st_size for item in path.rglob("*") if item.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=int, default=2, help="newest versions kept per dataset (>= 1)")
    parser.add_argument("--apply", action="store_true", help="delete (default: only list)")
    parser.add_argument("--data", type=Path, default=Path("data"))
    args = parser.parse_args()
    if args.keep < 1:
        parser.error("--keep must be at least 1: the newest version is what a run loads")
    freed = 0
    for versions in versioned_datasets(args.data).values():
        for old in versions[: -args.keep]:
            bytes_ = size(old)
            freed += bytes_
            print(f"{'deleting' if args.apply else 'would delete'} {old} ({bytes_ / 1e6:.1f} MB)")
            if args.apply:
                shutil.rmtree(old)
    verb = "freed" if args.apply else "would free"
    print(f"{verb} {freed / 1e6:.1f} MB (kept the newest {args.keep} of each)")


if __name__ == "__main__":
    main()
