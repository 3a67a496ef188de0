"""Core data types shared by every stage."""

from polyret.types.collection import UNKNOWN_LANG, Corpus, Document, Queries, Query
from polyret.types.dataset import Dataset
from polyret.types.ranking import Qrels, Run
from polyret.types.training import Example, TrainingSet

__all__ = [
    "UNKNOWN_LANG",
    "Corpus",
    "Dataset",
    "Document",
    "Example",
    "Qrels",
    "Queries",
    "Query",
    "Run",
    "TrainingSet",
]
