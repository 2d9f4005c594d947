"""
Exceptions of fw.web, under Twisted's names.

:class:`Error` carries an HTTP status; raising :class:`UnsupportedMethod`
from ``render`` answers 405 with an ``Allow`` header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fw.web._http_status import RESPONSES

__all__ = [
    "Error",
    "FlattenerError",
    "InfiniteRedirection",
    "MissingRenderMethod",
    "MissingTemplateLoader",
    "PageRedirect",
    "RedirectWithNoLocation",
    "RenderError",
    "SchemeNotSupported",
    "UnexposedMethodError",
    "UnfilledSlot",
    "UnsupportedMethod",
    "UnsupportedType",
]


def _toBytes(value: bytes | str | int | None) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    return str(value).encode("ascii", "replace")


class Error(Exception):
    """
    An HTTP error: a status code with an optional message and response body.

    Args:
        code: The status code (bytes, str or int, as Twisted accepts).
        message: The reason phrase; defaults to the standard one.
        response: A response body.
    """

    def __init__(
        self,
        code: bytes | str | int,
        message: bytes | str | None = None,
        response: bytes | None = None,
    ) -> None:
        status = _toBytes(code)
        assert status is not None
        msg = _toBytes(message)
        if msg is None:
            try:
                msg = RESPONSES.get(int(status))
            except ValueError:
                msg = None
        super().__init__(status, msg, response)
        self.status: bytes = status
        self.message: bytes | None = msg
        self.response: bytes | None = response

    def __str__(self) -> str:
        text = self.status.decode("ascii", "replace")
        if self.message:
            text += " " + self.message.decode("ascii", "replace")
        return text


class PageRedirect(Error):
    """A redirect (3xx) to ``location``."""

    def __init__(
        self,
        code: bytes | str | int,
        message: bytes | str | None = None,
        response: bytes | None = None,
        location: bytes | None = None,
    ) -> None:
        super().__init__(code, message, response)
        if self.message and location:
            self.message = self.message + b" to " + location
        self.location = location


class InfiniteRedirection(Error):
    """A redirect loop was detected."""

    def __init__(
        self,
        code: bytes | str | int,
        message: bytes | str | None = None,
        response: bytes | None = None,
        location: bytes | None = None,
    ) -> None:
        super().__init__(code, message, response)
        self.location = location


class RedirectWithNoLocation(Error):
    """A redirect response had no ``Location`` header."""

    def __init__(self, code: bytes | str | int, message: bytes | str | None, uri: bytes) -> None:
        super().__init__(code, message)
        self.uri = uri


class UnsupportedMethod(Exception):
    """
    The resource does not implement the request method (answered with 405).

    Args:
        allowedMethods: The methods the resource does implement.
    """

    allowedMethods: Sequence[bytes] = ()

    def __init__(self, allowedMethods: Sequence[bytes], *args: Any) -> None:
        super().__init__(allowedMethods, *args)
        self.allowedMethods = allowedMethods
        if not isinstance(allowedMethods, (list, tuple)):
            raise TypeError("allowedMethods must be a list or tuple of methods")


class SchemeNotSupported(Exception):
    """The client was asked for a URL scheme it cannot handle."""


class RenderError(Exception):
    """Base class for errors while rendering a template."""


class MissingRenderMethod(RenderError):
    """A template named a render method its element does not have."""

    def __init__(self, element: Any, renderName: str) -> None:
        super().__init__(element, renderName)
        self.element = element
        self.renderName = renderName

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}: {self.element!r} had no render method named {self.renderName!r}"


class MissingTemplateLoader(RenderError):
    """An element with no loader was rendered."""

    def __init__(self, element: Any) -> None:
        super().__init__(element)
        self.element = element

    def __repr__(self) -> str:
        return f"{type(self).__name__}: {self.element!r} had no loader"


class UnexposedMethodError(Exception):
    """A method not exposed to templates was looked up."""


class UnfilledSlot(Exception):
    """A template slot was rendered without a value."""


class UnsupportedType(Exception):
    """An object of a type the flattener cannot handle was flattened."""


class FlattenerError(Exception):
    """
    An error while flattening a template, with the path of objects that led to it.

    Args:
        exception: The error raised.
        roots: The objects being flattened, outermost first.
        traceback: The traceback entries.
    """

    def __init__(self, exception: BaseException, roots: list[Any], traceback: list[Any]) -> None:
        super().__init__(exception, roots, traceback)
        self._exception = exception
        self._roots = roots
        self._traceback = traceback

    def __repr__(self) -> str:
        return f"Exception while flattening: {self._exception!r} (roots {self._roots!r})"

    __str__ = __repr__
