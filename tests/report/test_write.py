"""``write_report`` / ``polyret report`` on a real run directory, and manifest checking."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

import polyret.report
from polyret.cli import app
from polyret.curate.summary import funnel_rows
from polyret.errors import InvalidInputError
from polyret.report import read_manifest, write_report
from polyret.report.svg import grouped_bars, nice_ticks
from polyret.types import TrainingSet


class _Page(HTMLParser):
    """Collects tags, attributes, and the cells of every table."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.tables: list[list[list[str]]] = []
        self._cell: list[str] | None = None
        self._bold = False

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.tables[-1].append([])
        elif tag in ("td", "th") and self.tables:
            self._cell = []
        elif tag == "b" and self._cell is not None:
            self._cell.append("**")

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "b" and self._cell is not None:
            self._cell.append("**")

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@pytest.fixture(scope="module")
def written(run_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("report")
    html_path, md_path = write_report(run_dir, out)
    page = _Page()
    page.feed(html_path.read_text(encoding="utf-8"))
    return html_path, md_path, page


def _table(page: _Page, header_start: list[str]):
    for table in page.tables:
        if table and table[0][: len(header_start)] == header_start:
            return table
    raise AssertionError(f"no table with header {header_start}")


def test_files_are_written_next_to_the_manifest_by_default(run_dir, tmp_path):
    copy = shutil.copytree(run_dir, tmp_path / "run")
    html_path, md_path = write_report(copy)
    assert (html_path, md_path) == (copy / "report.html", copy / "report.md")
    assert html_path.stat().st_mode & 0o777 == 0o644


def test_page_is_self_contained(written):
    html_path, _, page = written
    text = html_path.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    tags = {tag for tag, _ in page.tags}
    assert not tags & {"script", "link", "img", "iframe", "object"}
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)
    assert "@import" not in text and "url(" not in text
    assert ("meta", {"name": "viewport", "content": "width=device-width,initial-scale=1"}) in (
        page.tags
    )


def test_every_section_is_there(written):
    _, _, page = written
    ids = {attrs.get("id") for tag, attrs in page.tags if tag == "section"}
    assert ids == {
        "e0-results",
        "e0-recall",
        "e0-significance",
        "training",
        "funnel",
        "timings",
    }
    # every chart is an accessible inline SVG
    svgs = [attrs for tag, attrs in page.tags if tag == "svg" and attrs.get("role") == "img"]
    assert len(svgs) == 3 + 1 + 9 + 2 + 1 + 1  # bars per metric, recall all + per lang, ...
    assert all(attrs.get("aria-label") for attrs in svgs)


def test_per_language_tables_bold_the_best_and_mark_significance(run_dir, written):
    _, _, page = written
    evaluation = json.loads(
        next(run_dir.glob("stages/evaluate-*/evaluation.json")).read_text(encoding="utf-8")
    )
    systems = ["bm25", "dense-hashing", "hybrid-rrf"]
    tables = [t for t in page.tables if t[0] == ["lang", "queries", *systems]]
    assert len(tables) == len(evaluation["metrics"])
    for metric, table in zip(evaluation["metrics"], tables, strict=True):
        assert [row[0] for row in table[1:]] == [*evaluation["languages"], "all"]
        for row in table[1:]:
            lang, cells = row[0], row[2:]
            values = [
                evaluation["systems"][s]["mean" if lang == "all" else "by_lang"] for s in systems
            ]
            values = [v[metric] if lang == "all" else v[lang][metric] for v in values]
            best = max(values)
            for system, cell, value in zip(systems, cells, values, strict=True):
                assert cell.startswith(f"**{value:.4f}**" if value == best else f"{value:.4f}")
                if system == "bm25":
                    continue
                tests = (
                    evaluation["significance"][system]
                    if lang == "all"
                    else evaluation["significance_by_lang"][system][lang]
                )[metric]
                if tests["significant"]:
                    marker = "▲" if tests["delta"] > 0 else "▼"
                    assert marker in cell and "p" in cell
                else:
                    assert "▲" not in cell and "▼" not in cell


