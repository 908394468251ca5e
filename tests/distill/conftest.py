"""A local Ray for the engine tests, started once per module and shut down after it."""

import pytest
from tests.stage_params import stage_params

from text_distill.distill.runtimes.ray_runtime import connect


@pytest.fixture(scope="module")
def local_ray():
    import ray

    connect(stage_params("ray", num_cpus=2))  # a local Ray on two cores
    yield
    ray.shutdown()
