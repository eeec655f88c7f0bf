"""`pullImage` in the language: the global builtin (kept out of `builtins`) and
`dockerTools.pullImage` are one function; argument mistakes fail at evaluation with clear
messages; built by ndx-build against the real registry, a wrong sha256 fails and prints
the right one, and credentials are read at build time and found in no .drv file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ndx.cli.eval import run_eval
from ndx.stdlib.registry import ClientOptions, copy_image, pull_image
from ndx.stdlib.registry.digest import nix32, sri
from ndx.stdlib.store.disk import DiskStore
from tests.builds import NdxBuilds

from .conftest import PASSWORD, USER, write_auth_file
from .servers import Registry

DIGEST = "sha256:" + "ab" * 32
SHA256 = "0" * 52
BASE = f'imageName = "127.0.0.1:5000/library/debian"; imageDigest = "{DIGEST}";'


def pull_expression(**fields: object) -> str:
    """`pullImage { … }` with `fields` (strings and Booleans) as its arguments."""
    body = " ".join(f"{k} = {json.dumps(v)};" for k, v in fields.items())
    return f"pullImage {{ {body} }}"


def eval_error(expr: str) -> str:
    result = run_eval(None, expr, strict=True)
    assert result.exit_code != 0, result.stdout
    assert "Traceback" not in result.stderr
    return result.stderr


def test_pull_image_is_a_global_builtin_outside_builtins_and_is_docker_tools_one() -> None:
    result = run_eval(None, f"""
      let
        args = {{ {BASE} sha256 = "{SHA256}"; finalImageName = "debian"; tlsVerify = false; }};
        global = pullImage args;
        viaTools = (import <ndx> {{ }}).dockerTools.pullImage args;
      in [ (builtins ? pullImage) (global.drvPath == viaTools.drvPath) global.name
           global.builder global.outputHashMode global.tlsVerify ]""", strict=True)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == ('[ false true "docker-image-debian-latest.tar" '
                             '"builtin:pullImage" "flat" false ]\n')


@pytest.mark.parametrize("args, message", [
    (f'{BASE} sha256 = "{SHA256}"; finalImageTg = "x";',
     "pullImage: unknown argument 'finalImageTg' (did you mean 'finalImageTag'?)"),
    (f'{BASE} sha265 = "{SHA256}";',
     "pullImage: unknown argument 'sha265' (did you mean 'sha256'?)"),
    ('imageName = "debian"; sha256 = "x";', "pullImage: the argument 'imageDigest' is required"),
    (BASE, "pullImage: the argument 'sha256' (or 'hash') is required"),
    (f'{BASE} sha256 = "{SHA256}"; hash = "sha256-x";',
     "give either 'sha256' or 'hash', not both"),
    (f'imageName = "debian"; imageDigest = "latest"; sha256 = "{SHA256}";',
     "imageDigest must be 'sha256:' and 64 lower-case hex digits, not 'latest'"),
    (f'imageName = "debian"; imageDigest = "sha256:{"AB" * 32}"; sha256 = "{SHA256}";',
     "imageDigest must be 'sha256:' and 64 lower-case hex digits"),
    (f'{BASE} sha256 = "abc";',
     "pullImage: sha256 = \"abc\" is not a valid hash (hash 'abc' has wrong length"),
    (f'{BASE} hash = "{SHA256}";', "pullImage: hash = \"0000"),
    (f'imageName = "Debian"; imageDigest = "{DIGEST}"; sha256 = "{SHA256}";',
     "pullImage: imageName: invalid repository name 'Debian'"),
    (f'{BASE} sha256 = "{SHA256}"; tlsVerify = "no";',
     "pullImage: 'tlsVerify' must be a Boolean, not a string"),
    (f'{BASE} sha256 = "{SHA256}"; finalImageTag = 7;',
     "pullImage: 'finalImageTag' must be a string, not an integer"),
])
def test_argument_mistakes_fail_at_evaluation(args: str, message: str) -> None:
    err = eval_error(f"pullImage {{ {args} }}")
    assert message in err
    assert "pullImage {" in err  # the caret points at the call


def test_an_argument_error_names_the_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "base.ndx").write_text(
        "let base = pullImage {\n"
        '  imageName = "debian";\n'
        f'  imageDigest = "{DIGEST}";\n'
        "};\nin base.outPath\n")
    result = run_eval(str(tmp_path / "base.ndx"), None)
    assert result.exit_code != 0
    assert f"{tmp_path / 'base.ndx'}:1:12: error: pullImage: the argument 'sha256'" \
        in result.stderr


@pytest.fixture
def busybox_pin(busybox_on_registry: str, tmp_path: Path) -> dict[str, object]:
    """pullImage's arguments for the registry's busybox, with the archive's true hash."""
    pulled = pull_image(busybox_on_registry, None, tmp_path / "pin.tar",
                        final_image_name="busybox", final_image_tag="pinned",
                        options=ClientOptions(insecure=True))
    return {"imageName": busybox_on_registry.rsplit(":", 1)[0],
            "imageDigest": pulled.image_digest, "sha256": pulled.sha256,
            "finalImageName": "busybox", "finalImageTag": "pinned", "tlsVerify": False}


