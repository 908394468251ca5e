"""One Ray connection per process: a local Ray on this machine, or a running cluster's.

Ray is imported only when an ``engine: ray`` stage asks for it, so the local path never pays for it.
"""

import threading
from typing import Any

_CONNECTING = threading.Lock()  # the nodes of a ThreadRunner run may connect at once


def connect(params: dict[str, Any]) -> None:
    """Join the cluster at ``params.address`` (``auto``: the one ``ray start --head`` made on this
    box; ``ray://host:10001``: a remote one), or with no address start a local Ray limited to
    ``params.num_cpus`` CPUs (null: all). A process already connected stays as it is."""
    import ray

    with _CONNECTING:
        if ray.is_initialized():
            return
        common = {"include_dashboard": False, "configure_logging": False, "log_to_driver": False}
        if params["address"]:
            ray.init(address=params["address"], **common)
        else:
            ray.init(num_cpus=params["num_cpus"], **common)
