"""ndx.cli — the thin command-line glue: `ndx` and `ndx-build`."""
