"""What a serving worker does around its requests, apart from answering them.

- :func:`tune_malloc` at start and :func:`release_memory` after every request
  (``PRISM_MALLOC_TRIM``): page-sized buffers get their own mappings, unmapped when freed,
  and ``malloc_trim(0)`` returns the heap's free pages once the worker has grown
  ``PRISM_TRIM_SLACK_MB`` past where the last trim left it, so a worker's RSS stays within
  that slack instead of ratcheting up.
- :func:`worker_environ` before uWSGI starts (``PRISM_HUGE_PAGES``): those large mappings
  in transparent huge pages, so filling them costs fewer page faults.
- :func:`recycle_worker` after a request ran past its deadline: the worker exits once the
  504 is sent and uWSGI's master spawns a fresh one.

The hooks are no-ops outside a uWSGI worker (tests, the CLI).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
from collections.abc import Mapping
from functools import lru_cache


@lru_cache(maxsize=1)
def _glibc():
    """The C library when it is glibc (has ``malloc_trim`` and ``mallopt``), else ``None``."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim, libc.mallopt  # noqa: B018  (AttributeError on musl, macOS)
        return libc
    except (OSError, AttributeError):
        return None


M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8  # mallopt parameters (malloc.h)


MMAP_THRESHOLD = 16 * 1024 * 1024  # bytes
TRIM_THRESHOLD = 64 * 1024 * 1024  # bytes; release_memory trims the heap between requests


def tune_malloc() -> bool:
    """Make glibc hand page-sized blocks straight back to the OS (call once per worker).

    By default glibc raises its mmap threshold each time a large block is freed (up to 32 MB),
    so decoded images soon come from the heap, where they fragment it and stay resident. A
    fixed :data:`MMAP_THRESHOLD` (16 MiB) keeps every block above it (a decoded A4 page is
    26 MB at 300 dpi) in its own mapping, unmapped on free; two arenas bound the per-thread
    heaps (a2wsgi's loop thread, ONNX Runtime's). Below it, blocks come from the heap and are
    reused within and across requests: :data:`TRIM_THRESHOLD` stops glibc from shrinking
    the heap top on every free (:func:`release_memory` trims it between requests).

    History: glibc's 128 KiB threshold with its 128 KiB trim made every mid-sized torch
    tensor a fresh mapping (a /generate-text request with the tiny Kosmos-2 took 8,900 page
    faults; 2,800 at 1 MiB). 1 MiB still mapped a text-check crop's float tensors, a
    letterboxed input and model activations afresh on each request, and trimming after
    every request handed the heap back only for the next request to fault it in again. At
    16 MiB with a 64 MiB trim slack, two single-process workers answering alternate
    requests measured /extract 7 % faster, /generate-text 6 % and /stamps 4 % than at 1 MiB
    with a trim after every request (p50 of 14 each on 2 cores; worker RSS +21 MB after
    them). A 128 MiB slack measured no faster and let a worker grow 5.4 % under
    ``bench/load.py``. Returns ``False`` where the C library is not glibc.
    """
    libc = _glibc()
    if libc is None:
        return False
    return (bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD))
            and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD))
            and bool(libc.mallopt(M_ARENA_MAX, 2)))


HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1"


def worker_environ(environ: Mapping[str, str], huge_pages: bool) -> dict[str, str]:
    """The environment to start uWSGI with: ``environ``, plus glibc's
    ``glibc.malloc.hugetlb=1`` tunable in ``GLIBC_TUNABLES`` when ``huge_pages``.

    With it (glibc ≥ 2.35) malloc marks the mappings of its large blocks ``MADV_HUGEPAGE``;
    where transparent huge pages are in ``madvise`` or ``always`` mode, a decoded 300 dpi A4
    page (26 MB, in its own mapping under :func:`tune_malloc`) then faults in as 2 MB pages:
    about 1,000 minor faults instead of 7,000, and a /stamps request on such a page 10 ms
    faster (measured in a uWSGI worker, 2 cores). Older glibc, other C libraries and
    kernels with THP ``never`` ignore it. ``GLIBC_TUNABLES`` is read once when a process
    starts, so it has to be in uWSGI's environment, not set from Python inside a worker; a
    ``hugetlb`` entry already there is left as it is.
    """
    env = dict(environ)
    tunables = [t for t in env.get("GLIBC_TUNABLES", "").split(":") if t]
    if huge_pages and not any(t.startswith("glibc.malloc.hugetlb=") for t in tunables):
        env["GLIBC_TUNABLES"] = ":".join(tunables + [HUGE_PAGES_TUNABLE])
    return env


def resident_bytes() -> int:
    """This process's resident set size in bytes, from ``/proc/self/statm`` (one read, a few
    µs); 0 where there is no ``/proc``."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def trim_due(rss: int, floor: int | None, slack: int) -> bool:
    """Whether a worker at ``rss`` bytes should trim its heap: always before its first trim
    (``floor`` ``None``) and once it has grown more than ``slack`` bytes past ``floor``,
    its RSS right after the last trim. ``slack`` 0 trims after every request."""
    return floor is None or rss > floor + slack


_trim_floor: int | None = None  # RSS (bytes) right after this process's last malloc_trim


def release_memory(slack: int = 0) -> bool:
    """Return the heap's free pages to the OS (glibc ``malloc_trim(0)``, 1–10 ms after the
    response has been sent) when :func:`trim_due` says so, that is, once the process has
    grown ``slack`` bytes past where its last trim left it. Between trims the freed heap
    pages stay resident and the next request reuses them without faulting them in again.

    Returns ``False`` where the C library has no such call, else ``True`` (trimmed or not).
    """
    global _trim_floor
    libc = _glibc()
    if libc is None:
        return False
    if trim_due(resident_bytes(), _trim_floor, slack):
        libc.malloc_trim(0)
        _trim_floor = resident_bytes()
    return True


def _uwsgi():
    try:
        import uwsgi  # only importable inside a uWSGI worker

        return uwsgi
    except ImportError:
        return None


def recycle_worker() -> bool:
    """Ask uWSGI to replace this worker once the response in flight has been sent.

    Sends SIGHUP to the worker itself: uWSGI's worker handler (``gracefully_kill``) lets the
    current request finish, then exits, and the master spawns a fresh worker. Used after a
    request ran past its deadline, so whatever it left behind (native arenas, half-used
    buffers) goes with the process. Returns ``False`` (and does nothing) outside uWSGI.
    """
    if _uwsgi() is None:
        return False
    os.kill(os.getpid(), signal.SIGHUP)
    return True


def install_hooks(malloc_trim: bool, trim_slack_mb: int) -> bool:
    """Inside uWSGI and when ``malloc_trim``: :func:`tune_malloc` now, and
    :func:`release_memory` with a ``trim_slack_mb`` MiB slack after each request (uWSGI's
    ``after_req_hook``, called once the response is sent). Returns whether the hook was
    installed."""
    uwsgi = _uwsgi()
    if uwsgi is None or not malloc_trim or _glibc() is None:
        return False
    tune_malloc()
    slack = max(0, trim_slack_mb) * 1024 * 1024
    uwsgi.after_req_hook = lambda: release_memory(slack)
    return True
