"""Every command a message tells the user to run exists and fixes what it is named for: each
`kedro run ...` in the project's messages names registered pipelines and their nodes or inputs, and
after a change of split the student stage's advice, run as given, makes the student stage work (it
used to name `kedro run --pipeline soft_targets`, which failed with the same advice)."""

import ast
import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml
from kedro.pipeline import Pipeline

from tests.conftest import PROJECT_ROOT, kedro_cli, write_variants
from text_distill.distill.data.soft_targets import DATA_CHANGED_ADVICE, TEACHER_CHANGED_ADVICE
from text_distill.pipeline_registry import register_pipelines

pytestmark = pytest.mark.integration

COMMAND = re.compile(r"`(kedro run[^`]*)`")
FILTERS = {
    "--from-nodes": "from_nodes",
    "--to-nodes": "to_nodes",
    "--from-inputs": "from_inputs",
    "--namespaces": "node_namespaces",
}
SETTINGS = ("--params", "--env")  # what a run reads, not which nodes it runs


def message_strings(path: Path) -> list[str]:
    """Every string literal of a module (implicitly concatenated parts joined, as Python does; an
    f-string's fields as ``{}``)."""
    strings = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            strings.append(node.value)
        elif isinstance(node, ast.JoinedStr):
            strings.append("".join(p.value if isinstance(p, ast.Constant) else "{}" for p in node.values))
    return strings


def advised_commands() -> list[str]:
    return sorted(
        {
            command
            for path in (PROJECT_ROOT / "src" / "text_distill").rglob("*.py")
            for string in message_strings(path)
            for command in COMMAND.findall(string)
            # a template (`kedro run --pipeline {writer}`) is filled from the registry itself
            if "{" not in command
        }
    )


def session_arguments(command: str) -> dict[str, list[str]]:
    """``kedro run`` options as KedroSession.run arguments (the pipeline defaults to __default__)."""
    words = shlex.split(command)
    assert words[:2] == ["kedro", "run"], command
    arguments: dict[str, list[str]] = {"pipeline_names": ["__default__"]}
    for option, value in zip(words[2::2], words[3::2], strict=True):
        if option in ("--pipeline", "--pipelines"):
            arguments["pipeline_names"] = value.split(",")
        elif option not in SETTINGS:
            assert option in FILTERS, f"{command}: no check for {option}"
            arguments[FILTERS[option]] = value.split(",")
    return arguments


def pipeline_of(command: str) -> Pipeline:
    """What ``command`` runs; raises if it names a pipeline, node or input that does not exist."""
    arguments = session_arguments(command)
    registry = register_pipelines()
    pipeline = sum((registry[name] for name in arguments.pop("pipeline_names")), Pipeline([]))
    filtered = pipeline.filter(**arguments)
    assert filtered.nodes, f"{command} runs nothing"
    return filtered


def test_the_messages_name_commands():
    commands = advised_commands()
    assert "kedro run --pipeline distill --from-inputs examples" in commands and len(commands) >= 4


@pytest.mark.parametrize("command", advised_commands())
def test_every_advised_command_names_pipelines_and_nodes_that_exist(command):
    pipeline_of(command)


def test_the_advice_reruns_every_stage_the_cause_made_stale():
    for command in COMMAND.findall(DATA_CHANGED_ADVICE):
        names = {node.name for node in pipeline_of(command).nodes}
        stale = {
            "segment.segment_examples",
            "augment.build_transfer_set",
            "soft_targets.fill_soft_target_store",
            "soft_targets.assemble_soft_targets",
        }
        assert stale | {"student.train_distilled_student", "student.train_student_alone"} <= names, command
    (relabel,) = COMMAND.findall(TEACHER_CHANGED_ADVICE)
    relabelled = {n.name for n in pipeline_of(relabel).nodes}
    assert {"soft_targets.fill_soft_target_store", "soft_targets.assemble_soft_targets"} <= relabelled


def test_after_a_change_of_split_the_students_advice_fixes_it(distill_run, tmp_path):
    project = tmp_path / "project"
    shutil.copytree(distill_run, project)  # the shared run stays as it is
    parameters = project / "conf" / "tiny" / "parameters.yml"
    overrides = yaml.safe_load(parameters.read_text())
    overrides["ingest"]["seed"] = 7  # another split (and sample) of the same corpus
    overrides["student"]["optimiser"].update(epochs=1)
    parameters.write_text(yaml.safe_dump(overrides, allow_unicode=True))
    write_variants(project, student_seeds=[])  # for time
    assert kedro_cli(project, "--pipeline", "ingest", env="tiny").exit_code == 0

    refused = kedro_cli(project, "--pipeline", "student", env="tiny")
    assert refused.exit_code == 2, refused.output[-3000:]
    (error,) = [line for line in refused.stderr.splitlines() if line.startswith("Error:")]
    assert "the data changed since the soft targets were made" in error
    command = COMMAND.search(error)[1]
    assert command == "kedro run --pipeline distill --from-inputs examples"
    fixed = kedro_cli(project, *shlex.split(command)[2:], env="tiny")  # the advice as given
    assert fixed.exit_code == 0, fixed.output[-3000:]
