"""Checking many files: cache lookups, then a process pool for what is left.

The parent process reads and hashes every file once and replays cached results. Every file
is cached, not only those that pass the text prefilter: ``check_source`` parses every file
with ``ast`` to report syntax errors, and that parse is most of a cold run's time on files
without socket code. The remaining files go to the pool, largest first so that one big file
does not finish last on a single core, and results are put back in input order: the output
never depends on scheduling.

Ctrl-C: workers ignore SIGINT (a terminal sends it to the whole process group) and leave it to
the parent, which stops the pool at once, terminating the workers mid-file rather than waiting
for every queued file, and lets ``KeyboardInterrupt`` reach the CLI (exit 130). Nothing is
written to the cache after an interrupt: entries already written are whole (atomic renames).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Optional

from socklint.analysis.project import ModuleSummary, ModuleView
from socklint.api import check_file, check_module
from socklint.cache import Cache
from socklint.config import Settings
from socklint.diagnostics import Diagnostic
from socklint.project import ModuleFinder, PackageReleases, ProjectFile, converge, project_file

# Below this many files to analyse, starting workers costs more than it saves.
MIN_FILES_FOR_POOL = 2
# Upper bound on files per task, so small files still spread over the workers.
MAX_BATCH_FILES = 64


def default_jobs() -> int:
    """CPUs this process may use (honours affinity masks and container CPU sets)."""
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if counter is not None:
        return max(1, counter() or 1)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


_worker_settings: Settings | None = None


def _init_worker(settings: Settings) -> None:
    global _worker_settings
    # The parent handles Ctrl-C for the whole run; a worker that raised KeyboardInterrupt too
    # would print its own traceback for every process.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _worker_settings = settings


# One unit of work: a module, its view of the project, and whether it is only summarised
# (a module of the project that was not asked for: its findings are not reported).
_Item = tuple[str, bytes, Optional[ModuleView], bool]
_Out = tuple[list[Diagnostic], Optional[ModuleSummary]]


def _stop_workers(pool: ProcessPoolExecutor) -> None:
    """End the pool now: queued batches are cancelled, running ones are killed mid-file."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14+
    if terminate is not None:
        terminate()
        return
    # Older Pythons have no public way to stop a running worker: its Process objects, taken
    # before shutdown() drops them.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        with contextlib.suppress(OSError, AttributeError, ValueError):  # already gone
            proc.terminate()
    # The pool's manager thread notices the dead workers and closes its wake-up pipe; if the
    # interpreter exits meanwhile, concurrent.futures' exit hook writes to that pipe as it
    # closes and prints an "Exception ignored ... Bad file descriptor" traceback. Waiting for
    # the thread (it ends within milliseconds of its workers) closes the race.
    manager = getattr(pool, "_executor_manager_thread", None) or getattr(pool, "_queue_management_thread", None)
    if manager is not None:
        manager.join(timeout=2.0)


def _analyse(item: _Item, settings: Settings | None) -> _Out:
    path, data, view, scan_only = item
    return check_module(path, data, settings, view=view, scan_only=scan_only)


def _work(batch: list[_Item]) -> list[_Out]:
    return [_analyse(item, _worker_settings) for item in batch]


