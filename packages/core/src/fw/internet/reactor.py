"""
The global reactor.

Importing this module installs the platform's default reactor unless one is
installed already, and replaces the module with the reactor itself, so that
``from fw.internet import reactor`` gives the reactor object.
"""

import sys

del sys.modules["fw.internet.reactor"]
from fw.internet import default  # noqa: E402

default.install()
