"""The interfaces of :mod:`fw.protocols.amp`: who sends boxes, who receives them, who answers."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from zope.interface import Attribute, Interface

if TYPE_CHECKING:
    from fw.internet.defer import Deferred
    from fw.protocols._amp_box import AmpBox
    from fw.python.failure import Failure

__all__ = ["IArgumentType", "IBoxReceiver", "IBoxSender", "IResponderLocator"]


class IArgumentType(Interface):
    """
    A type of :class:`~fw.protocols.amp.Command` argument: turns one named
    value of a box into a Python object and back.
    """

    optional = Attribute("Whether the argument may be left out (``None``).")

    def fromBox(
        name: bytes,
        strings: MutableMapping[bytes, Any],
        objects: MutableMapping[str, Any],
        proto: Any,
    ) -> None:
        """
        Take the value called ``name`` out of ``strings`` (a box's values) and
        put the object it stands for into ``objects``, under the Python name
        of ``name``.
        """

    def toBox(
        name: bytes,
        strings: MutableMapping[bytes, Any],
        objects: MutableMapping[str, Any],
        proto: Any,
    ) -> None:
        """
        Take the object for ``name`` out of ``objects`` and put its wire
        form into ``strings`` (a box being built) under ``name``.
        """


class IBoxSender(Interface):
    """Something that sends boxes: the bottom half of an AMP connection."""

    def sendBox(box: AmpBox) -> None:
        """
        Send ``box``.

        Raises:
            ProtocolSwitched: the connection now speaks another protocol.
        """

    def unhandledError(failure: Failure) -> None:
        """
        An error that no one handled happened while boxes were processed:
        log it and drop the connection.
        """


class IBoxReceiver(Interface):
    """Something that receives boxes: the top half of an AMP connection."""

    def startReceivingBoxes(boxSender: IBoxSender) -> None:
        """The connection is up; ``boxSender`` sends boxes back on it."""

    def ampBoxReceived(box: AmpBox) -> None:
        """A box arrived."""

    def stopReceivingBoxes(reason: Failure) -> None:
        """No more boxes will arrive or can be sent, for ``reason``."""


class IResponderLocator(Interface):
    """Finds what answers a command, by the command's name."""

    def locateResponder(name: bytes) -> Callable[[AmpBox], Deferred[AmpBox] | AmpBox] | None:
        """
        Return a callable that takes the command's box and returns the
        answer box (or a Deferred of it), or ``None`` if there is none.
        """
