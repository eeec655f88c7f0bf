"""`build_layered_image`: an image whose store paths are spread over many layers, so images
share layers byte for byte and a version bump re-ships only what changed.

The image is, bottom first: the base image's layers (`fromImage`), one layer per group of
store paths chosen by the layering plan (`layering.py`: by default each popular path
alone, the long tail merged), and the *customisation layer* — the `contents` linked into
`/`, what `extraCommands` made, what `fakeRootCommands` made and chowned. A store-path
layer holds `/ndx/store/<path>` trees only, so its bytes depend on nothing but those paths
(and owner and compression): it is taken from the layer cache (`layercache.py`) when any
image built it before.

The same preparation serves the three outputs: a docker-archive that is also an OCI
layout (`buildLayeredImage`), an OCI layout directory (`format = "oci"`), and the
configuration a streamed image is written from (`streamLayeredImage`, see `stream.py`).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import builder_steps as steps
from .archive_reader import ImageArchive
from .builder_steps import StoreView
from .config import created_epoch, resolve_created
from .config_merge import image_config
from .errors import ImageError
from .image_format import OCI_LAYER, canonical_json, normalize_repo_tag
from .image_model import BlobFiles, Image, Layer
from .layer import Entry, LayerContents, tar_stream, write_layer
from .layercache import LayerCache, layer_key
from .layering import DEFAULT_MAX_LAYERS, plan_layers
from .provenance import LABEL, closure_label
from .rootfs import extend_closure, link_contents
from .spec_names import MAX_LAYERS_LIMIT

#: What the history says made each kind of layer.
CREATED_BY = {"store": "ndx buildLayeredImage: store paths",
              "customisation": "ndx buildLayeredImage: customisation layer"}
#: Annotations of the OCI manifest.
ANNOTATION_CREATED = "org.opencontainers.image.created"
ANNOTATION_VERSION = "org.opencontainers.image.version"
ANNOTATION_SOURCE = "org.opencontainers.image.source"
ANNOTATION_TITLE = "org.opencontainers.image.title"


@dataclass(frozen=True)
class LayeredSpec:
    """Everything a layered image needs, with Nix's argument names in snake case.

    `closure` is the runtime closure of `contents` and of the store paths the config
    names; `graph` holds the references of (at least) every path the image may hold and
    of the scripts' inputs (`script_paths`), so what the customisation layer refers to
    joins the image. `nar_hashes` (path → NAR hash) key the layer cache; `provenance`
    (path → pname/version/source) makes the image's `org.ndx.closure` label."""

    name: str
    tag: str | None = None
    contents: Sequence[str] = ()
    closure: Sequence[str] = ()
    graph: Mapping[str, Sequence[str]] = field(default_factory=dict)
    config: Mapping[str, Any] | None = None
    architecture: str | None = None
    created: str | None = None
    max_layers: int = DEFAULT_MAX_LAYERS
    layering_pipeline: Sequence[Any] | None = None
    extra_commands: str | None = None
    fake_root_commands: str | None = None
    enable_fakechroot: bool = False
    include_store_paths: bool = True
    uid: int = 0
    gid: int = 0
    compressor: str = "gz"
    compression_level: int | None = None
    from_image: str | None = None          # a logical store path
    from_image_name: str | None = None
    from_image_tag: str | None = None
    script_paths: Sequence[str] = ()
    nar_hashes: Mapping[str, str] = field(default_factory=dict)
    provenance: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    annotations: Mapping[str, str] = field(default_factory=dict)
    format: str = "docker-archive"
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Prepared:
    """A layered image before its store-path layers exist: the plan and the finished
    customisation layer (its blob in `custom_blob`)."""

    spec: LayeredSpec
    repo_tag: str
    config_section: dict[str, Any]
    created: str
    architecture: str
    base: Image | None
    base_archive: ImageArchive | None
    closure: list[str]
    groups: list[list[str]]
    custom_layer: Layer
    custom_blob: str


