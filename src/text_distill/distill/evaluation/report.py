"""The markdown distillation report: the verdict against the best baseline, quality, speed and size,
spread across seeds, teacher members, row accounting and per-class scores."""

from typing import Any

import pandas as pd

from text_distill.distill.evaluation.scores import SCALAR_SCORES, STUDENTS, against_best_baseline

ROW_METRICS = ("rows_in", "kept", "unlabelled", "quarantined", "duplicates_collapsed")


def summarise_scores(
    scores: dict[str, dict[str, Any]],
    across_seeds: dict[str, dict[str, Any]],
    profile: dict[str, dict[str, float]],
    context: dict[str, Any],
    baselines: list[str],
    ensemble_weights: Any = None,
) -> dict[str, Any]:
    """The JSON summary: per model (teacher, students, ``baselines``) its scalar test scores and
    speed profile, the run's ``context`` (rows, teacher labelling, settings, ...), the spread across
    seeds, the student's speed-up over the teacher and the verdict against the best baseline; with
    a teacher ensemble, its members' scores and ``ensemble_weights``."""
    summary: dict[str, Any] = {
        name: {**{key: scores[name][key] for key in SCALAR_SCORES}, **profile[name]} for name in scores
    }
    summary.update(context, across_seeds=across_seeds)
    summary["student_speedup"] = (
        summary["student"]["texts_per_second"] / summary["teacher"]["texts_per_second"]
    )
    summary["against_best_baseline"] = against_best_baseline(summary, baselines)
    if "members" in scores["teacher"]:
        summary["teacher_members"] = scores["teacher"]["members"]
        summary["teacher_ensemble_weights"] = ensemble_weights
    return summary


def summary_metrics(summary: dict[str, Any], models: list[str]) -> dict[str, dict[str, float]]:
    """The summary's numbers as MLflow metrics (``{name: {"value", "step"}}``): every model's scores
    and speed, the speed-up, margins over the best baseline, means and spreads over seeds, teacher
    members and row counts."""
    values: dict[str, float] = {
        f"{name}_{key}": value for name in models for key, value in summary[name].items()
    }
    values["student_speedup"] = summary["student_speedup"]
    verdict = summary["against_best_baseline"]
    if verdict:
        values["best_baseline_accuracy"] = verdict["accuracy"]
        for name in ("teacher", *STUDENTS):
            values[f"{name}_margin_over_best_baseline"] = verdict[name]["margin_points"]
    for name, seeded in summary["across_seeds"].items():
        for key in SCALAR_SCORES:
            for statistic in ("mean", "std"):
                values[f"{name}_{key}_{statistic}"] = seeded[key][statistic]
    for member, member_scores in summary.get("teacher_members", {}).items():
        for key, value in member_scores.items():
            values[f"teacher_{member}_{key}"] = value
    for key in ROW_METRICS:
        values[key if key.startswith("rows_") else f"rows_{key}"] = summary["rows"].get(key, 0)
    labels = summary["labels"]
    values["labelled_train_rows"] = labels["labelled"]["train"]
    values["labelled_dev_rows"] = labels["labelled"]["dev"]
    values["unlabelled_split_rows"] = sum(labels["unlabelled"].values())
    return {name: {"value": float(value), "step": 0} for name, value in values.items()}


def verdict_lines(verdict: dict[str, Any]) -> list[str]:
    if not verdict:
        return []
    lines = [
        "## Against the best baseline",
        "",
        f"The best reference baseline on the test split is `{verdict['baseline']}` (TF-IDF n-grams + "
        f"linear SVM, fitted on train in this run, C chosen on dev): accuracy {verdict['accuracy']:.4f}. "
        "Students are compared by their mean accuracy over seeds.",
        "",
        "| model | accuracy | vs best baseline (points) | beats it |",
        "|---|---|---|---|",
    ]
    for name in ("teacher", *STUDENTS):
        row = verdict[name]
        lines.append(
            f"| {name} | {row['accuracy']:.4f} | {row['margin_points']:+.2f} | "
            f"{'**yes**' if row['beats'] else '**no**'} |"
        )
    return [*lines, ""]


def label_lines(summary: dict[str, Any]) -> list[str]:
    """What each model learnt from: the labels (train fits, dev selects) and the unlabelled texts."""
    labels, labelling = summary["labels"], summary["teacher_labelling"]
    train, dev = labels["labelled"]["train"], labels["labelled"]["dev"]
    unlabelled = labels["unlabelled"]
    transfer = sum(count for source, count in labelling["rows_by_source"].items() if source != "labelled")
    budget = labels["label_budget"]
    lines = [
        "## Labels",
        "",
        (
            f"Label budget: {budget} train rows (`ingest.label_budget`); "
            if budget is not None
            else "Every train label (`ingest.label_budget: null`); "
        )
        + f"dev holds {dev} labelled rows, so {train + dev} labels were used in all "
        "(train fits, dev selects)."
        + (
            f" A team with {budget} labels would hold far fewer for dev: set `ingest.budget_dev_size`."
            if budget is not None and dev > budget
            else ""
        ),
        "",
        "| model | labelled train rows | texts without a label |",
        "|---|---|---|",
        f"| teacher (fine-tune, n-gram members, ensemble weights on dev) | {train} | 0 |",
        f"| baselines, student_alone | {train} | 0 |",
        f"| student (hard-label term; KD term over every text) | {train} | "
        f"{sum(unlabelled.values()) + transfer} ({unlabelled['train_over_budget']} train and "
        f"{unlabelled['dev_over_budget']} dev rows over the budget, {unlabelled['corpus_without_label']} "
        f"corpus rows without a label, {transfer} transfer-set texts) |",
        "",
    ]
    return lines


