"""buildLayeredImage end to end with ndx-build: images that docker runs, layers shared
byte for byte between overlapping images and across a version bump, reproducible
rebuilds, fakeRootCommands' owners, and the errors a user can make."""

from __future__ import annotations

import json
import subprocess

from ndx.stdlib.image.archive import ImageArchive
from ndx.stdlib.image.provenance import LABEL

from .conftest import BIN, Project, env
from .layers import layers_by_content


def test_layered_image_runs_in_docker(project: Project, dockerd) -> None:
    result = project.build("layered")
    assert "Loaded image: ndx-layered:latest" in dockerd.load(result)
    assert dockerd.run("ndx-layered:latest") == "Hello from ndx!\nshared data\n"


def test_each_store_path_has_its_own_layer_most_popular_first(project: Project) -> None:
    layers = layers_by_content(project.build("layered"))
    assert list(layers) == ["shared-data-3.1", "busybox-1.35.0", "hello-1.0", "customisation"]


def test_overlapping_images_share_identical_layers(project: Project, dockerd) -> None:
    one = layers_by_content(project.build("layered"))
    two = layers_by_content(project.build("layeredOther"))
    shared = {name for name in one if name in two and one[name] == two[name]}
    assert shared == {"shared-data-3.1", "busybox-1.35.0"}
    assert one["hello-1.0"] not in two.values()
    # docker finds the shared layers already there when the second image loads.
    dockerd.load(project.build("layered"))
    loaded = dockerd.load(project.build("layeredOther"))
    assert "Loaded image: ndx-layered-other:latest" in loaded
    assert dockerd.run("ndx-layered-other:latest") == "other\n"


def test_a_version_bump_changes_only_its_layer_and_reuses_the_rest(project: Project) -> None:
    before = layers_by_content(project.build("layered"))
    proc = project.run("default.ndx", "-A", "layered", "--argstr", "helloVersion", "1.1",
                       "-o", str(project.work / "bumped"))
    assert "3 store-path layers: 2 from the layer cache, 1 made" in proc.stderr
    after = layers_by_content(project.work / "bumped")
    assert after["shared-data-3.1"] == before["shared-data-3.1"]
    assert after["busybox-1.35.0"] == before["busybox-1.35.0"]
    assert "hello-1.1" in after and "hello-1.0" not in after
    assert after["customisation"] != before["customisation"]  # its links name hello-1.1


def test_layered_images_are_reproducible(project: Project) -> None:
    project.build("layered")
    check = project.run("default.ndx", "-A", "layered", "--check", "--no-out-link")
    assert check.returncode == 0


def test_fake_root_commands_record_owners_in_the_customisation_layer(project: Project,
                                                                    dockerd) -> None:
    dockerd.load(project.build("fakeRoot"))
    out = dockerd.run("ndx-layered-fakeroot:latest")
    assert out == "1000:1000 755 /data\n1000:1000 700 /srv\nmade-by-extra\n"


def test_fake_chroot_sees_the_image_root(project: Project, dockerd) -> None:
    dockerd.load(project.build("fakeChroot"))
    assert dockerd.run("ndx-layered-fakechroot:latest") == "4242:4242 /home/app\n"


def test_the_config_label_lists_the_store_paths_with_versions(project: Project) -> None:
    with ImageArchive(str(project.build("layered"))) as archive:
        config = archive.image().config_json
    entries = json.loads(config["config"]["Labels"][LABEL])
    named = {(e["pname"], e["version"]) for e in entries}
    assert named == {("hello", "1.0"), ("busybox", "1.35.0"), ("shared-data", "3.1")}
    shared = next(i for i, e in enumerate(entries) if e["pname"] == "shared-data")
    assert all(shared in e["references"] for e in entries if e["pname"] != "shared-data")


def _eval_error(project: Project, expr: str) -> str:
    proc = subprocess.run([str(BIN / "ndx-build"), "--store", str(project.store), "-E",
                           expr, "--no-out-link"], cwd=project.work, capture_output=True,
                          text=True, env=env(), check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    return proc.stderr


def test_argument_mistakes_are_reported_at_evaluation(project: Project) -> None:
    tools = "(import <ndx/image/docker-tools.ndx>)"
    err = _eval_error(project, f'{tools}.buildLayeredImage {{ name = "x"; maxLayer = 3; }}')
    assert "unknown argument 'maxLayer' (did you mean 'maxLayers'?)" in err
    err = _eval_error(project, f'{tools}.buildLayeredImage {{ name = "x"; maxLayers = 200; }}')
    assert "'maxLayers' must be a number from 2 to 125" in err
    err = _eval_error(project, f'{tools}.streamLayeredImage {{ name = "x"; format = "oci"; }}')
    assert "a streamed image is a docker-archive" in err


def test_a_bad_pipeline_step_fails_the_build_with_its_name(project: Project) -> None:
    expr = ('let p = import ./default.ndx { }; in (import <ndx/image/docker-tools.ndx>)'
            '.buildLayeredImage { name = "x"; contents = [ p.hello ]; '
            'layeringPipeline = [ [ "popularity" ] ]; }')
    err = _eval_error(project, expr)
    assert "unknown layering step 'popularity'" in err
    assert "did you mean 'popularity_contest'" in err


def test_layered_image_on_a_base_image(project: Project, dockerd) -> None:
    result = project.build("onBase")
    with ImageArchive(str(result)) as archive:
        image = archive.image()
    with ImageArchive(str(project.build("single"))) as archive:
        base = archive.image()
    assert image.layers[0] == base.layers[0]
    assert len(image.layers) == 1 + 2 + 1  # base, other and shared-data, customisation
    dockerd.load(result)
    assert dockerd.run("ndx-layered-on-base:latest") == "Hello from ndx!\nother\n"


def test_streamed_image_on_a_base_image(project: Project, dockerd) -> None:
    script = project.build("streamOnBase")
    piped = subprocess.run(f"'{script}' | DOCKER_HOST={dockerd.host} docker load",
                           shell=True, capture_output=True, text=True, env=env(), check=False)
    assert piped.returncode == 0, piped.stderr
    assert dockerd.run("ndx-streamed-on-base:latest") == "Hello from ndx!\nother\n"


def test_build_image_writes_an_oci_layout_too(project: Project, podman) -> None:
    import os

    layout = project.build("single", "--argstr", "imageFormat", "oci")
    assert os.path.isdir(layout)
    out = podman.podman("load", "-i", str(layout)).stdout.decode()
    image = out.strip().splitlines()[-1].split(": ", 1)[-1]
    assert podman.run(image) == "Hello from ndx!\n"
