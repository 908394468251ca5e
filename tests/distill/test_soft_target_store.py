"""The content-addressed soft-target store: keys, lookup plans, lazy partitions."""

import numpy as np
import pandas as pd

from text_distill.distill.data.soft_target_store import (
    known_keys,
    lazy_partitions,
    lookup,
    partitions_of,
    plan_fill,
    store_key,
    teacher_folder,
)

A, B = "a" * 64, "b" * 64


def loader(texts):
    return lambda: pd.DataFrame({"teacher_text": texts})


def counting_scorer(calls):
    def score(texts):
        calls.append(list(texts))
        return np.array([[len(t), 0.0] for t in texts], dtype=np.float32), None

    return score


def test_key_depends_on_teacher_and_exact_text():
    assert store_key(A, "新闻") == store_key(A, "新闻")
    assert len({store_key(A, "新闻"), store_key(B, "新闻"), store_key(A, "新闻 "), store_key(A, "新")}) == 4


def test_plan_counts_hits_repeats_and_misses_across_partitions():
    known = {store_key(A, "旧")}
    plan = plan_fill(
        [loader(["旧", "新", "新"]), loader(["新", "另", "旧"]), loader(["旧"])], "teacher_text", A, known
    )
    assert (plan.wanted_rows, plan.store_hits, plan.repeated, plan.to_score) == (7, 3, 2, 2)
    assert [mask.tolist() for _, mask, _ in plan.misses] == [[False, True, False], [False, True, False]]
    assert known == {store_key(A, t) for t in ("旧", "新", "另")}


def test_partitions_score_only_when_saved_and_are_found_by_lookup():
    calls = []
    plan = plan_fill([loader(["甲", "乙"]), loader(["乙", "丙"])], "teacher_text", A, set())
    partitions = lazy_partitions(plan, "teacher_text", counting_scorer(calls))
    assert calls == []  # nothing scored until Kedro saves the partitions
    assert all(name.startswith(teacher_folder(A) + "/") for name in partitions)
    saved = {name: build() for name, build in partitions.items()}
    assert calls == [["甲", "乙"], ["丙"]]
    store = {name: (lambda frame=frame: frame) for name, frame in saved.items()}
    assert known_keys(store, A) == {store_key(A, t) for t in "甲乙丙"}
    assert known_keys(store, B) == set()  # another teacher reads none of it
    rows = lookup(store, A, [store_key(A, "丙"), store_key(A, "甲")], ["logits"])
    assert rows.loc[store_key(A, "丙"), "logits"].tolist() == [1.0, 0.0]
    assert lookup(store, B, [store_key(A, "丙")], ["logits"]).empty
    assert list(partitions_of({**store, "ffff/x": None}, A)) == sorted(store)
