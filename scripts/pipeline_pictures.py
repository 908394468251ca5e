"""The README's pipeline pictures, drawn from the registered pipelines themselves: ``distill`` with
each stage collapsed into one box (kedro viz's modular-pipeline view), and the ``teacher`` stage
expanded into its nodes. No browser and no server: the graph is read from
``text_distill.pipeline_registry.register_pipelines()``, laid out in layers here and drawn with
matplotlib, so a picture can only be as old as its last ``make pictures``.

Beside each picture it writes its source, ``<picture>.json``: the pipeline, the stages, nodes and
datasets drawn. tests/test_pictures.py reads it and fails when a picture shows a dataset that neither
the catalog nor the registered pipelines have any more. With ``--run-plots`` it also copies the
evaluate stage's plots of the last run (data/08_reporting) for docs/results.md, each with its source
(dataset, node, version and the run's label budget, rows and accuracies), and refuses those of a
label-budget or smoke run. Run from the project root:

    .venv/bin/python scripts/pipeline_pictures.py                # or: make pictures
    .venv/bin/python scripts/pipeline_pictures.py --run-plots    # or: make pictures RUN_PLOTS=1
"""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import dataclass, field
from graphlib import TopologicalSorter
from io import BytesIO
from pathlib import Path

import matplotlib
import yaml

matplotlib.use("Agg")
from kedro.pipeline import Pipeline  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.font_manager import FontProperties  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402
from matplotlib.path import Path as CurvePath  # noqa: E402
from matplotlib.textpath import TextPath  # noqa: E402
from PIL import Image  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
# picture name -> (registered pipeline, the stage drawn expanded, or None: every stage one box)
PICTURES: dict[str, tuple[str, str | None]] = {
    "pipeline-distill": ("distill", None),
    "pipeline-teacher": ("distill", "teacher"),
}
MADE_BY = "scripts/pipeline_pictures.py"

# sizes in points: the axes run 1 data unit to 1 point, so text and boxes share one scale
DATA_FONT = FontProperties(family="DejaVu Sans", size=8.5)
TASK_FONT = FontProperties(family="DejaVu Sans", size=10, weight="bold")
DATA_HEIGHT, TASK_HEIGHT = 20.0, 26.0
PAD_X = 12.0  # text to the box's side
GAP_X = 12.0  # between neighbours in a layer
DUMMY_WIDTH = 2.0  # a long edge's bend point
BEND_GAP = 4.0  # between two long edges passing a layer side by side
LAYER_GAP = 62.0
MARGIN = 24.0
DPI = 100
# kedro viz's light theme, roughly
BACKGROUND = "#f4f5f7"
TASK_FILL, TASK_EDGE, EXPANDED_FILL = "#ffffff", "#4a5560", "#7fa7b8"
DATA_FILL, DATA_EDGE = "#dde1e5", "#8a949e"
EDGE_COLOUR = "#8f99a3"


@dataclass
class Graph:
    """What a picture draws. Ids are ``task:<name>`` (a node, or a stage collapsed into one box) and
    ``data:<name>``: a stage and a dataset may share a name (``teacher``)."""

    pipeline: str
    expanded: str | None
    labels: dict[str, str] = field(default_factory=dict)
    stages: set[str] = field(default_factory=set)  # collapsed namespaces drawn as one box
    nodes: set[str] = field(default_factory=set)  # Kedro nodes drawn one box each, full names
    faded: set[str] = field(default_factory=set)  # datasets another stage writes (expanded view)
    edges: set[tuple[str, str]] = field(default_factory=set)

    def source(self, picture: str) -> dict:
        """The machine-readable source written beside the picture."""
        return {
            "picture": f"{picture}.png",
            "made_by": MADE_BY,
            "pipeline": self.pipeline,
            "expanded": self.expanded,
            "stages": sorted(self.stages),
            "nodes": sorted(self.nodes),
            "datasets": sorted(i.removeprefix("data:") for i in self.labels if i.startswith("data:")),
        }


def stage_of(namespace: str | None) -> str | None:
    return namespace.split(".")[0] if namespace else None


def is_parameter(dataset: str) -> bool:
    return dataset == "parameters" or dataset.startswith("params:")