def _batches(todo: list[tuple[int, _Item]], workers: int) -> list[list[tuple[int, _Item]]]:
    """Group files into batches: one task per file costs about 1 ms of pickling and pipe
    traffic on each side (3.4 s of CPU over the 1,790 files of the standard library), while a
    few large batches would leave a core idle at the end. Largest files first, each batch
    filled up to a share of the total bytes, so the last tasks are small."""
    order = sorted(todo, key=lambda item: len(item[1][1]), reverse=True)
    total = sum(len(item[1][1]) for item in order)
    budget = max(1, total // (workers * 16))
    batches: list[list[tuple[int, _Item]]] = []
    current: list[tuple[int, _Item]] = []
    size = 0
    for item in order:
        current.append(item)
        size += len(item[1][1])
        if size >= budget or len(current) >= MAX_BATCH_FILES:
            batches.append(current)
            current, size = [], 0
    if current:
        batches.append(current)
    return batches


def entry_key(
    cache: Cache, path: str, data: bytes, view: ModuleView | None = None, scan_only: bool = False, alone: bool = False
) -> str:
    """A file's cache key: its bytes and path, and what else its result depends on: its view of
    the project (module name included: relative imports resolve by it), and whether it was only
    summarised. ``view=None``: the first round's (the module alone); ``alone``: analysed
    without any project (``--no-project``)."""
    if alone:
        return cache.key(path, data, ":alone")
    if view is None:
        f = project_file(path, data)
        view = f.empty_view()
    return cache.key(path, data, view.digest() + (":summary" if scan_only else ""))


class _Pool:
    """Worker processes, started on first need and reused by every round of the index."""

    def __init__(self, settings: Settings, jobs: int) -> None:
        self.settings = settings
        self.jobs = jobs
        self._pool: ProcessPoolExecutor | None = None
        self._broken = False

    def run(self, items: list[_Item], done: Callable[[list[_Item]], None]) -> list[_Out]:
        """``done`` is told which items are finished, batch by batch."""
        out: list[_Out | None] = [None] * len(items)
        if self.jobs > 1 and len(items) >= MIN_FILES_FOR_POOL and not self._broken:
            self._run_pool(list(enumerate(items)), out, done)
        for i, item in enumerate(items):
            if out[i] is None:  # serial mode, or the pool broke under this file
                out[i] = _analyse(item, self.settings)
                done([item])
        return [o for o in out if o is not None]

    def _run_pool(self, todo: list[tuple[int, _Item]], out: list[_Out | None], done: Callable[[list[_Item]], None]) -> None:
        workers = min(self.jobs, len(todo))
        try:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.jobs, initializer=_init_worker, initargs=(self.settings,))
            futures = [(batch, self._pool.submit(_work, [item for _, item in batch])) for batch in _batches(todo, workers)]
            for batch, fut in futures:
                try:
                    for (i, _), result in zip(batch, fut.result()):
                        out[i] = result
                    done([item for _, item in batch])
                except BrokenProcessPool:
                    # A worker died (killed for memory, for instance). The caller analyses
                    # whatever is left in this process.
                    self._broken = True
        except KeyboardInterrupt:
            # Ctrl-C: stop the workers now rather than wait for every queued batch.
            if self._pool is not None:
                _stop_workers(self._pool)
                self._pool = None
            raise
        except (OSError, BrokenProcessPool):
            # No processes on this platform or sandbox: the caller falls back to serial.
            self._broken = True

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None


def _run_key(cache: Cache, files: Sequence[ProjectFile], others: Sequence[str]) -> str:
    """What a whole indexed run depends on besides the settings and the engine (the cache's
    namespace): each file checked (its path, module name and bytes) and which other modules
    of its packages exist."""
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f.path):
        h.update(f"{f.path}\0{f.module}\0{int(f.is_package)}\0".encode("utf-8", "surrogatepass"))
        h.update(hashlib.sha256(f.data).digest())
    h.update(b"\0others\0")
    for p in others:
        h.update(p.encode("utf-8", "surrogatepass") + b"\0")
    return cache.key("<project run>", h.digest(), ":run")


def _unchanged(read: list[tuple[str, str]]) -> bool:
    """The modules a run read still hold the bytes it read."""
    for path, digest in read:
        try:
            with open(path, "rb") as fh:
                if hashlib.sha256(fh.read()).hexdigest() != digest:
                    return False
        except OSError:
            return False
    return True


def _in_order(
    paths: Sequence[str], results: list[list[Diagnostic] | None], by_path: dict[str, list[Diagnostic]]
) -> list[Diagnostic]:
    """Every file's findings in input order: those already known (unreadable files), else the
    run's."""
    out: list[Diagnostic] = []
    for known, path in zip(results, paths):
        out += known if known is not None else by_path.get(path, [])
    return out