def prepare(spec: LayeredSpec, store: StoreView, workdir: str, *,
            custom_compression: str | None) -> Prepared:
    """Check the spec, make the customisation layer (into `workdir`) and plan the
    store-path layers."""
    if not 2 <= spec.max_layers <= MAX_LAYERS_LIMIT:
        raise ImageError(f"maxLayers = {spec.max_layers}: it must be between 2 and "
                         f"{MAX_LAYERS_LIMIT} (Docker refuses images of more layers)")
    settings = steps.check_settings(spec.format, spec.config, spec.created, spec.architecture)
    config, created, architecture = settings.config, settings.created, settings.architecture
    if not spec.tag:
        raise ImageError("a layered image needs a tag (the builder gives the output hash)")
    repo_tag = normalize_repo_tag(spec.name, spec.tag)
    for path in [*spec.closure, *spec.contents]:
        store.check(path, "the image closure")
    base = base_archive = None
    if spec.from_image:
        base_archive = ImageArchive(store.real(store.check(spec.from_image, "fromImage")))
        base = base_archive.image(steps.base_image_name(spec.from_image_name,
                                                        spec.from_image_tag))
    try:
        custom_blob = os.path.join(workdir, "customisation")
        custom_layer, referenced = _customisation_layer(spec, store, workdir, custom_blob,
                                                        custom_compression)
        closure = sorted(set(spec.closure) | referenced) if spec.include_store_paths else []
        roots = set(spec.contents) | referenced | _named_in(config, closure)
        budget = spec.max_layers - 1 - (len(base.layers) if base else 0)
        groups = plan_layers(spec.graph, closure, roots, layers=budget,
                             pipeline=spec.layering_pipeline)
    except BaseException:
        if base_archive is not None:
            base_archive.close()
        raise
    return Prepared(spec, repo_tag, config, created, architecture, base, base_archive,
                    closure, groups, custom_layer, custom_blob)


def _named_in(config: Mapping[str, Any], closure: Sequence[str]) -> set[str]:
    text = json.dumps(config)
    return {p for p in closure if p in text}


def _customisation_layer(spec: LayeredSpec, store: StoreView, workdir: str, blob: str,
                         compression: str | None) -> tuple[Layer, set[str]]:
    """Write the customisation layer to `blob`; returns it and the store paths (of the
    graph) that what it holds refers to."""
    root = os.path.join(workdir, "root")
    os.mkdir(root, 0o755)
    os.chmod(workdir, 0o711)  # the root may be lent to an unprivileged or fake-root script
    staged = link_contents(root, spec.contents, store.real)
    env = {"SOURCE_DATE_EPOCH": str(max(created_epoch(resolve_created(spec.created)), 0)),
           **spec.env}
    if spec.extra_commands:
        steps.run_extra_commands(spec.extra_commands, root, env)
    if spec.fake_root_commands:
        return _fake_root_layer(spec, store, root, staged, blob, compression, env)
    contents = LayerContents()
    contents.add_tree(root, "", owner=(0, 0))
    with open(blob, "wb") as out:
        layer = write_layer(out, contents.entries(), compression=compression,
                            level=spec.compression_level)
    referenced = extend_closure(root, (), spec.graph)
    shutil.rmtree(root, ignore_errors=True)
    return layer, referenced


def _fake_root_layer(spec: LayeredSpec, store: StoreView, root: str, staged: list[str],
                     blob: str, compression: str | None, env: Mapping[str, str]
                     ) -> tuple[Layer, set[str]]:
    from .runasroot import RootJob, run_as_root

    visible = sorted(set(spec.closure) | set(spec.script_paths))
    for path in visible:
        store.check(path, "fakeRootCommands' inputs")
    job = RootJob(
        root=root, staged=[], store=[(p, store.real(p)) for p in visible], closure=[],
        script=spec.fake_root_commands or "", env=dict(env), compression=compression,
        level=spec.compression_level, store_dir=store.store_dir,
        graph={p: list(r) for p, r in spec.graph.items()},
        chroot=spec.enable_fakechroot, store_in_layer=False)
    with open(blob, "wb") as out:
        out.flush()
        result = run_as_root(job, out.fileno())
    return steps.layer_from_result(result), set(result.get("closure") or ())


# --- store-path layers --------------------------------------------------------------------

