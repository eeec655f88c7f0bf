"""stdlib/image/docker-tools.ndx: the dockerTools set, evaluated by ndx (and by Nix as the
oracle for the parts that are plain Nix)."""

from __future__ import annotations

import json
import subprocess
from importlib import resources

import ndx.stdlib  # noqa: F401  (registers buildImage)
from ndx.evaluator.context import EvalContext
from ndx.evaluator.runtime import force_deep
from ndx.evaluator.session import run_deep
from ndx.evaluator.values import string_text
from ndx.stdlib.image.users import SHADOW_SETUP
from ndx.stdlib.store.memory import MemoryStore

DOCKER_TOOLS = str(resources.files("ndx.stdlib.image").joinpath("docker-tools.ndx"))


def test_nix_reads_the_same_shadow_setup_and_fake_nss() -> None:
    out = subprocess.run(["nix-instantiate", "--eval", "--strict", "--json", "-E",
                          f"(import {DOCKER_TOOLS}).shadowSetup"],
                         check=True, capture_output=True, text=True).stdout
    assert json.loads(out) == SHADOW_SETUP
    assert "/etc/login.defs" in SHADOW_SETUP and "/etc/gshadow" in SHADOW_SETUP
    drv = subprocess.run(["nix-instantiate", "--eval", "-E",
                          f"(import {DOCKER_TOOLS}).fakeNss.drvPath"],
                         check=True, capture_output=True, text=True).stdout
    assert drv.strip().strip('"').endswith("-fake-nss.drv")


def test_docker_tools_build_image_evaluates_in_ndx(tmp_path) -> None:
    (tmp_path / "motd").write_text("hi\n")
    text = (f'let dockerTools = import {DOCKER_TOOLS}; in dockerTools.buildImage {{ '
            'name = "motd"; tag = "1"; copyToRoot = [ ]; '
            'config = { Cmd = [ "/bin/cat" "${./motd}" ]; Env = [ "A=1" ]; }; }')
    ctx = EvalContext(MemoryStore())
    image = run_deep(lambda: force_deep(ctx.evaluate_string(text, base_dir=str(tmp_path))))
    assert string_text(image["drvPath"]).endswith("-docker-image-motd.tar.drv")
    spec = json.loads(string_text(image["imageSpec"]))
    assert spec["config"]["Cmd"][1].endswith("-motd")
    assert spec["config"]["Cmd"][1] in image["imageSpec"].context
