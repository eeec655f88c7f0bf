"""`build_image`: store paths in, a docker-archive out — no engine, no base image unless
asked, nothing but the runtime closure of what goes in.

The input (`ImageSpec`) is plain data, so this works with any store: the caller names
the logical store paths of the runtime closure, the copyToRoot paths, the scripts and
the config, and says how logical paths map to bytes on this machine (`StoreView`).
The builtin builder `builtin:buildImage` fills it in from the store database.

The image is the base's layers (with `fromImage`) plus one new layer holding:
the closure at `/ndx/store/…`, the copyToRoot links, what `extraCommands` made and what
`runAsRoot` changed, and `users` written into `/etc/passwd` and `/etc/group`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from . import builder_steps as steps
from .archive_reader import ImageArchive
from .builder_steps import StoreView
from .config import created_epoch
from .config_merge import image_config
from .errors import ImageError
from .image_format import canonical_json, normalize_repo_tag
from .image_model import BlobFiles, Image, Layer
from .layer import LayerContents, write_layer
from .rootfs import base_directory_links, extend_closure, link_contents, make_directory_links
from .users import lines_from_layers, lines_from_root, parse_users, write_user_db

__all__ = ["CREATED_BY", "ImageSpec", "StoreView", "build_image", "default_tag"]

#: What the history entry of the new layer says made it.
CREATED_BY = "ndx buildImage"


@dataclass(frozen=True)
class ImageSpec:
    """Everything `build_image` needs, with Nix's argument names in snake case.

    `closure` is the runtime closure of everything the image holds (copyToRoot, the
    config's references, what runAsRoot's output refers to): exactly these store paths
    go into the layer. `script_paths` are store paths the scripts may use at build time
    without them going into the image. With `reference_graph` (store path → its
    references, covering the script paths), what the root tree refers to after the
    scripts ran — a link, a config file naming a store path — joins the closure."""

    name: str
    tag: str | None = None
    closure: Sequence[str] = ()
    copy_to_root: Sequence[str] = ()
    keep_contents_dirlinks: bool = False
    run_as_root: str | None = None
    extra_commands: str | None = None
    config: Mapping[str, Any] | None = None
    architecture: str | None = None
    created: str | None = None
    uid: int = 0
    gid: int = 0
    compressor: str = "gz"
    compression_level: int | None = None
    from_image: str | None = None
    from_image_name: str | None = None
    from_image_tag: str | None = None
    users: Sequence[Mapping[str, Any]] = ()
    script_paths: Sequence[str] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    reference_graph: Mapping[str, Sequence[str]] | None = None
    format: str = "docker-archive"
    provenance: Mapping[str, Mapping[str, str]] = field(default_factory=dict)


def default_tag(spec: ImageSpec) -> str:
    """A tag derived from everything that makes the image (used when no tag is given and
    no output hash is known): equal inputs, equal tag."""
    fields = {k: v for k, v in asdict(spec).items() if k != "tag"}
    return hashlib.sha256(canonical_json(fields)).hexdigest()[:32]


def build_image(spec: ImageSpec, store: StoreView, out_path: str, *,
                workdir: str | None = None) -> Image:
    """Build the image described by `spec` and write it as a docker-archive (also an OCI
    layout) to `out_path` — or, with `format = "oci"`, as an OCI layout directory.
    Returns the image written."""
    compression = steps.compression_of(spec.compressor)
    settings = steps.check_settings(spec.format, spec.config, spec.created, spec.architecture)
    config, created, architecture = settings.config, settings.created, settings.architecture
    repo_tag = normalize_repo_tag(spec.name, spec.tag or default_tag(spec))
    users = parse_users(spec.users)
    for path in spec.closure:
        store.check(path, "the image closure")
    for path in spec.copy_to_root:
        store.check(path, "copyToRoot")
    missing = sorted(set(spec.copy_to_root) - set(spec.closure))
    if missing:
        raise ImageError(f"copyToRoot path {missing[0]} is not in the image closure "
                         "(the closure must include every copyToRoot path)")

    base = base_archive = None
    if spec.from_image:
        base_archive = ImageArchive(spec.from_image)
        base = base_archive.image(steps.base_image_name(spec.from_image_name,
                                                        spec.from_image_tag))
    tmp = tempfile.mkdtemp(prefix="ndx-image-", dir=workdir)
    os.chmod(tmp, 0o711)  # the root inside may be lent to an unprivileged script
    try:
        root = os.path.join(tmp, "root")
        os.mkdir(root, 0o755)
        staged = _stage_contents(spec, store, root, base_archive, base)
        user_entries = write_user_db(root, users, _user_db_source(root, store, base_archive,
                                                                   base)) if users else []
        staged += [e.path for e in user_entries if os.path.lexists(os.path.join(root, e.path))]
        env = {"SOURCE_DATE_EPOCH": str(max(created_epoch(created), 0)), **spec.env}
        if spec.extra_commands:
            steps.run_extra_commands(spec.extra_commands, root, env)
            staged = _all_paths(root)
        blob = os.path.join(tmp, "layer")
        with open(blob, "wb") as out:
            if spec.run_as_root:
                layer, closure = _layer_as_root(spec, store, root, staged, base_archive,
                                                base, out, compression, env)
            else:
                contents = LayerContents()
                contents.add_tree(root, "", owner=(spec.uid, spec.gid))
                closure = extend_closure(root, spec.closure, spec.reference_graph)
                steps.add_store_paths(contents, sorted(closure), store, spec.uid, spec.gid)
                for entry in user_entries:
                    contents.add(entry)
                layer = write_layer(out, contents.entries(), compression=compression,
                                    level=spec.compression_level)
        image = _compose(spec, base, layer, config, created, architecture, repo_tag, closure)
        blobs = BlobFiles(fallback=base_archive)
        blobs.add(layer.digest, blob, verified=True)
        steps.write_image(image, blobs, out_path, spec.format)
        return image
    finally:
        if base_archive is not None:
            base_archive.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _stage_contents(spec: ImageSpec, store: StoreView, root: str,
                    base_archive: ImageArchive | None, base: Image | None) -> list[str]:
    """Link copyToRoot into `root`; the paths made. With keepContentsDirlinks and a base,
    the base's top-level links to directories are followed as `cp --keep-directory-symlink`
    would over the unpacked base: `bin/redis-server` goes to `usr/bin/redis-server` when
    the base's `/bin` is a link to `usr/bin`, and the link stays the base's."""
    links: list[str] = []
    if spec.keep_contents_dirlinks and base_archive is not None and base is not None:
        openers = [lambda la=la: base_archive.open_layer(la) for la in base.layers]
        links = make_directory_links(root, base_directory_links(openers))
    staged = link_contents(root, spec.copy_to_root, store.real,
                           keep_dirlinks=spec.keep_contents_dirlinks)
    for name in links:
        os.unlink(os.path.join(root, name))
    return staged


def _user_db_source(root: str, store: StoreView, archive: ImageArchive | None,
                    base: Image | None) -> Any:
    """Where the image's existing /etc/passwd and /etc/group are: copyToRoot first, then
    the base image."""
    from_root = lines_from_root(root, store.real)
    openers = [lambda la=la: archive.open_layer(la) for la in base.layers] \
        if archive is not None and base is not None else []
    from_base = lines_from_layers(openers)
    return lambda rel: from_root(rel) or from_base(rel)


def _all_paths(root: str) -> list[str]:
    paths = []
    for directory, dirs, files in os.walk(root):
        rel = os.path.relpath(directory, root)
        for name in dirs + files:
            paths.append(name if rel == "." else f"{rel}/{name}")
    return paths


def _layer_as_root(spec: ImageSpec, store: StoreView, root: str, staged: list[str],
                   base_archive: ImageArchive | None, base: Image | None, out: Any,
                   compression: str | None, env: Mapping[str, str]
                   ) -> tuple[Layer, set[str]]:
    from .runasroot import RootJob, run_as_root

    for path in spec.script_paths:
        store.check(path, "runAsRoot's inputs")
    visible = sorted(set(spec.closure) | set(spec.script_paths))
    job = RootJob(
        root=root, staged=sorted(staged), store=[(p, store.real(p)) for p in visible],
        closure=sorted(set(spec.closure)), script=spec.run_as_root or "", env=dict(env),
        uid=spec.uid, gid=spec.gid,
        base_archive=base_archive.path if base_archive and base else None,
        base_layers=[(la.digest, la.media_type) for la in base.layers] if base else [],
        compression=compression, level=spec.compression_level, store_dir=store.store_dir,
        graph={p: list(r) for p, r in (spec.reference_graph or {}).items()})
    out.flush()
    result = run_as_root(job, out.fileno())
    return steps.layer_from_result(result), set(result.get("closure") or spec.closure)


def _compose(spec: ImageSpec, base: Image | None, layer: Layer, config: dict[str, Any],
             created: str, architecture: str, repo_tag: str, closure: set[str]) -> Image:
    from .provenance import LABEL, closure_label

    section = dict(config)
    if spec.provenance:  # known when built from a store: the packages in the image
        labels = dict(section.get("Labels") or {})
        labels[LABEL] = closure_label(closure, spec.reference_graph, spec.provenance)
        section["Labels"] = labels
    history = [{"created": created, "created_by": CREATED_BY,
                "comment": f"{len(spec.closure)} store paths"}]
    layers = (base.layers if base else ()) + (layer,)
    value = image_config(base.config_json if base else None, section,
                         architecture=architecture, created=created,
                         diff_ids=[layer.diff_id], history=history)
    annotations = {"org.opencontainers.image.created": created,
                   "org.opencontainers.image.title": spec.name}
    return Image(canonical_json(value), layers, (repo_tag,), annotations)
