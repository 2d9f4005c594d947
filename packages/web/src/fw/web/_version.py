"""The version of the fw-web distribution."""

__version__ = "0.1.0.dev0"
