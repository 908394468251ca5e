"""Catalog entries that several stages read the same way, declared once as mappings from a node's
argument to the entry: the student stage and the sweeps import them from here, never from each
other's pipelines. A node takes these as plain keyword arguments (spaceflights' style)."""

# what every student is trained from: train, dev and unlabelled rows (never a test row), their
# segmentation, vectors and label names
STUDENT_DATA = {
    "segmented": "segmented_examples",
    "examples": "train_dev_examples",
    "word_vocabulary": "word_vocabulary",
    "word_embeddings": "word_embeddings",
    "char_vocabulary": "char_vocabulary",
    "char_embeddings": "char_embeddings",
    "word_segmenter": "word_segmenter",
    "label_names": "label_names",
}

# what a distilled student learns from besides: the teacher's cached logits for the examples and
# the transfer rows, and the teacher (run by a transformer student only)
TEACHER_TARGETS = {
    "soft_targets": "soft_targets",
    "transfer_targets": "transfer_targets",
    "teacher": "teacher",
}

# the test rows and the teacher's logits for them: a sweep's table reports test scores beside the
# dev score it selects on
TEST_ROWS = {"test_examples": "test_examples", "test_soft_targets": "test_soft_targets"}

# a sweep's or search's trials: a distilled student retrained from the cache, scored for the table
STUDY = {
    **STUDENT_DATA,
    **TEACHER_TARGETS,
    **TEST_ROWS,
    "student_params": "params:student",
    "evaluate_params": "params:evaluate",
    "ray_params": "params:ray",
}
