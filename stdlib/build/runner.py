"""Building one derivation: lock its outputs, run the builder in a fresh temporary
directory, check and scan what it produced, and register it atomically.

Everything happens under the outputs' locks, so concurrent `ndx-build`s build a
derivation once; the outputs appear in the store only after success, in one database
transaction (see `DiskStore.install`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from collections import deque
from typing import IO, TYPE_CHECKING

from ndx.evaluator.io import FixedOutput
from ndx.stdlib.store.db import Registration
from ndx.stdlib.store.drv import StoreDerivation
from ndx.stdlib.store.encoding import nix_base32
from ndx.stdlib.store.errors import BuildError, HashMismatchError, StoreError
from ndx.stdlib.store.fixed import check_fixed_tree
from ndx.stdlib.store.fsutil import canonicalize, remove_tree
from ndx.stdlib.store.locks import path_locks
from ndx.stdlib.store.nar import NarError, hash_path
from ndx.stdlib.store.paths import STORE_DIR
from ndx.stdlib.store.scan import scan_references

from .compare import first_difference
from .environment import builder_environment, rewrite_placeholders
from .options import BuildOptions
from .progress import Reporter
from .sandbox import BUILD_TOP, SandboxSpec, bwrap_arguments, bwrap_path

if TYPE_CHECKING:
    from ndx.stdlib.store.disk import DiskStore

LOG_TAIL = 25
"""Lines of a failed build's log shown with the error."""

CURRENT_SYSTEM = "x86_64-linux"


class Cancelled(Exception):
    """The run was interrupted (Ctrl-C); running builders have been killed."""


