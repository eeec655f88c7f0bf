"""A REPL session: the names in scope, the files loaded, and what each input does.

    session = ReplSession(store, search_path=…, out=sys.stdout, err=sys.stderr)
    session.execute("x = 1 + 1")      # binds x (lazily)
    session.execute("x * 2")          # prints 4
    session.execute(":q")             # returns False: the session is over

The scope is rebuilt from `steps` — every `:l`, `:a` and binding in order, later ones
shadowing earlier ones — so `:r` can replay them in a fresh evaluation context after the
files changed. Every input is evaluated on the deep-stack evaluation thread
(`run_deep`), so Ctrl-C interrupts it and returns here with the session intact; errors
are printed as `ndx eval` prints them and never end the session.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from ndx.cli.build import STDLIB_DIR, collect_derivations
from ndx.cli.main import report_internal_error
from ndx.evaluator.coerce import show_type
from ndx.evaluator.context import EvalContext
from ndx.evaluator.errors import EvalError, EvalTypeError
from ndx.evaluator.session import auto_call, make_auto_args, run_deep
from ndx.evaluator.values import Thunk, force
from ndx.lang.errors import NdxError

from . import docs
from .reader import classify
from .show import show, show_deep

COMMANDS: list[tuple[str, str, str]] = [
    # (name, argument, what it does) — `:?` prints this table.
    (":?", "", "show this list of commands"),
    (":a", "EXPR", "add the attributes of the set EXPR to the scope"),
    (":b", "EXPR", "build the derivation (or image) EXPR and print its output paths"),
    (":doc", "NAME", "show the documentation of a builtin or function"),
    (":l", "FILE", "load FILE and add its attributes to the scope"),
    (":p", "EXPR", "evaluate EXPR completely and print it"),
    (":q", "", "exit the REPL (also Ctrl-D)"),
    (":r", "", "reload every loaded file (bindings are evaluated again)"),
    (":t", "EXPR", "print the type of EXPR"),
]

ALIASES = {":help": ":?", ":add": ":a", ":build": ":b", ":load": ":l", ":print": ":p",
           ":quit": ":q", ":reload": ":r", ":type": ":t"}
"""Long spellings of the commands, as `nix repl` accepts them."""


@dataclass(frozen=True)
class Step:
    """One thing that put names in scope: `kind` is "load" (a file), "add" (`:a EXPR`)
    or "bind" (`name = EXPR`)."""

    kind: str
    text: str
    name: str = ""


class ReplError(NdxError):
    """A REPL command used the wrong way (unknown command, missing argument)."""


class ReplSession:
    """The state of one `ndx repl` and the meaning of each input (see the module
    docstring). `store` is the `StoreIO` (a `DiskStore` for `:b`); `search_path` the
    `-I` and `NDX_PATH` entries (`<ndx>` is always the installed library)."""

    def __init__(self, store: Any, *, search_path: Sequence[tuple[str, str]] = (),
                 auto_args: Sequence[tuple[str, str, str]] = (), show_trace: bool = False,
                 out: TextIO | None = None, err: TextIO | None = None,
                 base_dir: str | None = None, reporter: Any = None) -> None:
        self.store = store
        self.search_path = list(search_path)
        self.auto_arg_specs = list(auto_args)
        self.show_trace = show_trace
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.base_dir = base_dir or os.getcwd()
        self.reporter = reporter
        self.steps: list[Step] = []
        self.scope: dict[str, Any] = {}
        self.ctx = self._new_context()

    # ------------------------------------------------------------------ input

    def execute(self, source: str) -> bool:
        """Run one complete input; False when it asks to quit. Errors are printed."""
        return self._guarded(lambda: self._dispatch(source))

    def load(self, file: str) -> None:
        """`:l file` (the files named on the command line)."""
        self._guarded(lambda: self._load(file))

    def _guarded(self, action: Callable[[], bool]) -> bool:
        """Run `action`, printing any error; True unless it asks to quit."""
        try:
            with self._store_in_use():
                return action()
        except NdxError as error:
            if isinstance(error, EvalError):
                error.show_trace = self.show_trace
            self._error(error.render())
        except KeyboardInterrupt:
            self._error("error: interrupted")
        except Exception as exc:  # noqa: BLE001 - a bug of ours must not end the session
            self._clear_status()
            report_internal_error(exc)
        finally:
            self._clear_status()
        return True

    def _dispatch(self, source: str) -> bool:
        item = classify(source)
        if item.kind == "empty":
            return True
        if item.kind == "bind":
            self._bind(item.name, item.text)
            return True
        if item.kind == "expr":
            self._print(run_deep(lambda: show(self.evaluate(item.text))))
            return True
        command = ALIASES.get(item.command, item.command)
        handler = self._handlers().get(command)
        if handler is None:
            raise ReplError(f"unknown command '{item.command}' (':?' lists the commands)")
        if command in (":?", ":q", ":r"):
            if item.text:
                raise ReplError(f"'{command}' takes no argument")
        elif not item.text:
            argument = next(arg for name, arg, _ in COMMANDS if name == command)
            raise ReplError(f"'{command}' needs an argument: {command} {argument}")
        return handler(item.text)

    def _handlers(self) -> dict[str, Callable[[str], bool]]:
        return {":?": self._help, ":a": self._add, ":b": self._build, ":doc": self._doc,
                ":l": self._load, ":p": self._print_deep, ":q": lambda _: False,
                ":r": self._reload, ":t": self._type}

    # --------------------------------------------------------------- commands

    def _help(self, _text: str) -> bool:
        lines = ["The following commands are available:", ""]
        lines.append(f"  {'<expr>':<14}evaluate and print an expression")
        lines.append(f"  {'<x> = <expr>':<14}bind a name in the session")
        for name, argument, what in COMMANDS:
            lines.append(f"  {(name + ' ' + argument).strip():<14}{what}")
        continuation = ("Input continues on the next line while a bracket, 'let', string "
                        "or '' string is open.")
        lines += ["", continuation, "Ctrl-C interrupts an evaluation; Ctrl-D exits."]
        self._print("\n".join(lines))
        return True

    def _bind(self, name: str, text: str) -> None:
        """`name = text`: compiled now, evaluated when first used. The binding is
        recursive, as in `let` (`fib = n: … fib (n - 1) …` works); `x = x + 1` is
        therefore infinite recursion, not an update of an earlier `x`."""
        binding: list[Any] = []
        myself = Thunk(lambda _env: binding[0].force(), None)
        self.scope[name] = self.ctx.suspend_string(
            text.strip(), base_dir=self.base_dir, variables={**self.scope, name: myself})
        binding.append(self.scope[name])
        self.steps.append(Step("bind", text, name))

    def _load(self, text: str) -> bool:
        self._apply(Step("load", text))
        return True

    def _add(self, text: str) -> bool:
        self._apply(Step("add", text))
        return True

    def _reload(self, _text: str) -> bool:
        steps, self.steps = self.steps, []
        self.scope = {}
        self.ctx = self._new_context()
        for step in steps:
            try:
                self._apply(step)
            except NdxError as error:
                # A file that no longer loads keeps its place, so the next `:r` after
                # a fix loads it again.
                self.steps.append(step)
                if isinstance(error, EvalError):
                    error.show_trace = self.show_trace
                self._error(error.render())
        return True

    def _type(self, text: str) -> bool:
        self._print(run_deep(lambda: show_type(self.evaluate(text))))
        return True

    def _print_deep(self, text: str) -> bool:
        self._print(run_deep(lambda: show_deep(self.evaluate(text))))
        return True

    def _doc(self, text: str) -> bool:
        spec = docs.builtin_named(text, set(self.scope))
        if spec is not None:
            self._print(docs.describe_builtin(spec))
        else:
            self._print(run_deep(lambda: docs.describe_value(self.evaluate(text),
                                                              text.strip())))
        return True

    def _build(self, text: str) -> bool:
        from ndx.stdlib.build.options import BuildOptions

        found = run_deep(self._derivations_of, text)
        targets = list(dict.fromkeys(drv for drv, _output in found))
        report = self.store.build(targets, BuildOptions(), self.reporter)
        lines: list[str] = []
        for drv in targets:
            lines.append(f"This derivation ({derivation_name(drv)}) produced the following "
                         "outputs:"
                         if len(targets) > 1 else
                         "This derivation produced the following outputs:")
            for output, path in sorted(report.outputs[drv].items()):
                physical = self.store.real_path(path)
                where = f" (at {physical})" if physical != path else ""
                lines.append(f"  {output} -> {path}{where}")
        self._print("\n".join(lines))
        return True

    def _derivations_of(self, text: str) -> list[tuple[str, str]]:
        value = self.evaluate(text)
        found: list[tuple[str, str]] = []
        collect_derivations(value, {}, found, top=True)
        if not found:
            raise EvalTypeError(f"':b' needs a derivation (or a set or list of them), but "
                                f"'{text}' is {show_type(value)}")
        return found

    # ------------------------------------------------------------ evaluation

    def evaluate(self, text: str) -> Any:
        """The value of expression `text` in the session's scope (weak head normal
        form)."""
        return self.ctx.evaluate_string(text, base_dir=self.base_dir, variables=self.scope)

    def names_in_scope(self) -> list[str]:
        """The session's names and the global builtins, for completion."""
        base = [name for name in self.ctx.program.base if not name.startswith("__")]
        return sorted(set(base) | set(self.scope))

    def _apply(self, step: Step) -> None:
        """Run a "load" or "add" step: evaluate the set and add its attributes."""
        if step.kind == "bind":
            self._bind(step.name, step.text)
            return
        attrs = run_deep(self._set_of, step)
        self.scope.update(attrs)
        self.steps.append(step)
        self._print(f"Added {len(attrs)} variable{'s' if len(attrs) != 1 else ''}.")

    def _set_of(self, step: Step) -> dict[str, Any]:
        if step.kind == "load":
            path = step.text
            if path.startswith("<") and path.endswith(">"):
                value = self.evaluate(f"import {path}")
            else:
                path = os.path.join(self.base_dir, os.path.expanduser(path))
                if not os.path.exists(path):
                    raise ReplError(f"cannot load '{step.text}': no such file or directory")
                value = self.ctx.evaluate_file(path)
            value = auto_call(value, make_auto_args(self.ctx, self.auto_arg_specs,
                                                    self.base_dir))
            what = f"the file '{step.text}'"
        else:
            value = self.evaluate(step.text)
            what = f"'{step.text}'"
        value = force(value)
        if type(value) is not dict:
            raise EvalTypeError(f"{what} should evaluate to a set, but it is "
                                f"{show_type(value)}")
        return value

    def _new_context(self) -> EvalContext:
        # `<ndx>` is the installed library, as in `ndx-build` and `ndx eval`.
        return EvalContext(self.store, search_path=self.search_path,
                           fallback_search_path=[("ndx", STDLIB_DIR)])

    def _store_in_use(self) -> Any:
        """The store's GC lock, shared while an input runs (like `ndx-build`), so the
        collector waits for it; between inputs the session's paths are kept alive by the
        store's temporary roots."""
        lock = getattr(self.store, "gc_lock", None)
        if lock is None:
            from contextlib import nullcontext

            return nullcontext()
        return lock.shared()

    # ---------------------------------------------------------------- output

    def _print(self, text: str) -> None:
        self._clear_status()
        self.out.write(text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                       + "\n")
        self.out.flush()

    def _error(self, text: str) -> None:
        self._clear_status()
        self.out.flush()
        self.err.write(text + "\n")
        self.err.flush()

    def _clear_status(self) -> None:
        """Erase the build status line (if shown) before printing under it."""
        if self.reporter is not None:
            self.reporter.close()


def derivation_name(drv_path: str) -> str:
    """`/ndx/store/<hash>-redis-7.0.drv` → `redis-7.0`."""
    return drv_path.rsplit("/", 1)[1].split("-", 1)[1].removesuffix(".drv")
