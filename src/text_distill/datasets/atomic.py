"""Atomic saves: a killed or failed save never leaves a half-written file or directory in place.

Everything is written into a hidden sibling (``.<name>.<random>.partial``) on the same filesystem and
renamed into place only once complete. Kedro finds versions by globbing ``<filepath>/*/<name>``, and
partitions by their suffix, so a leftover ``.partial`` sibling is never taken for a version or a
partition; it can be deleted at leisure.
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

PARTIAL_SUFFIX = ".partial"


def _replace(staged: Path, target: Path) -> None:
    """Put ``staged`` at ``target``; an existing directory there is replaced whole, never merged."""
    if not target.is_dir():
        os.replace(staged, target)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
    os.replace(target, old / target.name)
    os.replace(staged, target)
    shutil.rmtree(old)


@contextmanager
def staged_directory(target: Path) -> Iterator[Path]:
    """An empty hidden sibling directory of ``target`` to write into, renamed to ``target`` when the
    block ends and removed if it raises."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX, dir=target.parent))
    try:
        yield staged
        _replace(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


def write_bytes(target: Path, data: bytes) -> None:
    """``target.write_bytes(data)``, atomically."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, staged = tempfile.mkstemp(prefix=f".{target.name}.", suffix=PARTIAL_SUFFIX, dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(staged, target)
    except BaseException:
        Path(staged).unlink(missing_ok=True)
        raise
