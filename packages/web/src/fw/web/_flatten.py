"""Flattening: turn a template tree into escaped UTF-8 bytes.

The flattener walks the tree with an explicit stack of frames (each an
iterator over the objects still to write, with the context they are written
in), so trees of any depth flatten without recursion.  Text is collected as
``str`` pieces and encoded in large chunks; nothing asynchronous is created
unless the tree holds a Deferred or a coroutine, so a tree with none
flattens in one synchronous pass.

The escaping rules:

- text: ``&``, ``<`` and ``>`` become entity references, and a carriage
  return becomes ``&#13;`` (an XML parser would otherwise read it as a line
  feed);
- attribute values: as text, and also ``"``, tab, line feed and carriage
  return (which XML parsers would normalise to spaces); everything inside an
  attribute value, tags included, is written as escaped text;
- comments: ``--`` becomes ``- -`` and ``>`` becomes ``&gt;``, and a space
  follows a final ``-``, so the comment cannot end early;
- CDATA sections: ``]]>`` is split across two sections, and a carriage
  return is written as ``&#13;`` between two sections.
"""

from __future__ import annotations

import traceback
from collections.abc import AsyncIterator, Callable, Coroutine, Generator, Iterator
from types import CoroutineType, GeneratorType
from typing import Any

from fw.internet.defer import Deferred, succeed
from fw.python.failure import Failure
from fw.web._element import Element
from fw.web._stan import CDATA, CharRef, Comment, Flattenable, Tag, slot
from fw.web.error import FlattenerError, UnfilledSlot, UnsupportedType
from fw.web.iweb import IRenderable, IRequest

__all__ = [
    "BUFFER_PIECES",
    "escapeForAttribute",
    "escapeForCDATA",
    "escapeForComment",
    "escapeForContent",
    "flatten",
    "flattenString",
]

#: Output is handed to ``write`` once this many pieces are waiting (and
#: whenever the flattener waits for a Deferred, and at the end): a piece is
#: one tag or one text, so a chunk is typically some tens of kilobytes.
BUFFER_PIECES = 2048

#: Elements that HTML defines as empty; written ``<br />`` when they have no children.
VOID_ELEMENTS = frozenset(
    [
        "area",
        "base",
        "br",
        "col",
        "command",
        "embed",
        "hr",
        "img",
        "input",
        "keygen",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "basefont",
        "frame",
        "isindex",
    ]
)


def escapeForContent(text: str) -> str:
    """Escape ``text`` for an element's content."""
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def escapeForAttribute(text: str) -> str:
    """Escape ``text`` for a double-quoted attribute value."""
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", "&#10;")
        .replace("\r", "&#13;")
        .replace("\t", "&#9;")
    )


def escapeForComment(text: str) -> str:
    """Make ``text`` safe between ``<!--`` and ``-->``."""
    text = text.replace("--", "- - ").replace(">", "&gt;")
    if text[-1:] == "-":
        text += " "
    return text


def escapeForCDATA(text: str) -> str:
    """Make ``text`` safe between ``<![CDATA[`` and ``]]>``."""
    return text.replace("]]>", "]]]]><![CDATA[>").replace("\r", "]]>&#13;<![CDATA[")


def _escapeBytes(data: bytes, context: _Context) -> bytes:
    if context.escapeText:
        data = data.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
        data = data.replace(b"\r", b"&#13;")
    for _ in range(context.layers):
        data = data.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
        data = data.replace(b'"', b"&quot;").replace(b"\n", b"&#10;").replace(b"\r", b"&#13;")
        data = data.replace(b"\t", b"&#9;")
    return data


def _markupEscaper(layers: int) -> Callable[[str], str]:
    """Escape markup written inside ``layers`` attribute values."""
    if layers == 1:
        return escapeForAttribute

    def escape(markup: str) -> str:
        for _ in range(layers):
            markup = escapeForAttribute(markup)
        return markup

    return escape


