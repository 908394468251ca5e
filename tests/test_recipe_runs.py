"""Every recipe file of conf/base/recipes/ runs end to end with `--params recipe=<name>` over a scale
environment: on a copy of the tiny project of conftest.py (tiny BERT teacher, 600 rows), sliced for
time (one seed per student, `tinybert` cut to 1 layer), re-running only the nodes its parameters change
and reusing the tiny run's teacher and soft targets, as the recipes on the full corpus did
(docs/recipes.md). The run logs the recipe it trained as recipe.yml.
"""

import json
import shutil

import mlflow
import pandas as pd
import pytest
import yaml

from tests.conftest import PROJECT_ROOT, run_pipeline, write_variants
from tests.test_distill_pipeline import latest, merged
from text_distill.distill.models.student import load_student
from text_distill.distill.students import STUDENT_KINDS

pytestmark = pytest.mark.integration

# Where each recipe's run starts (it runs everything downstream): the recipe node, then the nodes its
# parameters change.
FROM_NODES = {
    "bilstm": ["student.train_distilled_student", "student.train_student_alone"],
    "hinton": ["student.train_distilled_student", "student.train_student_alone"],
    "tang2019": ["student.train_distilled_student", "student.train_student_alone"],
    "char_bilstm": ["student.train_distilled_student", "student.train_student_alone"],
    "augmented": ["augment.build_transfer_set", "student.train_student_alone"],
    "tinybert": ["student.train_distilled_student", "student.train_student_alone"],
    "in_domain_news": ["augment.build_transfer_set", "student.train_student_alone"],
}
# the stages a recipe changes and what scores it (export and the served model are the tiny run's)
STAGES = ("teacher", "augment", "soft_targets", "student", "evaluate")
RECIPE_SLICE = {  # over the tiny environment
    "tinybert": {"student": {"model": {"transformer": {"num_layers": 1}}}},
    "augmented": {"augment": {"n_iter": 1, "unlabelled": {"max_rows": 20}}},
}
# runtime params over the recipe itself, where its own values would make the slice slow: 20 texts of
# each real news package (installed by `make install`), not all ~154k
RECIPE_RUNTIME = {"in_domain_news": {"augment": {"unlabelled": {"news": {"inews": 20, "peoples_daily": 20}}}}}
STUDENT_MODELS = {kind.name: kind.network_class() for kind in STUDENT_KINDS.values()}


def test_every_recipe_file_has_a_run_here():
    assert sorted(FROM_NODES) == sorted(p.stem for p in (PROJECT_ROOT / "conf/base/recipes").glob("*.yml"))


@pytest.fixture(scope="module")
def project(distill_run, tmp_path_factory):
    copy = tmp_path_factory.mktemp("recipes") / "project"
    shutil.copytree(distill_run, copy)  # the shared run stays as it is
    write_variants(copy, student_seeds=[])  # one seed per student
    return copy


def latest_model_dir(project, name: str):
    return sorted((project / "data/06_models" / name).glob("*/*"))[-1]


def latest_model(project, name: str):
    return load_student(latest_model_dir(project, name))


