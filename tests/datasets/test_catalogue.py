from __future__ import annotations

import pytest

from polyret.datasets import list_datasets, load
from polyret.errors import UnknownNameError
from polyret.io import write_beir


def test_embedded_collection_is_complete(xquad_r):
    stats = xquad_r.stats()
    assert set(stats["documents_per_lang"]) == {
        "ar",
        "de",
        "en",
        "es",
        "hi",
        "ru",
        "th",
        "tr",
        "zh",
    }
    assert set(stats["queries_per_lang"].values()) == {243}
    for split in xquad_r.splits:
        queries, qrels = xquad_r.split(split)
        assert len(queries) == len(qrels)
        assert all(doc in xquad_r.corpus for rels in qrels.values() for doc in rels)
        # a query's relevant sentence is in the query's language
        assert all(
            xquad_r.corpus[doc].lang == queries[q].lang for q, rels in qrels.items() for doc in rels
        )


def test_license_and_attribution_ship_with_the_data():
    info = next(i for i in list_datasets() if i.name == "xquad-r")
    assert "CC BY-SA 4.0" in (info.path / "LICENSE").read_text()
    assert "lareqa" in (info.path / "README.md").read_text()


def test_a_beir_folder_loads_like_a_name(tmp_path, xquad_r):
    write_beir(xquad_r, tmp_path / "mine")
    assert load(str(tmp_path / "mine")).corpus == xquad_r.corpus


def test_unknown_name_suggests_close_match():
    with pytest.raises(UnknownNameError, match="Did you mean 'xquad-r'"):
        load("xquad_r")
