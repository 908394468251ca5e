"""What every student network shares: it can say how to rebuild itself, so a student is saved as a
directory (``config.json`` + ``model.safetensors``), not a pickle of python objects."""

import functools
import inspect
from typing import Any, ClassVar

from torch import nn

# constructor arguments that are initial values, not shapes: the saved weights carry them
NOT_CONFIG = ("embeddings",)


class ConfiguredNetwork(nn.Module):
    """A network that records its constructor's arguments, so that a saved student
    (``StudentClassifier.save_pretrained``) rebuilds it with ``from_config`` before loading weights.
    Every subclass's ``__init__`` is wrapped to record them (defaults included); a network whose
    arguments are not JSON values overrides ``config`` and ``from_config``."""

    architecture: ClassVar[str]  # its ``StudentKind`` name, recorded in a saved ``config.json``

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "__init__" not in cls.__dict__:
            return
        init = cls.__init__
        signature = inspect.signature(init)

        @functools.wraps(init)
        def recording_init(self: "ConfiguredNetwork", *args: Any, **kw: Any) -> None:
            init(self, *args, **kw)
            bound = signature.bind(self, *args, **kw)
            bound.apply_defaults()
            arguments = list(bound.arguments.items())[1:]  # without self
            self.arguments = {name: value for name, value in arguments if name not in NOT_CONFIG}

        cls.__init__ = recording_init

    def config(self) -> dict[str, Any]:
        return dict(self.arguments)

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "ConfiguredNetwork":
        """The network at its saved shapes, randomly initialised (the weights are loaded after)."""
        return cls(**config)
