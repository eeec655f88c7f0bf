"""Store derivations: the `.drv` file format and how output paths are computed.

A `.drv` file is Nix's ATerm form, canonical and readable:

    Derive([("out","/ndx/store/…-hello","","")],            outputs (path, hash algo, hash)
           [("/ndx/store/…-gcc.drv",["out"])],              input derivations and outputs used
           ["/ndx/store/…-hello.c"],                        input sources
           "x86_64-linux","/bin/sh",["-c","…"],             system, builder, arguments
           [("name","hello"),("out","/ndx/store/…-hello"),…])   environment

Output paths come from the *hash modulo* of a derivation: the sha256 of its ATerm with the
output paths blanked and each input derivation replaced by that input's own hash modulo.
A fixed-output derivation's hash modulo depends only on its expected hash and path, so
fetching the same tarball from another URL changes nothing downstream.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from ndx.evaluator.io import Derivation

from .encoding import sha256
from .paths import (
    STORE_DIR,
    InvalidNameError,
    check_name,
    fixed_output_path,
    output_path,
    text_path,
)

T = TypeVar("T")

HOST_DEPS_ATTR = "__impureHostDeps"
"""The attribute listing host trees a derivation may read (bind-mounted read-only)."""

HOST_FINGERPRINT_ATTR = "__impureHostDepsFingerprint"
"""Added by the store: a digest of the host trees named in `__impureHostDeps`, so a
changed host toolchain changes the derivation's hash and rebuilds it."""


class DerivationError(ValueError):
    """A derivation the store cannot accept (a bad name, output or `.drv` file)."""


@dataclass(frozen=True)
class DrvOutput:
    """One output of a store derivation. `hash_algo` (`"r:sha256"`, `"sha1"`…) and `hash`
    (base16) are set for a fixed output only."""

    path: str
    hash_algo: str = ""
    hash: str = ""


@dataclass(frozen=True)
class StoreDerivation:
    """A derivation as written to (and read back from) a `.drv` file."""

    outputs: Mapping[str, DrvOutput]
    input_drvs: Mapping[str, frozenset[str]]
    input_srcs: frozenset[str]
    system: str
    builder: str
    args: tuple[str, ...]
    env: Mapping[str, str]

    @property
    def name(self) -> str:
        """The derivation's name (its `name` attribute)."""
        return self.env.get("name", "")

    @property
    def is_fixed_output(self) -> bool:
        """Whether this derivation declares the hash of its (single) output."""
        out = self.outputs.get("out")
        return len(self.outputs) == 1 and out is not None and bool(out.hash)

    def output_paths(self) -> dict[str, str]:
        """Output name → store path."""
        return {name: out.path for name, out in self.outputs.items()}

    def unparse(self, input_drvs: Mapping[str, Iterable[str]] | None = None) -> str:
        """The ATerm text; `input_drvs` replaces the input derivations (for hashing)."""
        inputs = self.input_drvs if input_drvs is None else input_drvs
        outputs = ",".join(
            f"({_s(name)},{_s(o.path)},{_s(o.hash_algo)},{_s(o.hash)})"
            for name, o in sorted(self.outputs.items()))
        drvs = ",".join(f"({_s(path)},{_list(sorted(outs))})"
                        for path, outs in sorted(inputs.items()))
        env = ",".join(f"({_s(k)},{_s(v)})" for k, v in sorted(self.env.items()))
        return (f"Derive([{outputs}],[{drvs}],{_list(sorted(self.input_srcs))},"
                f"{_s(self.system)},{_s(self.builder)},{_list(self.args)},[{env}])")

    def host_deps(self) -> tuple[str, ...]:
        """The host paths this derivation may see (`__impureHostDeps`)."""
        return attr_list(self.env, HOST_DEPS_ATTR)

    def attr_list(self, name: str) -> tuple[str, ...]:
        """A list-of-strings attribute, whether structured (`__json`) or not."""
        return attr_list(self.env, name)