def test_recall_depths_stay_in_numeric_order(run_dir, written):
    # evaluation.json is written with sorted keys, as the pipeline does: "1", "10", "100", "2"
    raw = next(run_dir.glob("stages/evaluate-*/evaluation.json")).read_text(encoding="utf-8")
    assert list(json.loads(raw)["recall_curve"]["bm25"]["all"])[:3] == ["1", "10", "100"]
    _, md_path, page = written
    header = ["system", "R@1", "R@2", "R@5", "R@10", "R@20", "R@50", "R@100"]
    assert _table(page, ["system", "R@1"])[0] == header
    assert "| " + " | ".join(header) + " |" in md_path.read_text(encoding="utf-8")


def test_funnel_matches_funnel_rows(run_dir, written):
    _, _, page = written
    kept = TrainingSet.load(next(run_dir.glob("stages/filter-*")))
    table = _table(page, ["method", "lang", "generated"])
    rows = funnel_rows(kept)
    assert [r[:2] for r in table[1:]] == [[r["method"], r["lang"]] for r in rows]
    for cells, row in zip(table[1:], rows, strict=True):
        assert cells[2:5] == [str(row["generated"]), str(row["length"]), str(row["dedup"])]
    assert sum(row["dedup"] for row in rows) == len(kept)
    # the generate stage feeds the filter stage: only the filter's (complete) funnel is shown
    assert sum(t[0][:3] == ["method", "lang", "generated"] for t in page.tables) == 1


def test_training_curves_and_timings(run_dir, written):
    html_path, _, page = written
    text = html_path.read_text(encoding="utf-8")
    assert "train: loss vs step" in text and "train: dev metrics vs step" in text
    summary = _table(page, ["series", "points", "first"])
    series = {row[0]: row[1:] for row in summary[1:]}
    assert series["training loss"][0] == "30" and series["dev loss"][0] == "6"
    assert {"ndcg@10", "ndcg@10_de", "ndcg@10_zh", "ndcg@10_ar"} <= set(series)
    assert not {"runtime", "samples_per_second", "steps_per_second"} & set(series)
    manifest = read_manifest(run_dir)
    timings = _table(page, ["stage", "type", "inputs", "seconds", "status"])
    assert [row[0] for row in timings[1:]] == [s.name for s in manifest.stages]
    assert [row[-1] for row in timings[1:]] == [
        "reused" if s.reused else "computed" for s in manifest.stages
    ]


def test_markdown_has_the_same_tables(run_dir, written):
    _, md_path, _ = written
    text = md_path.read_text(encoding="utf-8")
    for heading in (
        "## Retrieval results",
        "### ndcg@10 per language",
        "## Recall@k",
        "## Significance vs bm25",
        "## Training curves",
        "## Curation funnel",
        "## Stage timings",
    ):
        assert heading in text
    assert "| bm25 (baseline) | 378 |" in text
    assert re.search(r"\| zh \| 42 \| \*\*0\.\d{4}\*\* \|", text)  # bold best in the row
    assert "▼ (p=" in text


def test_cli_writes_the_report(run_dir, tmp_path):
    result = CliRunner().invoke(
        app, ["report", str(run_dir), "--out", str(tmp_path)], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").is_file() and (tmp_path / "report.md").is_file()
    assert "report.html" in result.output


def test_missing_stage_output_becomes_a_note(run_dir, tmp_path):
    copy = shutil.copytree(run_dir, tmp_path / "run")
    shutil.rmtree(next(copy.glob("stages/train-*")))
    html_path, md_path = write_report(copy)
    assert "stage train (train-bi-encoder): output not readable" in md_path.read_text()
    assert 'id="notes"' in html_path.read_text() and 'id="training"' not in html_path.read_text()


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda m: m.update(format=2), "unsupported manifest format 2"),
        (lambda m: m["stages"][0].pop("key"), "'key' is missing"),
        (lambda m: m["stages"][1].update(seconds="3"), "'seconds' is missing or not a number"),
        (lambda m: m["stages"][1].update(reused="yes"), "'reused' is missing or not bool"),
        (lambda m: m.update(stages={}), "'stages' must be a list"),
    ],
)
def test_bad_manifests_are_refused_with_the_field(run_dir, tmp_path, edit, match):
    manifest = json.loads((run_dir / "manifest.json").read_text())
    edit(manifest)
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(InvalidInputError, match=match):
        write_report(tmp_path)


