"""Validated-looking examples for split tests: distinct texts per label, as validation leaves them."""

import pandas as pd


def corpus(rows_per_label: int, labels: tuple[str, ...] = ("体育", "财经", "科技")) -> pd.DataFrame:
    """``rows_per_label`` distinct texts for each label (``""``: texts without a label), ids from 1."""
    texts = [(f"{label}新闻{i}", label) for label in labels for i in range(rows_per_label)]
    frame = pd.DataFrame(texts, columns=["text", "label"])
    frame.insert(0, "example_id", range(1, len(frame) + 1))
    frame["text_hash"] = frame["text"]
    return frame
