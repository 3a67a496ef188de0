"""The release, in the lowest layer so that writers of saved folders can record it."""

__version__ = "0.3.0"