def store_entries(paths: Sequence[str], store: StoreView, uid: int, gid: int) -> list[Entry]:
    """The entries of the layer holding store paths `paths`: `/ndx/store/<path>` trees
    and their parent directories, nothing else."""
    contents = LayerContents()
    steps.add_store_paths(contents, paths, store, uid, gid)
    return contents.entries()


def _key(spec: LayeredSpec, group: Sequence[str], compression: str | None, kind: str) -> str:
    missing = [p for p in group if p not in spec.nar_hashes]
    if missing:
        raise ImageError(f"no NAR hash is known for {missing[0]} (is it a valid path?)")
    return layer_key([(p, spec.nar_hashes[p]) for p in group], uid=spec.uid, gid=spec.gid,
                     compression=compression, level=spec.compression_level, kind=kind)


def store_layers(prepared: Prepared, store: StoreView, cache: LayerCache,
                 compression: str | None) -> list[tuple[Layer, str, bool]]:
    """Each planned group's layer as (layer, blob file, whether it came from the cache),
    made (once, into the cache) if no image made it before."""
    spec = prepared.spec
    made = []
    for group in prepared.groups:
        def write(out: Any, group: Sequence[str] = group) -> Layer:
            return write_layer(out, store_entries(group, store, spec.uid, spec.gid),
                               compression=compression, level=spec.compression_level)

        entry = cache.get_or_make(_key(spec, group, compression, "blob"), group, write)
        assert entry.blob is not None
        made.append((entry.layer, entry.blob, entry.hit))
    return made


def stream_layers(prepared: Prepared, store: StoreView, cache: LayerCache,
                  log: Callable[[str], None] | None = None) -> list[Layer]:
    """Each planned group's layer as an uncompressed tar (what a streamed image sends):
    only the diff ID and size are computed and cached, the bytes are made when streamed."""
    import hashlib

    spec = prepared.spec
    layers = []
    reused = 0
    for group in prepared.groups:
        def measure(_out: Any, group: Sequence[str] = group) -> Layer:
            digest, size = hashlib.sha256(), 0
            for piece in tar_stream(store_entries(group, store, spec.uid, spec.gid)):
                digest.update(piece)
                size += len(piece)
            diff_id = "sha256:" + digest.hexdigest()
            return Layer(diff_id, diff_id, size, OCI_LAYER)

        entry = cache.get_or_make(_key(spec, group, None, "diff"), group, measure,
                                  keep_blob=False)
        layers.append(entry.layer)
        reused += entry.hit
    if log is not None:
        log(f"{len(layers)} store-path layers: {reused} from the layer cache, "
            f"{len(layers) - reused} measured")
    return layers


# --- the image ----------------------------------------------------------------------------

def compose(prepared: Prepared, layers: Sequence[Layer]) -> Image:
    """The image: base layers, then `layers` (one per group, then the customisation
    layer), its config with history, the provenance label, and OCI annotations."""
    spec = prepared.spec
    base = prepared.base
    section = dict(prepared.config_section)
    labels = dict(section.get("Labels") or {})
    labels[LABEL] = closure_label(prepared.closure, spec.graph, spec.provenance)
    section["Labels"] = labels
    history = []
    for group in prepared.groups:
        names = ", ".join(p.rsplit("/", 1)[-1][33:] for p in group[:3])
        more = f" and {len(group) - 3} more" if len(group) > 3 else ""
        history.append({"created": prepared.created, "created_by": CREATED_BY["store"],
                        "comment": names + more})
    history.append({"created": prepared.created,
                    "created_by": CREATED_BY["customisation"]})
    all_layers = (base.layers if base else ()) + tuple(layers)
    value = image_config(base.config_json if base else None, section,
                         architecture=prepared.architecture, created=prepared.created,
                         diff_ids=[la.diff_id for la in layers], history=history)
    return Image(canonical_json(value), all_layers, (prepared.repo_tag,),
                 manifest_annotations(prepared))


