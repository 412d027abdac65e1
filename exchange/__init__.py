"""Voices Exchange: SDMX core (formats, validation, storage, provenance)."""

__version__ = "0.1.0"