def pipeline_graph(pipelines: dict[str, Pipeline], name: str, expanded: str | None) -> Graph:
    """The graph kedro viz shows for ``name``: every stage one box and the datasets that pass between
    stages (or enter and leave the pipeline); with ``expanded``, that stage's nodes (nested variant
    namespaces too) with all their datasets, those from other stages faded. Parameters hidden."""
    graph = Graph(name, expanded)
    pipeline = pipelines[name]
    nodes = [n for n in pipeline.nodes if expanded is None or stage_of(n.namespace) == expanded]
    if not nodes:
        raise SystemExit(f"Error: pipeline {name!r} has no stage {expanded!r}")
    producers: dict[str, set[str]] = {}
    consumers: dict[str, set[str]] = {}
    for node in nodes:
        stage = stage_of(node.namespace)
        if stage is None or stage == expanded:
            box = f"task:{node.name}"
            graph.nodes.add(node.name)
            label = node.name.removeprefix(f"{stage}.") if stage else node.name
        else:
            box = f"task:{stage}"
            graph.stages.add(stage)
            label = stage
        graph.labels[box] = label
        for dataset in node.inputs:
            if not is_parameter(dataset):
                consumers.setdefault(dataset, set()).add(box)
        for dataset in node.outputs:
            producers.setdefault(dataset, set()).add(box)
    written_elsewhere = {d for n in pipeline.nodes if n not in set(nodes) for d in n.outputs}
    for dataset in sorted(producers.keys() | consumers.keys()):
        made, read = producers.get(dataset, set()), consumers.get(dataset, set())
        if made and read and read <= made:
            continue  # written and read inside one box: kedro viz hides it too
        key = f"data:{dataset}"
        graph.labels[key] = dataset
        graph.edges |= {(box, key) for box in made}
        graph.edges |= {(key, box) for box in read - made}  # no edge back into the box that writes it
        if expanded and not made and dataset in written_elsewhere:
            graph.faded.add(key)
    return graph


# ---- layout: layers, crossing reduction, then x by isotonic regression -----------------------------


@dataclass
class Layout:
    x: dict[str, float]
    layer: dict[str, int]
    routes: list[list[str]]  # each edge through its bend points
    width: float
    height: float


def layers_of(ids: list[str], edges: set[tuple[str, str]]) -> dict[str, int]:
    """Longest path from the sources; then each source sits just above its first reader, as kedro
    viz puts a free input beside the step that reads it."""
    before = {i: {a for a, b in edges if b == i} for i in ids}
    layer: dict[str, int] = {}
    for i in TopologicalSorter(before).static_order():
        layer[i] = max((layer[p] + 1 for p in before[i]), default=0)
    for i in ids:
        after = [layer[b] for a, b in edges if a == i]
        if not before[i] and after:
            layer[i] = min(after) - 1
    return layer


def crossings(upper: list[str], lower: list[str], down: dict[str, list[str]]) -> int:
    place = {v: k for k, v in enumerate(lower)}
    pairs = [(k, place[w]) for k, v in enumerate(upper) for w in down[v]]
    return sum(
        1 for a, (u1, l1) in enumerate(pairs) for u2, l2 in pairs[a + 1 :] if (u1 - u2) * (l1 - l2) < 0
    )


def isotonic(values: list[float], weights: list[float]) -> list[float]:
    """The non-decreasing sequence nearest ``values`` in weighted least squares (pool adjacent
    violators)."""
    blocks: list[list[float]] = []  # [mean, weight, count]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([value, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            mean, w, n = blocks.pop()
            before_mean, before_w, before_n = blocks[-1]
            total = before_w + w
            blocks[-1] = [(before_mean * before_w + mean * w) / total, total, before_n + n]
    return [mean for mean, _, n in blocks for _ in range(int(n))]


