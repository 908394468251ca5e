"""notebooks/open_a_run.ipynb runs top to bottom on a finished run, through the catalog and MLflow."""

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.integration


def test_the_notebook_opens_the_last_run(distill_run, monkeypatch):
    notebook = nbformat.read(PROJECT_ROOT / "notebooks" / "open_a_run.ipynb", as_version=4)
    monkeypatch.setenv("KEDRO_ENV", "tiny")  # what `kedro jupyter --env tiny` sets
    NotebookClient(
        notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(distill_run)}}
    ).execute()
    outputs = {
        index: "".join(
            str(output.get("text", "")) + str(output.get("data", {}).get("text/plain", ""))
            for output in cell.outputs
        )
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code"
    }
    text = "\n".join(outputs.values())
    assert "baseline_tfidf_char_svm" in text and "student_alone" in text  # the summary table
    assert "student_wrong_teacher_right" in text  # the per-class errors
    assert "metrics.student_accuracy" in text  # the MLflow runs
    images = [
        output
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.outputs
        if "image/png" in output.get("data", {})
    ]
    assert len(images) == 4
