"""pmir_dsl.memory: a pmirc process that reads data keeps freed memory for reuse."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

_CODE = """
import resource, numpy as np, pyarrow as pa
from pmir_dsl.memory import reuse_freed_memory
if {reuse}:
    reuse_freed_memory()
a = np.arange(10_000_000)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for i in range(20):  # a full-size temporary made and freed, again and again
    b = a + i
    del b
print(pa.default_memory_pool().backend_name, resource.getrusage(resource.RUSAGE_SELF).ru_minflt
      - before)
"""


def _run(reuse: bool, **env: str) -> tuple[str, int]:
    out = subprocess.run([sys.executable, "-c", _CODE.format(reuse=reuse)], capture_output=True,
                         text=True, check=True, env={**os.environ, **env}).stdout.split()
    return out[0], int(out[1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_arrays_are_reused_not_faulted_in_again() -> None:
    """Twenty 80 MB temporaries (in small pages both ways): without reuse glibc maps each
    afresh (over 32 MB it always does) and faults its pages in; with it the first one's memory
    serves the rest."""
    env = {"ARROW_DEFAULT_MEMORY_POOL": "", "GLIBC_TUNABLES": "", "NUMPY_MADVISE_HUGEPAGE": "0"}
    pool, kept = _run(True, **env)
    _, fresh = _run(False, **env)
    assert pool == "jemalloc"
    assert kept * 10 < fresh


def test_glibc_is_told_to_keep_freed_memory_in_every_heap(monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    """The three mallopt settings, the top padding among them: without it glibc shrinks each
    evaluation thread's heap to 128 KiB whenever its top is freed, and each chunk's temporaries
    are faulted in afresh (about 100,000 faults a 10M-row AtW evaluation; docs/performance.md).
    A thread's heap reuse depends on which heap the thread is given, so the faults themselves
    are measured by the benchmark, not here."""
    import ctypes

    from pmir_dsl import memory

    calls: list[tuple[int, int]] = []

    class _Libc:
        class mallopt:  # noqa: N801  (ctypes' function object: argtypes, restype, call)
            argtypes: object = None
            restype: object = None

            def __new__(cls, param: int, value: int) -> int:  # type: ignore[misc]
                calls.append((param, value))
                return 1
    monkeypatch.setattr(ctypes, "CDLL", lambda name: _Libc)
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    memory._glibc_keeps_freed_memory()
    assert calls == [(-4, 0), (-1, 2**31 - 1), (-2, 64 << 20)]  # M_MMAP_MAX, TRIM, TOP_PAD
    calls.clear()
    monkeypatch.setenv("GLIBC_TUNABLES", "glibc.malloc.top_pad=1")
    memory._glibc_keeps_freed_memory()
    assert calls == []  # the user's own tunables stand


def test_a_pool_or_tunables_the_user_chose_are_kept() -> None:
    """ARROW_DEFAULT_MEMORY_POOL and glibc's malloc tunables are the user's to set."""
    assert _run(True, ARROW_DEFAULT_MEMORY_POOL="system")[0] == "system"


def test_numpy_arrays_are_not_asked_for_huge_pages() -> None:
    """After reuse_freed_memory numpy no longer madvises huge pages, unless the user's
    NUMPY_MADVISE_HUGEPAGE says what to do."""
    code = ("import numpy._core.multiarray as m; from pmir_dsl.memory import reuse_freed_memory; "
            "reuse_freed_memory(); print(m._get_madvise_hugepage())")

    def asked(**env: str) -> str:
        clean = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              check=True, env={**clean, **env}).stdout.strip()

    assert asked() == "False"
    assert asked(NUMPY_MADVISE_HUGEPAGE="1") == "True"