def ordered_rows(
    layer: dict[str, int], up: dict[str, list[str]], down: dict[str, list[str]]
) -> list[list[str]]:
    """Each layer's order, with few edge crossings: depth-first from the sources to start (what one
    node reads and writes starts side by side), then barycentre sweeps down and up, each followed by
    swapping neighbours while that removes crossings; the best order seen wins."""
    depth = max(layer.values()) + 1
    rows: list[list[str]] = [[] for _ in range(depth)]
    seen: set[str] = set()

    def visit(v: str) -> None:
        if v not in seen:
            seen.add(v)
            rows[layer[v]].append(v)
            for w in down[v]:
                visit(w)

    for v in sorted(layer, key=lambda v: (layer[v], v)):
        visit(v)

    def between(k: int) -> int:
        return crossings(rows[k], rows[k + 1], down) if 0 <= k < depth - 1 else 0

    def total() -> int:
        return sum(between(k) for k in range(depth - 1))

    best, fewest = [list(r) for r in rows], total()
    for sweep in range(32):
        downward = sweep % 2 == 0
        for k in range(1, depth) if downward else range(depth - 2, -1, -1):
            near = rows[k - 1] if downward else rows[k + 1]
            where = {v: n for n, v in enumerate(near)}
            links = up if downward else down
            # a node with no link that way keeps its place, scaled to the other row's length
            here = {v: n * len(near) / len(rows[k]) for n, v in enumerate(rows[k])}
            keys = {
                v: sum(where[u] for u in links[v]) / len(links[v]) if links[v] else here[v] for v in rows[k]
            }
            rows[k].sort(key=keys.__getitem__)
        improved = True
        while improved:
            improved = False
            for k, row in enumerate(rows):
                for n in range(len(row) - 1):
                    now = between(k - 1) + between(k)
                    row[n], row[n + 1] = row[n + 1], row[n]
                    if between(k - 1) + between(k) < now:
                        improved = True
                    else:
                        row[n], row[n + 1] = row[n + 1], row[n]
        if (count := total()) < fewest:
            best, fewest = [list(r) for r in rows], count
    return best


def lay_out(graph: Graph, widths: dict[str, float]) -> Layout:
    ids = list(graph.labels)
    layer = layers_of(ids, graph.edges)
    # an edge across several layers passes a bend point in each, so that crossing reduction and
    # placement route it between the boxes rather than through them; edges from one source share
    # their bend points, one line that branches off where each target is (as kedro viz bundles them)
    down: dict[str, list[str]] = {i: [] for i in ids}
    up: dict[str, list[str]] = {i: [] for i in ids}
    routes = []
    for a, b in sorted(graph.edges):
        route = [a]
        for step in range(layer[a] + 1, layer[b]):
            bend = f"bend:{a}:{step}"
            if bend not in layer:
                layer[bend], widths[bend], down[bend], up[bend] = step, DUMMY_WIDTH, [], []
            route.append(bend)
        route.append(b)
        for u, v in zip(route, route[1:], strict=False):
            if v not in down[u]:
                down[u].append(v)
                up[v].append(u)
        routes.append(route)
    rows = ordered_rows(layer, up, down)
    # x: start packed, then pull each node towards the mean of its neighbours, in order and apart
    x: dict[str, float] = {}
    for row in rows:
        left = -sum(widths[v] + GAP_X for v in row) / 2
        for v in row:
            x[v] = left + widths[v] / 2
            left += widths[v] + GAP_X
    for _ in range(40):
        for row in rows:
            wanted = [
                sum(x[u] for u in up[v] + down[v]) / len(up[v] + down[v]) if up[v] + down[v] else x[v]
                for v in row
            ]
            offsets = [0.0]
            for a, b in zip(row, row[1:], strict=False):
                gap = BEND_GAP if a.startswith("bend:") and b.startswith("bend:") else GAP_X
                offsets.append(offsets[-1] + (widths[a] + widths[b]) / 2 + gap)
            weights = [3.0 if v.startswith("bend:") else 1.0 for v in row]  # long edges straight
            fitted = isotonic([w - o for w, o in zip(wanted, offsets, strict=True)], weights)
            for v, f, o in zip(row, fitted, offsets, strict=True):
                x[v] = f + o
    left = min(x[v] - widths[v] / 2 for v in x)
    right = max(x[v] + widths[v] / 2 for v in x)
    x = {v: p - left + MARGIN for v, p in x.items()}
    height = 2 * MARGIN + 18 + (len(rows) - 1) * LAYER_GAP + TASK_HEIGHT
    return Layout(x, layer, routes, right - left + 2 * MARGIN, height)


# ---- drawing ---------------------------------------------------------------------------------------


def text_width(text: str, font: FontProperties) -> float:
    return TextPath((0, 0), text, prop=font).get_extents().width


