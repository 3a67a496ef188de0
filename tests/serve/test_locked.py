"""LockedEncoder: the wrapped encoder's embeddings, from several threads, documents cached."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from polyret.encode import Encoder, load_encoder
from polyret.serve import LockedEncoder

pytestmark = pytest.mark.serve


class Counting:
    """The hashing encoder, counting the document texts it is asked to encode."""

    def __init__(self) -> None:
        self.inner = load_encoder("hashing", dim=16)
        self.documents: list[str] = []

    def encode_documents(self, texts, *, show_progress=False):
        self.documents += list(texts)
        return self.inner.encode_documents(texts)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_it_is_an_encoder_with_the_wrapped_identity():
    inner = load_encoder("hashing", dim=16)
    locked = LockedEncoder(inner)
    assert isinstance(locked, Encoder)
    assert (locked.dim, locked.fingerprint, locked.name) == (16, inner.fingerprint, inner.name)


def test_cached_documents_are_not_encoded_again_and_match(xquad_r):
    texts = xquad_r.corpus.texts[:30]
    counting = Counting()
    locked = LockedEncoder(counting, document_cache=25)
    first = locked.encode_documents(texts[:20])
    mixed = locked.encode_documents(texts[10:30])
    assert counting.documents == texts[:20] + texts[20:30]  # only the 10 new texts
    np.testing.assert_array_equal(mixed, counting.inner.encode_documents(texts[10:30]))
    np.testing.assert_array_equal(first[10:], mixed[:10])
    assert locked.cached == 25  # bounded: the 5 least recently used were dropped
    locked.encode_documents(texts[:5])
    assert counting.documents[-5:] == texts[:5]


def test_threads_get_the_same_embeddings_as_one_thread(xquad_r):
    texts = xquad_r.corpus.texts[:64]
    inner = load_encoder("hashing", dim=16)
    locked = LockedEncoder(inner, document_cache=40)
    batches = [texts[i : i + 16] for i in range(0, 64, 4)]
    with ThreadPoolExecutor(8) as pool:
        documents = list(pool.map(locked.encode_documents, batches))
        queries = list(pool.map(locked.encode_queries, batches))
    for batch, doc, query in zip(batches, documents, queries, strict=True):
        np.testing.assert_array_equal(doc, inner.encode_documents(batch))
        np.testing.assert_array_equal(query, inner.encode_queries(batch))
