"""What the graph guarantees: test rows reach evaluation, export and the sweeps' tables only; every
stage runs alone."""

from text_distill.pipeline_registry import register_pipelines

PIPELINES = register_pipelines()
TEST_DATASETS = {"test_examples", "test_soft_targets", "test_text_hashes", "examples"}


def readers(dataset: str, pipeline: str = "distill") -> set[str]:
    return {node.name for node in PIPELINES[pipeline].nodes if dataset in node.inputs}


def test_only_evaluate_and_export_read_the_test_rows():
    evaluate_and_export = {node.name for node in PIPELINES["evaluate"].nodes + PIPELINES["export"].nodes}
    assert readers("test_examples") <= evaluate_and_export
    assert readers("test_soft_targets") <= evaluate_and_export
    # the rows of every split are read by the node that separates them, and by nothing else
    assert readers("examples") == {"ingest.hold_out_test"}
    # the transfer set drops a text equal to a test text by its hash alone
    assert readers("test_text_hashes") == {"augment.build_transfer_set"}
    # the teacher labels the test rows where they are scored, never into the students' transfer set
    assert readers("test_examples") >= {"evaluate.label_test_rows", "evaluate.score_teacher"}


def test_the_stages_that_read_every_text_read_no_test_row():
    for node in (
        "segment.segment_examples",
        "augment.build_transfer_set",
        "soft_targets.fill_soft_target_store",
    ):
        inputs = next(n for n in PIPELINES["distill"].nodes if n.name == node).inputs
        assert "train_dev_examples" in inputs and not {"test_examples", "examples"} & set(inputs)


def test_the_sweeps_read_test_only_for_their_tables():
    for name in ("temperature_sweep", "recipe_search"):
        pipeline = PIPELINES[name]
        test_readers = {n.name for n in pipeline.nodes if TEST_DATASETS & set(n.inputs)}
        trials = {n.name for n in pipeline.nodes if "params:student" in n.inputs}
        assert test_readers == trials  # trained on train, selected on dev, scored on test for the table
        assert "examples" not in pipeline.inputs()


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
        assert not {"test_examples", "test_soft_targets", "examples"} & set(node.inputs)


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
