"""Split sizes for any corpus size (issue 12): rows, shares or the smaller of both; an impossible or
lopsided split is one line naming the parameter."""

import pandas as pd
import pytest
import yaml
from tests.conftest import PROJECT_ROOT
from tests.corpora import corpus

from text_distill.distill.data.corpus import CorpusError
from text_distill.distill.data.splits import holdout_rows, split_examples

DEFAULTS = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "parameters_ingest.yml").read_text())["ingest"]


def params(**overrides) -> dict:
    return {**DEFAULTS, **overrides}


def split_sizes(examples: pd.DataFrame, **overrides) -> dict[str, int]:
    splits, _, _ = split_examples(examples, params(**overrides))
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


def labelled_train(examples: pd.DataFrame, **overrides) -> tuple[pd.DataFrame, dict]:
    splits, _, report = split_examples(examples, params(**overrides))
    return splits, report


def test_a_label_budget_keeps_dev_and_test_and_nests_its_labelled_rows():
    examples = corpus(400)  # 1,200 rows: 180 test, 120 dev, 900 train
    full, _ = labelled_train(examples)
    budgets = {budget: labelled_train(examples, label_budget=budget) for budget in (30, 60, 300)}
    for budget, (splits, report) in budgets.items():
        for held_out in ("dev", "test"):  # every budget is selected and scored on the same rows
            assert set(splits.loc[splits["split"] == held_out, "example_id"]) == set(
                full.loc[full["split"] == held_out, "example_id"]
            )
        train = splits[splits["split"] == "train"]
        assert len(train) == budget and train["label"].value_counts().tolist() == [budget // 3] * 3
        unlabelled = splits[splits["split"] == "unlabelled"]
        assert len(unlabelled) == 900 - budget  # the rest of train, its labels gone
        assert (unlabelled["label"] == "").all() and (unlabelled["label_id"] == -1).all()
        assert report["labelled"] == {"train": budget, "dev": 120, "test": 180}
        assert report["unlabelled"] == {
            "train_over_budget": 900 - budget,
            "dev_over_budget": 0,
            "corpus_without_label": 0,
        }
    ids = {budget: set(s.loc[s["split"] == "train", "example_id"]) for budget, (s, _) in budgets.items()}
    assert ids[30] < ids[60] < ids[300]
    assert labelled_train(examples, label_budget=60)[0].equals(budgets[60][0])  # seeded


def test_dev_can_shrink_to_a_share_of_the_budget():
    splits, report = labelled_train(corpus(400), label_budget=60, budget_dev_size=0.5)
    assert report["labelled"]["dev"] == 30 and report["unlabelled"]["dev_over_budget"] == 90
    assert splits["split"].value_counts().to_dict() == {
        "unlabelled": 930,
        "test": 180,
        "train": 60,
        "dev": 30,
    }


def test_corpus_rows_without_a_label_join_the_unlabelled_split():
    examples = pd.concat([corpus(100), corpus(5, labels=("",)).assign(example_id=range(301, 306))])
    splits, report = labelled_train(examples)
    assert splits.loc[splits["split"] == "unlabelled", "example_id"].tolist() == list(range(301, 306))
    assert report["unlabelled"]["corpus_without_label"] == 5
    assert split_sizes(corpus(100)) == {
        name: count
        for name, count in splits["split"].value_counts().to_dict().items()
        if name != "unlabelled"
    }  # the labelled rows split as without them


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"label_budget": 2}, "2 labelled train rows cannot hold one row of each label"),
        ({"label_budget": 5000}, "ingest.label_budget is 5000 rows, more than the 900 rows"),
        ({"label_budget": 0}, "ingest.label_budget must be null or a number of rows >= 1, got 0"),
        ({"budget_dev_size": 0.2}, "ingest.budget_dev_size needs ingest.label_budget"),
    ],
)
def test_an_impossible_label_budget_is_one_line(overrides, message):
    with pytest.raises(CorpusError, match=message) as error:
        split_examples(corpus(400), params(**overrides))
    assert "\n" not in str(error.value)
