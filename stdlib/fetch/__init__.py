"""Fetchers: downloads (hashed mirrors, progress, resume, retry), the `builtin:fetchurl`
builder, archive unpacking and the evaluation-time fetch builtins (`fetchurl`,
`fetchTarball`, `fetchGit`, `fetchTree`, `fetchMercurial`)."""
