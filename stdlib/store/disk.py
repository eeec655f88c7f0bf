"""The store on disk: `StoreIO` plus the operations builds, tools and images need.

Layout (everything under the physical store directory `DIR`, which the sandbox mounts at
the logical `/ndx/store`, so builds and images are the same wherever `DIR` is):

    DIR/<hash>-<name>          store paths: read-only, mtime 1
    DIR/.ndx/db.sqlite         valid paths, references, derivers, NAR hashes (see db.py)
    DIR/.ndx/gc.lock           shared by builders, exclusive for the garbage collector
    DIR/.ndx/locks/            one lock file per store path being built or added
    DIR/.ndx/temproots/        one file per live process: paths it uses (see locks.py)
    DIR/.ndx/tmp/              build directories and paths on their way in
    DIR/.ndx/logs/             one log per built derivation (`ndx log`)
    DIR/.ndx/gcroots/          roots: direct symlinks, and auto/ → `result` links

A path becomes valid atomically: it is written under `.ndx/tmp`, made canonical, moved
into `DIR` and registered in one database transaction while its lock is held. A crash at
any moment leaves at most an unregistered entry or temporary directory, which the next
process to open the store removes.
"""

from __future__ import annotations

import os
import shutil
import stat
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Self

from ndx.evaluator.io import Derivation, FixedOutput, Instantiated

from . import drv as drvmod
from .db import Database, PathInfo, Registration
from .encoding import nix_base32, sha256
from .errors import StoreError
from .fixed import check_fixed_tree
from .fsutil import CANONICAL_MTIME, canonicalize, remove_tree
from .gc import GCResult, collect_garbage, delete_paths
from .hostdeps import host_fingerprint
from .locks import GCLock, PathLock, Session, live_tokens, path_locks
from .nar import NarError, hash_file, hash_path
from .paths import (
    STORE_DIR,
    InvalidNameError,
    ca_string,
    check_name,
    fixed_output_path,
    is_store_path,
    source_path,
    text_ca_string,
    text_path,
    to_store_path,
)
from .verify import VerifyReport, verify_store

if TYPE_CHECKING:
    from ndx.stdlib.build.options import BuildOptions, BuildReport
    from ndx.stdlib.build.progress import Reporter

STATE_NAME = ".ndx"


def default_store_dir() -> str:
    """The physical store directory when none is given: `$NDX_STORE`, else `/ndx/store`
    if it is (or can be made) writable, else `~/.local/share/ndx/store`."""
    env = os.environ.get("NDX_STORE")
    if env:
        return env
    if _writable_or_creatable(STORE_DIR):
        return STORE_DIR
    data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    return os.path.join(data, "ndx", "store")


def _writable_or_creatable(path: str) -> bool:
    while not os.path.exists(path):
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
    return os.path.isdir(path) and os.access(path, os.W_OK | os.X_OK)


