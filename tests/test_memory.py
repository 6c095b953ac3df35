"""blindspot.memory: Arrow on the system allocator, glibc's threshold the stage's choice; numbers never change."""

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



# A 2 MiB block made, freed and made again in a child process: how many blocks with pages of their own
# the second one added (glibc's mallinfo2 ``hblks``). glibc's adaptive threshold starts at 128 KiB, so
# the first block has pages of its own either way; freeing it raises the adaptive threshold to 2 MiB
# and the second comes from the heap, where a threshold fixed at 1 MiB maps it again.
_BLOCK_AGAIN = """
import ctypes
from blindspot.memory import return_freed_memory
return_freed_memory({setting})
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


def _mapped_again(setting) -> int:
    out = subprocess.run([sys.executable, "-c", _BLOCK_AGAIN.format(setting=setting)], capture_output=True, text=True,
                         check=True)
    return int(out.stdout)


def test_freed_blocks_are_unmapped_at_once_only_under_a_fixed_threshold():
    assert _mapped_again(1 << 20) == 1
    assert _mapped_again(None) == 0


def test_ingest_alone_runs_with_the_fixed_threshold():
    from blindspot.memory import STAGE_UNMAP_FROM

    assert STAGE_UNMAP_FROM == {"ingest": 1 << 20}