def draw(graph: Graph, caption: str) -> Figure:
    widths = {
        i: text_width(label, TASK_FONT if i.startswith("task:") else DATA_FONT) + 2 * PAD_X
        for i, label in graph.labels.items()
    }
    layout = lay_out(graph, widths)
    width = max(layout.width, text_width(caption, DATA_FONT) + 2 * MARGIN)
    figure = Figure(figsize=(width / 72, layout.height / 72), dpi=DPI, facecolor=BACKGROUND)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(-layout.height, 0)
    ax.axis("off")
    top = MARGIN + 18 + TASK_HEIGHT / 2

    def y(i: str) -> float:
        return -(top + layout.layer[i] * LAYER_GAP)

    def half(i: str) -> float:
        if i.startswith("bend:"):
            return 0.0
        return (TASK_HEIGHT if i.startswith("task:") else DATA_HEIGHT) / 2

    ax.text(MARGIN, -MARGIN, caption, fontproperties=DATA_FONT, color="#5a6570", va="top")
    for route in layout.routes:
        faded = route[0] in graph.faded
        points = [(layout.x[route[0]], y(route[0]) - half(route[0]))]
        points += [(layout.x[b], y(b)) for b in route[1:-1]]
        points.append((layout.x[route[-1]], y(route[-1]) + half(route[-1]) + 1))
        vertices, codes = [points[0]], [CurvePath.MOVETO]
        if len(points) == 2:  # an S-curve, leaving and entering the boxes vertically
            (x0, y0), (x1, y1) = points
            vertices += [(x0, (y0 + y1) / 2), (x1, (y0 + y1) / 2), (x1, y1)]
            codes += [CurvePath.CURVE4] * 3
        else:  # a B-spline along the bend points (d3's curveBasis, as kedro viz draws its edges)
            (x0, y0), (x1, y1) = points[0], points[-1]
            leave, enter = (x0, (y0 + points[1][1]) / 2), (x1, (y1 + points[-2][1]) / 2)
            guide = [points[0]] * 3 + [leave, *points[1:-1], enter] + [points[-1]] * 3
            # the last triple is the end point thrice: a segment of no length, no direction for the arrow
            triples = list(zip(guide[1:], guide[2:], guide[3:], strict=False))[:-1]
            for (xb, yb), (xc, yc), (xd, yd) in triples:
                vertices += [
                    ((2 * xb + xc) / 3, (2 * yb + yc) / 3),
                    ((xb + 2 * xc) / 3, (yb + 2 * yc) / 3),
                    ((xb + 4 * xc + xd) / 6, (yb + 4 * yc + yd) / 6),
                ]
                codes += [CurvePath.CURVE4] * 3
        ax.add_patch(
            FancyArrowPatch(
                path=CurvePath(vertices, codes),
                arrowstyle="-|>,head_length=5,head_width=2.5",
                color=EDGE_COLOUR,
                linewidth=0.8,
                linestyle=(0, (3, 2)) if faded else "-",
                alpha=0.5 if faded else 0.9,
                zorder=1,
            )
        )
    for i, label in graph.labels.items():
        task = i.startswith("task:")
        faded = i in graph.faded
        w, h = widths[i], 2 * half(i)
        if task:
            fill = EXPANDED_FILL if graph.expanded and i.removeprefix("task:") in graph.nodes else TASK_FILL
            style, edge = "square,pad=0", TASK_EDGE
        else:
            fill, style, edge = DATA_FILL, f"round,pad=0,rounding_size={h / 2}", DATA_EDGE
        ax.add_patch(
            FancyBboxPatch(
                (layout.x[i] - w / 2, y(i) - h / 2),
                w,
                h,
                boxstyle=style,
                facecolor=fill,
                edgecolor=edge,
                linewidth=0.9,
                linestyle=(0, (3, 2)) if faded else "-",
                alpha=0.5 if faded else 1.0,
                zorder=2,
            )
        )
        ax.text(
            layout.x[i],
            y(i),
            label,
            fontproperties=TASK_FONT if task else DATA_FONT,
            ha="center",
            va="center_baseline",
            color="#1d2329",
            alpha=0.55 if faded else 1.0,
            zorder=3,
        )
    return figure


def save(figure: Figure, target: Path) -> None:
    """A PNG of few colours: the same picture at a third of the bytes, small enough to commit."""
    buffer = BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, facecolor=BACKGROUND)
    Image.open(buffer).convert("RGB").quantize(colors=64).save(target, optimize=True)


