"""blindspot.memory imported first: Arrow's own C++ default pool is glibc's, not mimalloc."""

import subprocess
import sys


def _backend(code: str) -> str:
    # A child process: the pool is chosen once per process, when Arrow first makes it.
    out = subprocess.run([sys.executable, "-c", code + "\nimport pyarrow as pa\nprint(pa.default_memory_pool().backend_name)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_the_module_first_makes_the_default_pool_system():
    assert _backend("import blindspot.memory") == "system"


def test_the_compare_stage_imports_it_before_pyarrow():
    assert _backend("import blindspot.stages.compare") == "system"
