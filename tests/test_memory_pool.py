"""blindspot.memory imported first: Arrow's own C++ default pool is glibc's, not mimalloc."""

import subprocess
import sys

import pytest


def _backend(code: str) -> str:
    # A child process: the pool is chosen once per process, when Arrow first makes it.
    out = subprocess.run([sys.executable, "-c", code + "\nimport pyarrow as pa\nprint(pa.default_memory_pool().backend_name)"],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_importing_the_module_first_makes_the_default_pool_system():
    assert _backend("import blindspot.memory") == "system"


@pytest.mark.parametrize("stage", ["ingest", "profile", "slice", "calibrate", "judge", "compare"])
def test_every_stage_imports_it_before_pyarrow(stage):
    # the stages package imports blindspot.memory before any stage module loads pyarrow
    assert _backend(f"import blindspot.stages.{stage}") == "system"
