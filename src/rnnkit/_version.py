"""The single source of rnnkit's version number."""

__version__ = "0.1.0"
