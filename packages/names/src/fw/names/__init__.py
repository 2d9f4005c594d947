"""DNS for fw: wire format, resolvers and servers.

``fw.names.__version__`` is the version of the fw-names distribution.
"""

from fw.names._version import __version__

__all__ = ["__version__"]
