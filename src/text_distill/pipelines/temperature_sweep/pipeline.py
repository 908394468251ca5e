"""Temperature sweep wiring: one namespaced pipeline per temperature of ``variants.yml``
(``temperature_sweep.T_4.train_at_temperature`` -> ``temperature_sweep_T_4``), then the table. It
reads the distill chain's cache and scores; it selects on dev, and reads the test rows for the table."""

from kedro.pipeline import Node, Pipeline

from text_distill.pipelines import bound, step
from text_distill.pipelines.inputs import STUDY
from text_distill.variants import temperature_dataset, temperature_namespace

from .nodes import tabulate_sweep, train_at_temperature


def at_temperature(temperature: float) -> Pipeline:
    """The distilled student at ``temperature``: node ``T_<t>.train_at_temperature``, dataset
    ``temperature_sweep_T_<t>`` (the catalog's factory)."""
    node = Node(
        bound(train_at_temperature, temperature=temperature),
        {**STUDY, "params": "params:temperature_sweep"},
        temperature_dataset(temperature),
        name="train_at_temperature",
    )
    return Pipeline(
        [node], namespace=temperature_namespace(temperature), prefix_datasets_with_namespace=False
    )


def create_pipeline(temperatures: tuple[float, ...] = (), **kwargs) -> Pipeline:
    """One student per temperature (``variants.yml`` sweep_temperatures), then their table and plot;
    no nodes without temperatures."""
    if not temperatures:
        return Pipeline([])
    return Pipeline(
        [
            *(at_temperature(temperature) for temperature in temperatures),
            step(
                tabulate_sweep,
                ["teacher_scores", "student_alone_scores", *map(temperature_dataset, temperatures)],
                ["temperature_sweep_table", "temperature_sweep_plot"],
            ),
        ],
        namespace="temperature_sweep",
        prefix_datasets_with_namespace=False,
    )
