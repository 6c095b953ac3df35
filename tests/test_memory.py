"""blindspot.memory: a stage's freed arrays go back to the system; numbers never change."""

import subprocess
import sys


def test_arrow_uses_the_system_allocator_after_the_call():
    # In a child process: the setting is process-wide and must not leak into the test session.
    code = ("import pyarrow as pa\nfrom blindspot.memory import return_freed_memory\n"
            "return_freed_memory()\nprint(pa.default_memory_pool().backend_name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "system"


def test_every_stage_calls_it_through_the_runner():
    from blindspot.stages import _runner
    from blindspot.memory import return_freed_memory

    assert _runner.return_freed_memory is return_freed_memory
