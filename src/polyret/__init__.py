"""polyret: multilingual retrieval, from a raw collection to a measured system."""

__version__ = "0.1.0"