class Cancellation:
    """Shared by a run's builders: once set, every running builder is killed."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._procs: set[subprocess.Popen[bytes]] = set()
        self._lock = threading.Lock()

    def register(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.add(proc)
            if self.event.is_set():
                _kill(proc)

    def unregister(self, proc: subprocess.Popen[bytes]) -> None:
        with self._lock:
            self._procs.discard(proc)

    def cancel(self) -> None:
        with self._lock:
            self.event.set()
            for proc in self._procs:
                _kill(proc)

    def check(self) -> None:
        if self.event.is_set():
            raise Cancelled()


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def build_derivation(store: DiskStore, drv_path: str, drv: StoreDerivation,
                     options: BuildOptions, reporter: Reporter,
                     cancel: Cancellation) -> bool:
    """Build `drv` unless its outputs are valid (another process may just have built
    them). Returns whether a builder ran."""
    outputs = drv.output_paths()
    name = drv.name

    def waiting() -> None:
        reporter.message(f"waiting for another process to finish building '{drv_path}'")

    with store.gc_lock.shared(), \
            path_locks([store.lock_file(p) for p in outputs.values()], waiting, delete=True):
        valid = {o for o, p in outputs.items() if store.is_valid(p)}
        if options.check:
            if len(valid) != len(outputs):
                raise BuildError(f"some outputs of '{drv_path}' are not valid, so checking "
                                 "is not possible (build it first)", drv_path)
        elif len(valid) == len(outputs):
            return False
        if drv.system not in (CURRENT_SYSTEM, "builtin"):
            raise BuildError(f"a '{drv.system}' derivation is required to build "
                             f"'{drv_path}', but this machine is a '{CURRENT_SYSTEM}'",
                             drv_path)
        keep = [False]
        with store.temp_dir("build-" + name, keep=lambda: keep[0]) as work:
            reporter.started(drv_path, name)
            ok = False
            try:
                _build_in(store, drv_path, drv, options, reporter, cancel, work, valid)
                ok = True
            except BuildError as exc:
                if options.keep_failed and not isinstance(exc, HashMismatchError):
                    keep[0] = True
                    kept = _keep(store, work)
                    raise BuildError(f"{exc}\nnote: the build directory was kept in "
                                     f"'{os.path.join(kept, 'build')}'", drv_path) from None
                raise
            finally:
                reporter.finished(drv_path, name, ok)
    return True


def _keep(store: DiskStore, work: str) -> str:
    """Move a failed build's directory out of the temporary area (which the next ndx
    process cleans) to `.ndx/kept-failed/`, for `--keep-failed`."""
    kept = os.path.join(store.state_dir, "kept-failed", os.path.basename(work))
    os.makedirs(os.path.dirname(kept), exist_ok=True)
    os.rename(work, kept)
    return kept


def _build_in(store: DiskStore, drv_path: str, drv: StoreDerivation, options: BuildOptions,
              reporter: Reporter, cancel: Cancellation, work: str, valid: set[str]) -> None:
    outputs = drv.output_paths()
    sandboxed = store.sandbox if options.sandbox is None else options.sandbox
    input_roots = set(drv.input_srcs)
    for input_drv, outs in drv.input_drvs.items():
        produced = store.read_derivation(input_drv).output_paths()
        input_roots.update(produced[o] for o in outs)
    inputs = store.closure(input_roots)
    overlay = os.path.join(work, "store")
    build_dir = os.path.join(work, "build")
    os.mkdir(overlay)
    os.mkdir(build_dir, 0o700)
    if drv.builder.startswith("builtin:"):
        results = {o: os.path.join(overlay, p.rsplit("/", 1)[1]) for o, p in outputs.items()}
        _run_builtin(store, drv_path, drv, results, reporter, cancel)
    else:
        if sandboxed:
            results = {o: os.path.join(overlay, p.rsplit("/", 1)[1])
                       for o, p in outputs.items()}
        else:
            if store.physical_dir != STORE_DIR:
                raise StoreError(
                    "--no-sandbox builds need the store at its logical place, /ndx/store "
                    f"(this store is at '{store.physical_dir}'): builders write their "
                    "outputs to /ndx/store directly without a sandbox to map it")
            results = {o: store.real_path(p) for o, p in outputs.items()}
            for path in results.values():
                remove_tree(path)   # a leftover of an interrupted unsandboxed build
        _run_builder(store, drv_path, drv, options, reporter, cancel, work, inputs,
                     sandboxed)
    try:
        _register(store, drv_path, drv, options, results, inputs, valid)
    except NarError as exc:
        raise BuildError(f"builder for '{drv_path}' produced an unusable output: {exc}",
                         drv_path) from None
    finally:
        if not sandboxed and not drv.builder.startswith("builtin:"):
            for output, path in results.items():
                if output not in valid and os.path.lexists(path) \
                        and not store.is_valid(outputs[output]):
                    remove_tree(path)


# The builders the engine runs itself, in Python: name -> (module, function). Each is
# called as fn(store, drv_path, drv, out, log, fetched, check_cancel) and writes `out`.
BUILTIN_BUILDERS = {
    "builtin:fetchurl": ("ndx.stdlib.fetch.builtin", "builtin_fetchurl"),
    "builtin:buildImage": ("ndx.stdlib.image.builtin", "builtin_build_image"),
    "builtin:pullImage": ("ndx.stdlib.registry.builder", "builtin_pull_image"),
    "builtin:buildLayeredImage": ("ndx.stdlib.image.layered_builtin",
                                  "builtin_build_layered_image"),
    "builtin:streamLayeredImage": ("ndx.stdlib.image.layered_builtin",
                                   "builtin_stream_layered_image"),
}


def _run_builtin(store: DiskStore, drv_path: str, drv: StoreDerivation,
                 results: dict[str, str], reporter: Reporter, cancel: Cancellation) -> None:
    if drv.builder not in BUILTIN_BUILDERS:
        raise BuildError(f"'{drv_path}' asks for the unknown builder '{drv.builder}' "
                         f"(the built-in builders are: {', '.join(BUILTIN_BUILDERS)})",
                         drv_path)
    import importlib

    module, function = BUILTIN_BUILDERS[drv.builder]
    run_builtin = getattr(importlib.import_module(module), function)

    with open(store.log_file(drv_path), "w") as log:
        def say(line: str) -> None:
            log.write(line + "\n")
            log.flush()
            reporter.log_line(drv.name, line)

        run_builtin(store, drv_path, drv, results["out"], say, reporter.fetched,
                    cancel.check)


def _run_builder(store: DiskStore, drv_path: str, drv: StoreDerivation,
                 options: BuildOptions, reporter: Reporter, cancel: Cancellation, work: str,
                 inputs: set[str], sandboxed: bool) -> None:
    outputs = drv.output_paths()
    build_dir = os.path.join(work, "build")
    top = BUILD_TOP if sandboxed else build_dir
    env = builder_environment(store, drv_path, drv, top, build_dir, inputs,
                              options.build_cores())
    builder = rewrite_placeholders(drv.builder, outputs)
    args = [rewrite_placeholders(a, outputs) for a in drv.args]
    pass_fds: tuple[int, ...] = ()
    if sandboxed:
        spec = SandboxSpec(store.physical_dir, inputs, os.path.join(work, "store"), build_dir,
                           os.path.join(work, "etc"), drv.is_fixed_output, drv.host_deps())
        args_file = os.path.join(work, "bwrap-args")
        with open(args_file, "wb") as file:
            file.write(b"".join(a.encode("utf-8", "surrogateescape") + b"\0"
                               for a in bwrap_arguments(spec)))
        args_fd = os.open(args_file, os.O_RDONLY)
        pass_fds = (args_fd,)
        argv = [bwrap_path(), "--args", str(args_fd), "--", builder, *args]
    else:
        argv = [builder, *args]
    tail: deque[str] = deque(maxlen=LOG_TAIL)
    with open(store.log_file(drv_path), "wb") as log:
        try:
            proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    cwd=build_dir, start_new_session=True, pass_fds=pass_fds)
        except OSError as exc:
            raise BuildError(f"cannot run the builder of '{drv_path}' ({builder}): "
                             f"{exc.strerror}", drv_path) from None
        finally:
            for fd in pass_fds:
                os.close(fd)
        cancel.register(proc)
        try:
            _pump(proc.stdout, log, tail, drv.name, reporter)
            status = proc.wait()
        finally:
            cancel.unregister(proc)
    cancel.check()
    if status != 0:
        how = (f"was killed by signal {-status}" if status < 0
               else f"failed with exit code {status}")
        shown = "".join(f"\n  > {line}" for line in tail)
        raise BuildError(f"builder for '{drv_path}' {how}"
                         + (f"; last {len(tail)} log lines:{shown}" if tail else "")
                         + f"\nFor full logs, run 'ndx log {drv_path}'.", drv_path)


def _pump(stream: IO[bytes] | None, log: IO[bytes], tail: deque[str], name: str,
          reporter: Reporter) -> None:
    assert stream is not None
    for raw in stream:
        log.write(raw)
        log.flush()
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        tail.append(line)
        reporter.log_line(name, line)


def _register(store: DiskStore, drv_path: str, drv: StoreDerivation, options: BuildOptions,
              results: dict[str, str], inputs: set[str], valid: set[str]) -> None:
    outputs = drv.output_paths()
    for output, host in results.items():
        if not os.path.lexists(host):
            raise BuildError(f"builder for '{drv_path}' failed to produce output path "
                             f"'{outputs[output]}' (output '{output}')", drv_path)
    if drv.is_fixed_output:
        out = drv.outputs["out"]
        algo = out.hash_algo.removeprefix("r:")
        fixed = FixedOutput(algo, bytes.fromhex(out.hash), out.hash_algo.startswith("r:"))
        check_fixed_tree(results["out"], fixed, f"derivation '{drv_path}'")
    candidates = inputs | set(outputs.values())
    items = []
    for output, host in sorted(results.items()):
        try:
            canonicalize(host)
        except ValueError as exc:
            raise BuildError(f"builder for '{drv_path}': {exc}", drv_path) from None
        refs = scan_references(host, candidates)
        if drv.is_fixed_output and refs:
            raise BuildError(f"the fixed-output derivation '{drv_path}' must not refer to "
                             f"store paths, but its output refers to '{min(refs)}'",
                             drv_path)
        digest, size = hash_path(host)
        items.append((host, Registration(outputs[output], "sha256:" + nix_base32(digest), size,
                                         frozenset(refs), deriver=drv_path,
                                         ca=_ca(drv) if drv.is_fixed_output else None)))
    _check_reference_rules(store, drv_path, drv, items)
    if options.check:
        for host, reg in items:
            diff = first_difference(store.real_path(reg.path), host)
            if diff is not None:
                raise BuildError(f"derivation '{drv_path}' may not be deterministic: output "
                                 f"'{reg.path}' differs from the new build at {diff}",
                                 drv_path)
        return
    store.install([(h, r) for h, r in items if _output_name(outputs, r.path) not in valid],
                  locked=True)


def _output_name(outputs: dict[str, str], path: str) -> str:
    return next(o for o, p in outputs.items() if p == path)


def _ca(drv: StoreDerivation) -> str:
    out = drv.outputs["out"]
    recursive = out.hash_algo.startswith("r:")
    algo = out.hash_algo.removeprefix("r:")
    return f"fixed:{'r:' if recursive else ''}{algo}:{nix_base32(bytes.fromhex(out.hash))}"


def _check_reference_rules(store: DiskStore, drv_path: str, drv: StoreDerivation,
                           items: list[tuple[str, Registration]]) -> None:
    """`allowedReferences`, `allowedRequisites`, `disallowedReferences`,
    `disallowedRequisites`: lists of store paths or output names."""
    outputs = drv.output_paths()
    own = set(outputs.values())
    rules = {attr: {outputs.get(word, word) for word in drv.env[attr].split()}
             for attr in ("allowedReferences", "disallowedReferences",
                          "allowedRequisites", "disallowedRequisites") if attr in drv.env}
    if not rules:
        return
    for _host, reg in items:
        refs = set(reg.references)
        requisites = store.closure(refs - own) | (refs & own)
        for attr, listed in rules.items():
            have = refs if attr.endswith("References") else requisites
            if attr.startswith("allowed"):
                bad = sorted(have - listed - {reg.path})
            else:
                bad = sorted(have & listed)
            if bad:
                raise BuildError(f"output '{reg.path}' of '{drv_path}' is not allowed to "
                                 f"refer to '{bad[0]}' ({attr})", drv_path)
