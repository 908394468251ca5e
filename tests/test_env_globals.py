"""A run's globals are its environment's (issue 25, item 1): ``${globals:...}`` in the catalog and the
parameters resolves against ``conf/<env>/globals.yml`` (or ``conf/local/globals.yml``) over base's, also
after the pipelines are registered, which reads ``variants.yml`` with a config loader of its own."""

import json
import shutil

import pytest
import yaml
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from omegaconf import OmegaConf

from tests.conftest import PROJECT_ROOT, kedro_cli
from text_distill.variants import read_variants

HEADLINES = "体育\t中国队夺冠\n财经\t股市大涨\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the project's conf/base with a GBK corpus; the working directory is the project."""
    shutil.copytree(PROJECT_ROOT / "conf" / "base", tmp_path / "conf" / "base")
    (tmp_path / "conf" / "local").mkdir()
    (tmp_path / "src").mkdir()  # the package itself is installed; Kedro only checks the folder
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    (tmp_path / "corpus.tsv").write_bytes(HEADLINES.encode("gbk"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def user_settings(project, env: str) -> None:
    """What a user puts in ``conf/<env>``: their corpus, its encoding, and a global of their own that a
    parameter reads."""
    folder = project / "conf" / env
    folder.mkdir(exist_ok=True)
    (folder / "globals.yml").write_text(yaml.safe_dump({"corpus_encoding": "gbk", "corpus_rows": 7}))
    corpus = {"type": "text.TextDataset", "filepath": str(project / "corpus.tsv")}
    corpus["fs_args"] = {"open_args_load": {"encoding": "${globals:corpus_encoding}"}}
    (folder / "catalog.yml").write_text(yaml.safe_dump({"corpus_source": corpus}))
    (folder / "parameters.yml").write_text("ingest:\n  max_rows: ${globals:corpus_rows}\n")


def as_a_run_reads_them(project, env: str | None) -> tuple[str, int]:
    """The corpus and ``params:ingest.max_rows`` in the order ``KedroSession.run`` reads them: the
    context, then the pipelines (registered now, reading variants.yml), then the catalog."""
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env) as session:
        context = session.load_context()
        assert pipelines["ingest"]  # registers the pipelines, as a run does before its catalog
        return context.catalog.load("corpus_source"), context.params["ingest"]["max_rows"]


@pytest.mark.parametrize("env", ["mine", "local"])
def test_the_environments_globals_reach_the_catalog_and_the_parameters(project, env):
    user_settings(project, env)
    corpus, max_rows = as_a_run_reads_them(project, None if env == "local" else env)
    assert corpus == HEADLINES  # read as GBK, not quarantined as undecodable UTF-8
    assert max_rows == 7


def test_an_environments_globals_hold_when_local_has_its_own(project):
    user_settings(project, "mine")
    (project / "conf" / "local" / "globals.yml").write_text("corpus_encoding: latin-1\ncorpus_rows: 3\n")
    assert as_a_run_reads_them(project, "mine") == (HEADLINES, 7)


def test_reading_the_variants_leaves_the_runs_globals_alone(project):
    """``read_variants`` builds no loader that takes over the process-wide ``globals`` resolver."""
    user_settings(project, "mine")
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="mine") as session:
        session.load_context()
        read_variants(project / "conf")
        assert OmegaConf.create({"rows": "${globals:corpus_rows}"}).rows == 7


@pytest.mark.integration
def test_ingest_reads_a_gbk_corpus_with_the_encoding_in_the_runs_environment(project, thucnews_lines):
    """``kedro run --pipeline ingest --env mine`` (the project's CLI) on a GBK corpus: every row kept."""
    lines = [line for line in thucnews_lines[:400] if line.encode("gbk", "ignore").decode("gbk") == line]
    (project / "corpus.tsv").write_bytes("".join(f"{line}\n" for line in lines).encode("gbk"))
    user_settings(project, "mine")
    (project / "conf" / "mine" / "parameters.yml").write_text("ingest:\n  min_rows_per_label: 1\n")
    result = kedro_cli(project, "--pipeline", "ingest", env="mine")
    assert result.exit_code == 0, result.output[-2000:]
    (saved,) = (project / "data" / "08_reporting").glob("row_accounting.json/*/row_accounting.json")
    accounting = json.loads(saved.read_text())
    assert accounting["quarantined_by_reason"].get("undecodable", 0) == 0
    assert accounting["rows_in"] == len(lines)
