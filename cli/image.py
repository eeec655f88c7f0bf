"""`ndx image …`: look inside image archives (docker-archive or OCI layout) without an engine."""

from __future__ import annotations

import json
import tarfile
from typing import TYPE_CHECKING, Any

import click

from ndx.cli.main import cli

if TYPE_CHECKING:
    from ndx.stdlib.image.archive import Image, ImageArchive


@cli.group("image")
def image_group() -> None:
    """Inspect container images built by ndx (or any docker-archive / OCI layout)."""


def _human(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError


def _layer_stats(archive: ImageArchive, image: Image) -> list[dict[str, Any]]:
    stats = []
    for layer in image.layers:
        files = size = 0
        with archive.open_layer(layer) as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                files += 1
                size += member.size
        stats.append({"diff_id": layer.diff_id, "digest": layer.digest,
                      "media_type": layer.media_type, "size": layer.size,
                      "content_size": size, "entries": files})
    return stats


def describe(path: str) -> list[dict[str, Any]]:
    """Everything `ndx image inspect` shows, as data: one record per image."""
    from ndx.stdlib.image.archive import ImageArchive  # the image stack loads on use

    with ImageArchive(path) as archive:
        records = []
        for image in archive.images():
            config = image.config_json
            records.append({
                "format": archive.format,
                "names": list(image.repo_tags),
                "id": image.config_digest,
                "architecture": config.get("architecture"),
                "os": config.get("os"),
                "created": config.get("created"),
                "config": config.get("config") or {},
                "layers": _layer_stats(archive, image),
            })
        return records


@image_group.command("inspect")
@click.argument("path", type=click.Path(exists=True, dir_okay=True))
@click.option("--json", "as_json", is_flag=True, help="Print the description as JSON.")
def inspect(path: str, as_json: bool) -> None:
    """Print the config, layers and sizes of the image archive PATH (e.g. ./result)."""
    records = describe(path)
    if as_json:
        click.echo(json.dumps(records, indent=2, sort_keys=True))
        return
    for record in records:
        click.echo(f"image:        {', '.join(record['names']) or '(no name)'}")
        click.echo(f"format:       {record['format']}")
        click.echo(f"id:           {record['id']}")
        click.echo(f"platform:     {record['os']}/{record['architecture']}")
        click.echo(f"created:      {record['created']}")
        config = record["config"]
        if config:
            click.echo("config:")
            for key in sorted(config):
                click.echo(f"  {key}: {json.dumps(config[key])}")
        layers = record["layers"]
        total = sum(la["size"] for la in layers)
        content = sum(la["content_size"] for la in layers)
        click.echo(f"layers:       {len(layers)} ({_human(total)} stored, "
                   f"{_human(content)} of files)")
        for i, la in enumerate(layers):
            click.echo(f"  {i}  {la['diff_id'][:19]}  {_human(la['size']):>10} stored  "
                       f"{_human(la['content_size']):>10} files  {la['entries']:>6} entries  "
                       f"{la['media_type'].rsplit('.', 1)[-1]}")