def check_paths(
    paths: Sequence[str],
    settings: Settings,
    jobs: int | None = None,
    cache: Cache | None = None,
    project: Sequence[str] = (),
    progress: Callable[[int], None] | None = None,
    index: bool = True,
) -> list[Diagnostic]:
    """Diagnostics of every file in ``paths``, in input order (each file's own list sorted).

    ``project``: more files of the project, summarised for the index but not reported (the
    other modules of the packages ``paths`` belong to; see ``socklint.project``). The result
    does not depend on ``jobs`` or on what the cache holds. ``progress`` is told how many of
    ``paths`` are done so far (in the first round), now and then. ``index=False``: every file
    is analysed alone (``--no-project``), with no view of the others.
    """
    done = 0

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done)

    # More workers than CPUs only add start-up cost and memory: --jobs 1000 is --jobs <CPUs>.
    jobs = default_jobs() if jobs is None else max(1, min(jobs, default_jobs()))
    results: list[list[Diagnostic] | None] = [None] * len(paths)
    files: list[ProjectFile] = []
    reported: set[str] = set()
    for i, path in enumerate(paths):
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except OSError:
            results[i] = check_file(path, settings)  # the SKL002 diagnostic, worded in one place
            advance(1)
            continue
        if path not in reported:
            reported.add(path)
            files.append(project_file(path, data))
    # The other modules of the packages: summarised only when a file being analysed imports
    # them (directly or through another), read then.
    others = sorted({p for p in project if p not in reported})
    finder = ModuleFinder(others)
    have = set(reported)
    read: dict[str, str] = {}  # the other modules read, with the digests of their bytes

    def discover(made: list[ModuleSummary]) -> list[ProjectFile]:
        out: list[ProjectFile] = []
        for path in finder.needed(made, have):
            try:
                with open(path, "rb") as fh:
                    data = fh.read()
            except OSError:
                continue  # an unreadable module of the project only goes unsummarised
            read[path] = hashlib.sha256(data).hexdigest()
            out.append(project_file(path, data))
        return out

    # Other modules of a package asked about attributes (SKL112): the files checked and the
    # other modules, exactly the package's files a one-file front end lists.
    checked = {os.path.abspath(f.path): f for f in files}
    in_package = sorted({*checked, *(os.path.abspath(p) for p in others)})
    spelt = {os.path.abspath(p): p for p in others}

    def read_module(full: str) -> Optional[bytes]:
        f = checked.get(full)
        if f is not None:
            return f.data
        try:
            with open(full, "rb") as fh:
                data = fh.read()
        except OSError:
            return None
        read[spelt.get(full, full)] = hashlib.sha256(data).hexdigest()
        return data

    def package_files(pkg: str) -> list[str]:
        inside = os.path.join(pkg, "")
        return [p for p in in_package if p.startswith(inside)]

    package = PackageReleases(package_files, read_module)

    run_key = _run_key(cache, files, others) if cache is not None and index else None
    if run_key is not None and cache is not None:
        memo = cache.get_run(run_key, _unchanged)
        if memo is not None:
            # Nothing the run depends on changed: its findings, without a single view.
            advance(len(files))
            return _in_order(paths, results, memo)

    pool = _Pool(settings, jobs)
    counted: set[str] = set()

    def finished(items: list[_Item]) -> None:
        # Progress counts the files asked for, once each (later rounds redo a few).
        fresh = [path for path, _, _, scan_only in items if not scan_only and path not in counted]
        counted.update(fresh)
        if fresh:
            advance(len(fresh))

    # A module analysed again only because its view changed: if nothing its findings depend on
    # changed (the view narrowed to what its analysed code calls), only its summary is made
    # again and its findings are kept.
    analysed: dict[str, tuple[str, list[Diagnostic]]] = {}
    last_calls: dict[str, Optional[tuple[str, ...]]] = {}

    def work(batch: list[tuple[ProjectFile, Optional[ModuleView]]]) -> list[tuple[Optional[ModuleSummary], list[Diagnostic]]]:
        out: list[Optional[_Out]] = [None] * len(batch)
        keys: list[Optional[str]] = [None] * len(batch)
        todo: list[int] = []
        kept: dict[int, list[Diagnostic]] = {}
        for j, (f, view) in enumerate(batch):
            scan_only = f.path not in reported
            if not scan_only and view is not None and f.path in analysed and f.path in last_calls:
                if analysed[f.path][0] == view.analysis_digest(last_calls[f.path]):
                    kept[j] = analysed[f.path][1]
                    scan_only = True
            if cache is not None:
                key = keys[j] = entry_key(cache, f.path, f.data, view, scan_only, alone=view is None)
                hit = cache.get_entry(key)
                if hit is not None:
                    out[j] = hit
                    finished([(f.path, f.data, view, scan_only)])
                    continue
            todo.append(j)
        items = [(batch[j][0].path, batch[j][0].data, batch[j][1], batch[j][0].path not in reported or j in kept) for j in todo]
        for j, result in zip(todo, pool.run(items, finished)):
            out[j] = result
            done_key = keys[j]
            if cache is not None and done_key is not None and not any(d.code == "SKL900" for d in result[0]):
                # Internal errors are not cached: a fixed socklint must retry them.
                cache.put(done_key, result[0], result[1])
        for j, (f, view) in enumerate(batch):
            o = out[j]
            if j in kept and o is not None:
                out[j] = o = (kept[j], o[1])
            if o is not None and f.path in reported and view is not None:
                last_calls[f.path] = o[1].calls if o[1] is not None else None
                analysed[f.path] = (view.analysis_digest(last_calls[f.path]), o[0])
        return [(o[1], o[0]) if o is not None else (None, []) for o in out]

    if not index:
        try:
            by_path = {f.path: diags for f, (_, diags) in zip(files, work([(f, None) for f in files]))}
        finally:
            pool.close()
        return _in_order(paths, results, by_path)
    try:
        converged = converge(files, work, discover=discover, releases=package.released_in)
    finally:
        pool.close()
    if run_key is not None and cache is not None:
        final = {f.path: converged.results.get(f.path, []) for f in files}
        if not any(d.code == "SKL900" for ds in final.values() for d in ds):
            cache.put_run(run_key, final, sorted(read.items()))
    return _in_order(paths, results, converged.results)
