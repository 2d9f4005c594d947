"""The version of the fw-words distribution."""

__version__ = "0.1.0.dev0"