def _textEscaper(context: _Context) -> Callable[[str], str]:
    """Escape text written in ``context``."""
    layers = context.layers
    if layers == 0:
        return escapeForContent
    if layers == 1 and not context.escapeText:
        return escapeForAttribute
    escapeMarkup = _markupEscaper(layers)
    if context.escapeText:
        return lambda text: escapeMarkup(escapeForContent(text))
    return escapeMarkup


# Names already checked by _checkName; bounded so that it cannot grow without end.
_goodNames: set[str] = set()
_MAX_GOOD_NAMES = 4096
_BAD_NAME_CHARACTERS = frozenset(" \t\n\r\f\"'<>/=&`\x00")


def _checkName(name: bytes | str) -> str:
    """Return a tag or attribute name as text, refusing one that would break the markup."""
    if isinstance(name, bytes):
        name = name.decode("utf-8")
    if name in _goodNames:
        return name
    if not name or not _BAD_NAME_CHARACTERS.isdisjoint(name) or not name.isprintable():
        raise ValueError(f"invalid tag or attribute name {name!r}")
    if len(_goodNames) < _MAX_GOOD_NAMES:
        _goodNames.add(name)
    return name


class _Markup(str):
    """Markup the flattener wrote itself: raw in content, escaped inside an attribute."""

    __slots__ = ()


class _InAttribute:
    """An attribute value, to be flattened as escaped text."""

    __slots__ = ("value",)

    def __init__(self, value: Flattenable) -> None:
        self.value = value


class _Context:
    """How a frame's objects are written, which slots they see, which element renders them.

    Output inside an attribute value is escaped once more for each attribute
    it is nested in (``layers``).  Text is escaped as content (``escapeText``)
    except directly in an attribute value, where that outer escaping is all
    it needs; a tag nested in an attribute value is written as its markup, so
    the text inside it is escaped as content first, as it would be outside.
    """

    __slots__ = ("escapeText", "layers", "renderFactory", "slotData")

    def __init__(
        self,
        layers: int,
        escapeText: bool,
        slotData: tuple[dict[str, Flattenable], ...],
        renderFactory: Any,
    ) -> None:
        self.layers = layers
        self.escapeText = escapeText
        self.slotData = slotData
        self.renderFactory = renderFactory

    def withSlots(self, slotData: dict[str, Flattenable]) -> _Context:
        return _Context(
            self.layers, self.escapeText, (*self.slotData, slotData), self.renderFactory
        )

    def inAttributeValue(self) -> _Context:
        return _Context(self.layers + 1, False, self.slotData, self.renderFactory)

    def insideTag(self) -> _Context:
        if self.escapeText:
            return self
        return _Context(self.layers, True, self.slotData, self.renderFactory)

    def renderedBy(self, renderFactory: Any) -> _Context:
        return _Context(self.layers, self.escapeText, self.slotData, renderFactory)


_TOP = _Context(0, True, (), None)
_MISSING: Any = object()

# A frame: the iterator of what is left, its context, the markup that closes
# it (or ""), and the object it came from (for FlattenerError).
_Frame = tuple[Iterator[Any], _Context, str, Any]


def _drainAsync(iterator: AsyncIterator[Any]) -> Generator[Coroutine[Any, Any, Any], None, None]:
    """Turn an async iterator into a series of coroutines, one per item."""
    ended: list[bool] = []
    while not ended:
        yield _nextItem(iterator, ended)


async def _nextItem(iterator: AsyncIterator[Any], ended: list[bool]) -> Any:
    try:
        return await iterator.__anext__()
    except StopAsyncIteration:
        ended.append(True)
        return ""


