"""Project CLI: Kedro's own ``run``, with the project's data errors reported as one clear message.

A bad corpus, a missing packaged asset or a foreign soft-target cache is the user's input, not a bug:
it deserves the sentence that says what to change, not a stack trace. So does an input file that
cannot be read at all (empty, not UTF-8, badly quoted CSV, missing: ``texts_to_predict``, say), and
a table or pickle an earlier run wrote that is now truncated, or that an earlier version of the project
pickled with a module path that has since moved (each named with the stage that rewrites it).
Other errors keep theirs.
"""

import pickle
import re
from collections.abc import Iterator

import click
from kedro.framework.cli.project import run as kedro_run
from kedro.io import DatasetError
from pandas.errors import EmptyDataError, ParserError
from pyarrow import ArrowInvalid

from text_distill.errors import TextDistillError

_LOADING = re.compile(r"^(?:(?P<name>[\w.\-]+): )?Failed while loading data from dataset")
_PARQUET_SOURCE = re.compile(r"^Could not open Parquet input source '.*?': ")  # the path, named already
_FILEPATH = re.compile(r"filepath=(?:\w*Path\()?(?P<quote>['\"])(?P<path>.*?)(?P=quote)")


class UnreadableInputError(TextDistillError):
    """A dataset's file cannot be read at all: empty, not UTF-8, malformed CSV or missing."""


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def _fault(error: BaseException) -> str | None:
    """What is wrong with a file that failed to load, and what to do; None: not a file fault."""
    if isinstance(error, EmptyDataError):
        return "the file is empty (not even a header line)"
    if isinstance(error, UnicodeDecodeError):
        byte = error.object[error.start : error.start + 1].hex()
        return f"it is not {error.encoding} text (undecodable byte 0x{byte}): save it as UTF-8"
    if isinstance(error, ParserError):
        detail = str(error).strip().splitlines()[-1] if str(error).strip() else "unreadable"
        return (
            f"it is not well-formed CSV ({detail}): quote every field that holds a comma, a quote or a "
            'line break, double the quotes inside it ("") and close each quote'
        )
    if isinstance(error, FileNotFoundError):
        return f"no such file: {error.filename}" if error.filename else "no such file"
    if isinstance(error, DAMAGED):
        detail = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return f"it is damaged or truncated ({_PARQUET_SOURCE.sub('', detail)})"
    if _written_by_an_older_layout(error):
        return (
            f"it was written by an earlier text-distill, whose module {error.name} no longer exists "
            "(the library moved into packages by kind)"
        )
    return None


def _written_by_an_older_layout(error: BaseException) -> bool:
    """A pickle that names a module of the project that is gone: saved before a module moved."""
    return isinstance(error, ModuleNotFoundError) and (error.name or "").startswith("text_distill.")


# what pyarrow and pickle raise on a file an earlier run wrote and a full disk or a cut copy truncated
DAMAGED = (ArrowInvalid, pickle.UnpicklingError, EOFError)


def _rebuild(name: str) -> str:
    """The command that writes dataset ``name`` again: the first registered pipeline (a stage before
    ``distill``) with it among its outputs."""
    from kedro.framework.project import pipelines

    # outside a configured project (the library on its own) there are none: no stage to name
    writer = next((key for key, pipeline in pipelines.items() if name in pipeline.all_outputs()), None)
    return (
        f"rebuild it with `kedro run --pipeline {writer}`" if writer else "rerun the pipeline that writes it"
    )


def _unreadable_input(exc: BaseException) -> UnreadableInputError | None:
    """A dataset that failed to load because its file is empty, not UTF-8, badly quoted or missing,
    as one line naming the dataset and its file."""
    chain = list(_chain(exc))
    loading = next((e for e in chain if isinstance(e, DatasetError) and _LOADING.match(str(e))), None)
    fault = next((f for f in map(_fault, chain) if f is not None), None)
    if loading is None or fault is None:
        return None
    message = str(loading)
    name = next((m["name"] for e in chain if (m := _LOADING.match(str(e))) and m["name"]), "an input")
    path = _FILEPATH.search(message)
    where = f" ({path['path']})" if path else ""
    if any(isinstance(e, DAMAGED) or _written_by_an_older_layout(e) for e in chain):
        fault = f"{fault}: {_rebuild(name)}"
    return UnreadableInputError(f"cannot read {name}{where}: {fault}")


def _user_error(exc: BaseException) -> TextDistillError | None:
    known = next((e for e in _chain(exc) if isinstance(e, TextDistillError)), None)
    return known or _unreadable_input(exc)


@click.group(name="text-distill")
def cli() -> None:
    """Project commands."""


@cli.command(
    name="run", params=kedro_run.params, help=kedro_run.help, context_settings=kedro_run.context_settings
)
@click.pass_context
def run(ctx: click.Context, **kwargs) -> None:
    try:
        ctx.invoke(kedro_run, **kwargs)
    except Exception as exc:
        error = _user_error(exc)
        if error is None:
            raise
        click.secho(f"Error: {error}", fg="red", err=True)
        ctx.exit(2)
