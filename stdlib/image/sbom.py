"""An SPDX 2.3 JSON document (a software bill of materials) for an image built by ndx,
from the provenance label its config carries (`provenance.py`).

The document describes the image as a package of purpose CONTAINER (its checksum the
image ID), and every store path in it as a package: the name and version of the
derivation that made it, where its source came from (`downloadLocation`, else
NOASSERTION), the store path as `packageFileName`, and a `pkg:generic` package URL.
Relationships: the document DESCRIBES the image, the image CONTAINS each package, a
package DEPENDS_ON the store paths it refers to. Licenses are not recorded in store
paths, so they are NOASSERTION, as SPDX asks when nothing was determined. The output is
deterministic: equal images, equal documents (the creation time is the image's).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

from .config import DEFAULT_CREATED
from .image_format import split_repo_tag
from .image_model import Image
from .provenance import read_label

SPDX_VERSION = "SPDX-2.3"
DATA_LICENSE = "CC0-1.0"
NOASSERTION = "NOASSERTION"
#: The tool named in `creationInfo.creators`.
TOOL = "ndx-0.1.0"
#: Where document namespaces are minted (SPDX's recommended pattern).
NAMESPACE_BASE = "https://spdx.org/spdxdocs/ndx"

_ID_CHARS = re.compile(r"[^A-Za-z0-9.-]")
_HASH_PART = re.compile(r"/([0-9a-z]{32})-")


def _spdx_id(text: str) -> str:
    return "SPDXRef-" + _ID_CHARS.sub("-", text)


def _created(value: Any) -> str:
    """The image's creation time in SPDX's form (`YYYY-MM-DDThh:mm:ssZ`)."""
    text = str(value or DEFAULT_CREATED)
    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)", text)
    return (match.group(1) if match else DEFAULT_CREATED[:19]) + "Z"


def _purl(name: str, version: str) -> str:
    purl = "pkg:generic/" + quote(name, safe="")
    return purl + ("@" + quote(version, safe="") if version else "")


def spdx_document(image: Image) -> dict[str, Any]:
    """The SPDX 2.3 document (as JSON-able data) of `image`."""
    config = image.config_json
    entries = read_label(config)
    repo_tag = image.repo_tags[0] if image.repo_tags else ""
    name, tag = split_repo_tag(repo_tag) if repo_tag else ("image", "")
    image_hex = image.config_digest.split(":", 1)[1]
    image_id = "SPDXRef-Image"
    packages: list[dict[str, Any]] = [{
        "SPDXID": image_id,
        "name": name,
        **({"versionInfo": tag} if tag else {}),
        "downloadLocation": NOASSERTION,
        "filesAnalyzed": False,
        "checksums": [{"algorithm": "SHA256", "checksumValue": image_hex}],
        "primaryPackagePurpose": "CONTAINER",
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
        "comment": f"container image {repo_tag or image.config_digest} (image ID "
                   f"{image.config_digest})",
    }]
    relationships = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES",
                      "relatedSpdxElement": image_id}]
    ids = [_package_id(entry["path"], i) for i, entry in enumerate(entries)]
    for entry, spdx_id in zip(entries, ids, strict=True):
        packages.append(_package(entry, spdx_id))
        relationships.append({"spdxElementId": image_id, "relationshipType": "CONTAINS",
                              "relatedSpdxElement": spdx_id})
    for entry, spdx_id in zip(entries, ids, strict=True):
        for ref in _references(entry, len(entries)):
            relationships.append({"spdxElementId": spdx_id, "relationshipType": "DEPENDS_ON",
                                  "relatedSpdxElement": ids[ref]})
    return {
        "spdxVersion": SPDX_VERSION,
        "dataLicense": DATA_LICENSE,
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": repo_tag or image.config_digest,
        "documentNamespace": f"{NAMESPACE_BASE}-{_ID_CHARS.sub('-', name)}-{image_hex}",
        "creationInfo": {"created": _created(config.get("created")),
                         "creators": [f"Tool: {TOOL}"]},
        "packages": packages,
        "relationships": relationships,
    }


def _package_id(path: str, index: int) -> str:
    match = _HASH_PART.search(path)
    return _spdx_id(f"Package-{match.group(1) if match else index}")


def _references(entry: Mapping[str, Any], count: int) -> Sequence[int]:
    refs = entry.get("references") or []
    return [r for r in refs if isinstance(r, int) and 0 <= r < count]


def _package(entry: Mapping[str, Any], spdx_id: str) -> dict[str, Any]:
    path = str(entry["path"])
    name = str(entry.get("pname") or path.rsplit("/", 1)[-1][33:] or path)
    version = str(entry.get("version") or "")
    package: dict[str, Any] = {
        "SPDXID": spdx_id,
        "name": name,
        **({"versionInfo": version} if version else {}),
        "packageFileName": path,
        "downloadLocation": str(entry.get("source") or NOASSERTION),
        "filesAnalyzed": False,
        "licenseConcluded": NOASSERTION,
        "licenseDeclared": NOASSERTION,
        "copyrightText": NOASSERTION,
        "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER",
                          "referenceType": "purl",
                          "referenceLocator": _purl(name, version)}],
    }
    return package