def attr_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Attribute `name` as a list of strings: space-separated in the environment, or a
    JSON list inside `__json` for `__structuredAttrs` derivations."""
    if "__json" in env:
        value = json.loads(env["__json"]).get(name, [])
        return tuple(str(v) for v in (value if isinstance(value, list) else [value]))
    return tuple(env.get(name, "").split())


def _s(text: str) -> str:
    return '"' + (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                  .replace("\r", "\\r").replace("\t", "\\t")) + '"'


def _list(items: Iterable[str]) -> str:
    return "[" + ",".join(_s(i) for i in items) + "]"


# ---- parsing ----

class _Parser:
    """A recursive-descent reader of exactly the ATerm shapes `unparse` writes."""

    def __init__(self, text: str, where: str) -> None:
        self.text = text
        self.pos = 0
        self.where = where

    def fail(self, what: str) -> DerivationError:
        return DerivationError(f"{self.where}: malformed derivation at offset {self.pos}: "
                               f"expected {what}")

    def expect(self, token: str) -> None:
        if not self.text.startswith(token, self.pos):
            raise self.fail(repr(token))
        self.pos += len(token)

    def peek(self, token: str) -> bool:
        return self.text.startswith(token, self.pos)

    def string(self) -> str:
        self.expect('"')
        out: list[str] = []
        text = self.text
        while True:
            end = self.pos
            while end < len(text) and text[end] not in '"\\':
                end += 1
            out.append(text[self.pos:end])
            if end >= len(text):
                raise self.fail("the end of a string")
            if text[end] == '"':
                self.pos = end + 1
                return "".join(out)
            escaped = text[end + 1:end + 2]
            out.append({"n": "\n", "r": "\r", "t": "\t"}.get(escaped, escaped))
            self.pos = end + 2

    def list_of(self, item: Callable[[], T]) -> list[T]:
        self.expect("[")
        items: list[T] = []
        while not self.peek("]"):
            if items:
                self.expect(",")
            items.append(item())
        self.expect("]")
        return items

    def strings(self) -> list[str]:
        return self.list_of(self.string)

    def output(self) -> tuple[str, DrvOutput]:
        self.expect("(")
        name = self.string()
        fields = []
        for _ in range(3):
            self.expect(",")
            fields.append(self.string())
        self.expect(")")
        return name, DrvOutput(*fields)

    def input_drv(self) -> tuple[str, frozenset[str]]:
        self.expect("(")
        path = self.string()
        self.expect(",")
        outs = frozenset(self.strings())
        self.expect(")")
        return path, outs

    def pair(self) -> tuple[str, str]:
        self.expect("(")
        key = self.string()
        self.expect(",")
        value = self.string()
        self.expect(")")
        return key, value


def parse_derivation(text: str, where: str = "<derivation>") -> StoreDerivation:
    """Read a `.drv` file's text (`where` names it in errors)."""
    p = _Parser(text, where)
    p.expect("Derive(")
    outputs = dict(p.list_of(p.output))
    p.expect(",")
    input_drvs = dict(p.list_of(p.input_drv))
    p.expect(",")
    input_srcs = frozenset(p.strings())
    p.expect(",")
    system = p.string()
    p.expect(",")
    builder = p.string()
    p.expect(",")
    args = tuple(p.strings())
    p.expect(",")
    env = dict(p.list_of(p.pair))
    p.expect(")")
    if p.pos != len(text):
        raise p.fail("the end of the file")
    return StoreDerivation(outputs, input_drvs, input_srcs, system, builder, args, env)


# ---- hashing and instantiation ----

HashModulo = Callable[[str], bytes]
"""Given an input `.drv` path, its hash modulo (the store reads and memoizes it)."""


def hash_modulo(drv: StoreDerivation, input_hash: HashModulo) -> bytes:
    """The hash that identifies `drv` for the output paths of derivations depending on it."""
    if drv.is_fixed_output:
        out = drv.outputs["out"]
        return sha256(f"fixed:out:{out.hash_algo}:{out.hash}:{out.path}")
    replaced: dict[str, set[str]] = {}
    for path, outs in drv.input_drvs.items():
        replaced.setdefault(input_hash(path).hex(), set()).update(outs)
    return sha256(drv.unparse(replaced))


def instantiate(drv: Derivation, input_hash: HashModulo,
                host_fingerprint: Callable[[tuple[str, ...]], str],
                store_dir: str = STORE_DIR) -> tuple[str, StoreDerivation, str]:
    """Turn the evaluator's derivation into a store derivation with its output paths.

    Returns (the `.drv` path, the store derivation, its ATerm text)."""
    try:
        check_name(drv.name)
    except InvalidNameError as exc:
        raise DerivationError(f"derivation name: {exc}") from None
    outputs = list(drv.outputs)
    if not outputs:
        raise DerivationError(f"derivation '{drv.name}' has no outputs")
    for name in outputs:
        if name == "drv" or not name or outputs.count(name) > 1:
            raise DerivationError(f"derivation '{drv.name}' has an invalid or duplicate "
                                  f"output name '{name}'")
        try:
            check_name(name)
        except InvalidNameError:
            raise DerivationError(f"derivation '{drv.name}' has an invalid output name "
                                  f"'{name}'") from None
    env = dict(drv.env)
    env.setdefault("name", drv.name)
    try:
        host_deps = attr_list(env, HOST_DEPS_ATTR)
    except ValueError:
        raise DerivationError(f"derivation '{drv.name}': __json is not valid JSON") from None
    if host_deps:
        for dep in host_deps:
            if not dep.startswith("/") or dep.startswith(store_dir + "/"):
                raise DerivationError(f"derivation '{drv.name}': {HOST_DEPS_ATTR} entry "
                                      f"'{dep}' must be an absolute host path")
        env[HOST_FINGERPRINT_ATTR] = host_fingerprint(host_deps)
    else:
        env.pop(HOST_FINGERPRINT_ATTR, None)

    def make(outs: dict[str, DrvOutput]) -> StoreDerivation:
        return StoreDerivation(outs, dict(drv.input_drvs), frozenset(drv.input_srcs),
                               drv.system, drv.builder, tuple(drv.args), dict(env))

    if drv.fixed is not None:
        if outputs != ["out"]:
            raise DerivationError(f"fixed-output derivation '{drv.name}' must have exactly "
                                  "one output, 'out'")
        fixed = drv.fixed
        path = fixed_output_path(drv.name, fixed.algo, fixed.digest, fixed.recursive, store_dir)
        env["out"] = path
        final = make({"out": DrvOutput(path, ("r:" if fixed.recursive else "") + fixed.algo,
                                       fixed.digest.hex())})
    else:
        for name in outputs:
            env[name] = ""
        masked = make({name: DrvOutput("") for name in outputs})
        digest = hash_modulo(masked, input_hash)
        paths = {name: output_path(drv.name, name, digest, store_dir) for name in outputs}
        env.update(paths)
        final = make({name: DrvOutput(path) for name, path in paths.items()})
    text = final.unparse()
    references = set(drv.input_srcs) | set(drv.input_drvs)
    drv_path = text_path(drv.name + ".drv", text.encode("utf-8", "surrogateescape"), references,
                         store_dir)
    return drv_path, final, text
