"""Sweeps and searches: independent trainings of one trial function, in this process
(``engine: local``) or on Ray (``engine: ray``), with the same results for the same seeds.

A *trial* maps a configuration to a record ``{"params": {...}, "metrics": {...}, "history": [...]}``
(the shape ``MlflowNestedRunsDataset`` logs as one nested run). A sweep's configuration is one node
of the graph (a variant), run here or as one Ray task; a search draws configurations from Optuna
distributions with Optuna's sampler (alone locally, through ``ray.tune.search.optuna.OptunaSearch``
on Ray Tune) and maximises one metric of the records.
"""

import json
import logging
import tempfile
import threading
import uuid
from collections.abc import Callable
from typing import Any

import optuna

from text_distill.distill.runtimes.ray_runtime import connect
from text_distill.errors import TextDistillError

logger = logging.getLogger(__name__)

Trial = Callable[[dict[str, Any]], dict[str, Any]]
RECORD = "record"  # the Tune metric carrying a trial's whole record, as JSON


def trial_here(
    trial: Trial, config: dict[str, Any], options: dict[str, Any], ray_params: dict[str, Any]
) -> dict[str, Any]:
    """The trial in this process, which must be Kedro's main thread: a trial seeds torch's global
    generator and sets its thread count, so two at once in one process would each change the
    other's draws."""
    if threading.current_thread() is not threading.main_thread():
        raise TextDistillError(
            "temperature_sweep.engine local trains in this process: run it with the default "
            "SequentialRunner, or set engine ray to run trials at once under --runner ThreadRunner"
        )
    return trial(config)


def _run_trial(trial: Trial, config: dict[str, Any]) -> dict[str, Any]:
    # the trial is an argument, not the remote function itself: Ray puts a large argument (the trial
    # closes over the cached logits and vectors) in the object store, but ships a function through
    # its control store, which warns above 10 MB and refuses above 100 MB
    return trial(config)


def trial_on_ray(
    trial: Trial, config: dict[str, Any], options: dict[str, Any], ray_params: dict[str, Any]
) -> dict[str, Any]:
    """The trial as one Ray task (``options.trial_cpus`` CPUs, ``trial_gpus`` GPUs) on the cluster of
    ``ray_params``, waited for: the node's thread waits, so under Kedro's ThreadRunner the trials of
    several nodes run at once, each in a Ray worker process of its own. The trial and what it closes
    over travel through the object store."""
    import ray

    connect(ray_params)
    task = ray.remote(num_cpus=float(options["trial_cpus"]), num_gpus=float(options["trial_gpus"]))
    return ray.get(task(_run_trial).remote(trial, config))


# engine -> (trial, configuration, options, ray params) -> the trial's record
TRIAL_ENGINES: dict[str, Callable[..., dict[str, Any]]] = {"local": trial_here, "ray": trial_on_ray}


def _tune(
    trainable: Callable[..., None],
    options: dict[str, Any],
    ray_params: dict[str, Any],
    param_space: dict[str, Any],
    tune_config: dict[str, Any],
) -> list[dict[str, Any]]:
    """Run Tune trials of ``trainable`` (each ``options.trial_cpus`` CPUs, ``trial_gpus`` GPUs) and
    return the trials' last reports in the order Tune created them (a ``ResultGrid`` keeps it; trial
    ids are random); a failed trial fails the run."""
    from ray import tune

    connect(ray_params)
    resources = {"cpu": float(options["trial_cpus"]), "gpu": float(options["trial_gpus"])}
    # the results only travel back here: a scratch folder unless the cluster needs a shared one
    storage = ray_params["storage_path"] or tempfile.mkdtemp(prefix="ray-tune-")
    tuner = tune.Tuner(
        tune.with_resources(trainable, resources),
        param_space=param_space,
        # a trial's worker process stays for the next trial: torch and the package load once per worker
        tune_config=tune.TuneConfig(reuse_actors=True, **tune_config),
        run_config=tune.RunConfig(name=f"search-{uuid.uuid4().hex[:12]}", storage_path=storage, verbose=0),
    )
    try:
        results = tuner.fit()
        if results.errors:
            raise RuntimeError(f"{len(results.errors)} Ray Tune trials failed") from results.errors[0]
        reports = [result.metrics for result in results]
    finally:
        if not ray_params["storage_path"]:
            import shutil

            shutil.rmtree(storage, ignore_errors=True)
    return reports


