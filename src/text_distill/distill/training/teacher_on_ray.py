"""Teacher fine-tuning on Ray Train: ``run_trainer`` (the local path's code) in every worker of a
``TorchTrainer``, with DDP over gloo on CPUs or NCCL on GPUs.

The global batch stays ``teacher.batch_size``: each of the N workers takes ``batch_size / N`` rows a
step, and DDP averages their gradients, so a step is the local path's step spread over N processes.
Rank 0 sends the trained weights and the log back as a Ray Train checkpoint (Ray Train records a
report's metrics only with a checkpoint).
"""

import json
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from text_distill.distill.models.teacher import TeacherClassifier
from text_distill.distill.runtimes.ray_runtime import connect
from text_distill.distill.training.teacher_trainer import (
    TrainerOutcome,
    bf16_on,
    remove_tree,
    run_trainer,
    teacher_trainer,
    training_arguments,
    unwrapped,
)

WEIGHTS, OUTCOME = "teacher.pt", "outcome.json"


def use_gpu(setting: bool | str) -> bool:
    """``teacher.ray_use_gpu``: ``auto`` -> whether the cluster has a GPU (the driver may have none
    while its workers do); true or false as given."""
    import ray

    if setting == "auto":
        return ray.cluster_resources().get("GPU", 0) >= 1
    return setting


def train_loop(config: dict[str, Any]) -> None:
    """One Ray Train worker: the teacher, rows and options from the object store, ``run_trainer``
    inside the process group Ray set up, then rank 0 reports the weights."""
    import ray
    import ray.train

    params = config["params"]
    torch.set_num_threads(int(config["threads"]))
    teacher, train, dev = (ray.get(config[key]) for key in ("teacher", "train", "dev"))
    device = "cuda" if config["use_gpu"] else "cpu"
    context = ray.train.get_context()
    # a fresh path per run, the same on every node (save_on_each_node): workers reload the best
    # epoch from their own node's copy
    output_dir = config["output_dir"]
    arguments = training_arguments(params, output_dir, device, bf16_on(device, params), config["batch"])
    groups, patience = params["length_group_batches"], params["early_stopping_patience"]
    outcome = run_trainer(teacher_trainer(teacher, train, dev, arguments, groups, patience))
    torch.distributed.barrier()  # every worker has reloaded the best epoch before the files go
    if context.get_local_rank() == 0:
        remove_tree(output_dir)
    metrics = {"dev_macro_f1": float(outcome.best["eval_macro_f1"])}
    if context.get_world_rank() != 0:
        ray.train.report(metrics, checkpoint=None)
        return
    with tempfile.TemporaryDirectory(prefix="teacher-ray-checkpoint-") as directory:
        torch.save(unwrapped(teacher).state_dict(), Path(directory) / WEIGHTS)
        (Path(directory) / OUTCOME).write_text(
            json.dumps({"history": outcome.history, "best": outcome.best, "device": device})
        )
        ray.train.report(metrics, checkpoint=ray.train.Checkpoint.from_directory(directory))


def fine_tune_on_ray(
    teacher: TeacherClassifier,
    train: pd.DataFrame,
    dev: pd.DataFrame,
    params: dict[str, Any],
    ray_params: dict[str, Any],
) -> tuple[TeacherClassifier, TrainerOutcome, str]:
    """Fine-tune ``teacher`` on ``teacher.ray_workers`` workers (each ``ray_cpus_per_worker`` CPUs,
    and one GPU with ``ray_use_gpu``) and load the result into it; the teacher, outcome, device."""
    import ray
    from ray.train import RunConfig, ScalingConfig
    from ray.train.torch import TorchConfig, TorchTrainer

    connect(ray_params)
    workers = int(params["ray_workers"])  # teacher.batch_size splits evenly over them (TeacherConfig)
    gpu = use_gpu(params["ray_use_gpu"])
    cpus = float(params["ray_cpus_per_worker"])
    run = f"teacher-{uuid.uuid4().hex[:12]}"
    # Ray Train's checkpoint only carries the weights back: a scratch folder unless the cluster needs
    # a shared one (ray.storage_path)
    storage = ray_params["storage_path"] or tempfile.mkdtemp(prefix="ray-train-")
    trainer = TorchTrainer(
        train_loop,
        train_loop_config={
            "teacher": ray.put(teacher),
            "train": ray.put(train),
            "dev": ray.put(dev),
            "params": params,
            "batch": int(params["batch_size"]) // workers,
            "threads": max(1, int(cpus)),
            "use_gpu": gpu,
            "output_dir": str(Path(tempfile.gettempdir()) / run),
        },
        scaling_config=ScalingConfig(
            num_workers=workers,
            use_gpu=gpu,
            resources_per_worker={"CPU": cpus, **({"GPU": 1} if gpu else {})},
        ),
        torch_config=TorchConfig(backend="nccl" if gpu else "gloo"),
        run_config=RunConfig(name=run, storage_path=storage),
    )
    result = trainer.fit()
    try:
        with result.checkpoint.as_directory() as directory:
            state = torch.load(Path(directory) / WEIGHTS, map_location="cpu")
            record = json.loads((Path(directory) / OUTCOME).read_text())
    finally:
        if not ray_params["storage_path"]:
            remove_tree(storage)
    teacher.load_state_dict(state)
    return teacher.to("cpu").eval(), TrainerOutcome(record["history"], record["best"]), record["device"]
