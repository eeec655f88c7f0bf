"""One evaluation's compiled world: the builtins, the base scope, and the loaded files.

`Program` parses and compiles source text against the base scope (the builtins, which
compile to constants), evaluates files once each (`import`), and keeps parsed ASTs in a
process-wide cache keyed by file identity, so re-importing a library in another
evaluation context skips the parser.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from ..builtins import registry
from ..errors import EvalError
from ..values import Thunk
from . import parse_cache
from .compiler import Compiler
from .scope import Scope

if TYPE_CHECKING:
    from ndx.lang.ast import Expr

    from ..context import EvalContext

# (path, mtime_ns, size) → parsed AST, shared by every context (ASTs are immutable).
_PARSED: dict[tuple[str, int, int], Expr] = {}


def parse_text(text: str, name: str, base_dir: str) -> Expr:
    """Parse expression text (parse errors are `ndx.lang.errors.ParseError`)."""
    from ndx.lang import parse

    return parse(text, name, base_dir)


def parse_file(path: str, host: str | None = None) -> Expr:
    """Parse the file at `path`, through the process-wide cache. `host` is where its
    bytes are when that differs from `path` (a store path in a relocated store)."""
    host = host or path
    try:
        info = os.stat(host)
        key = (path, info.st_mtime_ns, info.st_size)
    except OSError as exc:
        raise EvalError(f"cannot read '{path}': {exc.strerror or exc}") from None
    cached = _PARSED.get(key)
    if cached is not None:
        return cached
    try:
        with open(host, encoding="utf-8") as handle:
            text = handle.read()
    except UnicodeDecodeError:
        from ndx.lang import parse_file as parse_reporting

        parse_reporting(host)  # raises the parser's located "invalid UTF-8" error
        raise
    except OSError as exc:
        raise EvalError(f"cannot read '{path}': {exc.strerror or exc}") from None
    expr = parse_cache.load(path, text)
    if expr is None:
        expr = parse_text(text, path, os.path.dirname(path))
        parse_cache.store(path, text, expr)
    _PARSED[key] = expr
    return expr


def resolve_expr_path(path: str, host: Callable[[str], str] = str) -> str:
    """The file `import path` reads: a directory means its `default.ndx`, else its
    `default.nix`. `host` maps a path to where it is on this machine."""
    if os.path.isdir(host(path)):
        for name in ("default.ndx", "default.nix"):
            candidate = os.path.join(path, name)
            if os.path.exists(host(candidate)):
                return candidate
        return os.path.join(path, "default.ndx")
    return path


class Program:
    """Builtins, base scope and file cache of one `EvalContext`."""

    def __init__(self, ctx: EvalContext) -> None:
        from .. import builtins as _all_builtins  # noqa: F401 - fills the registry

        self.ctx = ctx
        table = registry.instantiate(ctx)
        table["builtins"] = table
        base: dict[str, Any] = {}
        for name, spec in registry.REGISTRY.items():
            base[name if spec.global_ else f"__{name}"] = table[name]
        base["builtins"] = table
        self.builtins = table
        self.base = base
        self.base_scope = Scope.base(base)
        self.compiler = Compiler(ctx)

    def compile(self, expr: Expr, scope: Scope | None = None) -> Any:
        """Compile an expression against the base scope (or `scope`)."""
        return self.compiler.compile(expr, scope or self.base_scope)

    def evaluate_text(self, text: str, name: str, base_dir: str,
                      variables: Mapping[str, Any] | None = None) -> Any:
        """Parse, compile and evaluate text to weak head normal form. `variables` (name
        → value or Thunk) are visible in the text as an extra lexical scope around it,
        shadowing builtins (what a REPL's bindings need)."""
        expr = parse_text(text, name, base_dir)
        if not variables:
            return self.evaluate_expr(expr)
        names = list(variables)
        scope = self.base_scope.child(names)
        return self.evaluate_expr(expr, scope, [None, *(variables[n] for n in names)])

    def evaluate_expr(self, expr: Expr, scope: Scope | None = None,
                      env: Any = None) -> Any:
        """Compile and evaluate an already parsed expression."""
        value = self.compile(expr, scope)(env)
        return value.force() if type(value) is Thunk else value

    def import_file(self, path: str) -> Any:
        """The value of the file at `path`, evaluated once per context. A file that
        imports itself while being evaluated is infinite recursion."""
        path = resolve_expr_path(path, self.ctx.host_path)
        cache = self.ctx.import_cache
        thunk = cache.get(path)
        if thunk is None:
            thunk = Thunk(self._evaluate_file, path)
            cache[path] = thunk
        return thunk.force()

    def _evaluate_file(self, path: str) -> Any:
        return self.evaluate_expr(parse_file(path, self.ctx.host_path(path)))

    def scoped_import(self, scope_attrs: dict[str, Any], path: str) -> Any:
        """`scopedImport attrs path`: the file evaluated with `attrs` as an extra
        lexical scope outside it (shadowing builtins); not cached."""
        path = resolve_expr_path(path, self.ctx.host_path)
        names = list(scope_attrs)
        scope = self.base_scope.child(names)
        env = [None, *(scope_attrs[n] for n in names)]
        return self.evaluate_expr(parse_file(path, self.ctx.host_path(path)), scope, env)
