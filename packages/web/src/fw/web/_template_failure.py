"""Tracebacks as HTML: :class:`FailureElement` and :func:`formatFailure`."""

from __future__ import annotations

import linecache
from typing import Any

from fw.python.failure import Failure
from fw.python.reflect import fullyQualifiedName, safe_str
from fw.web._element import Element, renderer
from fw.web._flatten import flattenString
from fw.web._stan import Flattenable, Tag, tags
from fw.web._template_loaders import TagLoader
from fw.web.iweb import IRequest, ITemplateLoader

__all__ = ["FailureElement", "formatFailure"]


def _defaultTemplate() -> Tag:
    return tags.div(class_="error")(
        tags.div(class_="failureSummary")(
            tags.span(class_="failureType", render="type"),
            ": ",
            tags.span(class_="failureMessage", render="value"),
        ),
        tags.div(class_="stackTrace", render="traceback"),
    )


class FailureElement(Element):
    """An element that shows a :class:`~fw.python.failure.Failure`: its type, message and frames.

    Everything it shows is text in the page, so an exception message
    holding markup is shown, never interpreted.

    Render methods: ``type`` (the exception's qualified class name),
    ``value`` (its message) and ``traceback`` (one ``div class="frame"`` per
    frame, with the file, line, function and source line).

    Args:
        failure: the failure to show.
        loader: a template using those render methods; by default a plain one.
    """

    def __init__(self, failure: Failure, loader: ITemplateLoader | None = None) -> None:
        super().__init__(TagLoader(_defaultTemplate()) if loader is None else loader)
        self.failure = failure

    @renderer
    def type(self, request: IRequest | None, tag: Tag) -> Flattenable:
        """The exception's class, fully qualified."""
        return tag(fullyQualifiedName(self.failure.type))

    @renderer
    def value(self, request: IRequest | None, tag: Tag) -> Flattenable:
        """The exception's message."""
        return tag(safe_str(self.failure.value))

    @renderer
    def traceback(self, request: IRequest | None, tag: Tag) -> Flattenable:
        """The frames, outermost first."""
        frames: list[Any] = []
        for function, filename, lineNumber, _, _ in self.failure.frames:
            source = linecache.getline(filename, lineNumber).strip()
            frames.append(
                tags.div(class_="frame")(
                    tags.div(class_="location")(
                        tags.span(class_="filename")(filename),
                        ":",
                        tags.span(class_="lineNumber")(str(lineNumber)),
                        " in ",
                        tags.span(class_="function")(function),
                    ),
                    tags.pre(class_="source")(source) if source else "",
                )
            )
        return tag(frames)


def formatFailure(myFailure: Failure) -> bytes:
    """Return ``myFailure`` as an HTML fragment (see :class:`FailureElement`).

    The result is ASCII: other characters are character references.
    """
    results: list[Any] = []
    flattenString(None, FailureElement(myFailure)).addBoth(results.append)
    result = results[0]
    if isinstance(result, Failure):
        result.raiseException()
    assert isinstance(result, bytes)
    return result.decode("utf-8").encode("ascii", "xmlcharrefreplace")
