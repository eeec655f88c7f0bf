"""The evaluation-time fetch builtins, registered into the evaluator's table:
`builtins.fetchurl`, `fetchTarball`, `fetchGit`, `fetchTree` (types git, tarball, file,
path) and `fetchMercurial`. Each checks its arguments like Nix, then calls the plain
Python fetcher (`evaltime`, `git`, `hg`) with the evaluation's store."""

from __future__ import annotations

from typing import Any

from ndx.evaluator.builtins.registry import builtin
from ndx.evaluator.coerce import coerce_to_string, expect_bool, expect_string_no_context, show_type
from ndx.evaluator.context import EvalContext
from ndx.evaluator.errors import EvalError, EvalTypeError
from ndx.evaluator.values import ContextString, PathValue, force, string_text
from ndx.stdlib.store.encoding import HashError, parse_hash, sri
from ndx.stdlib.store.nar import hash_path

from .errors import FetchError


def _arguments(value: Any, fetcher: str, allowed: set[str], ctx: EvalContext,
               *, url_key: str = "url") -> dict[str, Any]:
    """The attribute set argument (unknown names rejected), or a bare URL/path as
    `{ url = …; }`."""
    value = force(value)
    if type(value) is dict:
        for key in sorted(value):
            if key not in allowed:
                raise EvalError(f"unsupported argument '{key}' to '{fetcher}'")
        if url_key not in value:
            raise EvalError(f"'{url_key}' argument required by '{fetcher}'")
        return dict(value)
    if type(value) in (str, ContextString, PathValue):
        return {url_key: value}
    raise EvalTypeError(f"'{fetcher}' expects a URL or a set of arguments, but got "
                        f"{show_type(value)}")


def _url(value: Any, ctx: EvalContext, what: str) -> str:
    """A URL argument: a string without context, or a path (its text)."""
    text = coerce_to_string(value, ctx, what=what, copy_to_store=False)
    return string_text(text)


def _string(args: dict[str, Any], key: str, fetcher: str, default: str | None = None
            ) -> str | None:
    if key not in args:
        return default
    return expect_string_no_context(args[key], f"the '{key}' argument of '{fetcher}'")


def _hash(args: dict[str, Any], fetcher: str) -> tuple[str, bytes] | None:
    """`sha256 = "…"` (any encoding) or `hash = "<SRI or algo:digest>"`."""
    try:
        if "sha256" in args:
            text = _string(args, "sha256", fetcher) or ""
            return parse_hash(text, "sha256") if text else None
        if "hash" in args:
            text = _string(args, "hash", fetcher) or ""
            return parse_hash(text) if text else None
        if "narHash" in args:
            return parse_hash(_string(args, "narHash", fetcher) or "")
    except HashError as exc:
        raise EvalError(f"invalid hash given to '{fetcher}': {exc}") from None
    return None


def _path_value(path: str) -> ContextString:
    return ContextString(path, frozenset([path]))


@builtin("fetchurl", 1, context=True)
def fetchurl(ctx: EvalContext, arg: Any) -> Any:
    """Download a file while evaluating and return its store path:
    `builtins.fetchurl "https://…"` or `{ url; sha256 ? …; name ? …; }`."""
    from .evaltime import fetch_file  # HTTP and TLS load on use

    args = _arguments(arg, "fetchurl", {"url", "sha256", "hash", "name", "executable"}, ctx)
    store = ctx.require_store("builtins.fetchurl")
    url = _url(args["url"], ctx, "the 'url' argument of 'fetchurl'")
    executable = "executable" in args and expect_bool(args["executable"])
    path = fetch_file(store, url, name=_string(args, "name", "fetchurl"),
                      expected=_hash(args, "fetchurl"), executable=executable)
    return _path_value(path)


@builtin("fetchTarball", 1, global_=True, context=True)
def fetch_tarball_(ctx: EvalContext, arg: Any) -> Any:
    """Download and unpack a tarball while evaluating and return its store path:
    `fetchTarball "https://…"` or `{ url; sha256 ? …; name ? "source"; }`."""
    from .evaltime import fetch_tarball  # HTTP and TLS load on use

    args = _arguments(arg, "fetchTarball", {"url", "sha256", "name"}, ctx)
    store = ctx.require_store("fetchTarball")
    url = _url(args["url"], ctx, "the 'url' argument of 'fetchTarball'")
    path = fetch_tarball(store, url, name=_string(args, "name", "fetchTarball", "source")
                         or "source", expected=_hash(args, "fetchTarball"))
    return _path_value(path)