def manifest_annotations(prepared: Prepared) -> dict[str, str]:
    """The OCI manifest annotations: creation time, title, version and source (of the
    first of `contents` whose version is known), then the user's `annotations`."""
    spec = prepared.spec
    result = {ANNOTATION_CREATED: prepared.created, ANNOTATION_TITLE: spec.name}
    for path in spec.contents:
        info = spec.provenance.get(path) or {}
        if info.get("version"):
            result[ANNOTATION_VERSION] = info["version"]
            if info.get("source"):
                result[ANNOTATION_SOURCE] = info["source"]
            break
    result.update(spec.annotations)
    return result


def build_layered_image(spec: LayeredSpec, store: StoreView, out_path: str,
                        cache: LayerCache, *, workdir: str | None = None,
                        log: Callable[[str], None] | None = None) -> Image:
    """Build the layered image and write it to `out_path`: a docker-archive (also an OCI
    layout) or, with `format = "oci"`, an OCI layout directory. Returns the image."""
    compression = steps.compression_of(spec.compressor)
    tmp = tempfile.mkdtemp(prefix="ndx-layered-", dir=workdir)
    prepared = None
    try:
        prepared = prepare(spec, store, tmp, custom_compression=compression)
        made = store_layers(prepared, store, cache, compression)
        if log is not None:
            reused = sum(1 for _, _, hit in made if hit)
            log(f"{len(made)} store-path layers: {reused} from the layer cache, "
                f"{len(made) - reused} made")
        image = compose(prepared, [la for la, _, _ in made] + [prepared.custom_layer])
        blobs = BlobFiles(fallback=prepared.base_archive)
        for layer, blob, _hit in made:
            blobs.add(layer.digest, blob, verified=True)
        blobs.add(prepared.custom_layer.digest, prepared.custom_blob, verified=True)
        # The cache's blob files are immutable: an OCI layout shares them (hard links).
        steps.write_image(image, blobs, out_path, spec.format, link_blobs=True)
        return image
    finally:
        if prepared is not None and prepared.base_archive is not None:
            prepared.base_archive.close()
        shutil.rmtree(tmp, ignore_errors=True)


def write_stream_conf(spec: LayeredSpec, store: StoreView, out_dir: str,
                      cache: LayerCache, *, workdir: str | None = None,
                      log: Callable[[str], None] | None = None) -> Image:
    """Write the configuration a streamed image is made from (see `stream.py`) to the
    directory `out_dir`: `image.json` and the uncompressed customisation layer. Only the
    diff IDs of the store-path layers are computed (and cached), never their bytes kept."""
    from .stream import CONF_FILE, CUSTOM_FILE

    tmp = tempfile.mkdtemp(prefix="ndx-stream-", dir=workdir)
    prepared = None
    try:
        prepared = prepare(spec, store, tmp, custom_compression=None)
        layers = stream_layers(prepared, store, cache, log)
        image = compose(prepared, [*layers, prepared.custom_layer])
        os.mkdir(out_dir, 0o755)
        shutil.copyfile(prepared.custom_blob, os.path.join(out_dir, CUSTOM_FILE))
        recipes: list[dict[str, Any]] = []
        base = prepared.base
        for layer in base.layers if base else ():
            recipes.append({"kind": "base", "archive": spec.from_image,
                            **_layer_fields(layer)})
        for group, layer in zip(prepared.groups, layers, strict=True):
            recipes.append({"kind": "store", "paths": group, "uid": spec.uid,
                            "gid": spec.gid, **_layer_fields(layer)})
        recipes.append({"kind": "file", "file": CUSTOM_FILE,
                        **_layer_fields(prepared.custom_layer)})
        conf = {"repo_tag": prepared.repo_tag, "config": image.config.decode(),
                "annotations": dict(image.annotations), "layers": recipes,
                "store_dir": store.store_dir}
        with open(os.path.join(out_dir, CONF_FILE), "wb") as f:
            f.write(canonical_json(conf))
        return image
    finally:
        if prepared is not None and prepared.base_archive is not None:
            prepared.base_archive.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _layer_fields(layer: Layer) -> dict[str, Any]:
    return {"diff_id": layer.diff_id, "digest": layer.digest, "size": layer.size,
            "media_type": layer.media_type}
