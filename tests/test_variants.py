"""The variants of the graph, seeds of students and teachers and the teacher's n-gram members: read
from variants.yml when the pipelines are registered, each a namespaced pipeline of its own (nodes
``<stage>.seed_<n>.<node>``, ``teacher.<member>.fit_ngram_teacher``; datasets ``<model>_seed_<n>``,
``ngram_teacher_<member>`` from the catalog's factories) that runs alone and never reads a test row."""

import re
import shutil

import pytest
import yaml
from kedro.io import DataCatalog

from tests.conftest import PROJECT_ROOT
from text_distill.config_loader import RecipeConfigLoader
from text_distill.datasets.mlflow_runs import MlflowNestedRunsDataset
from text_distill.datasets.student_dir import StudentDirectoryDataset
from text_distill.distill.training.recipe import RecipeError
from text_distill.pipeline_registry import register_pipelines
from text_distill.settings import CONFIG_LOADER_ARGS
from text_distill.variants import Variants, read_variants, registered_variants

# the nodes that combine the teachers' members (every variant teacher is an input of each)
COMBINING = {
    "teacher.choose_teacher_weights",
    "teacher.fingerprint_teacher",
    "soft_targets.fill_soft_target_store",
    "evaluate.label_test_rows",
}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """An empty Kedro project around the working directory, with the repository's conf/base."""
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(PROJECT_ROOT / "conf" / "base", tmp_path / "conf" / "base")
    (tmp_path / "conf" / "local").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(project, env: str, text: str) -> None:
    (project / "conf" / env / "variants.yml").write_text(text)


def test_the_repository_trains_each_student_at_three_seeds_and_one_transformer_teacher():
    assert read_variants(PROJECT_ROOT / "conf") == Variants(
        student_seeds=(43, 44),
        teacher_seeds=(),
        ngram_members=("tfidf_char_svm", "tfidf_word_svm"),
        sweep_temperatures=(1.0, 2.0, 4.0, 8.0, 16.0, 20.0),
        label_budgets=(1000, 2000, 5000),
    )


def test_local_overrides_base(project):
    write(project, "local", "student_seeds: []\n")
    assert registered_variants().student_seeds == ()
    write(project, "local", "student_seeds: [7]\n")
    assert registered_variants(project).student_seeds == (7,)


def test_outside_a_project_there_are_no_variants(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert registered_variants() == Variants(
        student_seeds=(), teacher_seeds=(), ngram_members=(), sweep_temperatures=(), label_budgets=()
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("student_seeds: [43, 43]\n", "variants.student_seeds must be distinct, got [43, 43]"),
        ("label_budgets: [1000, 1000]\n", "variants.label_budgets must be distinct, got [1000, 1000]"),
        ("label_budgets: [0]\n", "variants.label_budgets must be train rows >= 1, got [0]"),
        ("teacher_seeds: [7, 7]\n", "variants.teacher_seeds must be distinct, got [7, 7]"),
        ("student_seeds: [4.5]\n", "variants.student_seeds[0] must be an integer"),
        ("student_seeds: 43\n", "variants.student_seeds must be a list"),
        ("student_sedes: [43]\n", "variants.student_sedes is not a recipe key (did you mean student_seeds?)"),
        (
            "ngram_members: [tfidf_char_lr]\n",
            "variants.ngram_members ['tfidf_char_lr'] are not baselines; choose from "
            "['tfidf_char_svm', 'tfidf_word_svm']",
        ),
        (
            "ngram_members: [tfidf_char_svm, tfidf_char_svm]\n",
            "variants.ngram_members must be distinct",
        ),
        ("sweep_temperatures: [4, 4.0]\n", "variants.sweep_temperatures must be distinct, got [4.0, 4.0]"),
        ("sweep_temperatures: [0, 4]\n", "variants.sweep_temperatures must be above 0, got [0.0, 4.0]"),
        ("sweep_temperatures: [hot]\n", "variants.sweep_temperatures[0] must be a number"),
        (
            "sweep_temperatures: [2, 2.0000001]\n",
            "variants.sweep_temperatures must differ in 6 digits, got [2.0, 2.0000001]",
        ),
    ],
)
def test_a_bad_variants_file_is_one_line_naming_the_key(project, text, message):
    write(project, "local", text)
    with pytest.raises(RecipeError, match=re.escape(message)):
        registered_variants()


