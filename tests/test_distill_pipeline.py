"""The whole ``distill`` pipeline on a tiny slice of the real corpus with a tiny random-init BERT,
run through a Kedro session in a copy of the project, tracked in its own MLflow store (the
``distill_run`` fixture of conftest.py)."""

import json

import mlflow
import pytest
import yaml
from kedro.io import Version
from kedro_datasets.json import JSONDataset

from tests.conftest import run_pipeline, write_variants
from text_distill.distill.data.soft_targets import SoftTargetMismatchError
from text_distill.distill.training.recipe import (
    merge as merged,  # extra over base, as Kedro merges an environment
)
from text_distill.pipeline_registry import register_pipelines

pytestmark = pytest.mark.integration

MODELS = ("teacher", "student", "student_alone")


def test_summary_has_every_model_metric_and_the_row_accounting(distill_run):
    summary = json.loads((distill_run / "data/08_reporting/distill_summary.json").read_text())
    for name in MODELS:
        assert set(summary[name]) == {
            "accuracy",
            "macro_f1",
            "fidelity",
            "kl_to_teacher",
            "ece",
            "params",
            "size_bytes",
            "texts_per_second",
            "model_texts_per_second",
            "latency_p50_ms",
            "latency_p95_ms",
        }
        assert 0.0 <= summary[name]["accuracy"] <= 1.0 and summary[name]["texts_per_second"] > 0
        assert summary[name]["texts_per_second"] < summary[name]["model_texts_per_second"]
    assert summary["teacher"]["fidelity"] == 1.0
    for name in MODELS[1:]:
        seeded = summary["across_seeds"][name]
        assert seeded["seeds"] == [42, 43, 44] and len(seeded["accuracy"]["values"]) == 3
        assert seeded["accuracy"]["values"][0] == summary[name]["accuracy"]
    rows = summary["rows"]
    assert rows["rows_in"] == 100_000
    assert rows["rows_in"] == rows["kept"] + rows["quarantined"] + rows["duplicates_collapsed"]
    assert len(summary["teacher_fingerprint"]) == 64
    report = (distill_run / "data/08_reporting/distill_report.md").read_text()
    assert "| student_alone |" in report and "Per class: teacher" in report


def test_every_artifact_is_versioned(distill_run):
    for name in ("raw_corpus.parquet", "examples.parquet", "soft_targets.parquet", "student", "teacher"):
        matches = list((distill_run / "data").glob(f"*/{name}/*/{name}"))
        assert len(matches) == 1, name


