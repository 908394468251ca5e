"""Split sizes for any corpus size (issue 12): rows, shares or the smaller of both; an impossible or
lopsided split is one line naming the parameter."""

import pandas as pd
import pytest
import yaml
from tests.conftest import PROJECT_ROOT

from text_distill.distill.corpus import CorpusError
from text_distill.distill.splits import holdout_rows, split_examples

DEFAULTS = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "parameters_ingest.yml").read_text())["ingest"]


def params(**overrides) -> dict:
    return {**DEFAULTS, **overrides}


def corpus(rows_per_label: int, labels: tuple[str, ...] = ("体育", "财经", "科技")) -> pd.DataFrame:
    """Validated-looking examples: ``rows_per_label`` distinct texts for each label."""
    texts = [(f"{label}新闻{i}", label) for label in labels for i in range(rows_per_label)]
    frame = pd.DataFrame(texts, columns=["text", "label"])
    frame.insert(0, "example_id", range(1, len(frame) + 1))
    frame["text_hash"] = frame["text"]
    return frame


def split_sizes(examples: pd.DataFrame, **overrides) -> dict[str, int]:
    splits, _ = split_examples(examples, params(**overrides))
    return splits["split"].value_counts().to_dict()


def test_holdout_sizes_are_rows_shares_or_the_smaller_of_both():
    assert holdout_rows(300, 1000, "dev_size") == 300
    assert holdout_rows(0.1, 1005, "dev_size") == 100
    assert holdout_rows({"rows": 5000, "share": 0.1}, 1000, "dev_size") == 100
    assert holdout_rows({"rows": 5000, "share": 0.1}, 99_970, "dev_size") == 5000
    for bad in (0, 1.0, 1.5, -3, True, "10%", {"rows": 5, "fraction": 0.1}, {}):
        with pytest.raises(CorpusError, match="ingest.dev_size must be a row count"):
            holdout_rows(bad, 1000, "dev_size")


def test_default_sizes_fit_a_small_corpus():
    assert split_sizes(corpus(100)) == {"train": 225, "test": 45, "dev": 30}


def test_default_sizes_leave_most_of_a_mid_size_corpus_for_training():
    sizes = split_sizes(corpus(8500, labels=("体育", "财经")))
    assert sizes == {"train": 12_750, "test": 2550, "dev": 1700}


@pytest.mark.parametrize(
    ("rows_per_label", "overrides", "message"),
    [
        (100, {"dev_size": 5000, "test_size": 10_000}, "need more than the 300 rows to split"),
        (100, {"dev_size": 0.3, "test_size": 0.3}, r"train would get 120 of 300 rows \(40%\), below "),
        (1, {"dev_size": 0.1, "test_size": 0.2}, "the dev split \\(0 rows\\) cannot hold one row of each"),
        (2, {"dev_size": 1, "test_size": 1, "min_train_share": 0.1}, "cannot hold one row of each of the 3"),
    ],
)
def test_impossible_or_lopsided_split_is_one_line_naming_the_parameter(rows_per_label, overrides, message):
    with pytest.raises(CorpusError, match=message) as error:
        split_examples(corpus(rows_per_label), params(**overrides))
    assert "\n" not in str(error.value)
    assert "ingest.min_rows_per_label" in str(error.value) or "ingest.dev_size / ingest.test_size" in str(
        error.value
    )


def test_a_label_too_small_to_stratify_is_one_line_naming_the_parameter():
    examples = pd.concat([corpus(20), corpus(2, labels=("军事",)).assign(example_id=[61, 62])])
    with pytest.raises(CorpusError, match="label .军事. has 2 rows, too few to stratify.*min_rows_per_label"):
        split_examples(examples, params(dev_size=5, test_size=5))
