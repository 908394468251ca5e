"""What the graph guarantees: test rows reach evaluation and export only; every stage runs alone."""

from text_distill.pipeline_registry import register_pipelines

PIPELINES = register_pipelines()
# stages that read every text, test included, to prepare it, never to fit or select on it: segmenting,
# augmenting (a copy equal to a dev or test text is dropped), and the teacher labelling every text
# once so that evaluation reads its test logits from the store
READ_EVERY_TEXT = {
    "ingest.hold_out_test",
    "segment.segment_examples",
    "augment.build_transfer_set",
    "soft_targets.fill_soft_target_store",
    "soft_targets.assemble_soft_targets",
}


def readers(dataset: str) -> set[str]:
    return {node.name for node in PIPELINES["distill"].nodes if dataset in node.inputs}


def test_only_evaluate_and_export_read_the_test_rows():
    evaluate_and_export = {node.name for node in PIPELINES["evaluate"].nodes + PIPELINES["export"].nodes}
    assert readers("test_examples") <= evaluate_and_export
    assert readers("examples") == READ_EVERY_TEXT


def test_every_model_is_fitted_on_train_and_dev_rows_only():
    fitting = readers("train_dev_examples")
    assert {
        "teacher.fine_tune_teacher",
        "teacher.tfidf_char_svm.fit_ngram_teacher",
        "student.train_distilled_student",
        "student.train_student_alone",
    } <= fitting
    assert all(name.startswith("baselines.fit_baseline_") for name in fitting if "baseline" in name)
    for name in fitting:
        node = next(node for node in PIPELINES["distill"].nodes if node.name == name)
        assert "test_examples" not in node.inputs and "examples" not in node.inputs


def test_the_distill_chain_is_its_stages_chained():
    stages = (
        "ingest",
        "segment",
        "baselines",
        "teacher",
        "augment",
        "soft_targets",
        "student",
        "evaluate",
        "export",
    )
    assert {node.name for node in PIPELINES["distill"].nodes} == {
        node.name for stage in stages for node in PIPELINES[stage].nodes
    }


def test_each_label_budget_runs_the_chain_on_its_own_examples_and_keeps_test_apart():
    curve = PIPELINES["label_curve"]
    budgets = {node.namespace.split(".")[1] for node in curve.nodes if node.namespace.count(".") >= 1}
    assert budgets == {"B_1000", "B_2000", "B_5000"}  # conf/base/variants.yml label_budgets
    chain = {
        node.name
        for stage in ("baselines", "teacher", "augment", "soft_targets", "student", "evaluate")
        for node in PIPELINES[stage].nodes
    } - {"teacher.prepare_teacher_base"}
    for budget in budgets:
        prefix = f"label_curve.{budget}."
        names = {node.name.removeprefix(prefix) for node in curve.nodes if node.name.startswith(prefix)}
        assert names == chain | {"examples_at_budget", "hold_out_test", "record_budget"}
        test_readers = {n.name for n in curve.nodes if f"{prefix}test_examples" in n.inputs}
        assert test_readers and all(name.startswith(f"{prefix}evaluate.") for name in test_readers)
        fitting = [n for n in curve.nodes if f"{prefix}train_dev_examples" in n.inputs]
        assert {n.name for n in fitting} >= {
            f"{prefix}teacher.fine_tune_teacher",
            f"{prefix}student.train_student_alone",
        }
    # what a budget reads from the distill run: its split, words, vectors and the pretrained teacher;
    # never a model or a score of the distill run, but the full-label summary the curve ends with
    shared = {name for name in curve.inputs() if not name.startswith(("params:", "label_curve."))}
    assert shared == {
        "examples", "split_report", "segmented_examples", "word_segmenter", "word_vocabulary",
        "word_embeddings", "char_vocabulary", "char_embeddings", "label_names", "row_accounting",
        "teacher_base", "unlabelled_corpus", "news_inews", "news_peoples_daily", "distill_summary",
    }  # fmt: skip
    assert curve.outputs() >= {"label_curve", "label_curve_table", "label_curve_plot"}