class _Flattener:
    """One flattening of one tree; :meth:`run` works until the end or the next wait."""

    __slots__ = (
        "_chunks",
        "_done",
        "_inline",
        "_inlineResult",
        "_pieces",
        "_request",
        "_stack",
        "_waitingOn",
        "_write",
    )

    def __init__(
        self,
        request: IRequest | None,
        root: Flattenable,
        write: Callable[[bytes], object] | None,
    ) -> None:
        self._request = request
        self._stack: list[_Frame] = [(iter((root,)), _TOP, "", root)]
        self._pieces: list[str] = []
        self._chunks: list[bytes] = []
        self._write = write
        self._done: Deferred[None] | None = None
        self._inline = False
        self._inlineResult: Any = _MISSING
        self._waitingOn: Deferred[Any] | None = None

    # -- output ---------------------------------------------------------------

    def _collect(self) -> None:
        """Move the waiting text into the byte chunks."""
        pieces = self._pieces
        if pieces:
            self._chunks.append("".join(pieces).encode("utf-8"))
            pieces.clear()

    def _flush(self) -> None:
        """Hand everything waiting to ``write``."""
        self._collect()
        chunks = self._chunks
        if chunks and self._write is not None:
            data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
            chunks.clear()
            self._write(data)

    def result(self) -> bytes:
        """All the output, when flattening without ``write``."""
        self._collect()
        return b"".join(self._chunks)

    # -- the walk -------------------------------------------------------------

    def run(self) -> bool:
        """Flatten until done (true) or waiting on a Deferred (false).

        Raises:
            FlattenerError: flattening failed.
        """
        stack = self._stack
        pieces = self._pieces
        append = pieces.append
        request = self._request
        item: Any = None
        try:
            while stack:
                iterator, context, closing, _ = stack[-1]
                layers = context.layers
                if layers:
                    escape = _textEscaper(context)
                    escapeMarkup = _markupEscaper(layers)
                else:
                    escape = escapeForContent
                    escapeMarkup = escapeForAttribute  # (unused: nothing to escape twice)
                for item in iterator:
                    kind = type(item)
                    if kind is str:
                        append(escape(item))
                    elif kind is Tag:
                        if self._pushTag(item, context):
                            break
                    elif kind is _Markup:
                        append(escapeMarkup(item) if layers else item)
                    elif kind is _InAttribute:
                        stack.append(
                            (iter((item.value,)), context.inAttributeValue(), "", item.value)
                        )
                        break
                    elif kind is bytes:
                        self._collect()
                        self._chunks.append(_escapeBytes(item, context))
                    elif kind is list or kind is tuple:
                        stack.append((iter(item), context, "", item))
                        break
                    elif kind is GeneratorType:
                        stack.append((item, context, "", item))
                        break
                    elif kind is slot:
                        stack.append((iter((self._slotValue(item, context),)), context, "", item))
                        break
                    elif kind is CharRef:
                        if not layers:
                            append(f"&#{int(item.ordinal)};")
                        elif context.escapeText:
                            append(escapeMarkup(f"&#{int(item.ordinal)};"))
                        else:
                            # Directly in an attribute value: the character itself.
                            append(escape(chr(item.ordinal)))
                    elif kind is Comment:
                        text = "<!--" + escapeForComment(_text(item.data)) + "-->"
                        append(escapeMarkup(text) if layers else text)
                    elif kind is CDATA:
                        text = "<![CDATA[" + escapeForCDATA(_text(item.data)) + "]]>"
                        append(escapeMarkup(text) if layers else text)
                    elif isinstance(item, Deferred) or kind is CoroutineType:
                        if not self._wait(item, context):
                            return False
                        break
                    elif isinstance(item, Element) or IRenderable.providedBy(item):
                        rendered = item.render(request)
                        stack.append((iter((rendered,)), context.renderedBy(item), "", item))
                        break
                    elif isinstance(item, Coroutine):
                        if not self._wait(item, context):
                            return False
                        break
                    elif isinstance(item, AsyncIterator):
                        stack.append((_drainAsync(item), context, "", item))
                        break
                    elif isinstance(item, Iterator):
                        stack.append((item, context, "", item))
                        break
                    elif isinstance(item, str):
                        # A str subclass (but not our own markup): text.
                        append(escape(str(item)))
                    else:
                        raise UnsupportedType(item)
                    if len(pieces) > BUFFER_PIECES:
                        self._flush()
                else:
                    stack.pop()
                    if closing:
                        append(escapeMarkup(closing) if layers else closing)
                    if len(pieces) > BUFFER_PIECES:
                        self._flush()
                    continue
                item = None
            self._flush()
            return True
        except Exception as e:
            # What was written before the error still goes out, as it would
            # have had the error come later.
            try:
                self._flush()
            except Exception:  # noqa: BLE001 (the first error is the one to report)
                pieces.clear()
                self._chunks.clear()
            roots = _roots(stack, item)
            raise FlattenerError(e, roots, traceback.extract_tb(e.__traceback__)) from e

    def _pushTag(self, tag: Tag, context: _Context) -> bool:
        """Write ``tag``, pushing a frame for what it holds; return whether a frame was pushed."""
        stack = self._stack
        slotData = tag.slotData
        if slotData is not None:
            context = context.withSlots(slotData)
        rendererName = tag.render
        if rendererName is not None:
            renderFactory = context.renderFactory
            if renderFactory is None:
                raise ValueError(
                    f"Tag wants to be rendered by method {rendererName!r} "
                    "but is not contained in any IRenderable"
                )
            clone = tag.clone(False)
            clone.render = None
            method = renderFactory.lookupRenderMethod(rendererName)
            result = method(self._request, clone)
            stack.append((iter((result,)), context, "", tag))
            return True
        name = tag.tagName
        if not name:
            stack.append((iter(tag.children), context, "", tag))
            return True
        name = name if name in _goodNames else _checkName(name)
        layers = context.layers
        opening = "<" + name
        complexAttributes: list[Any] | None = None
        attributes = tag.attributes
        if attributes:
            for key, value in attributes.items():
                key = key if key in _goodNames else _checkName(key)
                if type(value) is str and complexAttributes is None:
                    opening += f' {key}="{escapeForAttribute(value)}"'
                else:
                    if complexAttributes is None:
                        complexAttributes = []
                    complexAttributes.append(_Markup(f' {key}="'))
                    complexAttributes.append(_InAttribute(value))
                    complexAttributes.append(_Markup('"'))
        children = tag.children
        pieces = self._pieces
        if complexAttributes is not None:
            pieces.append(_markupEscaper(layers)(opening) if layers else opening)
            if not children and name in VOID_ELEMENTS:
                complexAttributes.append(_Markup(" />"))
                stack.append((iter(complexAttributes), context, "", tag))
            else:
                complexAttributes.append(_Markup(">"))
                complexAttributes.extend(children)
                stack.append((iter(complexAttributes), context.insideTag(), f"</{name}>", tag))
            return True
        if not children:
            markup = opening + " />" if name in VOID_ELEMENTS else f"{opening}></{name}>"
        elif len(children) == 1 and type(children[0]) is str:
            # The commonest leaf, <td>text</td>, needs no frame.
            markup = f"{opening}>{escapeForContent(children[0])}</{name}>"
        else:
            opening += ">"
            pieces.append(_markupEscaper(layers)(opening) if layers else opening)
            stack.append((iter(children), context.insideTag(), f"</{name}>", tag))
            return True
        pieces.append(_markupEscaper(layers)(markup) if layers else markup)
        return False

    def _slotValue(self, item: slot, context: _Context) -> Any:
        for slotData in reversed(context.slotData):
            if item.name in slotData:
                return slotData[item.name]
        if item.default is not None:
            return item.default
        raise UnfilledSlot(item.name)

    # -- waiting --------------------------------------------------------------

    def _wait(self, item: Deferred[Any] | Coroutine[Any, Any, Any], context: _Context) -> bool:
        """Wait for a Deferred or coroutine; return true if its result is already here."""
        deferred = item if isinstance(item, Deferred) else Deferred.fromCoroutine(item)
        self._inline = True
        self._inlineResult = _MISSING
        try:
            deferred.addBoth(self._fired, context, item)
        finally:
            self._inline = False
        result = self._inlineResult
        if result is _MISSING:
            # Not there yet: hand over what is written so far, and stop here.
            self._waitingOn = deferred
            self._flush()
            return False
        self._inlineResult = _MISSING
        if isinstance(result, Failure):
            result.raiseException()
        self._stack.append((iter((result,)), context, "", item))
        return True

    def _fired(self, result: Any, context: _Context, item: Any) -> None:
        if self._inline:
            self._inlineResult = result
            return
        self._waitingOn = None
        done = self._done
        if done is None or done.called:
            # The flattening failed before it could wait, or it was cancelled:
            # the rest is not wanted.
            return
        if isinstance(result, Failure):
            roots = _roots(self._stack, item)
            tb = traceback.extract_tb(result.getTracebackObject())
            self._finish(Failure(FlattenerError(result.value, roots, tb)))
            return
        self._stack.append((iter((result,)), context, "", item))
        self._resume()

    def _resume(self) -> None:
        try:
            done = self.run()
        except FlattenerError:
            self._finish(Failure())
            return
        if done:
            self._finish(None)

    def _finish(self, result: Failure | None) -> None:
        done = self._done
        if done is None or done.called:
            return
        if result is not None:
            done.errback(result)
        else:
            done.callback(None)

    def start(self) -> Deferred[None]:
        """Flatten as far as possible now; return a Deferred that fires when all is written."""
        try:
            done = self.run()
        except FlattenerError:
            return _failed()
        if done:
            return succeed(None)
        self._done = Deferred(self._cancel)
        return self._done

    def _cancel(self, deferred: Deferred[None]) -> None:
        waitingOn = self._waitingOn
        if waitingOn is not None:
            waitingOn.cancel()