def test_each_seed_is_a_namespaced_pipeline_that_runs_alone(project):
    write(project, "local", "student_seeds: [3, 4]\n")
    pipelines = register_pipelines()
    distill = pipelines["distill"]
    seed_3 = distill.only_nodes_with_namespaces(["student.seed_3"])  # `kedro run --namespaces ...`
    assert {node.name for node in seed_3.nodes} == {
        "student.seed_3.train_distilled_student",
        "student.seed_3.train_student_alone",
    }
    assert seed_3.all_outputs() == {
        "student_seed_3",
        "student_seed_3_training_log",
        "student_alone_seed_3",
        "student_alone_seed_3_training_log",
    }
    # the variant trains on what the kept student trains on: no test row
    kept = next(node for node in distill.nodes if node.name == "student.train_distilled_student")
    variant = next(node for node in seed_3.nodes if node.name.endswith("train_distilled_student"))
    assert variant.inputs == kept.inputs and "test_examples" not in variant.inputs
    scoring = distill.only_nodes_with_namespaces(["evaluate.seed_4"])
    assert {node.name for node in scoring.nodes} == {
        "evaluate.seed_4.score_student",
        "evaluate.seed_4.score_student_alone",
    }
    across = next(node for node in distill.nodes if node.name == "evaluate.score_across_seeds")
    assert {"student_seed_3_scores", "student_alone_seed_4_training_log", "student_scores"} <= set(
        across.inputs
    )
    # no variants: the kept students alone, and the spread over one seed
    write(project, "local", "student_seeds: []\n")
    assert not [node for node in register_pipelines()["distill"].nodes if ".seed_" in node.name]


def test_a_teacher_seed_is_a_member_of_every_node_that_combines_the_teachers(project):
    write(project, "local", "teacher_seeds: [7]\n")
    distill = register_pipelines()["distill"]
    seed_7 = distill.only_nodes_with_namespaces(["teacher.seed_7"])
    assert [node.name for node in seed_7.nodes] == ["teacher.seed_7.fine_tune_teacher"]
    assert seed_7.all_outputs() == {"teacher_seed_7", "teacher_seed_7_training_log"}
    main = next(node for node in distill.nodes if node.name == "teacher.fine_tune_teacher")
    assert seed_7.nodes[0].inputs == main.inputs  # fine-tuned like the main teacher: train and dev
    combining = {node.name for node in distill.nodes if "teacher_seed_7" in node.inputs}
    assert combining == COMBINING


def test_an_ngram_member_is_a_namespaced_pipeline_and_a_member_of_the_combining_nodes(project):
    write(project, "local", "ngram_members: [tfidf_word_svm]\n")
    distill = register_pipelines()["distill"]
    member = distill.only_nodes_with_namespaces(["teacher.tfidf_word_svm"])
    assert [node.name for node in member.nodes] == ["teacher.tfidf_word_svm.fit_ngram_teacher"]
    assert member.nodes[0].inputs == ["train_dev_examples", "baseline_tfidf_word_svm", "params:teacher"]
    assert member.all_outputs() == {"ngram_teacher_tfidf_word_svm", "ngram_teacher_tfidf_word_svm_log"}
    combining = {node.name for node in distill.nodes if "ngram_teacher_tfidf_word_svm" in node.inputs}
    assert combining == COMBINING
    teachers = distill.only_nodes_with_namespaces(["teacher"])
    assert "baseline_tfidf_char_svm" not in teachers.inputs()  # a baseline not named is not a teacher
    # none: the transformers alone, and no node reads a member
    write(project, "local", "ngram_members: []\n")
    distill = register_pipelines()["distill"]
    assert not [node for node in distill.nodes if node.name.endswith("fit_ngram_teacher")]
    assert not {name for node in distill.nodes for name in node.inputs if name.startswith("ngram_teacher")}


