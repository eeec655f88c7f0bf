"""Static scopes: resolving every variable to where its value lives, before evaluation.

At run time an environment is a Python list `[parent, slot1, slot2, …]`: each `let`,
recursive set, function call and `with` makes one. At compile time a `Scope` mirrors it,
so a variable compiles to a (depth, index) pair — walk `depth` parents, take `env[index]`
— instead of a search by name.

Nix's rule for `with`: lexical bindings always win, wherever they are, over the
attributes of any `with`; the `with`s are searched (innermost first) only for names bound
nowhere lexically. The builtins are the outermost lexical scope, so `with { true = 1; };
true` is still `true`. A name bound nowhere and under no `with` is an error found before
evaluation starts, as in Nix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Slot:
    """A lexical variable: `depth` parents up, at `index` in that environment."""

    depth: int
    index: int


@dataclass(frozen=True, slots=True)
class Constant:
    """A builtin resolved at compile time (the base scope holds values, not slots)."""

    value: Any


@dataclass(frozen=True, slots=True)
class Dynamic:
    """A name that only enclosing `with`s can bind: the depths of their environments,
    innermost first."""

    with_depths: tuple[int, ...]


Resolution = Slot | Constant | Dynamic


class Scope:
    """One level of the static environment.

    `names` maps each name bound here to its slot index; a `with` scope binds no names
    (its namespace is in slot 1 of its environment). The base scope (`parent` None,
    `constants` set) has no run-time environment.
    """

    __slots__ = ("constants", "is_with", "names", "parent", "size")

    def __init__(self, parent: Scope | None, names: dict[str, int] | None = None, *,
                 is_with: bool = False, constants: dict[str, Any] | None = None) -> None:
        self.parent = parent
        self.names = names if names is not None else {}
        self.is_with = is_with
        self.constants = constants
        # Number of slots of this scope's environment (names plus hidden slots).
        self.size = len(self.names) + (1 if is_with else 0)

    @classmethod
    def base(cls, constants: dict[str, Any]) -> Scope:
        """The outermost scope: the builtins, resolved to their values."""
        return cls(None, constants=constants)

    def child(self, names: list[str]) -> Scope:
        """A scope binding `names` in slots 1…n of a new environment."""
        return Scope(self, {name: i + 1 for i, name in enumerate(names)})

    def add_hidden_slot(self) -> int:
        """Reserve a slot with no name (an `inherit (src)` source); returns its index."""
        self.size += 1
        return self.size

    def with_scope(self) -> Scope:
        """The scope of a `with` body (the namespace lives in slot 1)."""
        return Scope(self, is_with=True)

    def resolve(self, name: str) -> Resolution | None:
        """Where `name` lives from here, or None when nothing can bind it."""
        depth = 0
        scope: Scope | None = self
        withs: list[int] = []
        while scope is not None:
            if scope.constants is not None:
                if name in scope.constants:
                    return Constant(scope.constants[name])
            elif scope.is_with:
                withs.append(depth)
            else:
                index = scope.names.get(name)
                if index is not None:
                    return Slot(depth, index)
            if scope.constants is None:
                depth += 1
            scope = scope.parent
        if withs:
            return Dynamic(tuple(withs))
        return None
