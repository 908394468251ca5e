"""What sweeps and searches try and how their trials are summarised (``distill.tuning.studies``)."""

import pandas as pd
import pytest

from text_distill.distill.tuning.studies import (
    fixed_values,
    search_space,
    summarise_trials,
    sweep_figure,
    sweep_table,
    temperature_config,
    temperature_run_name,
)


def test_a_temperature_is_one_configuration_over_the_overrides_and_one_named_run():
    params = {"overrides": {"objective": {"kd_loss": "kl"}}}
    assert temperature_config(params, 2.5) == {
        "student.objective.kd_loss": "kl",
        "student.objective.temperature": 2.5,
    }
    assert temperature_config({}, 4) == {"student.objective.temperature": 4.0}
    assert [temperature_run_name(t) for t in (1.0, 2.5, 20)] == ["T=1", "T=2.5", "T=20"]


def test_the_sweep_table_is_by_temperature_and_plots_against_it():
    runs = {
        name: {"metrics": {"temperature": t, "test_accuracy": a, "test_macro_f1": a, "dev_macro_f1": a}}
        for name, t, a in (("T=4", 4.0, 0.8), ("T=1", 1.0, 0.7))
    }
    table = sweep_table(runs)
    assert table["temperature"].tolist() == [1.0, 4.0] and table.index.tolist() == [0, 1]
    assert len(sweep_figure(table, 0.9, 0.6).axes[0].lines) == 4


def test_a_space_covers_student_keys_only_and_fixed_values_may_not_be_searched():
    space = {"student": {"objective": {"alpha": {"low": 0.1, "high": 0.9}}}}
    no_copies = pd.DataFrame({"source": [], "origin_id": []})
    assert search_space({"space": space}, no_copies) == {"student.objective.alpha": {"low": 0.1, "high": 0.9}}
    with pytest.raises(ValueError, match="covers student.\\* keys"):
        search_space({"space": {"teacher": {"epochs": {"low": 1, "high": 2}}}}, no_copies)
    with pytest.raises(ValueError, match="both searched and fixed"):
        fixed_values({"fixed": {"student": {"objective": {"alpha": 0.5}}}}, {"student.objective.alpha": {}})


def test_the_best_trial_on_dev_is_the_recipe_file_ties_to_the_earlier():
    def run(alpha, dev):
        return {
            "config": {"student.objective.alpha": alpha},
            "metrics": {"dev_macro_f1": dev, "test_accuracy": 0.5, "test_macro_f1": 0.5},
        }

    runs = {"trial_000": run(0.1, 0.7), "trial_001": run(0.9, 0.8), "trial_002": run(0.5, 0.8)}
    table, recipe = summarise_trials(runs, {"student.objective.kd_loss": "kl"})
    assert table["trial"].tolist() == ["trial_001", "trial_002", "trial_000"]
    assert table["best"].tolist() == [True, False, False]
    assert recipe == {"student": {"objective": {"alpha": 0.9, "kd_loss": "kl"}}}
