"""Warnings about the libraries' own code, which a user of the project cannot act on, silenced where
Kedro starts the project (``settings.py``, imported before Kedro loads kedro-mlflow's commands).

Each filter names one warning by its message and by the module it is raised for, so the same warning
raised for any other code (the project's own included) still shows:

- omegaconf 2.4 deprecates ``OmegaConf.register_new_resolver()``, which Kedro 1.7's config loader
  calls three times per command (``globals``, ``runtime_params``, the project's custom resolvers)
  and kedro-mlflow 2.0's hook once more. Kedro 1.7 allows omegaconf 2.3 (``omegaconf>=2.1.1``),
  which has no such warning, but the tested stack pins 2.4.0 (constraints.txt), so the calls are
  silenced instead, and they will show again from any other caller.
- mlflow asks every ``PythonModel`` subclass for type hints on ``predict`` when the class is
  defined. The served model's class is kedro-mlflow's ``KedroPipelineModel`` (its hook logs that
  class and no other), not the project's: that class is defined here, its warnings caught, and every
  one but this shown again, so a ``PythonModel`` of the project's own would still be asked. (A filter
  cannot do it: mlflow's check sets its own ``once`` filter for user warnings, ahead of any other.)
"""

import re
import warnings

RESOLVER_DEPRECATION = r"register_new_resolver\(\) is deprecated"
RESOLVER_CALLERS = r"(kedro\.config\.omegaconf_config|kedro_mlflow\.framework\.hooks\.mlflow_hook)\Z"
# mlflow colours the message with an ANSI escape code
PREDICT_TYPE_HINTS = r"(\x1b\[[0-9;]*m)?Add type hints to the `predict` method"


def ignore_known_warnings() -> None:
    """Install the filter above (idempotent: the warnings module keeps one copy of a filter) and
    define kedro-mlflow's model class without its type-hint warning."""
    warnings.filterwarnings("ignore", RESOLVER_DEPRECATION, UserWarning, RESOLVER_CALLERS)
    with warnings.catch_warnings(record=True) as caught:
        import kedro_mlflow.mlflow  # noqa: F401  (defines KedroPipelineModel, once per process)
    for warning in caught:
        if not re.match(PREDICT_TYPE_HINTS, str(warning.message)):
            warnings.showwarning(warning.message, warning.category, warning.filename, warning.lineno)
