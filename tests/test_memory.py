"""blindspot.memory: Arrow on glibc's allocator, glibc's own mmap threshold; numbers never change."""

import os
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


# A block made, freed and made again in a child process after what the stage runner does: how many
# blocks with pages of their own the second one added (glibc's mallinfo2 ``hblks``). The first must have
# pages of its own for the test to say anything (a large enough free space in the heap would serve it
# instead), so its size doubles from 4 MiB until it does. Freeing it raises glibc's adaptive threshold
# to its size and the second comes from the heap; a threshold fixed at 1 MiB, as an earlier version set
# (bench/allocator.py measured it at 1.24x the stages' time), maps it again.
_BLOCK_AGAIN = """
import ctypes
from blindspot.memory import use_system_allocator
use_system_allocator()
{fix}
class Info(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.mallinfo2.restype = Info
size = 4 << 20
while True:
    before = libc.mallinfo2().hblks
    first = libc.malloc(size)
    if libc.mallinfo2().hblks > before or size >= 32 << 20:
        break
    libc.free(first)
    size *= 2
mapped = libc.mallinfo2().hblks > before
libc.free(first)
before = libc.mallinfo2().hblks
second = libc.malloc(size)
print(int(mapped), libc.mallinfo2().hblks - before)
"""


def _mapped_again(fix: str = "") -> int:
    # A stage process starts with the user's environment. This session's may hold MALLOC_TRIM_THRESHOLD_:
    # starting a Dask LocalCluster sets it in os.environ (for its workers), and any such variable turns
    # glibc's adaptive threshold off in the processes started after it.
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_") and k != "GLIBC_TUNABLES"}
    out = subprocess.run([sys.executable, "-c", _BLOCK_AGAIN.format(fix=fix)], capture_output=True, text=True,
                         check=True, env=env)
    first_mapped, again = map(int, out.stdout.split())
    assert first_mapped == 1, "no block up to 32 MiB got pages of its own: the test cannot tell"
    return again


def test_a_freed_array_s_pages_are_reused_not_mapped_afresh():
    assert _mapped_again() == 0


def test_the_test_would_see_a_fixed_threshold():
    assert _mapped_again("ctypes.CDLL(None).mallopt(-3, 1 << 20)  # M_MMAP_THRESHOLD") == 1
