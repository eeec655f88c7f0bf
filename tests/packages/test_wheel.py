"""The installed package carries the whole library written in ndx: every file under
stdlib/ndx/ (and stdlib/default.ndx, which `<ndx>` opens) is in the wheel, so `import <ndx>
{ }` works from an installation, not only from the checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_library_file_is_in_the_wheel(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                    str(tmp_path), str(ROOT)], check=True, capture_output=True, timeout=600)
    (wheel,) = tmp_path.glob("ndx-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    library = [p for p in (ROOT / "stdlib" / "ndx").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts]
    assert len(library) > 20
    missing = [str(p.relative_to(ROOT)) for p in library
               if f"ndx/{p.relative_to(ROOT)}" not in names]
    assert missing == []
    assert "ndx/stdlib/default.ndx" in names
