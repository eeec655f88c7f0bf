"""Compiling strings with interpolation, interpolated paths, `<name>` and `__curPos`.

`"a${e}b"` coerces each `e` as Nix's `"${…}"` does (strings keep their context, paths are
copied to the store, sets use `__toString`/`outPath`; numbers are an error) and unites
the contexts. `./a/${e}` builds a path: parts are coerced without copying, may not refer
to the store, and the result is canonicalised.
"""

from __future__ import annotations

from typing import Any

from ndx.lang import ast as A

from ..coerce import coerce_to_string
from ..errors import EvalError
from ..paths import canonical_path
from ..values import ContextString, PathValue, join_text
from .core import CompilerCore
from .lazy import Code
from .scope import Scope


class StringsCompiler(CompilerCore):
    """Mixin of `Compiler`: interpolation, paths, search paths, `__curPos`."""

    def _interpolation(self, node: A.Interpolation, scope: Scope) -> Code:
        ctx = self.ctx
        parts: list[tuple[str | None, Code | None, Any]] = []
        for part in node.parts:
            if type(part) is A.Str:
                parts.append((part.value, None, None))
            else:
                parts.append((None, self.compile(part, scope), part.span))

        def interpolate(env: Any) -> Any:
            texts: list[str] = []
            context: frozenset[str] | None = None
            for text, code, span in parts:
                if code is None:
                    texts.append(text)  # type: ignore[arg-type]
                    continue
                value = code(env)
                if type(value) is str:
                    texts.append(value)
                    continue
                try:
                    value = coerce_to_string(value, ctx, what="an interpolated expression")
                except EvalError as error:
                    raise error.at(span) from None
                if isinstance(value, ContextString):
                    texts.append(value.text)
                    context = value.context if context is None else context | value.context
                else:
                    texts.append(value)
            if context:
                return ContextString(join_text(texts), context)
            return join_text(texts)

        return interpolate

    def _path_interpolation(self, node: A.PathInterpolation,
                            scope: Scope) -> Code:
        ctx = self.ctx
        prefix = node.parts[0]
        assert type(prefix) is A.Str
        head = prefix.value
        # (code, span) for an interpolated part, (None, text) for a literal one.
        rest: list[tuple[Code | None, Any]] = [
            (self.compile(part, scope), part.span) if not isinstance(part, A.Str)
            else (None, part.value) for part in node.parts[1:]]
        span = node.span

        def path(env: Any) -> Any:
            texts = [head]
            for code, extra in rest:
                if code is None:
                    texts.append(extra)
                    continue
                try:
                    value = coerce_to_string(code(env), ctx, copy_to_store=False,
                                             what="an interpolated path component")
                except EvalError as error:
                    raise error.at(extra) from None
                if type(value) is ContextString:
                    raise EvalError("a string that refers to a store path cannot be "
                                    "appended to a path", span)
                texts.append(value)  # type: ignore[arg-type]
            return PathValue(canonical_path("".join(texts)))

        return path

    def _search_path(self, node: A.SearchPath, scope: Scope) -> Code:
        # `<name>` is `__findFile __nixPath "name"`, looked up like any variable (so a
        # program may rebind `__findFile`, as in Nix).
        span = node.span
        call = A.Apply(A.Apply(A.Var("__findFile", span), A.Var("__nixPath", span), span),
                       A.Str(node.name, span), span)
        return self.compile(call, scope)

    def _curpos(self, node: A.CurPos, scope: Scope) -> Code:
        span = node.span
        file = self.file_name(span)
        position = {"file": file, "line": span.line, "column": span.column}
        return lambda env: dict(position)