class DiskStore:
    """The on-disk store in physical directory `root` (see `default_store_dir`)."""

    def __init__(self, root: str | None = None, *, sandbox: bool = True,
                 clean: bool = True) -> None:
        root = os.path.abspath(os.path.expanduser(root or default_store_dir()))
        try:
            os.makedirs(root, exist_ok=True)
            self.physical_dir = os.path.realpath(root)
            self.state_dir = os.path.join(self.physical_dir, STATE_NAME)
            for sub in ("locks", "temproots", "tmp", "logs", "gcroots/auto"):
                os.makedirs(os.path.join(self.state_dir, sub), exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot use '{root}' as the store directory: "
                             f"{exc.strerror} (choose another with --store DIR or "
                             "NDX_STORE)") from None
        self.sandbox = sandbox
        self.db = Database(os.path.join(self.state_dir, "db.sqlite"))
        self.gc_lock = GCLock(os.path.join(self.state_dir, "gc.lock"))
        self.session = Session(os.path.join(self.state_dir, "temproots"))
        self._drvs: dict[str, drvmod.StoreDerivation] = {}
        self._hash_modulo: dict[str, bytes] = {}
        self._mutex = threading.Lock()
        self._counter = 0
        # Where builds report progress and log lines (set by `ndx-build`; None is quiet).
        self.reporter: Reporter | None = None
        if clean:
            self.clean_leftovers()

    def close(self) -> None:
        """Release this process's session (its temporary roots) and the database."""
        self.session.close()
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- StoreIO ----

    @property
    def store_dir(self) -> str:
        return STORE_DIR

    def real_path(self, path: str) -> str:
        try:
            base = to_store_path(path)
        except ValueError as exc:
            raise StoreError(str(exc)) from None
        return self.physical_dir + base[len(STORE_DIR):] + path[len(base):]

    def is_valid(self, path: str) -> bool:
        return is_store_path(path) and self.db.is_valid(path)

    def add_path(self, source: str, *, name: str, recursive: bool = True,
                 filter: Callable[[str, str], bool] | None = None) -> str:
        _check_name(name)
        if not os.path.lexists(source):
            raise StoreError(f"cannot add '{source}' to the store: it does not exist")
        with self.gc_lock.shared():
            if not recursive:
                if not os.path.isfile(source):
                    raise StoreError(f"cannot add '{source}' to the store flat: "
                                     "it is not a regular file")
                digest = hash_file(source)
                path = fixed_output_path(name, "sha256", digest, False)
            else:
                try:
                    digest, _ = hash_path(source, filter)
                except NarError as exc:
                    raise StoreError(f"cannot add '{source}' to the store: {exc}") from None
                path = source_path(name, digest)
            self.session.add([path])
            if self.db.is_valid(path):
                return path
            with self.temp_dir("add-" + name) as tmp:
                copy = os.path.join(tmp, "content")
                _copy_tree(source, copy, filter if recursive else None)
                nar_digest, size = hash_path(copy)
                if (nar_digest if recursive else hash_file(copy)) != digest:
                    raise StoreError(f"'{source}' changed while it was being added to "
                                     "the store; try again")
                self.install([(copy, Registration(
                    path, "sha256:" + nix_base32(nar_digest), size, frozenset(),
                    ca=ca_string("sha256", digest, recursive)))])
        return path

    def add_text(self, name: str, text: str, references: Sequence[str]) -> str:
        _check_name(name)
        data = text.encode("utf-8", "surrogateescape")  # the bytes of an ndx string
        with self.gc_lock.shared():
            for ref in references:
                if not self.is_valid(ref):
                    raise StoreError(f"cannot store text '{name}': its reference '{ref}' "
                                     "is not a valid store path")
            path = text_path(name, data, references)
            self.session.add([path])
            if not self.db.is_valid(path):
                self._add_text_file(path, data, frozenset(references))
        return path

    def instantiate(self, drv: Derivation) -> Instantiated:
        with self.gc_lock.shared():
            for src in drv.input_srcs:
                if not self.is_valid(src):
                    raise StoreError(f"derivation '{drv.name}': input '{src}' is not a "
                                     "valid store path")
            for input_drv in drv.input_drvs:
                if not self.is_valid(input_drv):
                    raise StoreError(f"derivation '{drv.name}': input derivation "
                                     f"'{input_drv}' is not in the store")
            try:
                drv_path, stored, text = drvmod.instantiate(drv, self._input_hash,
                                                            host_fingerprint)
            except drvmod.DerivationError as exc:
                raise StoreError(str(exc)) from None
            self.session.add([drv_path])
            if not self.db.is_valid(drv_path):
                refs = frozenset(drv.input_srcs) | frozenset(drv.input_drvs)
                self._add_text_file(drv_path, text.encode("utf-8", "surrogateescape"), refs,
                                    tuple(sorted(stored.output_paths().items())))
            with self._mutex:
                self._drvs[drv_path] = stored
        return Instantiated(drv_path, stored.output_paths())

    def realise(self, paths: Sequence[str]) -> None:
        missing = [p for p in paths if not self.is_valid(to_store_path(p))]
        if missing:
            from ndx.stdlib.build.options import BuildOptions

            self.build(missing, BuildOptions())

    # ---- adding content ----

    def add_fixed(self, source: str, name: str, fixed: FixedOutput) -> str:
        """Add `source` as fetched content that must have the hash `fixed` (else
        HashMismatchError); the path depends only on the hash and `name`."""
        _check_name(name)
        path = fixed_output_path(name, fixed.algo, fixed.digest, fixed.recursive)
        with self.gc_lock.shared():
            self.session.add([path])
            if self.db.is_valid(path):
                return path
            check_fixed_tree(source, fixed, f"'{name}'")
            with self.temp_dir("add-" + name) as tmp:
                copy = os.path.join(tmp, "content")
                _copy_tree(source, copy, None)
                self.install([(copy, self._content_registration(path, copy, fixed))])
        return path

    def _content_registration(self, path: str, tree: str, fixed: FixedOutput) -> Registration:
        digest, size = hash_path(tree)
        return Registration(path, "sha256:" + nix_base32(digest), size, frozenset(),
                            ca=ca_string(fixed.algo, fixed.digest, fixed.recursive))

    def _add_text_file(self, path: str, data: bytes, refs: frozenset[str],
                       drv_outputs: tuple[tuple[str, str], ...] = ()) -> None:
        with self.temp_dir("text") as tmp:
            file = os.path.join(tmp, "content")
            with open(file, "wb") as out:
                out.write(data)
            digest, size = hash_path(file)
            self.install([(file, Registration(path, "sha256:" + nix_base32(digest), size, refs,
                                              ca=text_ca_string(data),
                                              drv_outputs=drv_outputs))])

    def install(self, items: Sequence[tuple[str, Registration]], *,
                locked: bool = False) -> None:
        """Move each prepared tree into place and register them all at once. Without
        `locked`, takes the paths' locks (and does nothing if they became valid)."""
        if not locked:
            with path_locks([self.lock_file(reg.path) for _, reg in items]):
                if all(self.db.is_valid(reg.path) for _, reg in items):
                    return
                self.install(items, locked=True)
            return
        for tree, _ in items:
            canonicalize(tree)
        with self.db.transaction() as conn:
            for tree, reg in items:
                target = self.real_path(reg.path)
                if tree == target:
                    continue              # built in place (an unsandboxed build)
                if os.path.lexists(target):
                    remove_tree(target)   # an unregistered leftover of a crash
                _move(tree, target)
            self.db.register(conn, [reg for _, reg in items])
        self.session.add(reg.path for _, reg in items)

    # ---- queries ----

    def read_derivation(self, drv_path: str) -> drvmod.StoreDerivation:
        """The store derivation in `.drv` file `drv_path`."""
        with self._mutex:
            cached = self._drvs.get(drv_path)
        if cached is not None:
            return cached
        if not self.is_valid(drv_path) or not drv_path.endswith(".drv"):
            raise StoreError(f"'{drv_path}' is not a valid derivation in the store")
        with open(self.real_path(drv_path), encoding="utf-8",
                  errors="surrogateescape") as file:
            try:
                stored = drvmod.parse_derivation(file.read(), drv_path)
            except drvmod.DerivationError as exc:
                raise StoreError(str(exc)) from None
        with self._mutex:
            self._drvs[drv_path] = stored
        return stored

    def _input_hash(self, drv_path: str) -> bytes:
        with self._mutex:
            cached = self._hash_modulo.get(drv_path)
        if cached is None:
            cached = drvmod.hash_modulo(self.read_derivation(drv_path), self._input_hash)
            with self._mutex:
                self._hash_modulo[drv_path] = cached
        return cached

    def path_info(self, path: str) -> PathInfo:
        """What the database records about valid path `path` (StoreError if invalid)."""
        info = self.db.info(path)
        if info is None:
            raise StoreError(f"'{path}' is not a valid store path")
        return info

    def references(self, path: str) -> frozenset[str]:
        """The store paths `path` refers to (possibly itself)."""
        return self.db.references(path)

    def referrers(self, path: str) -> frozenset[str]:
        """The valid store paths that refer to `path`."""
        return self.db.referrers(path)

    def closure(self, paths: Iterable[str]) -> set[str]:
        """The runtime closure: `paths` and everything they reference, transitively."""
        seen: set[str] = set()
        todo = [to_store_path(p) for p in paths]
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            if not self.db.is_valid(path):
                raise StoreError(f"'{path}' is not a valid store path")
            seen.add(path)
            todo.extend(self.db.references(path) - seen)
        return seen

    def topo_sorted(self, paths: Iterable[str]) -> list[str]:
        """`paths` ordered so that every path comes after the paths it references."""
        paths = set(paths)
        order: list[str] = []
        done: set[str] = set()

        def visit(path: str) -> None:
            stack = [(path, iter(sorted(self.db.references(path) & paths - {path})))]
            done.add(path)
            while stack:
                current, refs = stack[-1]
                for ref in refs:
                    if ref not in done:
                        done.add(ref)
                        stack.append((ref, iter(sorted(self.db.references(ref) & paths
                                                        - {ref}))))
                        break
                else:
                    stack.pop()
                    order.append(current)

        for path in sorted(paths):
            if path not in done:
                visit(path)
        return order

    def derivers(self, path: str) -> list[tuple[str, str]]:
        """(drv path, output name) of the derivations known to produce `path`."""
        return self.db.derivers_of(path)

    def resolve(self, path: str) -> str:
        """The logical store path named by `path`: a logical path (or a file inside one),
        a physical one, or a link (such as `result`) to either."""
        if not path.startswith(STORE_DIR + "/"):
            real = os.path.realpath(path)
            if real == self.physical_dir or real.startswith(self.physical_dir + "/"):
                path = STORE_DIR + real[len(self.physical_dir):]
            elif real.startswith(STORE_DIR + "/"):
                path = real
        try:
            return to_store_path(path)
        except ValueError as exc:
            raise StoreError(str(exc)) from None

    # ---- building ----

    def build(self, targets: Sequence[str], options: BuildOptions | None = None,
              reporter: Reporter | None = None) -> BuildReport:
        """Make `targets` valid: output paths, `.drv` paths (all outputs) or
        `drv^out,bin`. See `ndx.stdlib.build`."""
        from ndx.stdlib.build.options import BuildOptions as Options
        from ndx.stdlib.build.scheduler import build

        return build(self, targets, options or Options(), reporter)

    def collect_garbage(self, *, dry_run: bool = False,
                        on_wait: Callable[[], None] | None = None) -> GCResult:
        """Delete everything unreachable from the GC roots (see `gc.py`)."""
        return collect_garbage(self, dry_run=dry_run, on_wait=on_wait)

    def delete(self, paths: Iterable[str]) -> GCResult:
        """Delete exactly `paths`; refuses paths still referenced or alive."""
        return delete_paths(self, paths)

    def verify(self, *, check_contents: bool = False) -> VerifyReport:
        """Check the database against the disk (see `verify.py`)."""
        return verify_store(self, check_contents=check_contents)

    def log_file(self, drv_path: str) -> str:
        """Where the build log of `drv_path` is kept."""
        return os.path.join(self.state_dir, "logs", drv_path.rsplit("/", 1)[1] + ".log")

    # ---- roots, locks, temporary directories ----

    def lock_file(self, path: str) -> str:
        """The lock file guarding store path `path` while it is built or added."""
        return os.path.join(self.state_dir, "locks", path.rsplit("/", 1)[1][:32] + ".lock")

    @contextmanager
    def temp_dir(self, label: str, keep: Callable[[], bool] = lambda: False) -> Iterator[str]:
        """A fresh directory under `.ndx/tmp`, tagged with this process's session so a
        crash leaves nothing the next process does not remove. Removed on exit unless
        `keep()` says otherwise."""
        with self._mutex:
            self._counter += 1
            number = self._counter
        path = os.path.join(self.state_dir, "tmp",
                            f"{self.session.token}-{number}-{_safe(label)}")
        os.mkdir(path, 0o700)
        try:
            yield path
        finally:
            if not keep():
                remove_tree(path)

    def add_root(self, link: str, path: str) -> str:
        """Point symlink `link` at store path `path` (its physical location) and register
        it as an indirect GC root, like Nix's `result` links. Returns the link's path."""
        link = os.path.abspath(link)
        if os.path.lexists(link) and not os.path.islink(link):
            raise StoreError(f"refusing to replace '{link}': it exists and is not a symlink")
        with self.gc_lock.shared():
            if not self.is_valid(path):
                raise StoreError(f"cannot add a root to '{path}': it is not valid")
            _atomic_symlink(self.real_path(path), link)
            digest = nix_base32(sha256(link))[:32]
            _atomic_symlink(link, os.path.join(self.state_dir, "gcroots", "auto", digest))
        return link

    def add_direct_root(self, name: str, path: str) -> None:
        """Keep `path` alive under the name `name` in `.ndx/gcroots`."""
        with self.gc_lock.shared():
            if not self.is_valid(path):
                raise StoreError(f"cannot add a root to '{path}': it is not valid")
            _atomic_symlink(path, os.path.join(self.state_dir, "gcroots", _safe(name)))

    def clean_leftovers(self) -> None:
        """Remove what crashed processes left: their temporary directories and store
        entries that never became valid."""
        live, _dead = live_tokens(os.path.join(self.state_dir, "temproots"))
        tmp = os.path.join(self.state_dir, "tmp")
        for entry in os.listdir(tmp):
            token = "-".join(entry.split("-", 2)[:2])
            if token not in live:
                remove_tree(os.path.join(tmp, entry))
        self.remove_invalid_entries()

    def remove_invalid_entries(self) -> list[str]:
        """Delete store entries that are not registered (and not being installed right
        now by another process). Returns their logical paths."""
        valid = self.db.valid_paths()
        removed = []
        for entry in os.listdir(self.physical_dir):
            if entry.startswith("."):
                continue
            path = f"{STORE_DIR}/{entry}"
            if path in valid:
                continue
            lock = PathLock(self.lock_file(path))
            if not lock.acquire(blocking=False):
                continue
            try:
                if not self.db.is_valid(path):
                    remove_tree(os.path.join(self.physical_dir, entry))
                    removed.append(path)
            finally:
                lock.release(delete=True)
        return removed