def test_mlflow_run_has_params_metrics_reports_and_models(distill_run):
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{distill_run / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("text_distill")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.data.params["student.objective.kd_loss"] == "mse"
    for name in MODELS:
        assert f"{name}_accuracy" in run.data.metrics and f"{name}_texts_per_second" in run.data.metrics
    assert "student_accuracy_std" in run.data.metrics
    logged = {
        item.path
        for folder in ("models", "reports", "plots")
        for item in client.list_artifacts(run.info.run_id, folder)
    }
    # the students, and the teacher by its fingerprint: the 470 MB teacher stays in the catalog
    assert {"models/teacher_fingerprint.json", "models/student", "models/student_alone"} <= logged
    assert "models/teacher" not in logged
    for name in ("tfidf_char_svm", "tfidf_word_svm"):  # the reference baselines: rows like any model
        assert f"baseline_{name}_accuracy" in run.data.metrics
    assert "student_margin_over_best_baseline" in run.data.metrics
    assert {"reports/distill_summary.json", "reports/distill_report.md"} <= logged
    plots = ("confusion_matrices", "reliability_diagram", "accuracy_against_throughput", "training_curves")
    assert {f"plots/{name}.png" for name in plots} <= logged


def test_student_stage_reads_the_cache_and_refuses_another_teachers(distill_run):
    # the teacher is an input only for a transformer student's intermediate matching
    assert {"soft_targets", "teacher"} <= register_pipelines()["student"].inputs()
    students = versions(distill_run, "06_models/student")
    run_pipeline(distill_run, "student")
    assert len(versions(distill_run, "07_model_output/soft_targets.parquet")) == 1
    assert len(versions(distill_run, "06_models/student")) == len(students) + 1

    fingerprint = JSONDataset(
        filepath=str(distill_run / "data/06_models/teacher_fingerprint.json"), version=Version(None, None)
    )
    real = fingerprint.load()
    fingerprint.save({**real, "fingerprint": "0" * 64})  # a re-trained teacher, say
    try:
        with pytest.raises(SoftTargetMismatchError, match="rerun `kedro run --pipeline soft_targets`"):
            run_pipeline(distill_run, "student")
    finally:
        fingerprint.save(real)


def versions(project, path: str) -> list[str]:
    """The saved versions of a versioned dataset at ``data/<path>``."""
    return sorted(p.name for p in (project / "data" / path).iterdir())


def latest(project, path: str) -> dict:
    """The newest version of a versioned JSON dataset."""
    return json.loads(sorted((project / "data" / path).glob("*/*"))[-1].read_text())


def test_a_seed_variant_is_cached_and_reruns_alone(distill_run):
    models = ("06_models/student_seeds/43", "06_models/student_seeds/44", "06_models/student")
    before = {
        path: versions(distill_run, path) for path in (*models, "08_reporting/seeds/student_43_scores.json")
    }
    assert all(before.values())  # the distill run trained and scored every seed
    run_pipeline(
        distill_run, "student", "evaluate", namespaces=["student.seed_43", "evaluate.seed_43"]
    )  # `kedro run --pipelines student,evaluate --namespaces student.seed_43,evaluate.seed_43`
    after = {path: versions(distill_run, path) for path in before}
    assert len(after["06_models/student_seeds/43"]) == len(before["06_models/student_seeds/43"]) + 1
    assert (
        len(after["08_reporting/seeds/student_43_scores.json"])
        == len(before["08_reporting/seeds/student_43_scores.json"]) + 1
    )
    assert after["06_models/student_seeds/44"] == before["06_models/student_seeds/44"]
    assert after["06_models/student"] == before["06_models/student"]
    assert latest(distill_run, "08_reporting/seeds/student_43_training_log.json")["seed"] == 43
    summary = latest(distill_run, "08_reporting/across_seeds_scores.json")
    assert summary["student"]["seeds"] == [42, 43, 44]


def test_an_ngram_member_is_cached_and_refits_alone(distill_run):
    members = {
        member: f"06_models/ngram_teachers/{member}.pkl" for member in ("tfidf_char_svm", "tfidf_word_svm")
    }
    before = {member: versions(distill_run, path) for member, path in members.items()}
    assert all(before.values())  # the distill run cross-fitted both members of variants.yml
    run_pipeline(distill_run, "teacher", namespaces=["teacher.tfidf_word_svm"])
    after = {member: versions(distill_run, path) for member, path in members.items()}
    assert len(after["tfidf_word_svm"]) == len(before["tfidf_word_svm"]) + 1
    assert after["tfidf_char_svm"] == before["tfidf_char_svm"]
    assert latest(distill_run, "08_reporting/ngram_teachers/tfidf_word_svm_log.json")["logit_scale"] > 0


def test_temperature_sweep_logs_nested_runs_a_table_and_a_plot(distill_run):
    """Two temperatures of conf/local/variants.yml, a node each, in a Kedro session; then one of them
    again alone."""
    tiny = yaml.safe_load((distill_run / "conf" / "tiny" / "parameters.yml").read_text())
    (distill_run / "conf" / "tiny_sweep").mkdir(exist_ok=True)
    (distill_run / "conf" / "tiny_sweep" / "parameters.yml").write_text(
        yaml.safe_dump(merged(tiny, {"student": {"optimiser": {"epochs": 1}}}), allow_unicode=True)
    )
    variants = write_variants(distill_run, student_seeds=[], sweep_temperatures=[1, 4])
    try:
        run_pipeline(distill_run, "temperature_sweep", env="tiny_sweep")
        run_pipeline(distill_run, "temperature_sweep", env="tiny_sweep", namespaces=["temperature_sweep.T_4"])
    finally:
        variants.unlink()  # the shared project keeps its variants

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{distill_run / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("text_distill")
    sweep, rerun = client.search_runs(
        [experiment.experiment_id],
        "params.`temperature_sweep.engine` = 'local'",
        order_by=["attributes.start_time DESC"],
        max_results=2,
    )[::-1]
    children = client.search_runs(
        [experiment.experiment_id], f"tags.mlflow.parentRunId = '{sweep.info.run_id}'"
    )
    assert sorted(run.info.run_name for run in children) == ["T=1", "T=4"]
    for child in children:
        assert child.data.params["objective.kd_loss"] == "kl"
        assert float(child.data.params["objective.temperature"]) == child.data.metrics["temperature"]
        assert 0.0 <= child.data.metrics["test_accuracy"] <= 1.0
        assert len(client.get_metric_history(child.info.run_id, "train_loss")) == 1  # one epoch
    again = client.search_runs([experiment.experiment_id], f"tags.mlflow.parentRunId = '{rerun.info.run_id}'")
    assert [run.info.run_name for run in again] == ["T=4"]  # the one temperature, alone
    runs = distill_run / "data/08_reporting/temperature_sweep"
    assert sorted(path.name for path in runs.glob("*.json")) == ["T_1.json", "T_4.json"]
    table = sorted((distill_run / "data/08_reporting/temperature_sweep.csv").glob("*/*"))[-1].read_text()
    assert table.splitlines()[0] == "temperature,test_accuracy,test_macro_f1,dev_macro_f1"
    assert len(table.splitlines()) == 3
    logged = {item.path for item in client.list_artifacts(sweep.info.run_id, "plots")}
    assert logged == {"plots/temperature_sweep.png"}


def test_compare_renders_the_last_runs_from_the_mlflow_store(distill_run):
    for pipeline in ("evaluate", "compare"):  # a finished run with scores, then the comparison
        run_pipeline(distill_run, pipeline)
    table = (distill_run / "data/08_reporting/run_comparison.md").read_text()
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{distill_run / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("text_distill")
    distill_runs = [
        run
        for run in client.search_runs([experiment.experiment_id], max_results=200)
        if "student_accuracy" in run.data.metrics and run.info.status == "FINISHED"
    ]
    rows = [line for line in table.splitlines() if line.startswith("| 20")]
    assert len(rows) == min(10, len(distill_runs)) >= 1
    newest = max(distill_runs, key=lambda run: run.info.start_time)
    assert newest.info.run_id[:8] in rows[0]
    assert f"{newest.data.metrics['student_accuracy']:.4f}" in rows[0]


def test_augmented_transfer_set_is_labelled_once_and_a_rerun_runs_no_teacher_pass(distill_run):
    """Augmentation and unlabelled texts through the real CLI; then the whole ``distill`` again with
    the same teacher and data: every logit comes from the store."""
    tiny = yaml.safe_load((distill_run / "conf" / "tiny" / "parameters.yml").read_text())
    augment = {"augment": {"n_iter": 2, "unlabelled": {"max_rows": 50}}}
    (distill_run / "conf" / "tiny_augmented").mkdir(exist_ok=True)
    (distill_run / "conf" / "tiny_augmented" / "parameters.yml").write_text(
        yaml.safe_dump(merged(tiny, augment), allow_unicode=True)
    )
    reports = []
    variants = write_variants(distill_run, student_seeds=[])  # one seed per student, for time
    try:
        for _ in range(2):
            run_pipeline(distill_run, "distill", env="tiny_augmented")
            reports.append(latest(distill_run, "08_reporting/teacher_labelling.json"))
    finally:
        variants.unlink()  # the shared project keeps its seeds
    first, second = reports
    assert first["rows_by_source"]["unlabelled"] == 50 and first["rows_by_source"]["augmented"] > 400
    # the labelled texts were scored by the first distill run of this project, by the same teacher
    assert first["store_hits"] >= first["rows_by_source"]["labelled"] - first["repeated_texts"]
    assert 0 < first["teacher_forward_texts"] <= first["rows_by_source"]["augmented"] + 50
    assert second["teacher_fingerprint"] == first["teacher_fingerprint"]
    assert second["teacher_forward_texts"] == second["teacher_forward_passes"] == 0
    assert second["store_hits"] + second["repeated_texts"] == second["transfer_rows"]
    log = latest(distill_run, "08_reporting/student_training_log.json")
    assert log["transfer_rows"] == first["rows_by_source"]["augmented"] + 50
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{distill_run / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("text_distill")
    (run,) = client.search_runs([experiment.experiment_id], max_results=1, order_by=["start_time DESC"])
    assert run.data.metrics["soft_targets_teacher_forward_texts"] == 0
    assert run.data.params["augment.n_iter"] == "2"


def test_label_curve_runs_the_chain_at_each_budget_and_a_rerun_scores_nothing(distill_run):
    """Two budgets of conf/local/variants.yml on the distill run's split: a nested run each, the curve
    with the full-label point, and a second run that finds every text in the soft-target store."""
    store = distill_run / "data/07_model_output/soft_target_store"
    variants = write_variants(distill_run, student_seeds=[], label_budgets=[60, 120])
    try:
        run_pipeline(distill_run, "label_curve")
        partitions = sorted(store.glob("*/*.parquet"))
        run_pipeline(distill_run, "label_curve")
    finally:
        variants.unlink()  # the shared project keeps its variants
    assert sorted(store.glob("*/*.parquet")) == partitions  # the rerun scored no text
    summary = json.loads((distill_run / "data/08_reporting/distill_summary.json").read_text())
    full = summary["labels"]["labelled"]["train"]
    points = latest(distill_run, "08_reporting/label_curve.json")
    assert list(points) == ["60", "120", str(full)]
    for labels, point in points.items():
        assert point["labels"]["labelled"]["train"] == int(labels)
        assert point["labels"]["labelled"]["test"] == 150  # every budget scored on the same test rows
        assert {"teacher", "student", "student_alone", "baseline_tfidf_char_svm"} <= set(point)
    assert points["60"]["labels"]["unlabelled"]["train_over_budget"] == full - 60
    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{distill_run / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("text_distill")
    children = client.search_runs(
        [experiment.experiment_id],
        "attributes.run_name LIKE 'labels=%'",
        order_by=["attributes.start_time DESC"],
    )[:2]  # the rerun's
    assert sorted(run.info.run_name for run in children) == ["labels=120", "labels=60"]
    assert len({run.data.tags["mlflow.parentRunId"] for run in children}) == 1  # nested in the curve's run
    assert {run.data.params["labelled_train_rows"] for run in children} == {"60", "120"}
    table = sorted((distill_run / "data/08_reporting/label_curve.csv").glob("*/*"))[-1].read_text()
    assert table.splitlines()[0].startswith("labelled_train_rows,label_budget,labelled_dev_rows,teacher,")
    assert len(table.splitlines()) == 4
