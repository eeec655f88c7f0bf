"""`ndx push`, `ndx prefetch-image` and `ndx image copy`: thin commands over
`ndx.stdlib.registry`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ndx.cli.main import cli

if TYPE_CHECKING:
    from ndx.stdlib.registry import ClientOptions


def _image_group() -> click.Group:
    """The `ndx image` group, shared with cli/image.py: whichever module loads first
    creates it, the other adds its commands to it."""
    existing = cli.commands.get("image")
    if isinstance(existing, click.Group):
        return existing

    @cli.group("image")
    def image() -> None:
        """Work with container images (copy between registries, layouts and archives)."""

    return image


def _options(insecure_registry: tuple[str, ...], ca_file: str | None, authfile: str | None,
             tls_verify: bool = True) -> ClientOptions:
    from ndx.stdlib.registry.client import ClientOptions  # HTTP and TLS load on use

    return ClientOptions(insecure=not tls_verify, insecure_hosts=frozenset(insecure_registry),
                         ca_file=ca_file, auth_file=authfile)


_insecure = click.option("--insecure-registry", "insecure_registry", multiple=True,
                         metavar="HOST:PORT",
                         help="Allow plain HTTP or unverified TLS for this registry.")
_ca_file = click.option("--ca-file", type=click.Path(exists=True, dir_okay=False),
                        help="Trust the CA certificates in this PEM file.")
_authfile = click.option("--authfile", type=click.Path(dir_okay=False),
                         help="Read credentials from this auth file first.")


def _transfer_options(fn: click.decorators.FC) -> click.decorators.FC:
    for option in reversed([
        click.option("--format", "format_", type=click.Choice(["docker", "oci"]),
                     help="Manifest format to write (default: that of the source)."),
        click.option("--compress", type=click.Choice(["gzip", "zstd"]), default="gzip",
                     show_default=True, help="Compression for uncompressed layers."),
        click.option("--chunk-size", type=click.IntRange(min=0), default=None,
                     help="Upload blobs in chunks of this many bytes (0: one request)."),
        click.option("--mount-from", multiple=True, metavar="REPO",
                     help="Try to mount blobs from this repository of the same registry."),
        click.option("--platform", "platform", metavar="OS/ARCH[/VARIANT]",
                     help="Which image of an index to copy."),
        _insecure, _ca_file, _authfile,
    ]):
        fn = option(fn)
    return fn


def _run_copy(source: str, destination: str, format_: str | None, compress: str,
              chunk_size: int | None, mount_from: tuple[str, ...], platform: str | None,
              insecure_registry: tuple[str, ...], ca_file: str | None,
              authfile: str | None) -> None:
    from ndx.stdlib.registry.platform import Platform
    from ndx.stdlib.registry.transfer import copy_image

    result = copy_image(source, destination,
                        options=_options(insecure_registry, ca_file, authfile),
                        platform=Platform.parse(platform) if platform else None,
                        format=format_, compression=compress, chunk_size=chunk_size,
                        mount_from=mount_from)
    suffix = f" ({result.manifest_digest})" if result.manifest_digest else ""
    click.echo(f"{result.destination}{suffix}")


@cli.command("push")
@click.argument("result", metavar="RESULT")
@click.argument("destination", metavar="DEST")
@_transfer_options
def push(result: str, destination: str, **kw: object) -> None:
    """Push an image (an ndx-build RESULT: docker-archive or OCI layout) to DEST:
    docker://HOST[:PORT]/REPO:TAG or oci-layout:DIR[:TAG]."""
    _run_copy(result, destination, **kw)  # type: ignore[arg-type]


@_image_group().command("copy")
@click.argument("source", metavar="SOURCE")
@click.argument("destination", metavar="DEST")
@_transfer_options
def image_copy(source: str, destination: str, **kw: object) -> None:
    """Copy an image between docker://REF, oci-layout:DIR[:TAG] and docker-archive:PATH."""
    _run_copy(source, destination, **kw)  # type: ignore[arg-type]


@cli.command("prefetch-image")
@click.argument("image", metavar="NAME[:TAG]")
@click.option("--os", "os_", default="linux", show_default=True)
@click.option("--arch", default=None, help="Architecture (default: this machine's).")
@click.option("--variant", default=None)
@click.option("--final-image-name", default=None)
@click.option("--final-image-tag", default=None)
@click.option("--tls-verify/--no-tls-verify", default=True, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of ndx code.")
@_insecure
@_ca_file
@_authfile
def prefetch_image(image: str, os_: str, arch: str | None, variant: str | None,
                   final_image_name: str | None, final_image_tag: str | None, tls_verify: bool,
                   as_json: bool, insecure_registry: tuple[str, ...], ca_file: str | None,
                   authfile: str | None) -> None:
    """Pull NAME[:TAG] and print the pullImage arguments that pin it (imageDigest, sha256),
    like nix-prefetch-docker."""
    import tempfile

    from ndx.stdlib.registry.digest import nix32, sri
    from ndx.stdlib.registry.platform import Platform, host_platform
    from ndx.stdlib.registry.pull import pull_image
    from ndx.stdlib.registry.reference import parse_reference

    ref = parse_reference(image)
    platform = Platform(os_, arch or host_platform().architecture, variant)
    tag = final_image_tag or ref.tag or "latest"
    with tempfile.TemporaryDirectory(prefix="ndx-prefetch-") as tmp:
        result = pull_image(image, ref.digest, Path(tmp) / "image.tar",
                            final_image_name=final_image_name, final_image_tag=tag,
                            platform=platform,
                            options=_options(insecure_registry, ca_file, authfile, tls_verify))
    raw = bytes.fromhex(result.sha256)
    name, _, final_tag = result.repo_tag.rpartition(":")
    image_name = image.split("@")[0]
    if ref.tag and image_name.endswith(f":{ref.tag}"):
        image_name = image_name[: -len(ref.tag) - 1]
    fields: dict[str, object] = {"imageName": image_name, "imageDigest": result.image_digest,
              "sha256": nix32(raw), "hash": sri("sha256", raw), "finalImageName": name,
              "finalImageTag": final_tag}
    if arch:
        fields["arch"] = platform.architecture
    if os_ != "linux":
        fields["os"] = os_
    if not tls_verify:
        fields["tlsVerify"] = False
    if as_json:
        click.echo(json.dumps(fields, indent=2))
        return
    click.echo("{")
    for key, value in fields.items():
        if key == "hash":
            continue
        shown = "false" if value is False else json.dumps(value)
        click.echo(f"  {key} = {shown};")
    click.echo("}")
