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
