"""`ndx image inspect`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from ndx.cli import commands  # noqa: F401  (registers the subcommands)
from ndx.cli.main import cli
from ndx.stdlib.image.build import ImageSpec, build_image


def test_inspect_prints_config_layers_and_sizes(store, tmp_path) -> None:
    hello = store.add_hello(tmp_path)
    out = tmp_path / "result"
    image = build_image(ImageSpec(name="hello", tag="1.0", closure=[hello], copy_to_root=[hello],
                                  config={"Cmd": ["/bin/hello"]}), store.view, str(out))
    result = CliRunner().invoke(cli, ["image", "inspect", str(out)])
    assert result.exit_code == 0, result.output
    assert "image:        hello:1.0" in result.output
    assert f"id:           {image.config_digest}" in result.output
    assert 'Cmd: ["/bin/hello"]' in result.output
    assert "layers:       1 (" in result.output
    result = CliRunner().invoke(cli, ["image", "inspect", "--json", str(out)])
    (record,) = json.loads(result.output)
    (layer,) = record["layers"]
    assert layer["digest"] == image.layers[0].digest and layer["size"] == image.layers[0].size
    assert layer["entries"] == 7 and layer["content_size"] > 1000


def test_inspect_of_a_non_image_is_a_clear_error(tmp_path) -> None:
    (tmp_path / "x").write_text("not an image")
    result = CliRunner().invoke(cli, ["image", "inspect", str(tmp_path / "x")])
    assert result.exit_code == 1
    assert "error:" in result.output and "Traceback" not in result.output
