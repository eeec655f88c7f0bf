"""Tests of the library written in ndx (lib, stdenv, trivial builders, packages), the stdenv
phases script and the offline source mirror."""
