"""The version ``make serve`` serves: the registry alias ``champion`` of ``text_distill_student``.

Every ``distill`` run registers a version (kedro-mlflow's hook, at the end of the run), the smoke
slice's included, so "the latest version" is whatever ran last. Instead, after registration
(``text_distill.hooks.ChampionHook``), the version takes the alias when its run is a full run
(``not_full_reason``: the one place that says what a full run is) and its distilled student beats the
holder's on the same test split (mean test accuracy over seeds; the split's rows and hash must both
match, ``distill.data.splits.fingerprint_test_split``). Each version carries its scores and split as
tags, which later runs compare against; the run's report and summary say which version holds the
alias and why.
"""

import logging
from dataclasses import dataclass
from typing import Any

from mlflow import MlflowClient

logger = logging.getLogger(__name__)

ALIAS = "champion"
ACCURACY_TAG = "student_accuracy_mean"  # the score compared: the distilled student's, mean over seeds
SPLIT_TAGS = ("test_rows", "test_split_sha256")
FULL_RUN_TAG = "full_run"
SMOKE_ENV = "smoke"


def not_full_reason(params: dict[str, Any], env: str) -> str | None:
    """Why a run with these parameters, in environment ``env``, is not a full run (its version may
    be served by number, never as the champion); None for a full run: the whole corpus, every label,
    the teacher on the whole train split, the default recipe."""
    ingest, teacher = params.get("ingest") or {}, params.get("teacher") or {}
    reasons = {
        f"a smoke slice (--env {SMOKE_ENV})": env == SMOKE_ENV,
        f"a sample of the corpus (ingest.max_rows={ingest.get('max_rows')})": (
            ingest.get("max_rows") is not None
        ),
        f"a label-budget run (ingest.label_budget={ingest.get('label_budget')})": (
            ingest.get("label_budget") is not None
        ),
        f"a teacher fine-tuned on part of train (teacher.train_rows={teacher.get('train_rows')})": (
            teacher.get("train_rows") is not None
        ),
        f"a recipe trial (recipe={params.get('recipe')})": params.get("recipe") is not None,
    }
    found = [reason for reason, applies in reasons.items() if applies]
    return ", ".join(found) if found else None


def version_tags(summary: dict[str, Any], not_full: str | None) -> dict[str, str]:
    """A version's tags: its run's scores (the distilled student's over seeds, the teacher's), the
    test split they are on, and whether the run was a full run (and if not, why)."""
    student = summary["across_seeds"]["student"]
    tags = {
        ACCURACY_TAG: student["accuracy"]["mean"],
        "student_accuracy_std": student["accuracy"]["std"],
        "student_macro_f1_mean": student["macro_f1"]["mean"],
        "student_texts_per_second": summary["student"]["texts_per_second"],
        "teacher_accuracy": summary["teacher"]["accuracy"],
        "test_rows": summary["test_split"]["rows"],
        "test_split_sha256": summary["test_split"]["sha256"],
        FULL_RUN_TAG: not_full is None,
    }
    if not_full is not None:
        tags["not_full_reason"] = not_full
    return {key: str(value).lower() if isinstance(value, bool) else str(value) for key, value in tags.items()}


@dataclass(frozen=True)
class Decision:
    """Who holds the alias after a run's version ``candidate`` was considered, and why."""

    candidate: str
    holder: str | None
    reason: str

    @property
    def took(self) -> bool:
        return self.holder == self.candidate


def decide(candidate: str, tags: dict[str, str], holder: str | None, holder_tags: dict[str, str]) -> Decision:
    """Whether version ``candidate`` (with ``version_tags``) takes the alias from ``holder``."""
    if tags[FULL_RUN_TAG] != "true":
        return Decision(candidate, holder, f"this run is not a full run: {tags['not_full_reason']}")
    if holder is None:
        return Decision(candidate, candidate, "no version held it, and this is a full run")
    accuracy = float(tags[ACCURACY_TAG])
    if any(holder_tags.get(key) != tags[key] for key in SPLIT_TAGS):
        return Decision(
            candidate,
            holder,
            f"version {holder} was scored on another test split ({holder_tags.get('test_rows', '?')} "
            f"rows; this run {tags['test_rows']}: another corpus or split), so the two cannot be compared",
        )
    held = float(holder_tags[ACCURACY_TAG])
    if accuracy > held:
        return Decision(
            candidate,
            candidate,
            f"its distilled student's test accuracy {accuracy:.4f} (mean over seeds) beats version "
            f"{holder}'s {held:.4f} on the same test split",
        )
    return Decision(
        candidate,
        holder,
        f"version {holder}'s distilled student's test accuracy {held:.4f} (mean over seeds) is at least "
        f"this run's {accuracy:.4f} on the same test split",
    )


def alias_holder(client: MlflowClient, name: str) -> tuple[str | None, dict[str, str]]:
    """The version holding the alias (None: no version does) and its tags."""
    holder = client.get_registered_model(name).aliases.get(ALIAS)
    if holder is None:
        return None, {}
    return str(holder), dict(client.get_model_version(name, str(holder)).tags)


def run_version(client: MlflowClient, name: str, run_id: str) -> str | None:
    """The version of registered model ``name`` that run ``run_id`` registered (None: none)."""
    versions = client.search_model_versions(f"name='{name}' and run_id='{run_id}'")
    return str(max(int(version.version) for version in versions)) if versions else None


def crown(
    client: MlflowClient, name: str, version: str, summary: dict[str, Any], not_full: str | None
) -> Decision:
    """Tag version ``version`` of ``name`` with its run's scores, give it the alias if it earns it."""
    tags = version_tags(summary, not_full)
    for key, value in tags.items():
        client.set_model_version_tag(name, version, key, value)
    holder, holder_tags = alias_holder(client, name)
    decision = decide(version, tags, holder, holder_tags)
    if decision.took:
        client.set_registered_model_alias(name, ALIAS, version)
    logger.info(
        "%s@%s is version %s: %s",
        name,
        ALIAS,
        decision.holder if decision.holder else "none",
        decision.reason,
    )
    return decision


def served_model_record(name: str, decision: Decision) -> dict[str, Any]:
    """The summary's ``served_model`` entry."""
    return {
        "model": name,
        "alias": ALIAS,
        "holder": decision.holder,
        "this_run_version": decision.candidate,
        "took_alias": decision.took,
        "reason": decision.reason,
    }


def served_model_lines(name: str, decision: Decision) -> list[str]:
    """The report's section on the alias: who holds it, why, and how to serve this run's version."""
    uri = f"`models:/{name}@{ALIAS}`"
    if decision.took:
        said = f"This run's version {decision.candidate} now holds `{ALIAS}`: {decision.reason}."
    elif decision.holder is None:
        said = (
            f"No version holds `{ALIAS}` yet: this run's version {decision.candidate} does not take it, "
            f"{decision.reason}."
        )
    else:
        said = (
            f"Version {decision.holder} holds `{ALIAS}`; this run's version {decision.candidate} does "
            f"not take it: {decision.reason}."
        )
    return [
        "",
        "## Served model",
        "",
        f"`make serve` serves {uri}, the best full run's student. {said} "
        f"`make serve VERSION={decision.candidate}` serves this run's.",
    ]
