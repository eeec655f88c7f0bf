"""streamLayeredImage piped to docker load (nothing large in the store, the same bytes
every run), OCI layouts accepted by skopeo, umoci and podman, and the SBOM validated
against the SPDX 2.3 JSON schema (the one lib4sbom ships) and by spdx-tools."""

from __future__ import annotations

import importlib.resources
import json
import os
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest

from tests.engines import skopeo, skopeo_inspect

from .conftest import BIN, Project, env

#: A stream configuration holds JSON and the customisation layer: small, whatever the
#: closure's size.
SMALL = 64 * 1024


def tree_size(path: Path) -> int:
    real = Path(os.path.realpath(path))
    if real.is_file():
        return real.stat().st_size
    return sum(p.stat().st_size for p in real.rglob("*") if p.is_file())


def stream(script: Path, out: Path) -> None:
    with open(out, "wb") as f:
        proc = subprocess.run([str(script)], stdout=f, stderr=subprocess.PIPE, env=env(),
                              check=False)
    assert proc.returncode == 0, proc.stderr.decode()


def test_stream_piped_to_docker_load(project: Project, dockerd) -> None:
    script = project.build("stream")
    piped = subprocess.run(f"'{script}' | DOCKER_HOST={dockerd.host} docker load",
                           shell=True, capture_output=True, text=True, env=env(), check=False)
    assert piped.returncode == 0, piped.stderr
    assert "Loaded image: ndx-streamed:latest" in piped.stdout
    assert dockerd.run("ndx-streamed:latest") == "Hello from ndx!\nshared data\n"


def test_stream_writes_nothing_large_to_the_store(project: Project) -> None:
    script = project.build("stream")
    conf = script.read_text().split("conf=", 1)[1].split("\n", 1)[0]
    conf_dir = Path(os.path.realpath(script)).parent / conf.rsplit("/", 1)[-1]
    assert tree_size(script) < SMALL and tree_size(conf_dir) < SMALL
    stream(script, project.work / "streamed.tar")
    assert (project.work / "streamed.tar").stat().st_size > 1_000_000  # busybox is in it


def test_stream_output_is_the_same_bytes_every_run(project: Project, tmp_path: Path) -> None:
    script = project.build("stream")
    stream(script, tmp_path / "one.tar")
    stream(script, tmp_path / "two.tar")
    assert (tmp_path / "one.tar").read_bytes() == (tmp_path / "two.tar").read_bytes()


def test_streamed_and_stored_images_are_the_same_image(project: Project, tmp_path) -> None:
    """Same contents and config: the same image ID whether streamed or stored."""
    from ndx.stdlib.image.archive import ImageArchive

    stream(project.build("stream"), tmp_path / "s.tar")
    images = []
    for path in (tmp_path / "s.tar", project.build("layered")):
        with ImageArchive(str(path)) as archive:
            images.append(archive.image())
    assert images[0].config_digest == images[1].config_digest
    assert [la.diff_id for la in images[0].layers] == [la.diff_id for la in images[1].layers]
    assert {la.compression for la in images[0].layers} == {None}


def test_stream_reports_a_store_that_changed(project: Project, tmp_path: Path) -> None:
    """A configuration whose recorded diff ID no longer matches is refused."""
    script = project.build("stream")
    conf = script.read_text().split("conf=", 1)[1].split("\n", 1)[0]
    real_conf = Path(os.path.realpath(script)).parent / conf.rsplit("/", 1)[-1]
    copy = tmp_path / "store" / real_conf.name
    copy.parent.mkdir()
    data = json.loads((real_conf / "image.json").read_text())
    store_layer = next(la for la in data["layers"] if la["kind"] == "store")
    for path in store_layer["paths"]:
        name = path.rsplit("/", 1)[-1]
        shutil.copytree(Path(os.path.realpath(script)).parent / name, copy.parent / name,
                        symlinks=True)
    copy.mkdir()
    (copy / "customisation.tar").write_bytes((real_conf / "customisation.tar").read_bytes())
    data["layers"] = [store_layer]
    fake = "sha256:" + "0" * 64
    store_layer["diff_id"] = store_layer["digest"] = fake
    config = json.loads(data["config"])
    config["rootfs"]["diff_ids"] = [fake]
    data["config"] = json.dumps(config)
    (copy / "image.json").write_text(json.dumps(data))
    proc = subprocess.run([str(BIN / "python"), "-m", "ndx.stdlib.image.stream", str(copy)],
                          capture_output=True, env=env(), check=False)
    assert proc.returncode == 1
    assert b"does not match its digest" in proc.stderr


@pytest.fixture(scope="module")
def oci_dir(project: Project) -> Path:
    return Path(os.path.realpath(project.build("oci")))


def test_oci_layout_has_oci_media_types_and_annotations(oci_dir: Path) -> None:
    assert json.loads((oci_dir / "oci-layout").read_text()) == {"imageLayoutVersion": "1.0.0"}
    index = json.loads((oci_dir / "index.json").read_text())
    (entry,) = index["manifests"]
    assert entry["annotations"]["org.opencontainers.image.ref.name"] == "v1"
    manifest = json.loads((oci_dir / "blobs" / "sha256" /
                           entry["digest"].split(":")[1]).read_text())
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["config"]["mediaType"] == "application/vnd.oci.image.config.v1+json"
    assert {la["mediaType"] for la in manifest["layers"]} == {
        "application/vnd.oci.image.layer.v1.tar+gzip"}
    notes = manifest["annotations"]
    assert notes["org.opencontainers.image.created"] == "1970-01-01T00:00:01Z"
    assert notes["org.opencontainers.image.version"] == "1.0"
    assert notes["org.opencontainers.image.title"] == "ndx-layered-oci"


