"""Deciding what to build: the derivations whose wanted outputs are missing, and the
order their dependencies impose."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ndx.stdlib.store.drv import StoreDerivation
from ndx.stdlib.store.errors import StoreError
from ndx.stdlib.store.paths import to_store_path

if TYPE_CHECKING:
    from ndx.stdlib.store.disk import DiskStore


@dataclass(frozen=True)
class Target:
    """A thing to make valid: outputs `outputs` of `drv_path`, or a plain `path`
    (which must already be valid, a source)."""

    drv_path: str | None
    outputs: frozenset[str] = frozenset()
    path: str | None = None


@dataclass
class Plan:
    """The derivations to build and, for each, the planned derivations it waits for."""

    drvs: dict[str, StoreDerivation] = field(default_factory=dict)
    deps: dict[str, set[str]] = field(default_factory=dict)

    def fetches(self) -> list[str]:
        """The planned fixed-output derivations (downloads)."""
        return sorted(p for p, d in self.drvs.items() if d.is_fixed_output)

    def builds(self) -> list[str]:
        """The planned derivations that are not downloads."""
        return sorted(p for p, d in self.drvs.items() if not d.is_fixed_output)


def parse_target(store: DiskStore, text: str) -> Target:
    """`/ndx/store/…-x.drv` (all outputs), `/ndx/store/…-x.drv^out,bin`, or a store path
    (built by the derivation recorded as producing it)."""
    if "^" in text:
        drv_path, outs = text.split("^", 1)
        return Target(drv_path, frozenset(o for o in outs.split(",") if o))
    try:
        path = to_store_path(text)
    except ValueError as exc:
        raise StoreError(str(exc)) from None
    if path.endswith(".drv"):
        return Target(path)
    if store.is_valid(path):
        return Target(None, path=path)
    derivers = store.derivers(path)
    if not derivers:
        raise StoreError(f"don't know how to build '{path}': it is not valid and no "
                         "derivation in the store produces it")
    drv_path, output = derivers[0]
    return Target(drv_path, frozenset([output]))


def make_plan(store: DiskStore, targets: list[Target], *, check: bool = False) -> Plan:
    """Every derivation that must run for `targets` to be valid. With `check`, the
    targets' own derivations are planned even when their outputs are valid."""
    plan = Plan()
    seen: set[str] = set()

    def need(drv_path: str, outputs: frozenset[str], force: bool) -> bool:
        drv = store.read_derivation(drv_path)
        wanted = outputs or frozenset(drv.outputs)
        unknown = wanted - set(drv.outputs)
        if unknown:
            raise StoreError(f"derivation '{drv_path}' has no output "
                             f"'{min(unknown)}' (it has: {', '.join(sorted(drv.outputs))})")
        if not force and all(store.is_valid(drv.outputs[o].path) for o in wanted):
            return False
        if drv_path in seen:
            return True
        seen.add(drv_path)
        plan.drvs[drv_path] = drv
        deps = plan.deps.setdefault(drv_path, set())
        for src in drv.input_srcs:
            if not store.is_valid(src):
                raise StoreError(f"input '{src}' of '{drv_path}' is missing from the store "
                                 "(it was deleted after evaluation; evaluate again)")
        for input_drv, outs in sorted(drv.input_drvs.items()):
            if need(input_drv, frozenset(outs), False):
                deps.add(input_drv)
        return True

    for target in targets:
        if target.drv_path is None:
            assert target.path is not None
            if not store.is_valid(target.path):
                raise StoreError(f"'{target.path}' is not valid")
            continue
        need(target.drv_path, target.outputs, check)
    return plan
