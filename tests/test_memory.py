"""blindspot.memory: Arrow on glibc's allocator, glibc's own mmap threshold; numbers never change."""

import subprocess
import sys


def test_arrow_uses_the_system_allocator_after_the_call():
    # In a child process: the setting is process-wide and must not leak into the test session.
    code = ("import pyarrow as pa\nfrom blindspot.memory import use_system_allocator\n"
            "use_system_allocator()\nprint(pa.default_memory_pool().backend_name)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "system"


def test_every_stage_calls_it_through_the_runner():
    from blindspot.stages import _runner
    from blindspot.memory import use_system_allocator

    assert _runner.use_system_allocator is use_system_allocator


# A 2 MiB block made, freed and made again in a child process after what the stage runner does: how
# many blocks with pages of their own the second one added (glibc's mallinfo2 ``hblks``). glibc's
# adaptive threshold starts at 128 KiB, so the first block has pages of its own; freeing it raises the
# threshold, and the second must come from the heap (bench/allocator.py measured the fixed threshold
# an earlier version set, which mapped it again, at 1.24x the stages' time).
_BLOCK_AGAIN = """
import ctypes
from blindspot.memory import use_system_allocator
use_system_allocator()
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = Info
libc.free(libc.malloc(2 << 20))
before = libc.mallinfo2().hblks
block = libc.malloc(2 << 20)
print(libc.mallinfo2().hblks - before)
"""


def test_a_freed_array_s_pages_are_reused_not_mapped_afresh():
    out = subprocess.run([sys.executable, "-c", _BLOCK_AGAIN], capture_output=True, text=True, check=True)
    assert int(out.stdout) == 0