def test_zstd_oci_layout_and_user_annotations(project: Project, podman) -> None:
    layout = Path(os.path.realpath(project.build("ociZstd")))
    raw = json.loads(skopeo("inspect", "--raw", f"oci:{layout}:v1"))
    assert {la["mediaType"] for la in raw["layers"]} == {
        "application/vnd.oci.image.layer.v1.tar+zstd"}
    assert raw["annotations"]["org.opencontainers.image.source"] == "https://example.org/hello"
    out = podman.podman("load", "-i", str(layout)).stdout.decode()
    assert "ndx-layered-zstd" in out or "Loaded image" in out
    image = out.strip().splitlines()[-1].split(": ", 1)[-1]
    assert podman.run(image, "/bin/hello") == "Hello from ndx!\n"


def test_skopeo_copies_the_oci_layout_to_docker(oci_dir: Path, dockerd) -> None:
    skopeo("copy", "--dest-daemon-host", dockerd.host, f"oci:{oci_dir}:v1",
           "docker-daemon:ndx-from-oci:v1")
    assert dockerd.run("ndx-from-oci:v1") == "Hello from ndx!\n"


def test_umoci_unpacks_the_oci_layout(oci_dir: Path, tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    proc = subprocess.run(["umoci", "unpack", "--rootless", "--image", f"{oci_dir}:v1",
                           str(bundle)], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    rootfs = bundle / "rootfs"
    assert os.readlink(rootfs / "bin" / "hello").endswith("-hello-1.0/bin/hello")
    from ndx.stdlib.image.rootfs import resolve_in_root

    data = resolve_in_root(str(rootfs), "share/data.txt", follow_last=True)  # links inside
    assert Path(data).read_text() == "shared data\n"
    hello = next((rootfs / "ndx" / "store").glob("*-hello-1.0"))
    assert subprocess.run([str(hello / "bin" / "hello")], capture_output=True,
                          text=True, check=True).stdout == "Hello from ndx!\n"


def test_podman_loads_the_oci_layout_and_runs_it(oci_dir: Path, podman) -> None:
    out = podman.podman("load", "-i", str(oci_dir)).stdout.decode()
    image = out.strip().splitlines()[-1].split(": ", 1)[-1]
    assert podman.run(image) == "Hello from ndx!\n"


def test_ndx_image_copy_writes_an_oci_layout_of_a_layered_image(project: Project,
                                                                tmp_path: Path) -> None:
    proc = subprocess.run([str(BIN / "ndx"), "image", "copy", str(project.build("layered")),
                           f"oci-layout:{tmp_path / 'lay'}:v2"], capture_output=True,
                          text=True, env=env(), check=False)
    assert proc.returncode == 0, proc.stderr
    inspected = skopeo_inspect(f"oci:{tmp_path / 'lay'}:v2")
    assert len(inspected["Layers"]) == 4  # type: ignore[arg-type]


def _spdx_schema() -> dict:
    text = (importlib.resources.files("lib4sbom") / "schemas" / "spdx" /
            "2.3-schema.json").read_text()
    schema = json.loads(text)
    assert schema["title"] == "SPDX 2.3"
    return schema


@pytest.mark.parametrize("attr", ["layered", "stream", "oci"])
def test_sbom_is_valid_spdx_2_3(project: Project, tmp_path: Path, attr: str) -> None:
    out = tmp_path / "sbom.json"
    proc = subprocess.run([str(BIN / "ndx"), "image", "sbom", str(project.build(attr)), "-o",
                           str(out)], capture_output=True, text=True, env=env(), check=False)
    assert proc.returncode == 0, proc.stderr
    document = json.loads(out.read_text())
    jsonschema.Draft7Validator(_spdx_schema()).validate(document)
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    assert validate_full_spdx_document(parse_file(str(out))) == []
    packages = {p["name"]: p for p in document["packages"]}
    assert packages["hello"]["versionInfo"] == "1.0"
    assert packages["busybox"]["versionInfo"] == "1.35.0"
    assert packages["hello"]["externalRefs"][0]["referenceLocator"] == "pkg:generic/hello@1.0"
    image = next(p for p in document["packages"] if p["primaryPackagePurpose"] == "CONTAINER")
    relations = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"])
                 for r in document["relationships"]}
    assert ("SPDXRef-DOCUMENT", "DESCRIBES", image["SPDXID"]) in relations
    assert (packages["hello"]["SPDXID"], "DEPENDS_ON",
            packages["shared-data"]["SPDXID"]) in relations
    assert sum(1 for r in relations if r[1] == "CONTAINS") == 3


def test_sbom_of_an_image_without_provenance_says_so(tmp_path: Path) -> None:
    from ndx.stdlib.image.archive import BlobFiles, Image, canonical_json, write_docker_archive

    config = canonical_json({"architecture": "amd64", "os": "linux", "config": {},
                             "rootfs": {"type": "layers", "diff_ids": []}})
    path = tmp_path / "plain.tar"
    with open(path, "wb") as f:
        write_docker_archive(f, [Image(config, (), ("plain:latest",))], BlobFiles())
    proc = subprocess.run([str(BIN / "ndx"), "image", "sbom", str(path)], capture_output=True,
                          text=True, env=env(), check=False)
    assert proc.returncode == 1
    assert "carries no 'org.ndx.closure' label" in proc.stderr
    assert "Traceback" not in proc.stderr
