"""Project CLI: Kedro's own ``run``, with the project's data errors reported as one clear message.

A bad corpus, a missing packaged asset or a foreign soft-target cache is the user's input, not a bug:
it deserves the sentence that says what to change, not a stack trace. Other errors keep theirs.
"""

import click
from kedro.framework.cli.project import run as kedro_run

from text_distill.errors import TextDistillError


def _user_error(exc: BaseException) -> TextDistillError | None:
    while exc is not None:
        if isinstance(exc, TextDistillError):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


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
