"""The commands: `ndx prefetch-image` prints what to paste into pullImage (and its
sha256 is the hash of the archive pullImage produces), `ndx push` and `ndx image copy`
move images, and user errors are messages, not tracebacks."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from ndx.cli import commands  # noqa: F401  (registers the subcommands)
from ndx.cli.main import cli
from ndx.stdlib.registry import ClientOptions, pull_image
from ndx.stdlib.registry.digest import nix32

from .images import run
from .servers import Registry


def test_prefetch_image_prints_pullimage_arguments(registry: Registry, busybox_on_registry: str,
                                                   tmp_path: Path) -> None:
    runner = CliRunner()
    done = runner.invoke(cli, ["prefetch-image", busybox_on_registry, "--insecure-registry",
                               registry.host, "--final-image-name", "busybox"])
    assert done.exit_code == 0, done.output
    lines = done.output.strip().splitlines()
    assert lines[0] == "{" and lines[-1] == "}"
    fields = dict(line.strip().rstrip(";").split(" = ", 1) for line in lines[1:-1])
    assert json.loads(fields["imageName"]) == busybox_on_registry.rsplit(":", 1)[0]
    assert json.loads(fields["finalImageName"]) == "busybox"
    assert json.loads(fields["finalImageTag"]) == "latest"
    digest = json.loads(fields["imageDigest"])
    result = pull_image(json.loads(fields["imageName"]), digest, tmp_path / "image.tar",
                        final_image_name="busybox", options=ClientOptions(insecure=True))
    raw = hashlib.sha256(result.path.read_bytes()).digest()
    assert json.loads(fields["sha256"]) == nix32(raw)
    as_json = runner.invoke(cli, ["prefetch-image", "--json", busybox_on_registry,
                                  "--no-tls-verify", "--final-image-name", "busybox"])
    assert json.loads(as_json.output)["hash"].startswith("sha256-")


def test_push_and_copy_commands(registry: Registry, busybox_on_registry: str,
                                tmp_path: Path) -> None:
    runner = CliRunner()
    archive = tmp_path / "result"
    pull_image(busybox_on_registry, None, archive, final_image_name="app",
               options=ClientOptions(insecure=True))
    dest = f"docker://{registry.host}/cli/app:v1"
    done = runner.invoke(cli, ["push", str(archive), dest, "--insecure-registry", registry.host])
    assert done.exit_code == 0, done.output
    assert done.output.startswith(dest) and "(sha256:" in done.output
    copied = runner.invoke(cli, ["image", "copy", dest, f"oci-layout:{tmp_path}/lay:v1",
                                 "--insecure-registry", registry.host])
    assert copied.exit_code == 0, copied.output
    assert json.loads(run("skopeo", "inspect", f"oci:{tmp_path}/lay:v1"))["Layers"]


def test_user_errors_are_messages(registry: Registry, tmp_path: Path) -> None:
    runner = CliRunner()
    missing = runner.invoke(cli, ["push", str(tmp_path / "nope"), "docker://x/y:z"])
    assert missing.exit_code == 1 and "no such file" in missing.output
    assert "Traceback" not in missing.output
    plain = runner.invoke(cli, ["prefetch-image", f"{registry.host}/cli/none:v1"])
    assert plain.exit_code == 1 and "does not speak TLS" in plain.output
    bad = runner.invoke(cli, ["push", str(tmp_path), "ftp://somewhere"])
    assert bad.exit_code == 1 and "unknown image location" in bad.output
