"""What every student network shares: it can say how to rebuild itself, so a student is saved as a
directory (``config.json`` + ``model.safetensors``), not a pickle of python objects."""

from typing import Any, ClassVar

from torch import nn


class ConfiguredNetwork(nn.Module):
    """A network that records its constructor's arguments (all JSON values), so that a saved student
    (``StudentClassifier.save_pretrained``) rebuilds it with ``from_config`` before loading weights."""

    architecture: ClassVar[str]  # its name in ``students.NETWORKS`` and in a saved ``config.json``

    def remember(self, **arguments: Any) -> None:
        self.arguments = arguments

    def config(self) -> dict[str, Any]:
        return dict(self.arguments)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "ConfiguredNetwork":
        """The network at its saved shapes, randomly initialised (the weights are loaded after)."""
        return cls(**config)
