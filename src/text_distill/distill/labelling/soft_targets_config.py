"""The ``soft_targets`` parameters, typed (``conf/base/parameters_soft_targets.yml`` holds every key
and its default; this model only says what each accepts). ``hooks.RecipeCheckHook`` parses them
before the first node of a run that reads them; the labelling code reads the checked keys as given."""

from typing import Annotated, Literal

from pydantic import Field

from text_distill.distill.config import Settings
from text_distill.distill.labelling.engines import SCORING_ENGINES
from text_distill.distill.models.teacher_precision import DEVICES, PRECISIONS


class SoftTargetsConfig(Settings):
    batch_size: Annotated[int, Field(ge=1)]
    threads: Annotated[int, Field(ge=1)]
    device: Literal[DEVICES]  # type: ignore[valid-type]
    precision: Literal[PRECISIONS]  # type: ignore[valid-type]
    min_agreement: Annotated[float, Field(ge=0, le=1)]
    engine: Literal[tuple(SCORING_ENGINES)]  # type: ignore[valid-type]
    ray_actors: Annotated[int, Field(ge=1)]
    actor_cpus: Annotated[float, Field(gt=0)]
    actor_gpus: Annotated[float, Field(ge=0)]
    actor_threads: Annotated[int, Field(ge=1)] | None
    ray_batch_texts: Annotated[int, Field(ge=1)]
