"""Running a build plan: independent derivations in parallel (up to `jobs`), each after
the derivations it depends on, stopping at the first failure unless `keep_going`."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent import futures
from typing import TYPE_CHECKING

from ndx.stdlib.store.errors import BuildError, StoreError

from .options import BuildOptions, BuildReport
from .plan import Plan, make_plan, parse_target
from .progress import Reporter
from .runner import Cancellation, Cancelled, build_derivation
from .sandbox import check_sandbox

if TYPE_CHECKING:
    from ndx.stdlib.store.disk import DiskStore


def build(store: DiskStore, targets: Sequence[str], options: BuildOptions,
          reporter: Reporter | None = None) -> BuildReport:
    """Make every target valid (see `plan.parse_target` for their forms)."""
    reporter = reporter or store.reporter or Reporter()
    with store.gc_lock.shared():
        parsed = [parse_target(store, t) for t in targets]
        plan = make_plan(store, parsed, check=options.check)
        report = BuildReport()
        if plan.drvs:
            sandboxed = store.sandbox if options.sandbox is None else options.sandbox
            if sandboxed and any(not d.builder.startswith("builtin:")
                                 for d in plan.drvs.values()):
                check_sandbox()
            reporter.planned(len(plan.drvs), len(plan.fetches()))
            run_plan(store, plan, options, reporter, report)
        for text, target in zip(targets, parsed):
            if target.drv_path is not None:
                drv = store.read_derivation(target.drv_path)
                wanted = target.outputs or frozenset(drv.outputs)
                report.outputs[text] = {o: drv.outputs[o].path for o in sorted(wanted)}
            else:
                assert target.path is not None
                report.outputs[text] = {"out": target.path}
        store.session.add(p for outs in report.outputs.values() for p in outs.values())
    return report


def run_plan(store: DiskStore, plan: Plan, options: BuildOptions, reporter: Reporter,
             report: BuildReport) -> None:
    """Build the plan's derivations in dependency order with `options.jobs` workers."""
    cancel = Cancellation()
    waiting = dict(plan.deps)
    finished: set[str] = set()
    failures: list[BuildError | StoreError] = []
    skipped: set[str] = set()
    running: dict[futures.Future[bool], str] = {}
    with futures.ThreadPoolExecutor(max_workers=max(1, options.jobs),
                                    thread_name_prefix="ndx-build") as pool:
        try:
            while waiting or running:
                if not failures or options.keep_going:
                    for drv_path in sorted(waiting):
                        if len(running) >= max(1, options.jobs):
                            break
                        if waiting[drv_path] <= finished:
                            del waiting[drv_path]
                            future = pool.submit(build_derivation, store, drv_path,
                                                 plan.drvs[drv_path], options, reporter,
                                                 cancel)
                            running[future] = drv_path
                else:
                    waiting.clear()
                if not running:
                    # What is left waits for a failed derivation.
                    skipped.update(waiting)
                    waiting.clear()
                    break
                done, _ = futures.wait(running, return_when=futures.FIRST_COMPLETED)
                for future in done:
                    drv_path = running.pop(future)
                    try:
                        if future.result():
                            report.built.append(drv_path)
                        finished.add(drv_path)
                    except (BuildError, StoreError) as exc:
                        failures.append(exc)
                        if options.keep_going:
                            reporter.message(f"error: {exc}")
                        else:
                            waiting.clear()
        except BaseException:
            cancel.cancel()
            for future in running:
                future.cancel()
            futures.wait(running)
            raise
    if failures:
        if len(failures) == 1:
            raise failures[0]
        names = ", ".join(f"'{getattr(f, 'drv_path', '') or f}'" for f in failures)
        raise BuildError(f"{len(failures)} builds failed: {names}\n{failures[0]}")


__all__ = ["Cancelled", "build", "run_plan"]