@pytest.mark.parametrize("name", list(FROM_NODES))
def test_recipe_runs_end_to_end(project, name):
    tiny = yaml.safe_load((project / "conf" / "tiny" / "parameters.yml").read_text())
    scale = RECIPE_SLICE.get(name, {})
    env = f"recipe_{name}"  # over tiny, sliced (a folder name no other test uses)
    (project / "conf" / env).mkdir()
    (project / "conf" / env / "parameters.yml").write_text(
        yaml.safe_dump(merged(tiny, scale), allow_unicode=True)
    )
    # an absolute tracking URI: MLflow caches its store by URI, and `sqlite:///mlflow.db` in this
    # process already means the shared tiny project's database
    tracking = {"server": {"mlflow_tracking_uri": f"sqlite:///{project / 'mlflow.db'}"}}
    (project / "conf" / env / "mlflow.yml").write_text(yaml.safe_dump(tracking))
    recipe = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "recipes" / f"{name}.yml").read_text())
    run_pipeline(
        project,
        *STAGES,
        env=env,
        runtime_params={"recipe": name, **RECIPE_RUNTIME.get(name, {})},
        from_nodes=["student.resolve_student_recipe", *FROM_NODES[name]],
    )

    client = mlflow.MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("text_distill")
    (run,) = client.search_runs([experiment.experiment_id], max_results=1, order_by=["start_time DESC"])
    assert run.info.status == "FINISHED"
    base = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "parameters_student.yml").read_text())
    config = merged(merged(base, merged(tiny, scale)), recipe)["student"]
    with open(client.download_artifacts(run.info.run_id, "recipe/recipe.yml")) as handle:
        ran = yaml.safe_load(handle)  # the whole recipe as it ran, and the seeds it ran at
    assert ran == {"recipe": name, "student": config, "variants": {"student_seeds": []}}
    # kedro-mlflow logs nested parameters flattened: `student.objective.kd_loss`
    ran_params = merged(recipe, RECIPE_RUNTIME.get(name, {}))
    for key, value in pd.json_normalize(ran_params, sep=".").to_dict("records")[0].items():
        assert run.data.params[key] == str(value), key
    summary = json.loads((project / "data/08_reporting/distill_summary.json").read_text())
    assert run.data.metrics["student_accuracy"] == summary["student"]["accuracy"]
    assert summary["across_seeds"]["student"]["seeds"] == [42]

    model_spec, objective = config["model"], config["objective"]
    for model in (latest_model(project, "student"), latest_model(project, "student_alone")):
        assert type(model.model) is STUDENT_MODELS[model_spec["architecture"]]
        units = {"transformer": "subword", "ngram": "ngram"}
        assert model.unit == units.get(model_spec["architecture"], model_spec["unit"])
    # each epoch's mean loss is the recipe's mix of its parts (constant schedules)
    layers = model_spec["transformer"]
    for epoch in latest(project, "08_reporting/student_training_log.json")["history"]:
        expected = objective["alpha"] * epoch["train_hard"] + (1 - objective["alpha"]) * epoch["train_kd"]
        expected += layers["hidden_weight"] * epoch.get("train_hidden", 0.0)
        expected += layers["attention_weight"] * epoch.get("train_attention", 0.0)
        assert epoch["train_loss"] == pytest.approx(expected, rel=1e-4)

    if name == "tinybert":
        distilled, baseline = (
            latest(project, f"08_reporting/{each}_training_log.json")["history"][0]
            for each in ("student", "student_alone")
        )
        assert {"train_kd", "train_hidden", "train_attention"} <= set(distilled)
        assert "train_hidden" not in baseline  # the baseline has no teacher to match
    if name == "augmented":
        log = latest(project, "08_reporting/student_training_log.json")
        assert log["transfer_rows"] > 0
    if name == "in_domain_news":
        news = latest(project, "08_reporting/transfer_set_report.json")["news"]
        assert news["inews"]["kept"] == news["peoples_daily"]["kept"] == 20
        assert news["inews"]["texts"] > 100_000  # the real package, read whole, capped after
        log = latest(project, "08_reporting/student_training_log.json")
        assert log["transfer_rows"] >= 40


def test_a_teacher_seed_variant_joins_the_teachers(distill_run, tmp_path):
    """Multi-teacher (the `multi_teacher` recipe before teacher seeds became variants): `teacher_seeds:
    [7]` in conf/local/variants.yml adds a second e5 (here tiny BERT) fine-tuned alike, whose logits
    join the soft targets; the run starts at its own node."""
    project = tmp_path / "project"
    shutil.copytree(distill_run, project)  # the shared run stays as it is
    write_variants(project, student_seeds=[], teacher_seeds=[7])
    run_pipeline(
        project, *STAGES, from_nodes=["teacher.seed_7.fine_tune_teacher", "student.train_student_alone"]
    )
    assert latest_model_dir(project, "teacher_seeds/7").name == "7"  # its own versioned directory
    summary = json.loads((project / "data/08_reporting/distill_summary.json").read_text())
    # the two transformers and the default's heterogeneous members, the n-gram SVMs
    assert list(summary["teacher_members"]) == ["seed_42", "seed_7", "tfidf_char_svm", "tfidf_word_svm"]
    assert "| seed_7 |" in (project / "data/08_reporting/distill_report.md").read_text()
    assert latest(project, "08_reporting/seeds/teacher_7_training_log.json")["train_rows"] > 0
