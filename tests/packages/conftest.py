"""Tests of the library written in ndx (lib, stdenv, trivial builders, packages), the stdenv
phases script and the offline source mirror.

The end-to-end modules build in the session store of tests/conftest.py (`ndx_store`,
`ndx_builds`), so a package several of them need (busybox, redis) is built once per run."""