def distributions(space: dict[str, dict[str, Any]]) -> dict[str, optuna.distributions.BaseDistribution]:
    """Optuna distributions from the YAML space: ``{low, high, log?, step?}`` (integers when ``low``
    and ``high`` are ints) or ``{choices: [...]}``."""
    made: dict[str, optuna.distributions.BaseDistribution] = {}
    for key, spec in space.items():
        unknown = set(spec) - {"low", "high", "log", "step", "choices"}
        if unknown:
            raise ValueError(f"search space {key}: unknown options {sorted(unknown)}")
        if "choices" in spec:
            made[key] = optuna.distributions.CategoricalDistribution(spec["choices"])
        elif isinstance(spec["low"], int) and isinstance(spec["high"], int):
            made[key] = optuna.distributions.IntDistribution(
                spec["low"], spec["high"], log=bool(spec.get("log")), step=spec.get("step", 1)
            )
        else:
            made[key] = optuna.distributions.FloatDistribution(
                float(spec["low"]), float(spec["high"]), log=bool(spec.get("log")), step=spec.get("step")
            )
    return made


SAMPLERS: dict[str, Callable[[int], optuna.samplers.BaseSampler]] = {
    "tpe": lambda seed: optuna.samplers.TPESampler(seed=seed),
    "random": lambda seed: optuna.samplers.RandomSampler(seed=seed),
}


def _sampler(options: dict[str, Any]) -> optuna.samplers.BaseSampler:
    return SAMPLERS[options["sampler"]](int(options["seed"]))


def _trial_name(number: int) -> str:
    return f"trial_{number:03d}"


def search_local(
    trial: Trial, space: dict[str, dict[str, Any]], metric: str, options: dict[str, Any], *_ray: Any
) -> dict[str, dict[str, Any]]:
    """``options.trials`` configurations drawn by Optuna's sampler in this process, each told its
    record's ``metrics[metric]`` (maximised; the Ray parameters are not read)."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(direction="maximize", sampler=_sampler(options))
    made = distributions(space)
    runs = {}
    for number in range(int(options["trials"])):
        drawn = study.ask(made)
        logger.info("Search trial %d: %s", number, drawn.params)
        record = trial(dict(drawn.params))
        study.tell(drawn, record["metrics"][metric])
        runs[_trial_name(number)] = record
    return runs


def _tune_search_trial(config: dict[str, Any], trial: Trial, metric: str) -> None:
    from ray import tune

    record = trial(config)
    tune.report({metric: record["metrics"][metric], RECORD: json.dumps(record)})


def search_ray(
    trial: Trial,
    space: dict[str, dict[str, Any]],
    metric: str,
    options: dict[str, Any],
    ray_params: dict[str, Any],
) -> dict[str, dict[str, Any]]:
    """The same search as Ray Tune trials, Optuna's sampler driving ``OptunaSearch`` (at most
    ``options.max_concurrent_trials`` at once: a sampler learns only from finished trials)."""
    from ray import tune
    from ray.tune.search import ConcurrencyLimiter
    from ray.tune.search.optuna import OptunaSearch

    searcher = OptunaSearch(space=distributions(space), metric=metric, mode="max", sampler=_sampler(options))
    if options["max_concurrent_trials"]:
        searcher = ConcurrencyLimiter(searcher, max_concurrent=int(options["max_concurrent_trials"]))
    reports = _tune(
        tune.with_parameters(_tune_search_trial, trial=trial, metric=metric),
        options,
        ray_params,
        {},
        {"search_alg": searcher, "num_samples": int(options["trials"])},
    )
    return {_trial_name(number): json.loads(report[RECORD]) for number, report in enumerate(reports)}


# engine -> (trial, space, metric, options, ray params) -> records by trial name
SEARCH_ENGINES: dict[str, Callable[..., dict[str, dict[str, Any]]]] = {
    "local": search_local,
    "ray": search_ray,
}


def flatten(
    nested: dict[str, Any], prefix: str = "", leaf: Callable[[Any], bool] = lambda value: False
) -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a.b": 1}``; a mapping for which ``leaf`` is true stays whole."""
    flat: dict[str, Any] = {}
    for key, value in nested.items():
        if isinstance(value, dict) and value and not leaf(value):
            flat.update(flatten(value, f"{prefix}{key}.", leaf))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def unflatten(flat: dict[str, Any]) -> dict[str, Any]:
    """``{"a.b": 1}`` -> ``{"a": {"b": 1}}``."""
    nested: dict[str, Any] = {}
    for path, value in flat.items():
        *parents, key = path.split(".")
        node = nested
        for parent in parents:
            node = node.setdefault(parent, {})
        node[key] = value
    return nested
