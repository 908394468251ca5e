"""The soft-target cache refuses logits from another teacher or for other data."""

import numpy as np
import pytest

from text_distill.distill.data.soft_targets import (
    SoftTargetMismatchError,
    check_soft_targets,
    logits_for,
    soft_target_table,
)


def table(examples_frame, fingerprint="a" * 64):
    logits = np.arange(len(examples_frame) * 2, dtype=np.float32).reshape(-1, 2)
    return soft_target_table(examples_frame, logits, fingerprint)


def test_table_round_trips_logits_in_requested_order(examples_frame):
    cache = table(examples_frame)
    check_soft_targets(cache, examples_frame, "a" * 64)
    ids = examples_frame["example_id"].tolist()[::-1]
    np.testing.assert_array_equal(logits_for(cache, ids)[0], [2 * (len(ids) - 1), 2 * (len(ids) - 1) + 1])


def test_cache_from_another_teacher_is_refused(examples_frame):
    with pytest.raises(SoftTargetMismatchError, match="made by teacher \\['bbbbbbbbbbbb'\\]"):
        check_soft_targets(table(examples_frame, "b" * 64), examples_frame, "a" * 64)


def test_cache_missing_examples_is_refused(examples_frame):
    with pytest.raises(SoftTargetMismatchError, match="2 examples have no cached logits"):
        check_soft_targets(table(examples_frame.iloc[2:]), examples_frame, "a" * 64)


def test_cache_for_changed_texts_is_refused(examples_frame):
    cache = table(examples_frame)
    changed = examples_frame.assign(
        text_hash=examples_frame["text_hash"].where(examples_frame.index > 0, "0" * 16)
    )
    with pytest.raises(SoftTargetMismatchError, match="1 cached examples have a different text"):
        check_soft_targets(cache, changed, "a" * 64)
