"""How a stage process gives memory back: freed full-size arrays return to the system.

The stages make arrays of a few bytes a row one after another (bins, losses, cell codes,
membership columns). glibc raises its threshold for giving a block pages of its own to the
size of each large block freed (up to 32 MiB), so after the first few such arrays the rest
come from the heap, whose freed space stays resident, fragmented: measured on the calibrate
stage at a million rows, about 200 MiB above what was live. A fixed threshold of 1 MiB
unmaps every array of 131,072 rows or more when it is freed, and Arrow's buffers go through
the same allocator rather than a pool that keeps them. Outputs do not change: this decides
only where freed memory goes.

Arrow's C++ code that is handed no pool (the Parquet reader's decoding, compute kernels) allocates
from the library's own default, which :func:`return_freed_memory` cannot change: it is chosen once,
from ``ARROW_DEFAULT_MEMORY_POOL``, when first used, and is mimalloc otherwise, which keeps the
pages it frees (measured: the compare stage's baseline read at a million rows left 45 MiB resident
there, in a 1 GiB reservation). Importing this module sets that variable to ``system`` unless it is
set already; every stage imports it before pyarrow (``blindspot.stages`` does, on import), so every
Arrow buffer of a stage, and of the Dask workers it starts, is on glibc's allocator, under the
threshold below.
"""

from __future__ import annotations

import ctypes
import os

# Read by Arrow when its C++ default pool is first made (see the module docstring); a choice already
# made in the environment is kept.
os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")

# glibc's mallopt parameter for the size from which a block gets pages of its own (malloc.h).
M_MMAP_THRESHOLD = -3
MMAP_FROM_BYTES = 1 << 20


def return_freed_memory() -> None:
    """Fix glibc's mmap threshold at 1 MiB and put Arrow on the system allocator (see the module docstring).

    Elsewhere than glibc (no ``mallopt``) this only changes Arrow's pool. pyarrow is imported here, not
    at the top, so that a stage's ``--help`` does not pay for it.
    """
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())
    try:
        ctypes.CDLL(None).mallopt(M_MMAP_THRESHOLD, MMAP_FROM_BYTES)
    except (OSError, AttributeError):
        pass


def release_freed_heap() -> None:
    """Give the heap's freed pages back to the system after a read (they stay resident otherwise).

    A read's small blocks (a baseline's batches; a table's Arrow-to-pandas conversion) are below
    :data:`MMAP_FROM_BYTES`, from which freed blocks are unmapped, so once freed they stay in the
    heap, scattered among the rows kept: about 90 MiB after the compare stage's baseline and 35 MiB
    after its current table at a million rows. Arrow's system pool's ``release_unused`` is glibc's
    ``malloc_trim`` there (and does nothing elsewhere); no value is touched.
    """
    import pyarrow as pa

    pa.system_memory_pool().release_unused()
