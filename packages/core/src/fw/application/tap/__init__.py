"""
fw-core's ``fwd`` plugins.

Each is a :class:`~fw.application.service.ServiceMaker` in
:mod:`fw.application.tap.makers`, named in fw-core's ``fw.service_makers``
entry points; its module (imported only when the
plugin is used) defines ``Options`` and ``makeService``:

- ``fwd finger``: a finger server answering from a users file
  (:mod:`fw.application.tap.finger`);
- ``fwd portforward``: forwards connections to another host and port
  (:mod:`fw.application.tap.portforward`);
- ``fwd socks``: a SOCKS 4/4a or 5 proxy (:mod:`fw.application.tap.socks`);
- ``fwd procmon``: runs a program and restarts it when it exits
  (:mod:`fw.application.tap.procmon`).
"""
