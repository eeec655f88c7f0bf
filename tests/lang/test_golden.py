"""Golden tests of the parser: tests/golden/parse/{okay,fail}-<name>.ndx.

`okay-x.ndx` must parse; its AST dump must equal `okay-x.exp`. `fail-x.ndx` must be
rejected; the rendered error must equal `fail-x.err`. Paths resolve against the virtual
directory /golden and `~` is /home/golden, so the files are the same on every machine.
`pytest --update-golden` rewrites the expected files (review the diff!).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ndx.lang import ParseError, parse
from ndx.lang.dump import dump

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "parse"
CASES = sorted(GOLDEN.glob("okay-*.ndx")) + sorted(GOLDEN.glob("fail-*.ndx"))


def _outcome(case: Path) -> tuple[str, str]:
    """(suffix of the expected file, actual output) for one case."""
    text = case.read_text(encoding="utf-8")
    try:
        tree = parse(text, case.name, base_dir="/golden")
    except ParseError as exc:
        return ".err", exc.render() + "\n"
    return ".exp", dump(tree) + "\n"


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_golden(case: Path, update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", "/home/golden")
    suffix, actual = _outcome(case)
    wanted = ".exp" if case.name.startswith("okay-") else ".err"
    expected_file = case.with_suffix(wanted)
    if update_golden:
        assert suffix == wanted, f"{case.name}: got {suffix} output:\n{actual}"
        expected_file.write_text(actual, encoding="utf-8")
        return
    assert suffix == wanted, f"{case.name}: expected {wanted}, got:\n{actual}"
    assert expected_file.exists(), f"missing {expected_file.name}: run pytest --update-golden"
    assert actual == expected_file.read_text(encoding="utf-8")


def test_golden_cases_exist() -> None:
    assert len(CASES) >= 40
    orphans = [p.name for p in GOLDEN.iterdir()
               if p.suffix in (".exp", ".err") and not p.with_suffix(".ndx").exists()]
    assert not orphans


@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_golden_agrees_with_nix(case: Path, tmp_path: Path) -> None:
    """Nix accepts the okay- cases with the same tree and rejects the fail- cases."""
    from .nix_oracle import NixError, nix_parse, show

    text = case.read_text(encoding="utf-8")
    if case.name.startswith("okay-indented"):
        # Nix keeps an indented string's pieces apart; their value is checked in
        # test_strings.py, here only that Nix accepts them.
        nix_parse(text, cwd=str(tmp_path))
    elif case.name.startswith("okay-ext-"):
        # Deliberate extensions of Nix's syntax: only text Nix cannot accept.
        with pytest.raises(NixError):
            nix_parse(text, cwd=str(tmp_path))
    elif case.name.startswith("okay-"):
        assert show(parse(text, base_dir=str(tmp_path))) == nix_parse(text, cwd=str(tmp_path))
    else:
        with pytest.raises(NixError):
            nix_parse(text, cwd=str(tmp_path))
