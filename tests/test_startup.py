"""Start-up stays cheap: the modules `ndx eval -E 1` and `ndx --help` load, checked by name
(never by time). Registering the stdlib's builtins must not load what only running them
needs — the registry client and TLS, the image writers, the disk store, git — so a later
eager import at module top is caught here; benchmarks/startup.py has the figures."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

from ndx.cli.main import VERSION

#: Loaded only when a build, a pull, a fetch or an image command runs.
HEAVY = (
    "ssl", "http.client", "urllib.request", "sqlite3", "importlib.metadata",
    "ndx.stdlib.registry.client", "ndx.stdlib.registry.transport", "ndx.stdlib.registry.pull",
    "ndx.stdlib.image.archive", "ndx.stdlib.image.build", "ndx.stdlib.image.builtin",
    "ndx.stdlib.image.builder_steps", "ndx.stdlib.image.layer", "ndx.stdlib.image.layered",
    "ndx.stdlib.image.layered_builtin", "ndx.stdlib.image.layering",
    "ndx.stdlib.fetch.download", "ndx.stdlib.fetch.evaltime", "ndx.stdlib.fetch.git",
    "ndx.stdlib.fetch.hg", "ndx.stdlib.store.disk", "ndx.stdlib.store.db",
    "ndx.stdlib.build.runner",
)

#: Runs the `ndx` entry point with ARGV in this process, then reports what it loaded and
#: which builtins are registered.
PROBE = """
import json, sys
from ndx.cli.main import main
sys.argv = ["ndx", *json.loads(sys.argv[1])]
code = 0
try:
    main()
except SystemExit as exit:
    code = exit.code
sys.stdout.flush()
from ndx.evaluator.builtins.registry import REGISTRY
print(json.dumps({"code": code, "modules": sorted(sys.modules),
                  "builtins": sorted(REGISTRY)}), file=sys.stderr)
"""


def probe(*argv: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)],
                          capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stderr.splitlines()[-1])
    result["stdout"] = done.stdout
    return result


def test_eval_registers_the_stdlib_builtins_without_loading_their_implementations() -> None:
    result = probe("eval", "-E", "1")
    assert (result["code"], result["stdout"]) == (0, "1\n")
    builtins = set(result["builtins"])  # type: ignore[arg-type]
    assert {"buildImage", "buildLayeredImage", "streamLayeredImage", "pullImage",
            "override", "fetchurl", "fetchTarball", "fetchGit", "fetchTree",
            "fetchMercurial"} <= builtins
    loaded = set(result["modules"])  # type: ignore[arg-type]
    assert sorted(loaded & set(HEAVY)) == []


def test_help_lists_every_command_without_loading_the_stdlib() -> None:
    result = probe("--help")
    assert result["code"] == 0
    for command in ("eval", "image", "log", "parse", "prefetch-image", "push", "repl",
                    "store"):
        assert f"  {command} " in str(result["stdout"])
    loaded = set(result["modules"])  # type: ignore[arg-type]
    assert sorted(m for m in loaded if m.startswith("ndx.stdlib") or m in HEAVY) == []


def test_the_version_constant_is_the_installed_packages() -> None:
    assert VERSION == metadata.version("ndx")
