"""The pictures the README and docs show: each exists, each in docs/img is shown somewhere, and a
picture drawn from the code (scripts/pipeline_pictures.py, its source beside it as
docs/img/<picture>.json) names no dataset, node or stage that the catalog and the registered
pipelines no longer have: a stale graph fails here, not in a reader's eyes (`make pictures` redraws it)."""

import json
import re
from pathlib import Path

import pytest
import yaml
from kedro.io.catalog_config_resolver import DEFAULT_RUNTIME_PATTERN, CatalogConfigResolver

from tests.conftest import PROJECT_ROOT
from text_distill.pipeline_registry import register_pipelines

IMG = PROJECT_ROOT / "docs" / "img"
PAGES = [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]
# ![alt](path "title") and <img src="path">: the path up to a space, a closing bracket or a quote
IMAGE_LINKS = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)|<img\s[^>]*src=[\"']([^\"']+)")
PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp"}
SOURCES = sorted(IMG.glob("*.json"))


def shown(page: Path) -> list[str]:
    return [a or b for a, b in IMAGE_LINKS.findall(page.read_text(encoding="utf-8"))]


def local(link: str) -> bool:
    return not re.match(r"[a-z][a-z0-9+.-]*:", link, re.IGNORECASE)  # no https:, data:, ...


def test_every_picture_a_page_shows_exists():
    missing = [
        f"{page.relative_to(PROJECT_ROOT)}: {link}"
        for page in PAGES
        for link in shown(page)
        if local(link) and not (page.parent / link.split("#")[0].split("?")[0]).is_file()
    ]
    assert not missing, f"pictures the pages show but docs/img lacks: {missing}"


def test_every_picture_in_docs_img_is_shown():
    linked = {
        (page.parent / link.split("#")[0]).resolve() for page in PAGES for link in shown(page) if local(link)
    }
    pictures = [p for p in IMG.iterdir() if p.suffix.lower() in PICTURE_SUFFIXES]
    unshown = sorted(p.name for p in pictures if p.resolve() not in linked)
    assert not unshown, f"in docs/img but on no page (stale? delete them): {unshown}"


def test_the_pipeline_pictures_have_their_sources():
    assert {source.stem for source in SOURCES} >= {"pipeline-distill", "pipeline-teacher"}
    for source in SOURCES:
        assert (IMG / json.loads(source.read_text())["picture"]).is_file(), source.name


@pytest.fixture(scope="module")
def pipelines():
    return register_pipelines()


@pytest.fixture(scope="module")
def catalog() -> CatalogConfigResolver:
    """conf/base/catalog.yml's entries and factories, as Kedro matches names against them (the
    values are not resolved: only the names matter here)."""
    entries = yaml.safe_load((PROJECT_ROOT / "conf" / "base" / "catalog.yml").read_text(encoding="utf-8"))
    entries = {name: entry for name, entry in entries.items() if not name.startswith("_")}
    return CatalogConfigResolver(entries, default_runtime_patterns=DEFAULT_RUNTIME_PATTERN)


def gone_from_code(drawn: dict, pipelines: dict, catalog: CatalogConfigResolver) -> list[str]:
    """What a picture's source names that the code no longer has: a dataset neither a registered
    pipeline nor the catalog (entry or factory) has, a node or stage its pipeline lacks."""
    pipeline = pipelines.get(drawn["pipeline"])
    if pipeline is None:
        return [f"pipeline {drawn['pipeline']}"]
    # a memory dataset is in no catalog: it is enough that some registered pipeline still has it
    in_pipelines = {name for p in pipelines.values() for name in p.datasets()}
    gone = [
        name
        for name in drawn["datasets"]
        if name not in in_pipelines and name not in catalog.config and not catalog.match_dataset_pattern(name)
    ]
    nodes = {node.name for node in pipeline.nodes}
    stages = {node.namespace.split(".")[0] for node in pipeline.nodes if node.namespace}
    gone += [f"node {name}" for name in drawn["nodes"] if name not in nodes]
    gone += [f"stage {name}" for name in drawn["stages"] if name not in stages]
    return gone


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.name)
def test_a_pipeline_picture_names_only_what_the_code_still_has(source, pipelines, catalog):
    drawn = json.loads(source.read_text())
    gone = gone_from_code(drawn, pipelines, catalog)
    assert not gone, (
        f"docs/img/{drawn['picture']} shows what the catalog and the pipelines no longer have: {gone}; "
        "redraw it: `make pictures`"
    )


def test_a_picture_of_the_old_graph_would_fail(pipelines, catalog):
    """The old kedro viz picture showed ``teacher_ngram``, gone since the n-gram members became
    variants; a catalog factory's name (``baseline_{name}_log``) still resolves."""
    old = {
        "pipeline": "distill",
        "stages": ["teacher", "soft_targets"],
        "nodes": ["teacher.fit_ngram_teacher"],
        "datasets": ["teacher_ngram", "teacher_ngram_log", "baseline_tfidf_char_svm_log", "examples"],
    }
    assert gone_from_code(old, pipelines, catalog) == [
        "teacher_ngram",
        "teacher_ngram_log",
        "node teacher.fit_ngram_teacher",
    ]
    assert catalog.match_dataset_pattern("baseline_some_new_member_log") == "baseline_{name}_log"
