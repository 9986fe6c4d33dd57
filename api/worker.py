"""What a serving worker does around its requests, apart from answering them.

- :func:`tune_malloc` at start and :func:`release_memory` after every request
  (``PRISM_MALLOC_TRIM``): large buffers get their own mappings, unmapped when freed, and
  ``malloc_trim(0)`` returns the heap's free pages, so a worker's RSS stays flat between
  requests instead of ratcheting up.
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


MMAP_THRESHOLD = 1024 * 1024  # bytes
TRIM_THRESHOLD = 64 * 1024 * 1024  # bytes; release_memory trims the heap after each request


def tune_malloc() -> bool:
    """Make glibc hand large blocks straight back to the OS (call once per worker).

    By default glibc raises its mmap threshold each time a large block is freed (up to 32 MB),
    so decoded images and model buffers soon come from the heap, where they fragment it and
    stay resident. A fixed :data:`MMAP_THRESHOLD` (1 MiB) keeps every page-sized buffer in
    its own mapping, unmapped on free; two arenas bound the per-thread heaps (a2wsgi's loop
    thread, ONNX Runtime's). Below it, blocks come from the heap and are reused within a
    request: :data:`TRIM_THRESHOLD` stops glibc from shrinking the heap top on every free
    (:func:`release_memory` trims it once the response is sent). The first tuning, a
    128 KiB threshold with glibc's default 128 KiB trim, made every mid-sized torch tensor
    a fresh mapping: a /generate-text request (tiny Kosmos-2) took 8,900 page faults in
    the worker, now 2,800 (/cut 10,800 → 5,100, /extract 8,700 → 6,200, /stamps 3,500 →
    3,100), with RSS as flat under ``bench/load.py``. Returns ``False`` where the C
    library is not glibc.
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


def release_memory() -> bool:
    """Return the heap's free pages to the OS (glibc ``malloc_trim(0)``; 1–10 ms measured
    after /ocr, /cut and /extract requests, spent after the response has been sent).
    Returns ``False`` where the C library has no such call."""
    libc = _glibc()
    if libc is None:
        return False
    libc.malloc_trim(0)
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


def install_hooks(malloc_trim: bool) -> bool:
    """Inside uWSGI and when ``malloc_trim``: :func:`tune_malloc` now, and
    :func:`release_memory` after each request (uWSGI's ``after_req_hook``, called once the
    response is sent). Returns whether the hook was installed."""
    uwsgi = _uwsgi()
    if uwsgi is None or not malloc_trim or _glibc() is None:
        return False
    tune_malloc()
    uwsgi.after_req_hook = release_memory
    return True