def _check_name(name: str) -> None:
    try:
        check_name(name)
    except InvalidNameError as exc:
        raise StoreError(str(exc)) from None


def _safe(label: str) -> str:
    return "".join(c if c.isalnum() or c in "+-._" else "_" for c in label)[:60]


def _copy_tree(source: str, dest: str, filter: Callable[[str, str], bool] | None) -> None:
    """Copy a file tree keeping only what a NAR keeps (contents, executable bits,
    symlinks), honouring `filter` below the top."""
    from .nar import entry_type

    st = os.lstat(source)
    if stat.S_ISLNK(st.st_mode):
        os.symlink(os.readlink(source), dest)
    elif stat.S_ISREG(st.st_mode):
        shutil.copyfile(source, dest, follow_symlinks=False)
        os.chmod(dest, 0o755 if st.st_mode & stat.S_IXUSR else 0o644)
    elif stat.S_ISDIR(st.st_mode):
        os.mkdir(dest, 0o755)
        for name in os.listdir(source):
            child = os.path.join(source, name)
            if filter is not None and not filter(child, entry_type(os.lstat(child).st_mode)):
                continue
            _copy_tree(child, os.path.join(dest, name), filter)
    else:
        raise StoreError(f"cannot add '{source}' to the store: it is not a regular file, "
                         "directory or symlink")


def _move(tree: str, target: str) -> None:
    """Rename a canonical tree into the store (a directory must be writable to move)."""
    is_dir = os.path.isdir(tree) and not os.path.islink(tree)
    if is_dir:
        os.chmod(tree, 0o755)
    os.rename(tree, target)
    if is_dir:
        os.chmod(target, 0o555)
        os.utime(target, (CANONICAL_MTIME, CANONICAL_MTIME))


def _atomic_symlink(target: str, link: str) -> None:
    tmp = f"{link}.tmp-{os.getpid()}-{threading.get_ident()}"
    os.symlink(target, tmp)
    os.replace(tmp, link)