def render_report(summary: dict[str, Any], scores: dict[str, dict[str, Any]]) -> str:
    names = list(scores)
    verdict = summary["against_best_baseline"]
    lines = [
        "# Distillation report",
        "",
        f"Teacher fingerprint: `{summary['teacher_fingerprint']}`",
        f"Test rows: {scores['teacher']['test_rows']}. Model selection and early stopping used the dev "
        "split only; the test split was used for nothing but this report.",
        "",
        *verdict_lines(verdict),
        *label_lines(summary),
        "## Quality",
        "",
        "Fidelity: share of test texts where the model predicts the teacher's class; KL: mean "
        "KL(teacher || model) in nats; ECE: expected calibration error "
        f"({summary['calibration_bins']} confidence bins).",
        "",
        "| model | accuracy | macro-F1 | fidelity | KL to teacher | ECE |",
        "|---|---|---|---|---|---|",
    ]
    for name in names:
        row = summary[name]
        lines.append(
            f"| {name} | {row['accuracy']:.4f} | {row['macro_f1']:.4f} | {row['fidelity']:.4f} | "
            f"{row['kl_to_teacher']:.4f} | {row['ece']:.4f} |"
        )
    lines += [
        "",
        "## Speed and size",
        "",
        f"One process, {summary['threads']} thread(s), models interleaved. End to end: raw text to "
        "logits, normalisation, segmentation and tokenisation included; model-only: inputs prepared in "
        f"advance. Throughput at batch {summary['batch_size']}, latency at batch 1.",
        "",
        "| model | params | size on disk (MB) | texts/s end to end | texts/s model-only | p50 ms | p95 ms "
        "| speed-up vs teacher |",
        "|---|---|---|---|---|---|---|---|",
    ]
    teacher_speed = summary["teacher"]["texts_per_second"]
    for name in names:
        row = summary[name]
        lines.append(
            f"| {name} | {row['params']:,} | {row['size_bytes'] / 1e6:.1f} | {row['texts_per_second']:.1f} | "
            f"{row['model_texts_per_second']:.1f} | {row['latency_p50_ms']:.2f} | "
            f"{row['latency_p95_ms']:.2f} | {row['texts_per_second'] / teacher_speed:.1f}x |"
        )
    lines += [
        "",
        "## Across seeds",
        "",
        "Each student trained once per seed, same data and settings; mean ± sample standard deviation "
        "of the test scores (the tables above show the kept model, the first seed).",
        "",
        "| model | seeds | accuracy | macro-F1 | fidelity | ECE |",
        "|---|---|---|---|---|---|",
    ]
    for name, seeded in summary["across_seeds"].items():
        cells = " | ".join(
            f"{seeded[key]['mean']:.4f} ± {seeded[key]['std']:.4f}"
            for key in ("accuracy", "macro_f1", "fidelity", "ece")
        )
        lines.append(f"| {name} | {', '.join(map(str, seeded['seeds']))} | {cells} |")
    if "teacher_members" in summary:
        lines += [
            "",
            f"The teacher row is the ensemble's combined logits (weights: "
            f"{summary['teacher_ensemble_weights'] or 'mean'}); speed is the main teacher's alone. Members:",
            "",
            "| teacher | accuracy | macro-F1 |",
            "|---|---|---|",
            *(
                f"| {name} | {member['accuracy']:.4f} | {member['macro_f1']:.4f} |"
                for name, member in summary["teacher_members"].items()
            ),
        ]
    rows = summary["rows"]
    lines += [
        "",
        "## Rows",
        "",
        f"{rows['rows_in']} in = {rows['kept']} kept + {rows.get('unlabelled', 0)} without a label + "
        f"{rows['quarantined']} quarantined + "
        f"{rows['duplicates_collapsed']} duplicates collapsed; quarantined by reason: "
        f"{rows['quarantined_by_reason'] or 'none'}.",
    ]
    labelling = summary["teacher_labelling"]
    by_source = ", ".join(f"{count} {source}" for source, count in labelling["rows_by_source"].items())
    lines += [
        "",
        f"Transfer set: {labelling['transfer_rows']} rows ({by_source}); the teacher scored "
        f"{labelling['teacher_forward_texts']} texts in this run, {labelling['store_hits']} came from the "
        f"soft-target store and {labelling['repeated_texts']} repeated a text already scored.",
    ]
    for name in names:
        rows = {
            key: value for key, value in scores[name]["per_class"].items() if key != "accuracy"
        }  # a scalar
        per_class = pd.DataFrame(rows).T
        lines += ["", f"## Per class: {name}", "", per_class.round(4).to_markdown()]
    return "\n".join(lines) + "\n"
