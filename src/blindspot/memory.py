"""Where a stage process's freed memory goes: Arrow on the system allocator, glibc's threshold per stage.

Every stage puts Arrow's buffers on glibc's allocator (:func:`return_freed_memory`), so one
allocator holds the process's memory and ``malloc_trim`` (:func:`release_freed_heap`) reaches all of
it. Whether freed arrays give their pages back at once is a trade of time for memory, decided per
stage from measurement:

- glibc's default raises its threshold for giving a block pages of its own to the size of each
  large block freed (up to 32 MiB), so after the first few per-row arrays the next ones reuse the
  heap's freed pages. A fixed threshold of 1 MiB (``unmap_from``) instead unmaps every array of
  131,072 rows or more when it is freed, and the next one is fresh pages the kernel must fault in
  and zero.
- Measured at a million rows (``bench/results/allocator.json``, :mod:`bench.allocator`): the fixed
  threshold costs the stages that make and free per-row arrays one after another (profile, slice,
  calibrate, judge, compare) 0.8 to 2.4 s each, about 6 s a run, for 40 to 150 MiB less at their
  peak; in ingest it saves about 290 MiB, because its batches of Python strings fragment the heap,
  and costs no time. So ingest keeps it and the others run on glibc's default
  (:data:`STAGE_UNMAP_FROM`, which the stage runner reads). Outputs do not change: this decides only where freed memory goes.

Arrow's C++ code that is handed no pool (the Parquet reader's decoding, compute kernels) allocates
from the library's own default, which :func:`return_freed_memory` cannot change: it is chosen once,
from ``ARROW_DEFAULT_MEMORY_POOL``, when first used, and is mimalloc otherwise, which keeps the
pages it frees (measured: the compare stage's baseline read at a million rows left 45 MiB resident
there, in a 1 GiB reservation). Importing this module sets that variable to ``system`` unless it is
set already; every stage imports it before pyarrow (``blindspot.stages`` does, on import), so every
Arrow buffer of a stage, and of the Dask workers it starts, is on glibc's allocator, under the
threshold its stage runs with.
"""

from __future__ import annotations

import ctypes
import os

# Read by Arrow when its C++ default pool is first made (see the module docstring); a choice already
# made in the environment is kept.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

# glibc's mallopt parameter for the size from which a block gets pages of its own (malloc.h).
M_MMAP_THRESHOLD = -3
# Stage -> the fixed threshold it runs with; a stage not listed keeps glibc's adaptive one (module docstring).
STAGE_UNMAP_FROM = {"ingest": 1 << 20}


def return_freed_memory(unmap_from: int | None = None) -> None:
    """Put Arrow on the system allocator and, with ``unmap_from``, fix glibc's mmap threshold there.

    Parameters
    ----------
    unmap_from : int, optional
        Bytes from which a block gets pages of its own, given back when it is freed; None keeps
        glibc's adaptive threshold (see the module docstring for which stage runs with which).

    Elsewhere than glibc (no ``mallopt``) this only changes Arrow's pool. pyarrow is imported here, not
    at the top, so that a stage's ``--help`` does not pay for it.
    """
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    if unmap_from is None:
        return
    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, int(unmap_from))
    except (OSError, AttributeError):
        pass


def release_freed_heap() -> None:
    """Give the heap's freed pages back to the system after a read (they stay resident otherwise).

    A read's small blocks (a baseline's batches; a table's Arrow-to-pandas conversion) are below
    the size from which freed blocks are unmapped, so once freed they stay in the
    heap, scattered among the rows kept: about 90 MiB after the compare stage's baseline and 35 MiB
    after its current table at a million rows. Arrow's system pool's ``release_unused`` is glibc's
    ``malloc_trim`` there (and does nothing elsewhere); no value is touched.
    """
    import pyarrow as pa

    pa.system_memory_pool().release_unused()
