"""Where a stage process's freed memory goes: Arrow on glibc's allocator, with glibc's own threshold.

Every stage puts Arrow's buffers on glibc's allocator (:func:`use_system_allocator`), so one
allocator holds the process's memory and ``malloc_trim`` (:func:`release_freed_heap`) reaches all of
it after a read.

glibc gives a block pages of its own from a threshold it raises to the size of each such block freed
(up to 32 MiB), so after the first few per-row arrays the next ones reuse the heap's freed pages. An
earlier version fixed that threshold at 1 MiB, unmapping every array of 131,072 rows or more when it
was freed so that the next one was fresh pages the kernel must fault in and zero. Measured at a
million rows (``bench/allocator.py``, ``bench/results/allocator.json``, tabled in bench/README.md),
it cost every stage that reads per-row data 1.09x to 1.35x its time (56.4 s against 45.6 s over the
six of them) for 50 to 250 MiB less at their peaks; with glibc's own threshold they peak at 400 to
800 MiB at a million rows, and every process of the 10M-row Dask run stays under 2 GB. So the
threshold is glibc's. Outputs do not depend on it: it decides only where freed memory goes. (Dask's
workers are another matter: a LocalCluster starts them with ``MALLOC_TRIM_THRESHOLD_`` set, Dask's own
choice, which turns glibc's adaptive threshold off there; it also leaves that variable in the starting
process's environment, for any process started after it.)

Arrow's C++ code that is handed no pool (the Parquet reader's decoding, compute kernels) allocates
from the library's own default, which :func:`use_system_allocator` cannot change: it is chosen once,
from ``ARROW_DEFAULT_MEMORY_POOL``, when first used, and is mimalloc otherwise, which keeps the
pages it frees (measured: the compare stage's baseline read at a million rows left 45 MiB resident
there, in a 1 GiB reservation). Importing this module sets that variable to ``system`` unless it is
set already; every stage imports it before pyarrow (``blindspot.stages`` does, on import), so every
Arrow buffer of a stage, and of the Dask workers it starts, is on glibc's allocator.
"""

from __future__ import annotations

import os

# Read by Arrow when its C++ default pool is first made (see the module docstring); a choice already
# made in the environment is kept.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")


def use_system_allocator() -> None:
    """Put Arrow's default pool on glibc's allocator (see the module docstring).

    pyarrow is imported here, not at the top, so that a stage's ``--help`` does not pay for it.
    """
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def release_freed_heap() -> None:
    """Give the heap's freed pages back to the system after a read (they stay resident otherwise).

    A read's small blocks (a baseline's batches; a table's Arrow-to-pandas conversion) are below
    glibc's threshold for pages of their own, so once freed they stay in the
    heap, scattered among the rows kept: about 90 MiB after the compare stage's baseline and 35 MiB
    after its current table at a million rows. Arrow's system pool's ``release_unused`` is glibc's
    ``malloc_trim`` there (and does nothing elsewhere); no value is touched.
    """
    import pyarrow as pa

    pa.system_memory_pool().release_unused()
