"""Timing order: who goes first rotates, so no workload always follows the same one."""

from text_distill.distill.evaluation.speed import rotated, rotating_rounds


def test_rotated_starts_at_the_turn():
    assert [rotated(["a", "b", "c"], turn) for turn in range(4)] == [
        ["a", "b", "c"],
        ["b", "c", "a"],
        ["c", "a", "b"],
        ["a", "b", "c"],
    ]


def test_rotating_rounds_measures_every_name_every_round_in_rotated_order():
    calls = []

    def measure(name: str, round_: int) -> float:
        calls.append((round_, name))
        return float(len(calls))

    seconds = rotating_rounds(measure, ["a", "b"], rounds=3)
    assert calls == [(0, "a"), (0, "b"), (1, "b"), (1, "a"), (2, "a"), (2, "b")]
    assert seconds == {"a": [1.0, 4.0, 5.0], "b": [2.0, 3.0, 6.0]}
