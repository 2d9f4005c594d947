"""The utility layer fw is built on: failures, logging, options, components and paths.

``fw.python.__version__`` is the version of the fw-core distribution.
"""

from fw.python._version import __version__

__all__ = ["__version__"]
