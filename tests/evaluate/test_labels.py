"""``run_labels``: short unique names for run files."""

from __future__ import annotations

import pytest

from polyret.errors import InvalidInputError
from polyret.evaluate import run_labels


@pytest.mark.parametrize(
    ("paths", "labels"),
    [
        (["runs/bm25.trec", "runs/dense.run", "e5.trec.gz"], ["bm25", "dense", "e5"]),
        (["runs/a/run.trec", "runs/b/run.trec"], ["a", "b"]),
        # a pipeline's stage folders: the stage key is dropped
        (
            ["r/stages/bm25-1a2b3c4d5e6f/run.trec", "r/stages/hybrid-0123456789ab/run.trec"],
            ["bm25", "hybrid"],
        ),
        (["bm25-1a2b3c4d5e6f.trec", "dense.trec"], ["bm25", "dense"]),
        # a stage's run is named after the stage even when nothing collides
        (["bm25.trec", "r/stages/hybrid-0123456789ab/run.trec"], ["bm25", "hybrid"]),
        # ... and when that collides with a stem, both are named by their parent folders
        (["r/stages/bm25-1a2b3c4d5e6f/run.trec", "runs/bm25.trec"], ["bm25", "runs"]),
        # the same stage in two runs: the folder that differs, then the stage
        (
            [
                "exp1/stages/hybrid-1a2b3c4d5e6f/run.trec",
                "exp2/stages/hybrid-0123456789ab/run.trec",
            ],
            ["exp1/hybrid", "exp2/hybrid"],
        ),
        (["x/exp/run.trec", "y/exp/run.trec", "c.trec"], ["x/exp", "y/exp", "c"]),
        # a folder label that collides with a stem: the paths as given
        (["a.trec", "runs/a/run.trec", "runs/b/run.trec"], ["a.trec", "runs/a/run.trec", "b"]),
    ],
)
def test_labels(paths, labels):
    assert run_labels(paths) == labels


def test_fixed_labels_stay_and_the_rest_avoid_them():
    assert run_labels(["a.trec", "b.trec"], {0: "base"}) == ["base", "b"]
    assert run_labels(["x/a.trec", "y/a.trec"], {1: "a"}) == ["x/a.trec", "a"]


@pytest.mark.parametrize(
    ("paths", "fixed"), [(["a.trec", "a.trec"], None), (["a.trec", "b.trec"], {0: "x", 1: "x"})]
)
def test_repeated_labels_are_refused(paths, fixed):
    with pytest.raises(InvalidInputError, match="label=path"):
        run_labels(paths, fixed)