def _git_result(ctx: EvalContext, args: dict[str, Any], fetcher: str) -> dict[str, Any]:
    from .git import fetch_git

    store = ctx.require_store(fetcher)
    url = _url(args["url"], ctx, f"the 'url' argument of '{fetcher}'")

    def flag(key: str) -> bool:
        return key in args and expect_bool(args[key], f"the '{key}' argument of '{fetcher}'")

    result = fetch_git(store, url, name=_string(args, "name", fetcher, "source") or "source",
                       rev=_string(args, "rev", fetcher), ref=_string(args, "ref", fetcher),
                       submodules=flag("submodules"), shallow=flag("shallow"),
                       all_refs=flag("allRefs"), what=fetcher)
    expected = _hash(args, fetcher) if "narHash" in args else None
    if expected is not None and sri(*expected) != result.nar_hash:
        raise FetchError(f"'{fetcher}' of '{url}': NAR hash mismatch: expected "
                         f"{sri(*expected)}, got {result.nar_hash}")
    return {"outPath": _path_value(result.path), **result.attrs()}


@builtin("fetchGit", 1, global_=True, context=True)
def fetch_git_(ctx: EvalContext, arg: Any) -> Any:
    """Fetch a Git revision into the store: `fetchGit ./repo` or
    `{ url; rev ? …; ref ? "HEAD"; submodules ? false; name ? "source"; }`."""
    args = _arguments(arg, "fetchGit", {"url", "rev", "ref", "name", "submodules",
                                        "shallow", "allRefs"}, ctx)
    return _git_result(ctx, args, "fetchGit")


@builtin("fetchMercurial", 1, global_=True, context=True)
def fetch_mercurial_(ctx: EvalContext, arg: Any) -> Any:
    """Fetch a Mercurial revision into the store: `{ url; rev ? …; name ? "source"; }`."""
    from .hg import fetch_mercurial

    args = _arguments(arg, "fetchMercurial", {"url", "rev", "name"}, ctx)
    store = ctx.require_store("fetchMercurial")
    url = _url(args["url"], ctx, "the 'url' argument of 'fetchMercurial'")
    result = fetch_mercurial(store, url, name=_string(args, "name", "fetchMercurial",
                                                      "source") or "source",
                             rev=_string(args, "rev", "fetchMercurial"))
    return {"outPath": _path_value(result.path), **result.attrs()}


_TREE_ARGS = {
    "git": {"type", "url", "rev", "ref", "name", "submodules", "shallow", "allRefs",
            "narHash"},
    "tarball": {"type", "url", "name", "narHash"},
    "file": {"type", "url", "name", "narHash"},
    "path": {"type", "path", "name", "narHash"},
}


@builtin("fetchTree", 1, global_=True, context=True)
def fetch_tree(ctx: EvalContext, arg: Any) -> Any:
    """Fetch a source tree described by `{ type = "git" | "tarball" | "file" | "path";
    … }` and return `{ outPath; narHash; … }`."""
    value = force(arg)
    if type(value) is not dict or "type" not in value:
        raise EvalError("'fetchTree' needs a set with a 'type' attribute "
                        "(git, tarball, file or path)")
    kind = expect_string_no_context(value["type"], "the 'type' argument of 'fetchTree'")
    if kind not in _TREE_ARGS:
        raise EvalError(f"'fetchTree' does not support the type '{kind}' (supported: "
                        + ", ".join(sorted(_TREE_ARGS)) + ")")
    args = _arguments(value, "fetchTree", _TREE_ARGS[kind], ctx,
                      url_key="path" if kind == "path" else "url")
    if kind == "git":
        return _git_result(ctx, args, "fetchTree")
    from .evaltime import fetch_file, fetch_tarball  # HTTP and TLS load on use

    store = ctx.require_store("fetchTree")
    expected = _hash(args, "fetchTree")
    name = _string(args, "name", "fetchTree", "source") or "source"
    if kind == "tarball":
        url = _url(args["url"], ctx, "the 'url' argument of 'fetchTree'")
        path = fetch_tarball(store, url, name=name, expected=expected, what="fetchTree")
    elif kind == "file":
        url = _url(args["url"], ctx, "the 'url' argument of 'fetchTree'")
        path = fetch_file(store, url, name=name, recursive=True, what="fetchTree",
                          expected=expected)
    else:
        source = _url(args["path"], ctx, "the 'path' argument of 'fetchTree'")
        path = store.add_path(ctx.host_path(source), name=name)
    nar = sri("sha256", hash_path(store.real_path(path))[0])
    if expected is not None and sri(*expected) != nar:
        raise FetchError(f"'fetchTree': NAR hash mismatch in '{path}': expected "
                         f"{sri(*expected)}, got {nar}")
    return {"outPath": _path_value(path), "narHash": nar}

