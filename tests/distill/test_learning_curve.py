"""The learning curve's points, table and figure (``distill.evaluation.learning_curve``) and a budget's
examples drawn from the full split (``splits.examples_at_budget``)."""

import pandas as pd
import pytest
import yaml
from tests.conftest import PROJECT_ROOT
from tests.corpora import corpus

from text_distill.distill.data.corpus import CorpusError
from text_distill.distill.data.splits import examples_at_budget, split_examples
from text_distill.distill.evaluation.learning_curve import budget_run, curve, curve_figure, curve_table
from text_distill.distill.evaluation.scores import against_best_baseline

INGEST = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "parameters_ingest.yml").read_text())["ingest"]


def test_a_budget_drawn_from_the_full_split_is_the_split_ingest_makes_at_that_budget():
    examples = pd.concat([corpus(400), corpus(4, labels=("",)).assign(example_id=range(2001, 2005))])
    full, _, report = split_examples(examples, INGEST)
    at_budget, budget_report = examples_at_budget(full, report, INGEST, 60)
    direct, _, direct_report = split_examples(examples, {**INGEST, "label_budget": 60})
    assert at_budget.equals(direct) and budget_report == direct_report
    with pytest.raises(
        CorpusError, match="rerun `kedro run --pipeline ingest` with ingest.label_budget: null"
    ):
        examples_at_budget(direct, direct_report, INGEST, 30)


def summary(labels: int, budget: int | None, student: float, alone: float, char_svm: float) -> dict:
    def row(accuracy: float) -> dict:
        return {"accuracy": accuracy, "macro_f1": accuracy, "fidelity": 1.0, "kl_to_teacher": 0.0, "ece": 0.0,
                "texts_per_second": 100.0}  # fmt: skip

    def seeded(accuracy: float, std: float) -> dict:
        return {
            key: {"mean": accuracy, "std": std}
            for key in ("accuracy", "macro_f1", "fidelity", "kl_to_teacher", "ece")
        }

    made = {
        "teacher": row(0.9),
        "student": row(student),
        "student_alone": row(alone),
        "baseline_tfidf_char_svm": row(char_svm),
        "across_seeds": {"student": seeded(student, 0.001), "student_alone": seeded(alone, 0.01)},
        "labels": {
            "label_budget": budget,
            "labelled": {"train": labels, "dev": 50, "test": 100},
            "unlabelled": {
                "train_over_budget": 9000 - labels,
                "dev_over_budget": 0,
                "corpus_without_label": 0,
            },
        },
        "against_best_baseline": {},  # below, as evaluation makes it
        "student_speedup": 100.0,
        "rows": {"rows_in": 1, "kept": 1, "quarantined": 0, "duplicates_collapsed": 0},
    }
    made["against_best_baseline"] = against_best_baseline(made, ["baseline_tfidf_char_svm"])
    return made


def test_the_curve_has_a_point_per_budget_and_the_full_label_point_in_order_of_labels():
    runs = [budget_run(budget, summary(budget, budget, s, a, c)) for budget, s, a, c in
            ((1000, 0.80, 0.70, 0.75), (200, 0.60, 0.40, 0.55))]  # fmt: skip
    assert runs[0]["labels=1000"]["params"] == {
        "label_budget": 1000,
        "labelled_train_rows": 1000,
        "labelled_dev_rows": 50,
    }
    assert runs[0]["labels=1000"]["metrics"]["student_accuracy_mean"] == 0.80
    points = curve(summary(9000, None, 0.88, 0.87, 0.87), runs)
    assert list(points) == ["200", "1000", "9000"] and points["9000"]["labels"]["label_budget"] is None
    table = curve_table(points)
    assert table["labelled_train_rows"].tolist() == [200, 1000, 9000]
    first = table.iloc[0]
    assert first["student_vs_best_baseline_points"] == pytest.approx(5.0)
    assert first["student_vs_alone_points"] == pytest.approx(20.0)
    assert first["student_share_of_teacher"] == pytest.approx(0.6 / 0.9)
    axes = curve_figure(table).axes[0]
    assert axes.get_xscale() == "log"
    assert {text.get_text() for text in axes.get_legend().get_texts()} == {
        "teacher", "student", "student_alone", "tfidf_char_svm"
    }  # fmt: skip


def test_a_summary_without_label_counts_or_at_a_budget_gives_no_full_label_point():
    runs = [budget_run(100, summary(100, 100, 0.6, 0.5, 0.55))]
    old = summary(9000, None, 0.88, 0.87, 0.87)
    del old["labels"]
    assert list(curve(old, runs)) == ["100"]
    budgeted = summary(100, 100, 0.7, 0.5, 0.55)  # a distill run at a budget is no full-label point
    assert curve(budgeted, runs)["100"]["student"]["accuracy"] == 0.6
