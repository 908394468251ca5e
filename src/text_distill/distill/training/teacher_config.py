"""The ``teacher`` parameters, typed (``conf/base/parameters_teacher.yml`` holds every key and its
default; this model only says what each accepts). ``hooks.RecipeCheckHook`` parses them before the
first node of a run that reads them; the teacher's code reads the checked keys as given."""

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from text_distill.distill.config import Settings
from text_distill.distill.models.teacher_precision import DEVICES
from text_distill.distill.training.teacher_training import TEACHER_ENGINES

AtLeastOne = Annotated[int, Field(ge=1)]
Auto = Literal["auto"]


class TeacherConfig(Settings):
    base_model: str | None
    text_prefix: str
    max_length: AtLeastOne
    train_rows: AtLeastOne | None
    epochs: AtLeastOne
    min_steps: AtLeastOne | None
    early_stopping_patience: AtLeastOne | None
    batch_size: AtLeastOne
    length_group_batches: AtLeastOne | None
    eval_batch_size: AtLeastOne
    learning_rate: Annotated[float, Field(gt=0)]
    weight_decay: Annotated[float, Field(ge=0)]
    warmup_ratio: Annotated[float, Field(ge=0, lt=1)]
    dropout: Annotated[float, Field(ge=0, lt=1)]
    freeze_word_embeddings: bool
    bf16: Auto | bool
    logging_steps: AtLeastOne
    seed: int
    ngram_folds: Annotated[int, Field(ge=2)]
    ensemble_weights: Literal["dev"] | list[Annotated[float, Field(ge=0)]] | None
    threads: AtLeastOne
    device: Literal[DEVICES]  # type: ignore[valid-type]
    engine: Literal[tuple(TEACHER_ENGINES)]  # type: ignore[valid-type]
    ray_workers: AtLeastOne
    ray_use_gpu: Auto | bool
    ray_cpus_per_worker: Annotated[float, Field(gt=0)]
    progress: bool

    @model_validator(mode="after")
    def _batch_splits_over_ray_workers(self) -> Self:
        """On Ray each worker takes ``batch_size / ray_workers`` rows a step (the same global batch)."""
        if self.engine == "ray" and self.batch_size % self.ray_workers:
            raise ValueError(
                f"teacher.batch_size {self.batch_size} must split evenly over teacher.ray_workers "
                f"{self.ray_workers}"
            )
        return self
