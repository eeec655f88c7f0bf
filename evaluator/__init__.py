"""ndx.evaluator — the semantics of ndx: values, thunks, scopes, builtins, imports, traces."""
