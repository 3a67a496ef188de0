"""Bar charts show small differences: a cut value axis where values are close, printed values."""

from __future__ import annotations

import re

import pytest

from polyret.report import write_report
from polyret.report.svg import CUT_RATIO, bar_axis, grouped_bars


def _bar_tops(figure: str) -> list[float]:
    return [float(y) for y in re.findall(r'<rect x="[\d.]+" y="([\d.]+)"', figure)]


@pytest.mark.parametrize(
    "values",
    [[0.79, 0.85], [0.815, 0.838, 0.825, 0.848], [0.55, 0.92], [0.8, 0.8], [812.0, 790.0]],
)
def test_close_values_cut_the_axis_below_the_smallest(values):
    ticks = bar_axis(values)
    assert min(values) > CUT_RATIO * max(values)
    assert 0 < ticks[0] < min(values) and ticks[-1] >= max(values)
    # the smallest bar keeps at least 5 % of the largest value's height above the cut
    assert min(values) - ticks[0] >= 0.05 * max(values) - 1e-9


@pytest.mark.parametrize(
    ("values", "kwargs"),
    [([0.2, 0.85], {}), ([0.42, 0.85], {}), ([0.79, 0.85], {"zero": True}), ([-0.1, 0.4], {})],
)
def test_spread_values_and_counts_start_at_zero(values, kwargs):
    assert bar_axis(values, **kwargs)[0] == 0.0


def test_a_cut_axis_is_marked_and_shows_the_difference():
    values = {"base": [0.79], "adapted": [0.85]}
    cut = grouped_bars(["el"], values, caption="ndcg@10")
    full = grouped_bars(["el"], values, caption="ndcg@10", zero=True)
    assert 'class="axis-break"' in cut and "axis cut: starts at 0.7" in cut
    assert "(y axis starts at 0.7, not 0)</figcaption>" in cut
    assert 'class="axis-break"' not in full and "starts at" not in full
    # bar heights (from the common bottom edge): the difference is 40 % of the taller bar
    # on the cut axis, 7 % from 0
    for figure, share in ((cut, 0.4), (full, 0.07)):
        bottom = float(re.search(r'<line class="axis"[^>]* y1="([\d.]+)"', figure).group(1))
        base, adapted = (bottom - top for top in _bar_tops(figure))
        assert (adapted - base) / adapted == pytest.approx(share, abs=0.01)


def test_values_and_marks_are_printed_on_the_bars():
    figure = grouped_bars(
        ["el", "vi"],
        {"base": [0.815, 0.825], "adapted": [0.8383, 0.8481]},
        caption="c",
        marks={"adapted": ["▲", ""]},
    )
    printed = re.findall(r'<text class="value"[^>]*rotate\(-90\)[^>]*>([^<]+)</text>', figure)
    assert printed == ["0.815", "0.838", "0.825", "0.848"]
    assert figure.count('class="value sig up"') == 1 and "0.8383▲</title>" in figure
    # every printed value lies inside the viewBox: its room was added above the plot
    tops = [float(y) for y in re.findall(r"translate\([\d.]+ ([\d.]+)\) rotate", figure)]
    assert all(y - 0.62 * 11 * 5 >= 0 for y in tops)


def test_many_narrow_bars_keep_values_in_tooltips_only():
    groups = [f"l{i}" for i in range(12)]
    figure = grouped_bars(groups, {f"s{i}": [0.8] * 12 for i in range(12)}, caption="c")
    assert 'class="value"' not in figure and "<title>s3 · l4: 0.8000</title>" in figure


def test_report_draws_bars_with_the_tables_markers_under_them(wide_run_dir, tmp_path):
    html, _ = write_report(wide_run_dir, tmp_path)
    text = html.read_text(encoding="utf-8")
    results = text[text.index('id="e0-results"') : text.index('id="e0-recall"')]
    sections = results.split("<h3>")[1:]
    assert [s[: s.index("</h3>")] for s in sections] == [
        f"{m} per language" for m in ("ndcg@10", "recall@100", "mrr@10")
    ]
    for section in sections:  # the chart, then its table at full width (not beside it)
        assert section.count("<figure") == section.count("<table") == 1
        assert section.index("</figure>") < section.index("<table")
    assert 'class="grid2"' not in results
    # a ▼ in a table cell is also a ▼ above that system's bar
    for section in sections:
        table_marks = section.count('<span class="sig down"')
        assert section.count('class="value sig down"') == table_marks
    assert sum(s.count('<span class="sig down"') for s in sections) > 0
