"""What a file held when it was written, so that a later run never trusts a damaged one.

A run reads back what earlier runs wrote (the soft-target store, the teacher, the students). A disk
that filled up or a copy cut short leaves a truncated file that may still open, or fail deep inside
a reader with a traceback. Each such file gets a record when it is written (its size and SHA-256,
and a Parquet partition's row count); a load compares the file with its record and says which file
is damaged and how to rebuild it, in one line. Files written before records existed have none: they
are checked for what can be checked without one (a Parquet footer is readable).
"""

import hashlib
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from text_distill.errors import TextDistillError

CHUNK = 1 << 20
DEFAULT_REBUILD = "rerun the pipeline that writes it"


class DamagedFileError(TextDistillError):
    """A file an earlier run wrote is truncated or changed: the message names it and the rebuild."""


def rebuild_advice(metadata: dict[str, Any] | None) -> str:
    """How to rebuild a dataset's files: its catalog ``metadata.rebuild`` command, in backquotes."""
    command = (metadata or {}).get("rebuild")
    return f"rebuild it with `{command}`" if command else DEFAULT_REBUILD


def damaged(path: Path | str, why: str, advice: str) -> DamagedFileError:
    return DamagedFileError(f"{path} is damaged ({why}): {advice}")


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def file_record(path: Path, rows: int | None = None) -> dict[str, Any]:
    """The size and SHA-256 of ``path`` (and its row count, for a table)."""
    record: dict[str, Any] = {"bytes": path.stat().st_size, "sha256": sha256(path)}
    if rows is not None:
        record["rows"] = rows
    return record


def parquet_rows(path: Path) -> int:
    """The rows a Parquet file's footer declares; raises if the footer cannot be read (truncated)."""
    return pq.read_metadata(path).num_rows


def mismatch(path: Path, record: dict[str, Any]) -> str | None:
    """How ``path`` differs from its ``record``; None when it is as written."""
    if not path.is_file():
        return "missing"
    size = path.stat().st_size
    if size != record["bytes"]:
        return f"{size:,} bytes, {record['bytes']:,} were written"
    if sha256(path) != record["sha256"]:
        return "its SHA-256 differs from the one recorded when it was written"
    return None


def parquet_problem(path: Path, record: dict[str, Any] | None) -> str | None:
    """Why a Parquet file cannot be trusted (unreadable footer, rows or bytes not as recorded)."""
    try:
        rows = parquet_rows(path)
    except (OSError, ValueError) as error:  # pyarrow's ArrowInvalid is a ValueError
        return f"cannot be read: {first_line(error)}"
    if record is None:
        return None
    if "rows" in record and rows != record["rows"]:
        return f"{rows:,} rows, {record['rows']:,} were written"
    return mismatch(path, record)


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


# ---- model directories: one record of every file, written last ------------------------------------

MANIFEST = "text_distill_files.json"


def write_manifest(directory: Path) -> None:
    """Record every file ``directory`` holds (after ``save_pretrained`` wrote them all)."""
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST)
    records = {p.relative_to(directory).as_posix(): file_record(p) for p in files}
    (directory / MANIFEST).write_text(json.dumps(records, indent=1, sort_keys=True))


def check_manifest(directory: Path, advice: str) -> None:
    """Raise ``DamagedFileError`` naming the first file of ``directory`` not as recorded; a directory
    saved before manifests existed has none and is left to its loader."""
    manifest = directory / MANIFEST
    if not manifest.is_file():
        return
    try:
        records = json.loads(manifest.read_text())
    except ValueError as error:
        raise damaged(manifest, f"cannot be read: {first_line(error)}", advice) from error
    for name, record in records.items():
        problem = mismatch(directory / name, record)
        if problem:
            raise damaged(directory / name, problem, advice)
