"""Users in an image, two ways.

* Declarative (`users = [ { name = "redis"; uid = 999; group = "redis"; home = "/data"; } ]`):
  ndx writes `/etc/passwd` and `/etc/group` itself — starting from those the image already
  has (a copyToRoot path such as `fakeNss`, or the base image) or from root and nobody —
  and creates the home directories owned by their user. No shadow tools, no script.
* Imperative: `SHADOW_SETUP` is the shell snippet (`dockerTools.shadowSetup`) that a
  runAsRoot script starts with so that `groupadd` and `useradd` work, as in Nix.
"""

from __future__ import annotations

import os
import tarfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from .errors import ImageError, did_you_mean
from .layer import Entry

#: The accounts every image's user database starts with when it has none.
DEFAULT_PASSWD = ["root:x:0:0:root:/root:/bin/sh",
                  "nobody:x:65534:65534:nobody:/nonexistent:/bin/false"]
DEFAULT_GROUP = ["root:x:0:", "nogroup:x:65534:"]
#: Homes that are not created.
NO_HOME = {"/", "/nonexistent", "/var/empty"}
#: Keys a declarative user may have.
USER_KEYS = {"name", "uid", "gid", "group", "home", "shell", "description", "createHome",
             "extraGroups"}



def _shadow_setup() -> str:
    """The snippet from shadow-setup.ndx: the lines of its one indented string (written
    flush left, so ndx strips nothing but the first newline)."""
    text = resources.files(__package__).joinpath("shadow-setup.ndx").read_text("utf-8")
    lines = text.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.rstrip("\n") == "''")
    end = max(i for i, line in enumerate(lines) if line.rstrip("\n") == "''")
    return "".join(lines[start + 1:end])


#: `dockerTools.shadowSetup`: the files groupadd/useradd need, for a runAsRoot script
#: (the same string docker-tools.ndx imports).
SHADOW_SETUP = _shadow_setup()


@dataclass(frozen=True)
class UserSpec:
    """One declared user."""

    name: str
    uid: int
    gid: int
    group: str
    home: str
    shell: str
    description: str
    create_home: bool
    extra_groups: tuple[str, ...]


def parse_users(users: Sequence[Mapping[str, Any]]) -> list[UserSpec]:
    """Check and default the `users` argument."""
    result = []
    for i, user in enumerate(users):
        where = f"users[{i}]"
        if not isinstance(user, Mapping):
            raise ImageError(f"{where} must be an attribute set like "
                             "{ name = \"redis\"; uid = 999; }")
        for key in user:
            if key not in USER_KEYS:
                raise ImageError(f"unknown key '{key}' in {where}{did_you_mean(key, USER_KEYS)}")
        name = user.get("name")
        uid = user.get("uid")
        if not isinstance(name, str) or not name or ":" in name:
            raise ImageError(f"{where}.name must be a non-empty string")
        if type(uid) is not int or not 0 <= uid < 2**31:
            raise ImageError(f"{where}.uid must be a non-negative integer ({name})")
        gid = user.get("gid", uid)
        if type(gid) is not int or not 0 <= gid < 2**31:
            raise ImageError(f"{where}.gid must be a non-negative integer ({name})")
        home = user.get("home", "/var/empty")
        if not isinstance(home, str) or not home.startswith("/"):
            raise ImageError(f"{where}.home must be an absolute path ({name})")
        extra = user.get("extraGroups", [])
        result.append(UserSpec(name, uid, gid, str(user.get("group", name)), home,
                               str(user.get("shell", "/bin/sh")),
                               str(user.get("description", "")),
                               bool(user.get("createHome", home not in NO_HOME)),
                               tuple(str(g) for g in extra)))
    names = [u.name for u in result]
    for name in names:
        if names.count(name) > 1:
            raise ImageError(f"user '{name}' is declared twice in users")
    return result


def write_user_db(root: str, users: Sequence[UserSpec], base_lines: Callable[[str], list[str]]
                  ) -> list[Entry]:
    """Write `/etc/passwd` and `/etc/group` into `root` with `users` added to the lines the
    image already has (`base_lines("etc/passwd")`), and return the entries for the home
    directories (owned by their users)."""
    passwd = base_lines("etc/passwd") or list(DEFAULT_PASSWD)
    group = base_lines("etc/group") or list(DEFAULT_GROUP)
    known_users = {line.split(":", 1)[0] for line in passwd}
    groups = {line.split(":", 1)[0]: line for line in group}
    order = [line.split(":", 1)[0] for line in group]
    for user in users:
        if user.name in known_users:
            raise ImageError(f"user '{user.name}' already exists in the image's /etc/passwd")
        passwd.append(f"{user.name}:x:{user.uid}:{user.gid}:{user.description}:"
                      f"{user.home}:{user.shell}")
        if user.group not in groups:
            groups[user.group] = f"{user.group}:x:{user.gid}:"
            order.append(user.group)
    for user in users:
        for extra in user.extra_groups:
            if extra not in groups:
                raise ImageError(f"user '{user.name}': extra group '{extra}' does not exist"
                                 f"{did_you_mean(extra, groups)}")
            head, _, members = groups[extra].rpartition(":")
            listed = [m for m in members.split(",") if m]
            groups[extra] = f"{head}:{','.join(listed + [user.name])}"
    etc = os.path.join(root, "etc")
    if os.path.islink(etc):
        raise ImageError("users: /etc is a symbolic link in the image; cannot write "
                         "/etc/passwd into it")
    os.makedirs(etc, 0o755, exist_ok=True)
    for name, lines in (("passwd", passwd), ("group", [groups[g] for g in order])):
        path = os.path.join(etc, name)
        if os.path.lexists(path):
            os.unlink(path)
        with open(path, "w") as f:
            f.write("\n".join(lines) + "\n")
        os.chmod(path, 0o644)
    return [Entry(user.home.strip("/"), "dir", 0o755, user.uid, user.gid)
            for user in users if user.create_home and user.home not in NO_HOME]


def lines_from_root(root: str, real: Callable[[str], str]) -> Callable[[str], list[str]]:
    """A `base_lines` reading a file of the staged root, following a link into the store
    (as copyToRoot makes for a path such as fakeNss)."""

    def read(rel: str) -> list[str]:
        path = os.path.join(root, rel)
        if os.path.islink(path):
            target = os.readlink(path)
            if not target.startswith("/"):
                return []
            try:
                path = real(target)
            except ImageError:
                return []
        if not os.path.isfile(path):
            return []
        with open(path, encoding="utf-8", errors="surrogateescape") as f:
            return [line for line in f.read().splitlines() if line.strip()]

    return read


def lines_from_layers(open_layers: Sequence[Callable[[], Any]]) -> Callable[[str], list[str]]:
    """A `base_lines` reading the last version of a file in a base image's layers."""

    def read(rel: str) -> list[str]:
        found: bytes | None = None
        for opener in open_layers:
            with opener() as stream, tarfile.open(fileobj=stream, mode="r|") as tar:
                for member in tar:
                    name = os.path.normpath(member.name.lstrip("/")).removeprefix("./")
                    if name == rel and member.isfile():
                        data = tar.extractfile(member)
                        found = data.read() if data else None
                    elif name == os.path.join(os.path.dirname(rel), ".wh." +
                                              os.path.basename(rel)):
                        found = None
        if found is None:
            return []
        return [line for line in found.decode("utf-8", "surrogateescape").splitlines()
                if line.strip()]

    return read
