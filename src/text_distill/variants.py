"""The graph's variants: student and teacher seeds, the teacher's n-gram members and the temperature
sweep's temperatures, each a namespaced pipeline with datasets of its own.

A variant is part of the pipeline graph, so it is read when the pipelines are registered
(``conf/base/variants.yml``, overridden key by key by ``conf/local/variants.yml``), before any run's
``--env`` or ``--params``: a recipe changes what every variant trains, never how many there are.
Each seed then has its own nodes (``student.seed_43.train_distilled_student``,
``evaluate.seed_43.score_student``; ``teacher.seed_7.fine_tune_teacher``) and datasets
(``student_seed_43``, ``teacher_seed_7``, from the dataset factories of ``catalog.yml``); so does each
n-gram member (``teacher.tfidf_char_svm.fit_ngram_teacher``, ``ngram_teacher_tfidf_char_svm``),
each temperature of the sweep (``temperature_sweep.T_4.train_at_temperature``,
``temperature_sweep_T_4``) and each label budget of the learning curve (``label_curve.B_1000.*``, the
whole chain from teacher to evaluation, ``label_curve_B_1000``). Each is cached, rerun alone
(``kedro run --pipelines student,evaluate --namespaces student.seed_43,evaluate.seed_43``) and drawn
as its own box in kedro viz.
"""

from dataclasses import dataclass
from pathlib import Path

from kedro.config import OmegaConfigLoader
from kedro.utils import find_kedro_project

from text_distill.distill.models.baselines import BASELINES
from text_distill.distill.training.recipe import RecipeError, checked

VARIANTS = "variants"
# the config loader's pattern for variants.yml: settings.py registers it too, so a session's
# ``context.config_loader["variants"]`` reads the same file
VARIANTS_PATTERN = {VARIANTS: [f"{VARIANTS}*", f"{VARIANTS}*/**"]}


def temperature_namespace(temperature: float) -> str:
    """The namespace of a sweep temperature's node (``T_4``; ``T_2_5`` for 2.5: Kedro keeps dots for
    namespaces), within the sweep's: ``temperature_sweep.T_4``."""
    return f"T_{temperature:g}".replace(".", "_")


def temperature_dataset(temperature: float) -> str:
    """A sweep temperature's run (``temperature_sweep_T_4``, the catalog's factory)."""
    return f"temperature_sweep_{temperature_namespace(temperature)}"


def budget_namespace(budget: int) -> str:
    """The namespace of a label budget's chain (``B_1000``), within the curve's: ``label_curve.B_1000``."""
    return f"B_{budget}"


def budget_dataset(budget: int, name: str | None = None) -> str:
    """A label budget's run (``label_curve_B_1000``, a nested MLflow run), or its chain's dataset
    ``name`` (``label_curve.B_1000.soft_target_store``: the catalog's factories)."""
    if name is None:
        return f"label_curve_{budget_namespace(budget)}"
    return f"label_curve.{budget_namespace(budget)}.{name}"


@dataclass(frozen=True)
class Variants:
    student_seeds: tuple[int, ...]  # the distilled student and the student-alone again at each
    teacher_seeds: tuple[int, ...]  # one more transformer teacher at each, a member of the ensemble
    ngram_members: tuple[str, ...]  # reference baselines cross-fitted as members of the ensemble
    sweep_temperatures: tuple[float, ...]  # the temperature sweep's: one distilled student at each
    label_budgets: tuple[int, ...]  # the learning curve's: the whole chain again at each

    def __post_init__(self) -> None:
        for key in ("student_seeds", "teacher_seeds", "ngram_members", "sweep_temperatures", "label_budgets"):
            values = getattr(self, key)
            if len(set(values)) != len(values):
                raise RecipeError(f"variants.{key} must be distinct, got {list(values)}")
        unknown = [name for name in self.ngram_members if name not in BASELINES]
        if unknown:
            raise RecipeError(
                f"variants.ngram_members {unknown} are not baselines; choose from {sorted(BASELINES)}"
            )
        temperatures = list(self.sweep_temperatures)
        if any(temperature <= 0 for temperature in temperatures):
            raise RecipeError(f"variants.sweep_temperatures must be above 0, got {temperatures}")
        if len({temperature_namespace(t) for t in temperatures}) != len(temperatures):
            raise RecipeError(f"variants.sweep_temperatures must differ in 6 digits, got {temperatures}")
        if any(budget < 1 for budget in self.label_budgets):
            raise RecipeError(
                f"variants.label_budgets must be train rows >= 1, got {list(self.label_budgets)}"
            )


NONE = Variants(student_seeds=(), teacher_seeds=(), ngram_members=(), sweep_temperatures=(), label_budgets=())


def seed_namespace(seed: int) -> str:
    """The namespace of a seed's nodes (``seed_43``, within the stage's: ``student.seed_43``)."""
    return f"seed_{seed}"


def seed_dataset(model: str, seed: int, kind: str | None = None) -> str:
    """A seed variant's dataset (``student_seed_43``, ``student_seed_43_scores``): no dots, which
    Kedro keeps for datasets inside one stage's namespace."""
    return f"{model}_seed_{seed}" + (f"_{kind}" if kind else "")


def ngram_dataset(member: str, kind: str | None = None) -> str:
    """An n-gram member's dataset (``ngram_teacher_tfidf_char_svm``, ``..._log``)."""
    return f"ngram_teacher_{member}" + (f"_{kind}" if kind else "")


class _VariantsLoader(OmegaConfigLoader):
    """Reads variants.yml (no ``${globals:...}`` there) without taking over the process-wide ``globals``
    resolver: the pipelines are registered after the run's loader is built, and an env-less loader
    bound here would resolve the run's catalog and parameters with base's and local's globals."""

    def _register_globals_resolver(self) -> None:
        pass


def read_variants(conf_source: Path) -> Variants:
    """The variants of ``conf_source`` (a project's ``conf``): base, with local's keys over it."""
    loader = _VariantsLoader(
        conf_source=str(conf_source),
        base_env="base",
        default_run_env="local",
        config_patterns=VARIANTS_PATTERN,
    )
    return checked(Variants, dict(loader[VARIANTS]), VARIANTS)


def registered_variants(project_path: Path | None = None) -> Variants:
    """The variants of the Kedro project at ``project_path`` (default: the one around the working
    directory, where ``kedro`` commands run); none outside a project."""
    project = project_path or find_kedro_project(Path.cwd())
    if project is None:
        return NONE
    return read_variants(Path(project) / "conf")
