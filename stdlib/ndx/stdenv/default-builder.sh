# The builder of every stdenv.mkDerivation: load the phases, run them.
# `$stdenv` is the store directory holding this file and setup.sh.
source "$stdenv/setup.sh"
genericBuild
