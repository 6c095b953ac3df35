"""Thin DVC stage entry points: ``python -m blindspot.stages.<name>``.

Importing the package puts Arrow's own default memory pool on glibc's allocator before any stage
loads pyarrow (:mod:`blindspot.memory`): every stage, and the Dask workers it starts (they inherit
the environment), then give freed Arrow buffers back to the system.
"""

import blindspot.memory  # noqa: F401  (sets ARROW_DEFAULT_MEMORY_POOL before pyarrow is imported)
