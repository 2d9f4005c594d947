"""The version of the fw-names distribution."""

__version__ = "0.1.0.dev0"
