"""The image config: checking the user's `config` attribute set and composing the JSON.

Users write Docker's key names (`Cmd`, `Env`, `ExposedPorts`, …). Unknown keys are errors
with the closest known key as a hint (`Entrypoitn` → did you mean 'Entrypoint'?), and each
value is checked for the shape engines expect, so a mistake is reported at build time, not
when `docker run` fails.
"""

from __future__ import annotations

import datetime
import platform
import re
from collections.abc import Mapping, Sequence
from typing import Any

from .errors import ImageError, did_you_mean

#: Keys of the config section and the shape of each value.
CONFIG_KEYS: dict[str, str] = {
    "Cmd": "strings", "Entrypoint": "strings", "Env": "env", "ExposedPorts": "set",
    "User": "string", "WorkingDir": "string", "Volumes": "set", "Labels": "labels",
    "StopSignal": "string", "Healthcheck": "healthcheck", "OnBuild": "strings",
    "Shell": "strings",
}
#: Keys of a Healthcheck and their types.
HEALTHCHECK_KEYS = {"Test": "strings", "Interval": "int", "Timeout": "int",
                    "StartPeriod": "int", "StartInterval": "int", "Retries": "int"}
#: `uname -m` → OCI architecture names.
ARCHITECTURES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64",
                 "armv7l": "arm", "armv6l": "arm", "i386": "386", "i686": "386",
                 "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64"}
#: The default creation time: fixed, so images are reproducible (one second after the epoch).
DEFAULT_CREATED = "1970-01-01T00:00:01Z"

_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
_PORT = re.compile(r"\d{1,5}(-\d{1,5})?(/(tcp|udp|sctp))?")


def host_architecture() -> str:
    """The OCI name of this machine's architecture (`amd64`, `arm64`, …)."""
    machine = platform.machine()
    return ARCHITECTURES.get(machine, machine.lower())


def check_architecture(arch: str) -> str:
    """`arch` in OCI spelling (`x86_64` is accepted for `amd64`)."""
    known = sorted(set(ARCHITECTURES.values()))
    if arch in known:
        return arch
    if arch in ARCHITECTURES:
        return ARCHITECTURES[arch]
    raise ImageError(f"unknown architecture {arch!r}{did_you_mean(arch, known)}; "
                     f"known: {', '.join(known)}")


def resolve_created(created: str | None) -> str:
    """The `created` timestamp: the fixed default, the current time for "now", or an
    RFC 3339 time given by the user."""
    if created is None:
        return DEFAULT_CREATED
    if created == "now":
        now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
        return now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if not _RFC3339.fullmatch(created):
        raise ImageError(f"created = {created!r} is not a time like "
                         f"\"{DEFAULT_CREATED}\" (RFC 3339) or \"now\"")
    return created


def created_epoch(created: str) -> int:
    """Seconds since the epoch of an RFC 3339 timestamp (for SOURCE_DATE_EPOCH)."""
    text = created.replace("Z", "+00:00")
    return int(datetime.datetime.fromisoformat(text).timestamp())


def check_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """The config section, checked and normalised: `Env` as a list of "K=V", `ExposedPorts`
    and `Volumes` as objects with empty values (a list is accepted too)."""
    if config is None:
        return {}
    if not isinstance(config, Mapping):
        raise ImageError(f"config must be an attribute set, not {_kind(config)}")
    result: dict[str, Any] = {}
    for key, value in config.items():
        if key not in CONFIG_KEYS:
            raise ImageError(f"unknown image config key '{key}'"
                             f"{did_you_mean(key, CONFIG_KEYS)}; known keys: "
                             f"{', '.join(sorted(CONFIG_KEYS))}")
        if value is None:
            continue
        result[key] = _check_value(f"config.{key}", CONFIG_KEYS[key], value)
    return result


def _check_value(where: str, shape: str, value: Any) -> Any:
    if shape == "string":
        if not isinstance(value, str):
            raise ImageError(f"{where} must be a string, not {_kind(value)}")
        return value
    if shape == "int":
        if type(value) is not int:
            raise ImageError(f"{where} must be an integer (nanoseconds for durations), "
                             f"not {_kind(value)}")
        return value
    if shape == "strings":
        if isinstance(value, str):
            raise ImageError(f"{where} must be a list of strings, like [ {_quote(value)} ]")
        if not isinstance(value, Sequence) or not all(isinstance(v, str) for v in value):
            raise ImageError(f"{where} must be a list of strings, not {_kind(value)}")
        return list(value)
    if shape == "env":
        if isinstance(value, Mapping):
            return [f"{k}={_check_value(f'{where}.{k}', 'string', v)}"
                    for k, v in sorted(value.items())]
        items = _check_value(where, "strings", value)
        for item in items:
            if "=" not in item or item.startswith("="):
                raise ImageError(f"{where}: {item!r} is not of the form \"NAME=value\"")
        return items
    if shape == "set":
        names = list(value) if isinstance(value, (Mapping, list, tuple)) else None
        if names is None or not all(isinstance(n, str) for n in names):
            raise ImageError(f"{where} must be an attribute set like "
                             f"{{ \"6379/tcp\" = {{}}; }} or a list of strings")
        if where.endswith("ExposedPorts"):
            for name in names:
                if not _PORT.fullmatch(name):
                    raise ImageError(f"{where}: {name!r} is not a port like \"6379/tcp\"")
        return {name: {} for name in sorted(names)}
    if shape == "labels":
        if not isinstance(value, Mapping):
            raise ImageError(f"{where} must be an attribute set of strings")
        return {k: _check_value(f"{where}.{k}", "string", v) for k, v in sorted(value.items())}
    if shape == "healthcheck":
        if not isinstance(value, Mapping):
            raise ImageError(f"{where} must be an attribute set like "
                             "{ Test = [ \"CMD\" \"true\" ]; Interval = 30000000000; }")
        check: dict[str, Any] = {}
        for key, item in value.items():
            if key not in HEALTHCHECK_KEYS:
                raise ImageError(f"unknown key '{key}' in {where}"
                                 f"{did_you_mean(key, HEALTHCHECK_KEYS)}")
            check[key] = _check_value(f"{where}.{key}", HEALTHCHECK_KEYS[key], item)
        return check
    raise AssertionError(shape)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a Boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "an attribute set"
    if isinstance(value, (list, tuple)):
        return "a list"
    return "null" if value is None else type(value).__name__


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