def caption_of(graph: Graph) -> str:
    view = (
        f"the {graph.expanded} stage of {graph.pipeline}, expanded (faded: datasets other stages write)"
        if graph.expanded
        else f"{graph.pipeline}: each stage one box, the datasets passed between them"
    )
    return f"{view}; parameters hidden. Drawn from register_pipelines() by {MADE_BY}"


# ---- run plots: the evaluate stage's pictures, copied from a full run --------------------------------

# the catalog datasets docs/results.md shows, all written by one node of one run
RUN_PLOTS = ("accuracy_speed_plot", "confusion_matrices_plot", "reliability_plot", "training_curves_plot")
RUN_PLOTS_NODE = "evaluate.plot_evaluation"
SLICE_ROWS = 10_000  # fewer kept rows than this is a slice (--env smoke keeps 3,000), not a full run


def copy_run_plots(root: Path, out: Path, allow_partial: bool = False) -> list[Path]:
    """Copy the newest version of each run plot from ``root``/data into ``out``, with a source beside
    each (the dataset, node, version and run it came from). Refused unless the versions are one run's
    and that run was a full one (no label budget, not a slice): a budget run's plots are not the
    full run's that docs/results.md describes."""
    catalog = yaml.safe_load((root / "conf" / "base" / "catalog.yml").read_text(encoding="utf-8"))
    newest = {}
    for dataset in RUN_PLOTS:
        folder = root / catalog[dataset]["filepath"]  # versioned: <file>/<version>/<file>
        versions = sorted(v.name for v in folder.glob("*") if (v / folder.name).is_file())
        if not versions:
            raise SystemExit(f"Error: no saved version of {dataset} under {folder}: run `make distill`")
        newest[dataset] = (folder, versions[-1])
    if len({version for _, version in newest.values()}) > 1:
        raise SystemExit(f"Error: the newest plots come from different runs: {newest}")
    summary_file = root / catalog["distill_summary"]["filepath"]
    summary = json.loads(summary_file.read_text(encoding="utf-8"))
    run = {
        "version": next(iter(newest.values()))[1],
        "label_budget": summary["labels"]["label_budget"],
        "rows_kept": summary["rows"]["kept"],
        "accuracy": {name: summary[name]["accuracy"] for name in ("teacher", "student", "student_alone")},
    }
    partial = run["label_budget"] is not None or run["rows_kept"] < SLICE_ROWS
    if partial and not allow_partial:
        raise SystemExit(
            f"Error: the last run was not a full one (label budget {run['label_budget']}, "
            f"{run['rows_kept']:,} rows kept): run `make distill`, or pass --allow-partial"
        )
    out.mkdir(parents=True, exist_ok=True)
    copied = []
    for dataset, (folder, version) in newest.items():
        target = out / folder.name
        shutil.copyfile(folder / version / folder.name, target)
        source = {
            "picture": target.name,
            "made_by": f"{MADE_BY} --run-plots",
            "pipeline": "distill",
            "stages": [],
            "nodes": [RUN_PLOTS_NODE],
            "datasets": [dataset],
            "run": run,
        }
        target.with_suffix(".json").write_text(json.dumps(source, indent=1) + "\n")
        copied.append(target)
    return copied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--only", nargs="+", choices=sorted(PICTURES), help="draw these pictures only")
    parser.add_argument(
        "--run-plots",
        action="store_true",
        help="also copy the last run's evaluation plots (data/08_reporting) for docs/results.md",
    )
    parser.add_argument("--allow-partial", action="store_true", help="copy a label-budget or slice run's")
    args = parser.parse_args()
    from text_distill.pipeline_registry import register_pipelines

    pipelines = register_pipelines()
    args.out.mkdir(parents=True, exist_ok=True)
    for picture in args.only or PICTURES:
        graph = pipeline_graph(pipelines, *PICTURES[picture])
        target = args.out / f"{picture}.png"
        save(draw(graph, caption_of(graph)), target)
        source = args.out / f"{picture}.json"
        source.write_text(json.dumps(graph.source(picture), indent=1, ensure_ascii=False) + "\n")
        print(f"saved {target} ({target.stat().st_size:,} bytes) and {source.name}")
    if args.run_plots:
        for target in copy_run_plots(ROOT, args.out, args.allow_partial):
            print(f"copied {target} ({target.stat().st_size:,} bytes) and {target.with_suffix('.json').name}")


if __name__ == "__main__":
    main()
