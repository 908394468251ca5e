"""Learning-curve wiring: one namespaced copy of the chain from teacher to evaluation per label budget
(``label_curve.B_1000.teacher.fine_tune_teacher``), fed by the distill run's ingest and segment
outputs, then the curve. Inside a budget every dataset is its own (``label_curve.B_1000.teacher``, in
memory unless the catalog's factories persist it), but for what the chain reads from the distill run."""

from kedro.pipeline import Node, Pipeline

from text_distill.distill.data.splits import hold_out_test
from text_distill.pipelines import bound, step
from text_distill.variants import budget_dataset, budget_namespace

from .nodes import examples_at_budget, record_budget, tabulate_label_curve

# the store's two catalog entries (logits, keys only): each budget gets both, on the same folder
STORE = ("soft_target_store", "soft_target_store_keys", "test_store_keys")
NOT_RERUN = ("teacher.prepare_teacher_base",)
CURVE = "label_curve"  # the distill run's teacher_base is read instead


def budget_chain(budget: int, chain: Pipeline) -> Pipeline:
    """``chain`` at ``budget`` labels: the distill run's examples relabelled, then every stage, in the
    namespace ``label_curve.B_<budget>`` (its datasets too); the chain's other inputs are the distill
    run's, and its summary becomes the budget's nested run ``label_curve_B_<budget>``."""
    relabel = Pipeline(
        [
            Node(
                bound(examples_at_budget, budget=budget),
                ["full_examples", "full_split_report", "params:ingest"],
                ["examples", "split_report"],
                name="examples_at_budget",
            ),
            step(hold_out_test, "examples", ["train_dev_examples", "test_examples", "test_text_hashes"]),
            Node(bound(record_budget, budget=budget), "distill_summary", "budget_run", name="record_budget"),
        ]
    )
    nodes = Pipeline([node for node in chain.nodes if node.name not in NOT_RERUN])
    whole = relabel + nodes
    parameters = {name for name in whole.inputs() if name.startswith("params:")}
    shared = whole.inputs() - parameters - set(STORE) - {"full_examples", "full_split_report"}
    return Pipeline(
        whole,
        namespace=f"{CURVE}.{budget_namespace(budget)}",
        inputs={"full_examples": "examples", "full_split_report": "split_report", **{n: n for n in shared}},
        outputs={"budget_run": budget_dataset(budget)},
        parameters=parameters,  # every budget runs the same settings
    )


def create_pipeline(budgets: tuple[int, ...] = (), chain: Pipeline | None = None, **kwargs) -> Pipeline:
    """The chain (``baselines`` to ``evaluate``) at each of ``budgets`` (``variants.yml``
    label_budgets), then the curve with the last distill run's full-label point; no nodes without
    budgets."""
    if not budgets or chain is None:
        return Pipeline([])
    table = step(
        tabulate_label_curve,
        ["distill_summary", *map(budget_dataset, budgets)],
        ["label_curve", "label_curve_table", "label_curve_plot"],
    )
    return sum(
        (budget_chain(budget, chain) for budget in budgets),
        Pipeline([table], namespace=CURVE, prefix_datasets_with_namespace=False),
    )
