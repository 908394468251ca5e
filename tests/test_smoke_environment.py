"""The `smoke` environment: the real packaged teacher on a 3,000-row slice of the corpus.

Two runs with the same parameters and seeds give the same split, the same teacher and the same student
metrics. Then every recipe preset runs end to end over that project through the CLI: the preset's file
layered over `smoke`, sliced for time (one seed per student, `tinybert` cut to 2 layers, the second
`multi_teacher` teacher fine-tuned on 500 rows), re-running only the nodes its parameters change and
reusing the smoke run's teacher and soft targets, as the recipes on the full corpus did
(docs/recipes.md).
"""

import json
import os
import pickle
import shutil
import subprocess
import sys

import mlflow
import pandas as pd
import pytest
import yaml

from tests.conftest import PROJECT_ROOT
from tests.test_distill_pipeline import latest, merged
from text_distill.distill.students import ARCHITECTURES
from text_distill.distill.students.transformer import TransformerClassifier

ENV = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1"}


def versions(project, path: str) -> list:
    """The versions the two smoke runs wrote (the preset runs add later ones)."""
    return sorted((project / "data" / path).glob("*/*"))[:2]


@pytest.fixture(scope="module")
def two_smoke_runs(tmp_path_factory):
    project = tmp_path_factory.mktemp("smoke-project")
    for env in ("base", "smoke"):
        shutil.copytree(PROJECT_ROOT / "conf" / env, project / "conf" / env)
    (project / "conf" / "local").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()
    command = [sys.executable, "-m", "kedro", "run", "--env", "smoke", "--pipeline", "distill"]
    for _ in range(2):
        result = subprocess.run(command, cwd=project, env=ENV, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr[-3000:]
    return project


def test_the_split_is_the_same(two_smoke_runs):
    first, second = (pd.read_parquet(p) for p in versions(two_smoke_runs, "03_primary/examples.parquet"))
    pd.testing.assert_frame_equal(first, second)
    counts = first["split"].value_counts()
    assert counts["test"] == 600 and counts["dev"] == 300 and counts["train"] > 2000


def test_the_teacher_and_student_metrics_are_the_same(two_smoke_runs):
    fingerprints = [p.read_text() for p in versions(two_smoke_runs, "06_models/teacher_fingerprint.json")]
    assert len(fingerprints) == 2 and fingerprints[0] == fingerprints[1]
    for name in ("student_scores", "student_alone_scores", "across_seeds_scores"):
        first, second = (p.read_text() for p in versions(two_smoke_runs, f"08_reporting/{name}.json"))
        assert first == second, name
    assert latest(two_smoke_runs, "08_reporting/student_scores.json")["test_rows"] == 600


def test_the_second_run_takes_every_logit_from_the_store(two_smoke_runs):
    first, second = (
        json.loads(p.read_text()) for p in versions(two_smoke_runs, "08_reporting/teacher_labelling.json")
    )
    assert first["teacher_forward_texts"] == first["transfer_rows"] - first["repeated_texts"] > 2900
    assert second["teacher_forward_texts"] == 0 and second["store_hits"] == second["transfer_rows"]


# Where each preset's run starts (it runs everything downstream): the nodes its parameters change.
FROM_NODES = {
    "hinton": "train_distilled_student",  # the KD objective only: the baseline is the smoke run's
    "tang2019": "train_distilled_student",
    "multi_teacher": "fine_tune_teacher_ensemble",  # a second teacher, then combined soft targets
    # last (they replace the baseline the others are evaluated against): another unit, another model
    "char_bilstm": "train_distilled_student,train_student_alone",
    "tinybert": "train_distilled_student,train_student_alone",
}
# over `smoke` and the preset, to keep the suite short
SLICE = {"student": {"replica_seeds": []}}
PRESET_SLICE = {
    "tinybert": {"student": {"transformer": {"num_layers": 2}}},
    "multi_teacher": {"teacher": {"train_rows": 500}},  # the second teacher (the main one: smoke's 2,000)
}
STUDENT_MODELS = {**ARCHITECTURES, "transformer": TransformerClassifier}


def latest_model(project, name: str):
    path = sorted((project / "data/06_models" / f"{name}.pkl").glob("*/*"))[-1]
    with open(path, "rb") as handle:
        return pickle.load(handle)


@pytest.mark.parametrize("preset", list(FROM_NODES))
def test_recipe_preset_runs_end_to_end_on_smoke(two_smoke_runs, preset):
    """The preset over `smoke` through the real CLI: the run finishes in MLflow with the preset's
    parameters, the student has the preset's architecture and objective, and it learnt something."""
    project = two_smoke_runs
    smoke = yaml.safe_load((PROJECT_ROOT / "conf" / "smoke" / "parameters.yml").read_text())
    recipe = yaml.safe_load((PROJECT_ROOT / "conf" / preset / "parameters.yml").read_text())
    overrides = merged(merged(recipe, SLICE), PRESET_SLICE.get(preset, {}))
    (project / "conf" / f"smoke_{preset}").mkdir()
    (project / "conf" / f"smoke_{preset}" / "parameters.yml").write_text(
        yaml.safe_dump(merged(smoke, overrides), allow_unicode=True)
    )
    command = [sys.executable, "-m", "kedro", "run", "--env", f"smoke_{preset}", "--pipeline", "distill"]
    command += ["--from-nodes", FROM_NODES[preset]]
    result = subprocess.run(command, cwd=project, env=ENV, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("text_distill")
    (run,) = client.search_runs([experiment.experiment_id], max_results=1, order_by=["start_time DESC"])
    assert run.info.status == "FINISHED"
    # kedro-mlflow logs nested parameters flattened: `student.transformer.num_layers`
    for key, value in pd.json_normalize(overrides, sep=".").to_dict("records")[0].items():
        assert run.data.params[key] == str(value), key
    summary = json.loads((project / "data/08_reporting/distill_summary.json").read_text())
    assert run.data.metrics["student_accuracy"] == summary["student"]["accuracy"]
    assert summary["across_seeds"]["student"]["seeds"] == [42]
    chance = 1 / len(latest(project, "03_primary/label_names.json"))
    assert summary["student"]["accuracy"] > 3 * chance

    base = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "parameters_student.yml").read_text())
    config = merged(base, overrides)["student"]
    student, alone = latest_model(project, "student"), latest_model(project, "student_alone")
    rebuilt = (student, alone) if "train_student_alone" in FROM_NODES[preset] else (student,)
    for model in rebuilt:  # a re-run baseline is the same student on hard labels alone
        assert type(model.model) is STUDENT_MODELS[config["architecture"]]
        units = {"transformer": "subword", "ngram": "ngram"}
        assert model.unit == units.get(config["architecture"], config["unit"])
    # each epoch's mean loss is the preset's mix of its parts (constant schedules)
    layers = config["transformer"]
    for epoch in latest(project, "08_reporting/student_training_log.json")["history"]:
        expected = config["alpha"] * epoch["train_hard"] + (1 - config["alpha"]) * epoch["train_kd"]
        expected += layers["hidden_weight"] * epoch.get("train_hidden", 0.0)
        expected += layers["attention_weight"] * epoch.get("train_attention", 0.0)
        assert epoch["train_loss"] == pytest.approx(expected, rel=1e-4)

    if preset == "tinybert":
        for model in (student, alone):
            assert model.model.encoder.config.num_hidden_layers == 2
        distilled, baseline = (
            latest(project, f"08_reporting/{name}_training_log.json")["history"][0]
            for name in ("student", "student_alone")
        )
        assert {"train_kd", "train_hidden", "train_attention"} <= set(distilled)
        assert "train_hidden" not in baseline  # the baseline has no teacher to match
        assert summary["student"]["params"] < summary["teacher"]["params"] / 4
    if preset == "multi_teacher":
        # the two transformers and the default's heterogeneous member, the character n-gram SVM
        assert list(summary["teacher_members"]) == ["seed_42", "seed_7", "tfidf_char_svm"]
        for name, member in summary["teacher_members"].items():
            assert run.data.metrics[f"teacher_{name}_accuracy"] == member["accuracy"] > chance
        report = (project / "data/08_reporting/distill_report.md").read_text()
        assert "| seed_7 |" in report
        ensemble_log = latest(project, "08_reporting/teacher_ensemble_training_log.json")
        assert ensemble_log["seed_7"]["train_rows"] == overrides["teacher"]["train_rows"]
