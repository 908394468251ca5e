"""The markdown table the timing benches print: one row per timed path, from its best round."""

from collections.abc import Callable, Sequence


def print_best_rounds(
    seconds: dict[str, list[float]],
    names: Sequence[str],
    columns: Sequence[str],
    cells: Callable[[float], str],
) -> None:
    """``| name | cells(best seconds) |`` for each of ``names`` under the ``columns`` header (the
    first column names the path)."""
    print(f"| {' | '.join(columns)} |")
    print("|" + "---|" * len(columns))
    for name in names:
        print(f"| {name} | {cells(min(seconds[name]))} |")
