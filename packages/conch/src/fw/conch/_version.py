"""The version of the fw-conch distribution."""

__version__ = "0.1.0.dev0"
