"""The evaluate stage's accuracy-against-throughput plot: every model named, baselines included,
no name over another or over a point, none outside the axes, even where points crowd."""

import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg

from text_distill.distill.evaluation.plots import accuracy_against_speed

# (accuracy, texts per second): a 5,000-label run, where a baseline and student_alone sit together,
# and a full-corpus run, where three models are within 0.002 accuracy and 10% speed of each other
MODELS = ("teacher", "student", "student_alone", "baseline_tfidf_char_svm", "baseline_tfidf_word_svm")
RUNS = {  # each model's (accuracy, texts/s), in MODELS order
    "apart": [(0.8942, 73.2), (0.8839, 27735.6), (0.8326, 29861.2), (0.8356, 25862.1), (0.7834, 37642.3)],
    "crowded": [(0.9331, 80.0), (0.9191, 3700.0), (0.9176, 3900.0), (0.9185, 3600.0), (0.9063, 5200.0)],
}


@pytest.mark.parametrize("run", RUNS)
def test_each_model_is_named_once_apart_from_the_others(run):
    points = dict(zip(MODELS, RUNS[run], strict=True))
    figure = accuracy_against_speed(points)
    ax = figure.axes[0]
    renderer = FigureCanvasAgg(figure).get_renderer()
    figure.draw_without_rendering()
    labels = {text.get_text(): text.get_window_extent(renderer) for text in ax.texts}
    assert sorted(labels) == sorted(points) and len(ax.texts) == len(points)
    frame = ax.get_window_extent(renderer)
    boxes = list(labels.items())
    for n, (name, box) in enumerate(boxes):
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, name
        for other, other_box in boxes[n + 1 :]:
            assert not box.overlaps(other_box), (name, other)
    for x, y in ax.transData.transform([(speed, accuracy) for accuracy, speed in points.values()]):
        assert not any(box.contains(x, y) for box in labels.values())
    markers = [collection.get_paths()[0] for collection in ax.collections]
    assert len(markers) == len(points)  # one point each, baselines included
