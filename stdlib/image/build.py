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
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .archive import (
    BlobFiles,
    Image,
    ImageArchive,
    Layer,
    canonical_json,
    normalize_repo_tag,
    write_docker_archive,
    write_oci_layout,
)
from .config import (
    check_architecture,
    check_config,
    created_epoch,
    host_architecture,
    resolve_created,
)
from .config_merge import image_config
from .errors import ImageError, did_you_mean
from .layer import COMPRESSORS, Entry, LayerContents, write_layer
from .rootfs import base_directory_links, extend_closure, link_contents, make_directory_links
from .users import lines_from_layers, lines_from_root, parse_users, write_user_db

#: What the history entry of the new layer says made it.
CREATED_BY = "ndx buildImage"


@dataclass(frozen=True)
class StoreView:
    """Where the store's bytes are: `store_dir` is the logical directory every store path
    starts with (`/ndx/store`), `real_dir` where that directory is on this machine."""

    real_dir: str
    store_dir: str = "/ndx/store"

    def real(self, path: str) -> str:
        """The host path of logical store path `path` (or of a file inside one)."""
        if path == self.store_dir or path.startswith(self.store_dir + "/"):
            return self.real_dir + path[len(self.store_dir):]
        raise ImageError(f"{path} is not in the store ({self.store_dir})")

    def check(self, path: str, what: str) -> str:
        """`path` if it is an existing top-level store path, else a clear error."""
        rest = path[len(self.store_dir) + 1:] if path.startswith(self.store_dir + "/") else ""
        if not rest or "/" in rest:
            raise ImageError(f"{what}: {path!r} is not a store path "
                             f"({self.store_dir}/<hash>-<name>)")
        if not os.path.lexists(self.real(path)):
            raise ImageError(f"{what}: {path} does not exist in the store "
                             f"(looked in {self.real(path)})")
        return path


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
    compression = _compression(spec.compressor)
    if spec.format not in ("docker-archive", "oci"):
        raise ImageError(f"format = {spec.format!r}: use \"docker-archive\" or \"oci\"")
    config = check_config(spec.config)
    created = resolve_created(spec.created)
    architecture = check_architecture(spec.architecture) if spec.architecture \
        else host_architecture()
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
        base = base_archive.image(_base_name(spec))
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
            _run_extra_commands(spec.extra_commands, root, env)
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
                _add_closure(contents, closure, spec, store)
                for entry in user_entries:
                    contents.add(entry)
                layer = write_layer(out, contents.entries(), compression=compression,
                                    level=spec.compression_level)
        image = _compose(spec, base, layer, config, created, architecture, repo_tag, closure)
        blobs = BlobFiles(fallback=base_archive)
        blobs.add(layer.digest, blob, verified=True)
        partial = out_path + ".partial"
        if spec.format == "oci":
            write_oci_layout(partial, [image], blobs)
        else:
            with open(partial, "wb") as out:
                write_docker_archive(out, [image], blobs, oci=True)
        os.replace(partial, out_path)
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


def _compression(compressor: str) -> str | None:
    if compressor not in COMPRESSORS:
        raise ImageError(f"unknown compressor {compressor!r}"
                         f"{did_you_mean(compressor, COMPRESSORS)}; use \"gz\", \"zstd\" or "
                         "\"none\"")
    return COMPRESSORS[compressor]


def _base_name(spec: ImageSpec) -> str | None:
    if spec.from_image_name is None and spec.from_image_tag is None:
        return None
    if spec.from_image_name is None:
        raise ImageError("fromImageTag is given without fromImageName")
    return f"{spec.from_image_name}:{spec.from_image_tag or 'latest'}"


def _add_closure(contents: LayerContents, closure: set[str], spec: ImageSpec,
                 store: StoreView) -> None:
    parts = store.store_dir.strip("/").split("/")
    for i in range(1, len(parts) + 1):
        rel = "/".join(parts[:i])
        if rel not in contents:
            contents.add(Entry(rel, "dir", 0o755))
    for path in sorted(closure):
        contents.add_tree(store.real(path), path.strip("/"), owner=(spec.uid, spec.gid))


#: The user extraCommands runs as when ndx runs as root: it must not need privileges.
NOBODY = 65534


def _run_extra_commands(script: str, root: str, env: Mapping[str, str]) -> None:
    """Run extraCommands in the layer's directory, unprivileged: as the invoking user, or
    as nobody when that is root (the directory is lent to nobody for the time of the
    script and given back to root afterwards; owners in the layer are `uid`/`gid`)."""
    full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": root, **env}
    argv = ["sh", "-e", "-c", script]
    as_root = os.geteuid() == 0
    if as_root:
        _chown_tree(root, NOBODY, NOBODY)
        argv = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--",
                *argv]
    try:
        proc = subprocess.run(argv, cwd=root, env=full_env, capture_output=True, text=True,
                              check=False)
    finally:
        if as_root:
            _chown_tree(root, 0, 0)
    if proc.returncode != 0:
        log = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        raise ImageError(f"extraCommands failed with exit code {proc.returncode}"
                         + (f"\n--- log ---\n{log}" if log else ""))


def _chown_tree(root: str, uid: int, gid: int) -> None:
    os.lchown(root, uid, gid)
    for directory, dirs, files in os.walk(root):
        for name in dirs + files:
            os.lchown(os.path.join(directory, name), uid, gid)


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
    layer = Layer(result["diff_id"], result["digest"], result["size"], result["media_type"])
    return layer, set(result.get("closure") or spec.closure)


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
