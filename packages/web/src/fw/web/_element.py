"""Elements: objects that render a template, filling it with their render methods."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from zope.interface import implementer

from fw.web.error import MissingRenderMethod, MissingTemplateLoader, UnexposedMethodError
from fw.web.iweb import IRenderable, IRequest, ITemplateLoader

if TYPE_CHECKING:
    from fw.web._stan import Flattenable

__all__ = ["Element", "Expose", "renderer"]

_F = TypeVar("_F", bound=Callable[..., Any])
_NO_DEFAULT: Any = object()


class Expose:
    """A decorator that marks methods as reachable by name through it.

    :data:`renderer` is the one fw.web.template uses: only methods decorated
    with ``@renderer`` can be named by a template's ``t:render``, so a
    template cannot call an element's other methods.

    Args:
        doc: what the exposed methods are for.
    """

    def __init__(self, doc: str | None = None) -> None:
        self.doc = doc

    def __call__(self, *funcObjs: _F) -> _F:
        """Expose each of ``funcObjs``; return the last (so this works as a decorator)."""
        if not funcObjs:
            raise TypeError("expose() takes at least one argument")
        for func in funcObjs:
            exposedThrough: list[Expose] = getattr(func, "exposedThrough", [])
            exposedThrough.append(self)
            func.exposedThrough = exposedThrough  # type: ignore[attr-defined]
        return funcObjs[-1]

    def get(self, instance: object, methodName: str, default: Any = _NO_DEFAULT) -> Any:
        """Return ``instance``'s method ``methodName`` if this exposes it.

        Raises:
            UnexposedMethodError: it does not, and no ``default`` was given.
        """
        method = getattr(instance, methodName, None)
        if self not in getattr(method, "exposedThrough", ()):
            if default is _NO_DEFAULT:
                raise UnexposedMethodError(self, methodName)
            return default
        return method

    def __repr__(self) -> str:
        return f"Expose({self.doc!r})"


#: Decorates the methods of an :class:`Element` that templates may call with
#: ``t:render="name"``; each is called as ``method(request, tag)`` and returns
#: what replaces the tag (or a Deferred, or a coroutine, of it).
renderer = Expose(
    "Methods a template calls by name: each gets the request and the tag, and returns"
    " what replaces the tag."
)


@implementer(IRenderable)
class Element:
    """A template (its :attr:`loader`) and the render methods that fill it in.

    Subclasses set :attr:`loader` (as a class attribute, or by the constructor)
    and decorate their render methods with :data:`renderer`::

        class Greeting(Element):
            loader = XMLString('<p xmlns:t="..." t:render="name" />')

            @renderer
            def name(self, request, tag):
                return tag("Hello, Alice")

    Args:
        loader: the template loader; by default the class's :attr:`loader`.
    """

    #: What :meth:`render` loads; ``None`` is an error when rendered.
    loader: ITemplateLoader | None = None

    def __init__(self, loader: ITemplateLoader | None = None) -> None:
        if loader is not None:
            self.loader = loader

    def lookupRenderMethod(self, name: str) -> Callable[[IRequest | None, Any], Flattenable]:
        """Return the render method ``name``, which must be decorated with :data:`renderer`.

        Raises:
            MissingRenderMethod: there is no such render method.
        """
        method = renderer.get(self, name, None)
        if method is None:
            raise MissingRenderMethod(self, name)
        return method  # type: ignore[no-any-return]

    def render(self, request: IRequest | None) -> Flattenable:
        """Return the template's tree.

        Raises:
            MissingTemplateLoader: this element has no loader.
        """
        loader = self.loader
        if loader is None:
            raise MissingTemplateLoader(self)
        return loader.load()
