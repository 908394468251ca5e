"""The ``ray`` parameters, typed (``conf/base/parameters_ray.yml`` holds every key and its default;
this model only says what each accepts). ``hooks.RecipeCheckHook`` parses them before the first
node of a run that reads them; ``ray_runtime.connect`` and the Ray engines read the checked keys."""

from typing import Annotated

from pydantic import Field

from text_distill.distill.config import Settings


class RayConfig(Settings):
    address: str | None  # null: a local Ray; auto: the cluster `ray start --head` made; ray://host:10001
    num_cpus: Annotated[int, Field(ge=1)] | None  # local Ray only (null: all)
    storage_path: str | None  # Ray Train / Tune results (null: a scratch folder)
