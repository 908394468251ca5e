"""Project pipelines."""

from kedro.pipeline import Pipeline

from text_distill.pipelines import (
    augment,
    compare,
    evaluate,
    ingest,
    segment,
    soft_targets,
    student,
    teacher,
    temperature_sweep,
)


def register_pipelines() -> dict[str, Pipeline]:
    """The stages, each runnable alone, ``distill`` = all of them chained; the temperature sweep (run
    after ``distill``: it reads its cache and scores) and ``compare`` (the last runs in MLflow)."""
    stages = {
        "ingest": ingest.create_pipeline(),
        "segment": segment.create_pipeline(),
        "teacher": teacher.create_pipeline(),
        "augment": augment.create_pipeline(),
        "soft_targets": soft_targets.create_pipeline(),
        "student": student.create_pipeline(),
        "evaluate": evaluate.create_pipeline(),
    }
    distill = sum(stages.values(), Pipeline([]))
    return {
        **stages,
        "distill": distill,
        "__default__": distill,
        "temperature_sweep": temperature_sweep.create_pipeline(),
        "compare": compare.create_pipeline(),
    }
