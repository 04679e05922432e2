"""Computes on an array a Rust program made with `RawArray::<f64>::create_shm(name, len)`.

Plain CPython: the standard library's `multiprocessing.shared_memory.SharedMemory` and numpy
(or, without numpy, a `memoryview`), nothing from sharedctypes. Run by
`cargo run --example numpy_from_rust`, or by hand on a block that exists:

    python3 examples/numpy_from_rust.py <name>

The block has no header: its elements start at offset 0, and its length is its size over 8
(the size of an f64).
"""
import sys
from multiprocessing.shared_memory import SharedMemory


def attach(name):
    """`SharedMemory(name)`, without handing the block to this process's resource tracker:
    a tracked block is unlinked when this process exits (https://github.com/python/cpython/issues/82300),
    which would take it away from the Rust program that made it."""
    if sys.version_info >= (3, 13):
        return SharedMemory(name, track=False)
    from multiprocessing import resource_tracker

    shm = SharedMemory(name)
    resource_tracker.unregister(shm._name, "shared_memory")
    return shm


def main():
    shm = attach(sys.argv[1])
    n = shm.size // 8  # no header: the length is the size over the element size
    try:
        import numpy as np
    except ImportError:
        np = None
    if np is not None:
        a = np.ndarray((n,), dtype=np.float64, buffer=shm.buf)  # the block itself: no copy
        total, top = a.sum(), a.max()
        np.square(a, out=a)  # in place: the Rust program sees it
        how = "numpy " + np.__version__
        del a  # release the buffer, or close() raises BufferError
    else:
        a = shm.buf.cast("d")  # the same memory, as doubles
        total, top = sum(a), max(a)
        for i in range(n):
            a[i] = a[i] * a[i]
        how = "memoryview: numpy is not installed"
        a.release()
    shm.close()  # detaches; the Rust program unlinks the name
    print(f"python ({how}): {n} elements, sum {total:.0f}, max {top:.0f}; squared them in place")


if __name__ == "__main__":
    main()
