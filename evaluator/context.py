"""The evaluation context: everything one evaluation shares.

One `EvalContext` per program run (a CLI invocation, a REPL session, a test). It holds

* `store`: the `StoreIO` to copy sources to and instantiate derivations in, or None for a
  pure evaluation (then `derivation`, `fetch*` and `"${./path}"` raise NotAvailableError);
* `search_path`: the `-I` / `NDX_PATH` entries `<name>` lookups use, as (prefix, path);
* the import cache (each file's value, computed once) and the compiled-file cache;
* the `builtins` set, instantiated from the registry for this context.

Builtins registered with `context=True` receive it as their first argument and use
`require_store`, `copy_path_to_store`, `realise_context`, `host_path` and `import_file`.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TextIO

from .errors import EvalError, NotAvailableError
from .values import PathValue

if TYPE_CHECKING:
    from .io import StoreIO

DEFAULT_STORE_DIR = "/ndx/store"
"""The logical store directory when no store is attached (what `builtins.storeDir` is)."""

DEFAULT_SYSTEM = "x86_64-linux"
"""`builtins.currentSystem` on the machines ndx supports."""


def parse_search_path(text: str) -> list[tuple[str, str]]:
    """Entries of a NIX_PATH-style string: `name=path` or a bare `path`, colon-separated
    (a colon inside a URL's `scheme://` is kept)."""
    entries: list[tuple[str, str]] = []
    for item in _split_colons(text):
        if not item:
            continue
        entries.append(parse_search_path_entry(item))
    return entries


def parse_search_path_entry(item: str) -> tuple[str, str]:
    """One `-I` argument: `name=path` → ("name", "path"); `path` → ("", "path")."""
    prefix, eq, path = item.partition("=")
    if not eq:
        return "", item
    return prefix, path


def _split_colons(text: str) -> list[str]:
    parts: list[str] = []
    current = ""
    i = 0
    while i < len(text):
        c = text[i]
        if c == ":":
            if text.startswith("//", i + 1):
                current += c
            else:
                parts.append(current)
                current = ""
        else:
            current += c
        i += 1
    parts.append(current)
    return parts


class EvalContext:
    """State shared by one evaluation (see the module docstring)."""

    def __init__(self, store: StoreIO | None = None, *,
                 search_path: Iterable[tuple[str, str]] = (),
                 fallback_search_path: Iterable[tuple[str, str]] = (),
                 environ: Mapping[str, str] | None = None,
                 system: str = DEFAULT_SYSTEM,
                 trace_stream: TextIO | None = None) -> None:
        self.store = store
        self.search_path: list[tuple[str, str]] = list(search_path)
        # Entries `<name>` falls back on when the search path has no match, and which
        # `builtins.nixPath` does not list (like Nix's built-in `<nix/…>`): `<ndx>`.
        self.fallback_search_path: list[tuple[str, str]] = list(fallback_search_path)
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.system = system
        self.trace_stream = trace_stream
        # Real path of a file → its value (`import` evaluates each file once).
        self.import_cache: dict[str, Any] = {}
        # Host path → store path of sources already copied (`"${./src}"` copies once).
        self.copied_paths: dict[str, str] = {}
        # .drv path → {output name: store path} for derivations instantiated here.
        self.derivation_outputs: dict[str, Mapping[str, str]] = {}
        from .compiler.program import Program

        self.program = Program(self)
        self.builtins: dict[str, Any] = self.program.builtins

    # ---------------------------------------------------------------- the store

    @property
    def store_dir(self) -> str:
        """The logical store directory (`/ndx/store`)."""
        return self.store.store_dir if self.store is not None else DEFAULT_STORE_DIR

    def require_store(self, what: str) -> StoreIO:
        """The store, or a NotAvailableError saying that `what` needs one."""
        if self.store is None:
            raise NotAvailableError(f"{what} is not available: this evaluation has no store "
                                    "(run it with a store, e.g. through ndx-build)")
        return self.store

    def copy_path_to_store(self, path: str) -> str:
        """Copy the host file or directory `path` into the store (once per evaluation) and
        return its store path, as `"${./src}"` does."""
        cached = self.copied_paths.get(path)
        if cached is not None:
            return cached
        store = self.require_store(f"copying '{path}' to the store")
        if not os.path.lexists(self.host_path(path)):
            raise EvalError(f"getting status of '{path}': No such file or directory")
        from .paths import base_name_of

        if self.is_store_path(path):
            store_path = self.store_path_of(path)
            if path == store_path:
                self.copied_paths[path] = path
                return path
        try:
            result = store.add_path(self.host_path(path), name=base_name_of(path))
        except OSError as exc:
            raise EvalError(f"cannot copy '{path}' to the store: {exc.strerror or exc}") \
                from None
        self.copied_paths[path] = result
        return result

    def is_store_path(self, path: str) -> bool:
        """Whether `path` lies inside the store directory."""
        return path.startswith(self.store_dir + "/")

    def store_path_of(self, path: str) -> str:
        """The store path (`/ndx/store/<hash>-<name>`) `path` lies in."""
        rest = path[len(self.store_dir) + 1:]
        return f"{self.store_dir}/{rest.split('/', 1)[0]}"

    def host_path(self, path: str) -> str:
        """Where the bytes of `path` are on this machine: store paths are mapped through
        the store (which may live elsewhere), other paths are returned as they are."""
        if self.store is not None and self.is_store_path(path):
            return self.store.real_path(path)
        return path

    def realise_context(self, context: Iterable[str]) -> None:
        """Make valid the store paths a string's context refers to, building derivation
        outputs if needed (import-from-derivation, `readFile` of a build output)."""
        paths: list[str] = []
        for element in context:
            if element.startswith("!"):
                _, output, drv = element.split("!", 2)
                outputs = self.derivation_outputs.get(drv)
                if outputs is None or output not in outputs:
                    raise EvalError(f"cannot build output '{output}' of '{drv}': the "
                                    "derivation was not instantiated in this evaluation")
                paths.append(outputs[output])
            elif element.startswith("="):
                paths.append(element[1:])
            else:
                paths.append(element)
        if paths:
            self.require_store("reading store paths during evaluation").realise(paths)

    # -------------------------------------------------------------- evaluation

    def trace(self, message: str) -> None:
        """Print a `builtins.trace` message (stderr by default)."""
        stream = self.trace_stream if self.trace_stream is not None else sys.stderr
        stream.write(f"trace: {message}\n")
        stream.flush()

    def import_file(self, path: str) -> Any:
        """The value of the ndx (or Nix) file at `path`, evaluated once per context.
        A directory means its `default.ndx` (or `default.nix`)."""
        return self.program.import_file(path)

    def evaluate_file(self, path: str) -> Any:
        """Evaluate a file to weak head normal form (like `import`), on the deep-stack
        evaluation thread (`session.run_deep`)."""
        from .session import run_deep

        return run_deep(self.import_file, os.path.abspath(path))

    def evaluate_string(self, text: str, *, name: str = "«string»",
                        base_dir: str | None = None,
                        variables: Mapping[str, Any] | None = None) -> Any:
        """Evaluate expression text (`ndx eval -E`) to weak head normal form; relative
        paths in it resolve against `base_dir` (the current directory by default).
        `variables` (name → value or Thunk) are in scope for the text, as a REPL's
        bindings are. Runs on the deep-stack evaluation thread (`session.run_deep`);
        force the result further (`runtime.force_deep`) through `run_deep` too."""
        from .session import run_deep

        return run_deep(self.program.evaluate_text, text, name, base_dir or os.getcwd(),
                        variables)

    def suspend_string(self, text: str, *, name: str = "«string»",
                       base_dir: str | None = None,
                       variables: Mapping[str, Any] | None = None) -> Any:
        """Like `evaluate_string`, but evaluate nothing yet: the text is parsed and
        compiled now (so syntax errors and undefined variables are raised at once) and
        a Thunk is returned that evaluates it when forced (a REPL's `x = expr`)."""
        from .session import run_deep

        return run_deep(self.program.suspend_text, text, name, base_dir or os.getcwd(),
                        variables)

    def lookup_search_path(self, name: str) -> str | None:
        """Where `<name>` points according to the search path, or None."""
        from .imports import find_in_search_path

        return (find_in_search_path(self, self.search_path, name)
                or find_in_search_path(self, self.fallback_search_path, name))

    def make_path(self, path: str) -> PathValue:
        """A path value for the absolute `path`."""
        return PathValue(path)