def _roots(stack: list[_Frame], item: Any) -> list[Any]:
    """The objects being flattened, outermost first, for :class:`FlattenerError`."""
    roots: list[Any] = []
    for obj in [*(frame[3] for frame in stack), item]:
        if obj is not None and (not roots or roots[-1] is not obj):
            roots.append(obj)
    return roots


def _failed() -> Deferred[Any]:
    d: Deferred[Any] = Deferred()
    d.errback(Failure())
    return d


def _text(data: str | bytes) -> str:
    return data.decode("utf-8") if isinstance(data, bytes) else data


def flatten(
    request: IRequest | None, root: Flattenable, write: Callable[[bytes], object]
) -> Deferred[None]:
    """Write ``root`` as UTF-8 bytes, escaped, to ``write``.

    ``write`` gets the output in chunks, each handed over when the flattener
    has gathered enough, when it waits for a Deferred or coroutine in the
    tree, and at the end.

    Args:
        request: given to render methods and to :meth:`IRenderable.render`.
        root: what to write.
        write: called with each chunk of output.

    Returns:
        A Deferred that fires with ``None`` once all is written, or fails with
        :class:`~fw.web.template.FlattenerError` (which says where in the
        tree the error happened).  Cancelling it cancels the Deferred being
        waited on.
    """
    return _Flattener(request, root, write).start()


def flattenString(request: IRequest | None, root: Flattenable) -> Deferred[bytes]:
    """Flatten ``root`` to bytes.

    Returns:
        A Deferred that fires with all the output, or fails with
        :class:`~fw.web.template.FlattenerError`.  It has already fired when
        nothing in the tree had to be waited for.
    """
    flattener = _Flattener(request, root, None)
    try:
        done = flattener.run()
    except FlattenerError:
        return _failed()
    if done:
        return succeed(flattener.result())
    flattener._done = Deferred(flattener._cancel)
    return flattener._done.addCallback(lambda _: flattener.result())
