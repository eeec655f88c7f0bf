"""ndx.evaluator — the semantics of ndx: values, thunks, scopes, builtins, imports, traces.

The public surface, by module:

    context.EvalContext(store=None, search_path=(), environ=None, system=…)
        one evaluation's state: the StoreIO (or None: pure), `-I` entries, import cache,
        the `builtins` set. `ctx.evaluate_file(path)`, `ctx.evaluate_string(text,
        base_dir=…, variables=…)` return a value in weak head normal form.
    session.run_deep(fn, *args)       run evaluation on the deep-stack thread (always
                                      do: deep programs need it)
    session.eval_output(ctx, EvalRequest(...))   what `ndx eval` prints
    runtime.apply(f, x) / call(f, x, y) / lazy_apply(f, x) / force(v) / force_deep(v)
    printer.print_value(v)            exactly `nix-instantiate --eval`'s rendering
    coerce.expect_int / expect_attrs / … / coerce_to_string / coerce_to_path
                                      the one family of type checks and coercions
    equality.values_equal(a, b)       deep `==`
    operators.add / sub / mul / div / less_than / concat_lists / update
    errors.EvalError and subclasses   `err.render()` (ndx.lang.diagnostics) prints the
                                      located message; set `err.show_trace = True` first
                                      for every "while evaluating" frame
    builtins.registry.builtin(name, arity, global_=…, context=…)   register a builtin

Pipeline: `ndx.lang.parse` → `compiler.Compiler` (AST → closures over slot-resolved
environments, see compiler/compiler.py) → values (values.py) → printed or handed to the
store through `io.StoreIO`.
"""