def test_each_sweep_temperature_is_a_namespaced_pipeline_whose_run_the_table_reads(project):
    write(project, "local", "sweep_temperatures: [2.5, 4]\n")
    sweep = register_pipelines()["temperature_sweep"]
    at_4 = sweep.only_nodes_with_namespaces(["temperature_sweep.T_4"])  # `kedro run --namespaces ...`
    assert [node.name for node in at_4.nodes] == ["temperature_sweep.T_4.train_at_temperature"]
    assert at_4.all_outputs() == {"temperature_sweep_T_4"}
    assert at_4.nodes[0].func.keywords == {"temperature": 4.0}
    # trained on train and dev, scored on the test rows for the table only
    assert {"train_dev_examples", "test_examples", "params:temperature_sweep"} <= at_4.inputs()
    assert "examples" not in at_4.inputs()
    table = next(node for node in sweep.nodes if node.name == "temperature_sweep.tabulate_sweep")
    assert table.inputs == [
        "teacher_scores",
        "student_alone_scores",
        "temperature_sweep_T_2_5",
        "temperature_sweep_T_4",
    ]
    config = RecipeConfigLoader(conf_source=str(project / "conf"), **CONFIG_LOADER_ARGS)["catalog"]
    catalog = DataCatalog.from_config(config)
    runs = [catalog.get(name) for name in ("temperature_sweep_T_2_5", "temperature_sweep_T_4")]
    assert [run._filepath.name for run in runs] == ["T_2_5.json", "T_4.json"]  # a file each
    assert isinstance(runs[0], MlflowNestedRunsDataset)
    write(project, "local", "sweep_temperatures: []\n")  # no sweep: no nodes
    assert not register_pipelines()["temperature_sweep"].nodes


def test_every_seed_dataset_has_a_catalog_factory(project):
    config = RecipeConfigLoader(conf_source=str(project / "conf"), **CONFIG_LOADER_ARGS)["catalog"]
    catalog = DataCatalog.from_config(config)
    write(project, "local", "student_seeds: [43]\nteacher_seeds: [43]\n")
    pipeline = register_pipelines()["distill"]
    seed_datasets = {name for node in pipeline.nodes if ".seed_" in node.name for name in node.outputs}
    assert len(seed_datasets) == 8  # two students, a log each, two scores; a teacher and its log
    for name in seed_datasets:
        dataset = catalog.get(name)
        assert dataset is not None, name
        assert "43" in str(dataset._filepath), name  # one file per seed
    assert isinstance(catalog.get("student_seed_43"), StudentDirectoryDataset)
    assert catalog.get("student_seed_43_scores")._filepath.name == "student_43_scores.json"
    assert catalog.get("student_alone_seed_43")._filepath.parent.name == "student_alone_seeds"
    assert catalog.get("teacher_seed_43")._filepath.parent.name == "teacher_seeds"
    members = {
        name for node in pipeline.nodes if node.name.endswith("fit_ngram_teacher") for name in node.outputs
    }
    assert len(members) == 4  # both baselines of the repository's variants.yml, a log each
    for name in members:
        assert catalog.get(name) is not None, name
    assert catalog.get("ngram_teacher_tfidf_char_svm")._filepath.name == "tfidf_char_svm.pkl"
    assert catalog.get("ngram_teacher_tfidf_char_svm_log")._filepath.name == "tfidf_char_svm_log.json"


def test_variants_yml_documents_its_keys():
    documented = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "variants.yml").read_text())
    assert set(documented) == {field for field in Variants.__dataclass_fields__}
