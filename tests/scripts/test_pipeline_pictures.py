"""scripts/pipeline_pictures.py: the graph it draws is kedro viz's grouping of the pipeline, and it
copies the run plots of a full run only."""

import importlib.util
import json
import shutil
import sys

import pytest
from kedro.pipeline import Pipeline, node
from tests.conftest import PROJECT_ROOT

SPEC = importlib.util.spec_from_file_location(
    "pipeline_pictures", PROJECT_ROOT / "scripts" / "pipeline_pictures.py"
)
pictures = importlib.util.module_from_spec(SPEC)
sys.modules[SPEC.name] = pictures  # its dataclasses look their module up
SPEC.loader.exec_module(pictures)


def step(*args, **kwargs):
    return None


def toy_pipelines() -> dict[str, Pipeline]:
    """ingest -> teacher (two nodes, one in a variant namespace) -> student, with a dataset kept
    inside ingest, one ingest both reads and passes on, and a parameter."""
    return {
        "toy": Pipeline(
            [
                node(step, ["corpus", "params:ingest"], "raw", name="parse", namespace="ingest"),
                node(step, "raw", ["examples", "counts"], name="split", namespace="ingest"),
                node(step, ["examples", "counts"], "report", name="check", namespace="ingest"),
                node(step, "examples", "ngram", name="fit", namespace="teacher.ngram"),
                node(step, ["examples", "ngram"], "teacher", name="fine_tune", namespace="teacher"),
                node(step, ["teacher", "counts"], "student", name="train", namespace="student"),
            ]
        )
    }


def test_each_stage_is_one_box_and_only_what_passes_between_stages_is_drawn():
    graph = pictures.pipeline_graph(toy_pipelines(), "toy", None)
    assert graph.stages == {"ingest", "teacher", "student"} and not graph.nodes
    # raw and ngram stay inside their stage; the parameter is hidden
    assert set(graph.labels) == {
        "task:ingest", "task:teacher", "task:student",
        "data:corpus", "data:examples", "data:counts", "data:report", "data:teacher", "data:student",
    }  # fmt: skip
    # counts: written by ingest and read there too, drawn once, with no edge back into ingest
    assert ("data:counts", "task:ingest") not in graph.edges
    assert {("task:ingest", "data:counts"), ("data:counts", "task:student")} <= graph.edges
    figure = pictures.draw(graph, pictures.caption_of(graph))
    assert figure.get_size_inches()[0] > 1


def test_an_expanded_stage_shows_its_nodes_and_fades_what_other_stages_write():
    graph = pictures.pipeline_graph(toy_pipelines(), "toy", "teacher")
    assert graph.nodes == {"teacher.ngram.fit", "teacher.fine_tune"} and not graph.stages
    assert graph.labels["task:teacher.ngram.fit"] == "ngram.fit"
    assert graph.faded == {"data:examples"}
    source = graph.source("pipeline-teacher")
    assert source["datasets"] == ["examples", "ngram", "teacher"] and source["expanded"] == "teacher"


def project_with_run(tmp_path, label_budget, kept=99_970, versions=("2026-12-07T04.05.53.802Z",) * 4):
    (tmp_path / "conf" / "base").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "conf" / "base" / "catalog.yml", tmp_path / "conf" / "base")
    reporting = tmp_path / "data" / "08_reporting"
    for name, version in zip(
        ("accuracy_against_throughput", "confusion_matrices", "reliability_diagram", "training_curves"),
        versions,
        strict=True,
    ):
        for saved in ("2026-11-01T00.00.00.000Z", version):
            (reporting / f"{name}.png" / saved).mkdir(parents=True, exist_ok=True)
            (reporting / f"{name}.png" / saved / f"{name}.png").write_bytes(saved.encode())
    scores = {name: {"accuracy": 0.9} for name in ("teacher", "student", "student_alone")}
    summary = {**scores, "labels": {"label_budget": label_budget}, "rows": {"kept": kept}}
    (reporting / "distill_summary.json").write_text(json.dumps(summary))
    return tmp_path


def test_copies_the_newest_plots_of_a_full_run_with_their_source(tmp_path):
    root = project_with_run(tmp_path, label_budget=None)
    copied = pictures.copy_run_plots(root, tmp_path / "img")
    assert sorted(p.name for p in copied) == [
        "accuracy_against_throughput.png",
        "confusion_matrices.png",
        "reliability_diagram.png",
        "training_curves.png",
    ]
    assert (tmp_path / "img" / "training_curves.png").read_bytes() == b"2026-12-07T04.05.53.802Z"
    source = json.loads((tmp_path / "img" / "accuracy_against_throughput.json").read_text())
    assert source["datasets"] == ["accuracy_speed_plot"] and source["nodes"] == ["evaluate.plot_evaluation"]
    assert source["run"]["version"] == "2026-12-07T04.05.53.802Z" and source["run"]["label_budget"] is None


@pytest.mark.parametrize(
    ("budget", "kept", "says"),
    [(5000, 99_970, "label budget 5000"), (None, 2_970, "2,970 rows kept")],
)
def test_a_budget_or_slice_run_is_refused_unless_allowed(tmp_path, budget, kept, says):
    root = project_with_run(tmp_path, label_budget=budget, kept=kept)
    with pytest.raises(SystemExit, match=says):
        pictures.copy_run_plots(root, tmp_path / "img")
    assert not (tmp_path / "img").exists()
    assert len(pictures.copy_run_plots(root, tmp_path / "img", allow_partial=True)) == 4


def test_plots_of_different_runs_are_refused(tmp_path):
    versions = ("2026-12-07T04.05.53.802Z",) * 3 + ("2026-12-06T04.05.53.802Z",)
    root = project_with_run(tmp_path, label_budget=None, versions=versions)
    with pytest.raises(SystemExit, match="different runs"):
        pictures.copy_run_plots(root, tmp_path / "img")