def test_not_a_run_dir(tmp_path):
    with pytest.raises(InvalidInputError, match=r"manifest\.json is missing"):
        write_report(tmp_path)
    (tmp_path / "manifest.json").write_text("{nope")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        read_manifest(tmp_path)


def test_manifest_paths_resolve_against_the_run_dir(run_dir):
    manifest = read_manifest(run_dir)
    assert manifest.name == "xquad-r-demo" and len(manifest.stages) == 8
    assert all(s.path == run_dir / s.dir and s.path.is_dir() for s in manifest.stages)
    assert all(re.fullmatch(r"stages/[a-z0-9-]+-[0-9a-f]{12}", s.dir) for s in manifest.stages)


def test_nice_ticks_cover_the_range():
    for low, high in [(0.0, 0.83), (0.0, 512.3), (0.35, 2.3), (0.0, 1.0), (3.0, 3.0)]:
        ticks = nice_ticks(low, high)
        assert ticks[0] <= low and ticks[-1] >= high and ticks == sorted(ticks)
        assert 2 <= len(ticks) <= 12


def test_bars_are_proportional_and_names_escaped():
    figure = grouped_bars(["de", "<zh>"], {"a&b": [0.25, 0.5]}, caption="c", y_max=1.0)
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', figure)]
    assert heights[1] == pytest.approx(2 * heights[0], abs=0.15)
    assert "&lt;zh&gt;" in figure and "a&amp;b" in figure and "<zh>" not in figure


def test_public_api():
    names = list(polyret.report.__all__)
    constants = [n for n in names if n.isupper()]
    rest = sorted(set(names) - set(constants), key=lambda n: (n[0].islower(), n))
    assert names == constants + rest
    assert all(hasattr(polyret.report, n) for n in names)


def test_example_screenshot_is_small():
    path = Path(__file__).resolve().parents[2] / "docs" / "report-example.png"
    assert path.is_file() and path.stat().st_size < 300_000


def test_a_run_with_only_timings_and_one_system(tmp_path):
    from polyret.evaluate import EvaluationConfig
    from polyret.report import summarize
    from tests.report.run_dir import stage_entry

    stages = [
        stage_entry("bm25", "retrieve", [], 2.5, False),
        stage_entry("evaluate", "evaluate", ["bm25"], 0.3, True),
    ]
    evaluation = summarize(
        {"bm25": {"q1": {"d1": 2.0, "d2": 1.0}, "q2": {"d2": 1.0}}},
        {"q1": {"d1": 1}, "q2": {"d1": 1}},
        {"q1": "sw", "q2": "fi"},
        EvaluationConfig(metrics=["mrr@10"], baseline="bm25"),
    )
    folder = tmp_path / stages[1]["dir"]
    folder.mkdir(parents=True)
    (folder / "evaluation.json").write_text(json.dumps(evaluation))
    manifest = {"format": 1, "name": "tiny <run>", "config": {}, "stages": stages}
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    html_path, md_path = write_report(tmp_path)
    text = html_path.read_text()
    assert "tiny &lt;run&gt;" in text and "<run>" not in text
    assert 'id="e0-significance"' not in text and 'id="training"' not in text
    assert "| fi | 1 | **0.0000** |" in md_path.read_text()
    assert "| sw | 1 | **1.0000** |" in md_path.read_text()
