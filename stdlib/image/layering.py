"""Which store paths go into which layer: the popularity ranking and the layering pipeline.

A layered image puts each store path — or each group of paths — in a layer of its own, so
images that share paths share layers byte for byte and a version bump re-ships only what
changed. The plan is computed from the closure's reference graph (path → the paths it
refers to) and the image's *roots* (what the image asks for: its contents, the paths its
config and customisation layer name).

**Popularity.** A path's popularity is the number of distinct dependency chains in the
closure that end at it: its own (1) plus its referrers' counts. So a path weighs more the
more paths need it and the deeper it sits: a C library every program links comes first,
the application itself (1) last. Ties are broken by package name, then by path, so the
order is the same on every machine.

**The pipeline** (`layeringPipeline`, with Nix's operation names) is a list of steps
applied in order to the closure. A step sees either one *graph* (a set of paths, which
becomes one layer if nothing splits it), a *list* of items, or named *parts*:

| step | on | result |
| --- | --- | --- |
| `["popularity_contest"]` | a graph | one single-path graph per path, most popular first |
| `["limit_layers", n]` | a list | at most n items: the items from the n-th on merged into one |
| `["split_every", n]` | a graph or list | the paths, in order, in graphs of n paths |
| `["subcomponent_out", paths]` | a graph | parts `main` (paths and what they refer to), `rest` |
| `["subcomponent_in", paths]` | a graph | parts `main` (paths and what refers to them), `rest` |
| `["split_paths", paths]` | a graph | parts `main` (paths and their own deps), `common`, `rest` |
| `["remove_paths", paths]` | anything | the same without those paths |
| `["over", part, step]` | parts | the part named `part` replaced by the step's result on it |
| `["pipe", [step, …]]` | anything | the steps applied in order |
| `["reverse"]` | a list | the items in reverse order |
| `["flatten"]` | anything | a list of graphs, nested lists and parts spliced in order |

At the end everything is flattened in order (parts in the order listed above) and each
non-empty graph becomes one layer, bottom first. The default pipeline is
`[["popularity_contest"], ["limit_layers", n]]` with n the layers left after the base
image's and the customisation layer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

from .errors import ImageError, did_you_mean

#: Docker refuses images of more than 125 layers; Nix's default leaves room to extend.
DEFAULT_MAX_LAYERS = 100

#: The order in which a split's parts are laid down, bottom first.
PART_ORDER = ("main", "common", "rest")

_NAME = re.compile(r"^[0-9a-z]{32}-")

Graph = frozenset[str]
Item = Union[Graph, "Items", "Parts"]


@dataclass(frozen=True)
class Items:
    """An ordered list of items (each becomes one or more layers, bottom first)."""

    items: tuple[Item, ...]


@dataclass(frozen=True)
class Parts:
    """Named parts of a split graph, laid down in `PART_ORDER`."""

    parts: tuple[tuple[str, Item], ...]

    def get(self, name: str) -> Item | None:
        return dict(self.parts).get(name)


def package_name(path: str) -> str:
    """The name part of a store path (`/ndx/store/<hash>-redis-7.0` → `redis-7.0`)."""
    base = path.rsplit("/", 1)[-1]
    return _NAME.sub("", base)


def popularity(graph: Mapping[str, Iterable[str]]) -> dict[str, int]:
    """Each path's number of dependency chains ending at it (see the module docstring).

    `graph` maps every path to the paths it refers to; self-references are ignored."""
    refs = {p: {r for r in graph.get(p, ()) if r != p and r in graph} for p in graph}
    referrers: dict[str, list[str]] = {p: [] for p in refs}
    for path, targets in refs.items():
        for target in targets:
            referrers[target].append(path)
    # Kahn's algorithm from the paths nothing refers to, so each path's count is complete
    # (its own chain plus every referrer's) before it is passed on.
    waiting = {p: len(referrers[p]) for p in refs}
    ready = sorted(p for p, n in waiting.items() if n == 0)
    count: dict[str, int] = {p: 1 for p in refs}
    done = 0
    while ready:
        path = ready.pop()
        done += 1
        for target in sorted(refs[path]):
            count[target] += count[path]
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    if done != len(refs):
        cycle = sorted(p for p, n in waiting.items() if n > 0)
        raise ImageError(f"the reference graph has a cycle through {cycle[0]}")
    return count


def popularity_order(graph: Mapping[str, Iterable[str]]) -> list[str]:
    """The paths of `graph`, most popular first (ties: by package name, then path)."""
    counts = popularity(graph)
    return sorted(counts, key=lambda p: (-counts[p], package_name(p), p))


# --- the pipeline ------------------------------------------------------------------------

def default_pipeline(layers: int) -> list[Any]:
    """The popularity ranking with the long tail merged so at most `layers` are made."""
    return [["popularity_contest"], ["limit_layers", layers]]


class _Planner:
    """Runs pipeline steps over a reference graph (see the module docstring)."""

    def __init__(self, graph: Mapping[str, Iterable[str]], roots: Iterable[str]) -> None:
        self.graph = {p: frozenset(r for r in refs if r != p) for p, refs in graph.items()}
        self.roots = set(roots)

    def run(self, steps: Any, item: Item, where: str) -> Item:
        if not isinstance(steps, list):
            raise ImageError(f"{where}: a layering pipeline is a list of steps, "
                             f"not {json.dumps(steps)}")
        for i, step in enumerate(steps):
            item = self.step(step, item, f"{where}[{i}]")
        return item

    def step(self, step: Any, item: Item, where: str) -> Item:
        if not isinstance(step, list) or not step or not isinstance(step[0], str):
            raise ImageError(f"{where}: a step is a list like [\"popularity_contest\"], "
                             f"not {json.dumps(step)}")
        name, args = step[0], step[1:]
        handler = getattr(self, "op_" + name, None)
        if handler is None:
            raise ImageError(f"{where}: unknown layering step {name!r}"
                             f"{did_you_mean(name, _STEPS)}; known: {', '.join(_STEPS)}")
        arity = _STEPS[name]
        if len(args) != arity:
            raise ImageError(f"{where}: {name!r} takes {arity} argument"
                             f"{'' if arity == 1 else 's'}, not {len(args)}")
        result: Item = handler(item, *args, where=where)
        return result

    # graph helpers
    def _graph(self, item: Item, name: str, where: str) -> Graph:
        if isinstance(item, frozenset):
            return item
        raise ImageError(f"{where}: {name!r} applies to one graph of paths, but the "
                         f"pipeline has already split it into {_describe(item)}")

    def _paths(self, value: Any, name: str, where: str) -> set[str]:
        if not isinstance(value, list) or not all(isinstance(p, str) for p in value):
            raise ImageError(f"{where}: {name!r} takes a list of store paths")
        return set(value)

    def _reach(self, starts: Iterable[str], within: Graph, *, down: bool) -> set[str]:
        """What `starts` refer to (down) or what refers to them (up), within `within`."""
        edges: Mapping[str, Iterable[str]]
        if down:
            edges = {p: self.graph.get(p, frozenset()) for p in within}
        else:
            referrers: dict[str, set[str]] = {p: set() for p in within}
            for p in within:
                for r in self.graph.get(p, ()):
                    if r in referrers:
                        referrers[r].add(p)
            edges = referrers
        seen = {s for s in starts if s in within}
        todo = list(seen)
        while todo:
            for nxt in edges[todo.pop()]:
                if nxt in within and nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    # steps
    def op_popularity_contest(self, item: Item, *, where: str) -> Item:
        graph = self._graph(item, "popularity_contest", where)
        sub = {p: [r for r in self.graph.get(p, ()) if r in graph] for p in graph}
        order = popularity_order(sub)
        return Items(tuple(frozenset([p]) for p in order))

    def op_limit_layers(self, item: Item, limit: Any, *, where: str) -> Item:
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ImageError(f"{where}: 'limit_layers' takes a positive number of layers")
        flat = [g for g in _flatten(item) if g]
        if len(flat) <= limit:
            return Items(tuple(flat))
        merged = frozenset().union(*flat[limit - 1:])
        return Items(tuple(flat[:limit - 1]) + (merged,))

    def op_split_every(self, item: Item, size: Any, *, where: str) -> Item:
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ImageError(f"{where}: 'split_every' takes a positive number of paths")
        paths = [p for g in _flatten(item) for p in sorted(g, key=_path_key)]
        return Items(tuple(frozenset(paths[i:i + size]) for i in range(0, len(paths), size)))

    def op_subcomponent_out(self, item: Item, paths: Any, *, where: str) -> Item:
        graph = self._graph(item, "subcomponent_out", where)
        main = self._reach(self._paths(paths, "subcomponent_out", where), graph, down=True)
        return Parts((("main", frozenset(main)), ("rest", graph - main)))

    def op_subcomponent_in(self, item: Item, paths: Any, *, where: str) -> Item:
        graph = self._graph(item, "subcomponent_in", where)
        main = self._reach(self._paths(paths, "subcomponent_in", where), graph, down=False)
        return Parts((("main", frozenset(main)), ("rest", graph - main)))

    def op_split_paths(self, item: Item, paths: Any, *, where: str) -> Item:
        graph = self._graph(item, "split_paths", where)
        chosen = self._paths(paths, "split_paths", where) & graph
        below = self._reach(chosen, graph, down=True)
        others = (self.roots & graph) - below
        if not others:
            # Without other roots, everything not below the chosen paths is the rest.
            others = {p for p in graph - below
                      if not any(p in self.graph.get(q, ()) for q in graph)}
        from_others = self._reach(others, graph, down=True)
        common = (below & from_others) - chosen
        main = below - common
        return Parts((("main", frozenset(main)), ("common", frozenset(common)),
                      ("rest", graph - main - common)))

    def op_remove_paths(self, item: Item, paths: Any, *, where: str) -> Item:
        return _remove(item, self._paths(paths, "remove_paths", where))

    def op_over(self, item: Item, part: Any, step: Any, *, where: str) -> Item:
        if not isinstance(item, Parts):
            raise ImageError(f"{where}: 'over' applies to the parts of a split "
                             f"(after subcomponent_out, subcomponent_in or split_paths), "
                             f"not to {_describe(item)}")
        if item.get(part) is None:
            names = [n for n, _ in item.parts]
            raise ImageError(f"{where}: there is no part {part!r}{did_you_mean(str(part), names)}"
                             f"; the parts are {', '.join(names)}")
        return Parts(tuple((n, self.step(step, v, f"{where}.over") if n == part else v)
                           for n, v in item.parts))

    def op_pipe(self, item: Item, steps: Any, *, where: str) -> Item:
        return self.run(steps, item, f"{where}.pipe")

    def op_reverse(self, item: Item, *, where: str) -> Item:
        if isinstance(item, frozenset):
            return item
        return Items(tuple(reversed(_flatten_once(item))))

    def op_flatten(self, item: Item, *, where: str) -> Item:
        return Items(tuple(_flatten(item)))


#: Each step's number of arguments.
_STEPS = {"popularity_contest": 0, "limit_layers": 1, "split_every": 1,
          "subcomponent_out": 1, "subcomponent_in": 1, "split_paths": 1,
          "remove_paths": 1, "over": 2, "pipe": 1, "reverse": 0, "flatten": 0}


def _path_key(path: str) -> tuple[str, str]:
    return package_name(path), path


def _describe(item: Item) -> str:
    if isinstance(item, Parts):
        return "parts (" + ", ".join(n for n, _ in item.parts) + ")"
    if isinstance(item, Items):
        return f"a list of {len(item.items)} items"
    return "one graph"


def _flatten_once(item: Item) -> list[Item]:
    if isinstance(item, Items):
        return list(item.items)
    if isinstance(item, Parts):
        order = {n: i for i, n in enumerate(PART_ORDER)}
        return [v for _, v in sorted(item.parts, key=lambda nv: order.get(nv[0], 99))]
    return [item]


def _flatten(item: Item) -> list[Graph]:
    if isinstance(item, frozenset):
        return [item]
    return [g for sub in _flatten_once(item) for g in _flatten(sub)]


def _remove(item: Item, paths: set[str]) -> Item:
    if isinstance(item, frozenset):
        return item - paths
    if isinstance(item, Items):
        return Items(tuple(_remove(i, paths) for i in item.items))
    return Parts(tuple((n, _remove(v, paths)) for n, v in item.parts))


def plan_layers(graph: Mapping[str, Iterable[str]], closure: Iterable[str],
                roots: Iterable[str], *, layers: int,
                pipeline: Sequence[Any] | None = None) -> list[list[str]]:
    """The store-path layers of an image, bottom first: each a sorted list of paths.

    `closure` is what goes into the image, `graph` the references (at least of the
    closure), `roots` what the image asked for, `layers` how many layers the store
    paths may take (the pipeline's result is checked against it)."""
    closure = frozenset(closure)
    if layers < 1 and closure:
        raise ImageError("no layer is left for the store paths (maxLayers is used up by "
                         "the base image and the customisation layer); raise maxLayers")
    sub = {p: [r for r in graph.get(p, ()) if r in closure] for p in closure}
    planner = _Planner(sub, roots)
    steps = list(pipeline) if pipeline is not None else default_pipeline(max(layers, 1))
    result = planner.run(steps, closure, "layeringPipeline")
    groups = [sorted(g) for g in _flatten(result) if g]
    placed = [p for g in groups for p in g]
    if len(placed) != len(set(placed)):
        twice = sorted(p for p in set(placed) if placed.count(p) > 1)
        raise ImageError(f"layeringPipeline puts {twice[0]} in more than one layer")
    missing = closure - set(placed)
    if missing and pipeline is not None and not _removes(pipeline):
        # Paths a pipeline dropped by accident still belong in the image: one more layer.
        groups.append(sorted(missing))
    if len(groups) > layers:
        raise ImageError(f"layeringPipeline makes {len(groups)} layers of store paths but "
                         f"only {layers} fit under maxLayers; end it with "
                         f"[\"limit_layers\", {layers}]")
    return groups


def _removes(pipeline: Any) -> bool:
    """Whether a pipeline contains a `remove_paths` step (then leaving paths out is wanted)."""
    text = json.dumps(pipeline)
    return '"remove_paths"' in text
