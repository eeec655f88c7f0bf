"""Building derivations: planning what is missing, running builders in a bubblewrap
sandbox (or the built-in fetcher), scanning outputs for references and registering them.

The entry point is `DiskStore.build(targets, BuildOptions(...), reporter)`.
"""