def test_built_by_ndx_build_and_checked_against_its_sha256(
        ndx_builds: NdxBuilds, busybox_pin: dict[str, object]) -> None:
    built = ndx_builds.build("-E", pull_expression(**busybox_pin))
    assert built.logical.endswith("-docker-image-busybox-pinned.tar")
    assert hashlib.sha256(built.path.read_bytes()).hexdigest() == busybox_pin["sha256"]


def test_a_wrong_sha256_fails_the_build_and_prints_the_right_one(
        ndx_builds: NdxBuilds, busybox_pin: dict[str, object]) -> None:
    right = bytes.fromhex(str(busybox_pin["sha256"]))
    expr = pull_expression(**dict(busybox_pin, sha256=SHA256))
    err = ndx_builds.fail("-E", expr)
    assert "hash mismatch in fixed-output derivation" in err
    assert f"got:       {sri('sha256', right)}  (sha256:{nix32(right)})" in err
    out_path = run_eval(None, f"({expr}).outPath").stdout.strip().strip('"')
    assert out_path.startswith("/ndx/store/")
    assert not (ndx_builds.store / out_path.rsplit("/", 1)[1]).exists()


def test_credentials_are_read_at_build_time_and_kept_out_of_the_drv(
        ndx_builds: NdxBuilds, htpasswd_registry: Registry, busybox_layout: Path,
        tmp_path: Path) -> None:
    auth = write_auth_file(tmp_path / "auth.json", htpasswd_registry.host, USER, PASSWORD)
    options = ClientOptions(insecure=True, auth_file=str(auth))
    ref = f"{htpasswd_registry.host}/private/busybox"
    copy_image(f"oci-layout:{busybox_layout}:latest", f"docker://{ref}:v1", options=options)
    pulled = pull_image(f"{ref}:v1", None, tmp_path / "pin.tar", final_image_name="private",
                        final_image_tag="v1", options=options)
    expr = pull_expression(imageName=ref, imageDigest=pulled.image_digest,
                           sha256=pulled.sha256, finalImageName="private",
                           finalImageTag="v1", tlsVerify=False)
    err = ndx_builds.fail("-E", expr)  # no credentials in the build's environment
    assert "requires authentication" in err and PASSWORD not in err
    built = ndx_builds.run("-E", expr, "--no-out-link",
                           env=dict(ndx_builds.env, REGISTRY_AUTH_FILE=str(auth)))
    assert built.returncode == 0, built.stderr
    logical = built.stdout.strip().splitlines()[-1]
    with DiskStore(str(ndx_builds.store)) as store:
        (drv_path, _), = store.derivers(logical)
        drv = Path(store.real_path(drv_path)).read_bytes()
    assert drv.startswith(b"Derive(") and b"builtin:pullImage" in drv
    for secret in (PASSWORD, USER, str(auth), "auth.json"):
        assert secret.encode() not in drv, secret
