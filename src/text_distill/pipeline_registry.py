"""Project pipelines."""

from kedro.pipeline import Pipeline
from kedro_mlflow.pipeline import pipeline_ml_factory

from text_distill.pipelines import (
    augment,
    baselines,
    compare,
    evaluate,
    export,
    ingest,
    label_curve,
    predict,
    recipe_search,
    segment,
    soft_targets,
    student,
    teacher,
    temperature_sweep,
)
from text_distill.variants import registered_variants

# what a label budget changes: every stage after the split that learns from labels or scores models
CURVE_STAGES = ("baselines", "teacher", "augment", "soft_targets", "student", "evaluate")


def register_pipelines() -> dict[str, Pipeline]:
    """The stages, each runnable alone, ``distill`` = all of them chained; the temperature sweep and
    the recipe search (run after ``distill``: they read its cache and scores), ``compare`` (the last
    runs in MLflow) and ``predict`` (batch predictions from the last student, the served model's pipeline).
    The variants (``conf/base/variants.yml``: seeds, n-gram members, sweep temperatures) are
    namespaced pipelines within teacher, student, evaluate and the temperature sweep."""
    variants = registered_variants()
    stages = {
        "ingest": ingest.create_pipeline(),
        "segment": segment.create_pipeline(),
        "baselines": baselines.create_pipeline(),
        "teacher": teacher.create_pipeline(
            seeds=variants.teacher_seeds, ngram_members=variants.ngram_members
        ),
        "augment": augment.create_pipeline(),
        "soft_targets": soft_targets.create_pipeline(
            teacher_seeds=variants.teacher_seeds, ngram_members=variants.ngram_members
        ),
        "student": student.create_pipeline(seeds=variants.student_seeds),
        "evaluate": evaluate.create_pipeline(
            seeds=variants.student_seeds,
            teacher_seeds=variants.teacher_seeds,
            ngram_members=variants.ngram_members,
        ),
        "export": export.create_pipeline(),
    }
    # a distill run also logs the predict pipeline, with the student it trained, as an MLflow model
    # and registers it (`mlflow models serve -m models:/text_distill_student/<version>`)
    distill = pipeline_ml_factory(
        training=sum(stages.values(), Pipeline([])),
        inference=predict.create_pipeline(),
        input_name=predict.INPUT,
        log_model_kwargs=predict.served_model_kwargs(),
    )
    return {
        **stages,
        "distill": distill,
        "__default__": distill,
        "temperature_sweep": temperature_sweep.create_pipeline(temperatures=variants.sweep_temperatures),
        "recipe_search": recipe_search.create_pipeline(),
        # the chain from the teacher to the evaluation again at each label budget (after distill)
        "label_curve": label_curve.create_pipeline(
            budgets=variants.label_budgets,
            chain=sum((stages[name] for name in CURVE_STAGES), Pipeline([])),
        ),
        "compare": compare.create_pipeline(),
        "predict": predict.create_pipeline(),
    }
