"""HTTP for fw: servers, clients and the resource tree.

``fw.web.__version__`` is the version of the fw-web distribution.
"""

from fw.web._version import __version__

__all__ = ["__version__"]
