"""How a ``pmirc`` process that reads data allocates memory: freed pages kept for reuse.

A 10M-row evaluation allocates and frees full-size columns by the dozen (Arrow's while reading,
numpy's while parsing and counting). By default both hand large blocks back to the system as
they are freed (glibc maps every array over 32 MiB afresh and unmaps it when freed; pyarrow's
mimalloc purges them), so every new array faults its pages in again, and on a busy
machine the kernel's time for those faults (zeroing, huge-page compaction) came to 2 to 4 s of a
10M-row AtW check: more than its Python. Here freed memory stays with the process and is reused:

* glibc: no ``mmap`` for large blocks (``M_MMAP_MAX`` 0), no trimming of the heap's free
  top below 2 GiB (``M_TRIM_THRESHOLD``), and 64 MiB of padding kept at the top of every heap
  (``M_TOP_PAD``), set with ``mallopt``; skipped where the C library is not glibc, or
  ``GLIBC_TUNABLES`` sets malloc's own tunables. The padding is for the evaluation's threads:
  each has a heap of its own (an arena), which glibc 2.36 shrinks down to the padding (128 KiB
  by default) whenever its top is freed, whatever the trim threshold; each chunk's temporaries
  were then faulted in afresh (about 100,000 page faults and 0.2 s of system time in each 10M-row
  AtW evaluation, under 500 faults and 0.01 s with it);
* pyarrow: its jemalloc pool, which keeps freed pages for the next allocation, unless
  ``ARROW_DEFAULT_MEMORY_POOL`` names a pool;
* numpy: no ``madvise(MADV_HUGEPAGE)`` on its large arrays, unless ``NUMPY_MADVISE_HUGEPAGE``
  is set. Once memory is reused, what is left is the first touch of each page; a huge page is
  one fault instead of 512, but where the kernel compacts memory to find one (transparent huge
  pages' ``defrag`` is ``madvise``, and a machine that has run for hours is fragmented) it costs
  far more: 1.2 GB of fresh numpy arrays took 0.16 to 2.5 s of system time in huge pages on the
  shared machine, a steady 0.5 to 0.6 s in small ones, and the 10M-row AtW check 2.7 to 3.4 s
  against 1.5 to 1.7 s.

The cost is memory the process holds on to: its peak is a few hundred MiB higher at 10M rows
(docs/performance.md). Only the command line sets these (:func:`pmir_dsl.cli.main`); a library
caller keeps its own allocators.
"""

from __future__ import annotations

import ctypes
import os

#: mallopt's parameters (glibc's malloc.h).
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_MAX = -1, -2, -4
#: The heap's free top is given back to the system only beyond this (mallopt takes an int).
_TRIM_BYTES = (1 << 31) - 1
#: Free space kept at the top of each heap (the main one and each thread's) when it shrinks.
_PAD_BYTES = 64 << 20


def reuse_freed_memory() -> None:
    """Keep freed memory for reuse, in glibc's malloc and in pyarrow (see the module's text)."""
    _glibc_keeps_freed_memory()
    _arrow_keeps_freed_memory()
    _numpy_in_small_pages()


def _glibc_keeps_freed_memory() -> None:
    if "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc (macOS, musl without it, Windows)
        return
    mallopt.argtypes, mallopt.restype = (ctypes.c_int, ctypes.c_int), ctypes.c_int
    mallopt(_M_MMAP_MAX, 0)
    mallopt(_M_TRIM_THRESHOLD, _TRIM_BYTES)
    mallopt(_M_TOP_PAD, _PAD_BYTES)


def _arrow_keeps_freed_memory() -> None:
    if os.environ.get("ARROW_DEFAULT_MEMORY_POOL"):
        return
    import pyarrow as pa

    if "jemalloc" in pa.supported_memory_backends():
        pa.set_memory_pool(pa.jemalloc_memory_pool())


def _numpy_in_small_pages() -> None:
    if "NUMPY_MADVISE_HUGEPAGE" in os.environ:
        return
    import numpy as np

    core = getattr(np, "_core", None) or getattr(np, "core", None)
    switch = getattr(getattr(core, "multiarray", None), "_set_madvise_hugepage", None)
    if switch is not None:  # numpy's switch for it (private, so looked for)
        switch(False)
