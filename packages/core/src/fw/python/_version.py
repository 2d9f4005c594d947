"""The version of the fw-core distribution."""

__version__ = "0.1.0.dev0"
