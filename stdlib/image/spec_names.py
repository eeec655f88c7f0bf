"""The names and limits an image derivation's arguments are checked against.

They live apart from the builders (`builtin.py`, `layered_builtin.py`, `layer.py`, …) so
that the evaluator's primops (`primops.py`, `layered_primops.py`), loaded by every
evaluation, can check a call and write its derivation without loading the image writer;
the builders load when a build runs.
"""

from __future__ import annotations

#: `buildImage`'s builder and the derivation attribute holding its arguments as JSON.
BUILDER = "builtin:buildImage"
SPEC_ATTR = "imageSpec"
#: Host trees runAsRoot's tools come from; they take part in the derivation's hash.
RUN_AS_ROOT_HOST_DEPS = ("/usr/sbin", "/usr/bin/busybox", "/usr/lib")
#: Every argument `imageSpec` may carry, and its Python name.
ARGUMENTS = {
    "name": "name", "tag": "tag", "copyToRoot": "copy_to_root", "contents": "copy_to_root",
    "keepContentsDirlinks": "keep_contents_dirlinks", "runAsRoot": "run_as_root",
    "extraCommands": "extra_commands", "config": "config", "architecture": "architecture",
    "created": "created", "uid": "uid", "gid": "gid", "compressor": "compressor",
    "compressionLevel": "compression_level", "fromImage": "from_image",
    "fromImageName": "from_image_name", "fromImageTag": "from_image_tag", "users": "users",
    "format": "format",
}

#: `buildLayeredImage`'s and `streamLayeredImage`'s builders.
LAYERED_BUILDER = "builtin:buildLayeredImage"
STREAM_BUILDER = "builtin:streamLayeredImage"
#: The derivation attribute holding a layered image's arguments as JSON.
LAYERED_SPEC_ATTR = "layeredImageSpec"
#: Every argument `layeredImageSpec` may carry, and its Python name.
LAYERED_ARGUMENTS = {
    "name": "name", "tag": "tag", "contents": "contents", "config": "config",
    "architecture": "architecture", "created": "created", "maxLayers": "max_layers",
    "layeringPipeline": "layering_pipeline", "extraCommands": "extra_commands",
    "fakeRootCommands": "fake_root_commands", "enableFakechroot": "enable_fakechroot",
    "includeStorePaths": "include_store_paths", "uid": "uid", "gid": "gid",
    "compressor": "compressor", "compressionLevel": "compression_level",
    "fromImage": "from_image", "fromImageName": "from_image_name",
    "fromImageTag": "from_image_tag", "annotations": "annotations", "format": "format",
}

#: Output formats: a docker-archive (also an OCI layout, as a tar) or an OCI directory.
FORMATS = ("docker-archive", "oci")
#: Names accepted for each compressor (Nix's `compressor` spelling first).
COMPRESSORS = {"gz": "gzip", "gzip": "gzip", "zstd": "zstd", "none": None}
#: Docker refuses images of more layers than this.
MAX_LAYERS_LIMIT = 125
