"""The CPython side of `cargo bench --bench vs_cpython`.

Runs the same workloads as the Rust side with multiprocessing.sharedctypes (start method
"fork") and prints one CSV line per measurement: key,value,unit. Each timing is the median
of several repetitions.
"""
import ctypes
import multiprocessing as mp
import os
import statistics
import sys
import time
from multiprocessing import sharedctypes

SCALE = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
REPS = 5
ctx = mp.get_context("fork")


def n(base):
    return max(1, int(base * SCALE))


def emit(key, value, unit):
    print(f"{key},{value},{unit}", flush=True)


def median_ns_per_op(fn, ops, reps=REPS):
    samples = []
    for _ in range(reps):
        t0 = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - t0) / ops)
    return statistics.median(samples)


def shmem_bytes():
    """The machine's shared memory in use (`Shmem` in /proc/meminfo): memfd, /dev/shm and
    shared anonymous pages actually allocated. The same measure as the Rust side; it counts
    CPython's one-page-per-lock semaphores even when no page of them was touched here."""
    with open("/proc/meminfo") as meminfo:
        for line in meminfo:
            if line.startswith("Shmem:"):
                return int(line.split()[1]) * 1024
    return 0


def locked_increment():
    v = ctx.Value("q", 0)
    ops = n(200_000)

    def run():
        for _ in range(ops):
            with v.get_lock():
                v.value += 1

    emit("locked_increment", median_ns_per_op(run, ops), "ns/op")


def get_then_set():
    v = ctx.Value("q", 0)
    ops = n(200_000)

    def run():
        for _ in range(ops):
            v.value = v.value + 1

    emit("get_then_set", median_ns_per_op(run, ops), "ns/op")


def raw_increment():
    v = sharedctypes.RawValue("q", 0)
    ops = n(500_000)

    def run():
        for _ in range(ops):
            v.value += 1

    emit("raw_increment", median_ns_per_op(run, ops), "ns/op")


def alloc(kind):
    count = n(100_000)
    before = shmem_bytes()
    made = []
    t0 = time.perf_counter_ns()
    try:
        for _ in range(count):
            made.append(ctx.Value("q", 0) if kind == "value" else sharedctypes.RawValue("q", 0))
    except OSError as e:
        # One mmap per lock: the kernel's map limit (vm.max_map_count) stops CPython near 65k.
        print(f"# CPython failed after {len(made)} locked Values: {e}", file=sys.stderr)
        emit(f"alloc_{kind}_failed_after", len(made), "objects")
    elapsed = time.perf_counter_ns() - t0
    emit(f"alloc_{kind}", elapsed / max(1, len(made)), "ns/op")
    emit(f"alloc_{kind}_shared_bytes", shmem_bytes() - before, "bytes")
    emit(f"alloc_{kind}_count", len(made), "objects")
    del made


def _increment_many(v, ops):
    for _ in range(ops):
        with v.get_lock():
            v.value += 1


def contended_2proc():
    ops = n(100_000)
    samples = []
    for _ in range(3):
        v = ctx.Value("q", 0)
        procs = [ctx.Process(target=_increment_many, args=(v, ops)) for _ in range(2)]
        t0 = time.perf_counter_ns()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        samples.append((time.perf_counter_ns() - t0) / (2 * ops))
        assert v.value == 2 * ops, v.value
    emit("contended_2proc", statistics.median(samples), "ns/op")


def array_copy():
    count = 1_000_000
    arr = ctx.Array("d", count)
    samples = []
    for _ in range(3):
        t0 = time.perf_counter_ns()
        copy = arr[:]
        samples.append(time.perf_counter_ns() - t0)
        assert len(copy) == count
    seconds = statistics.median(samples) / 1e9
    emit("array_copy", count * 8 / seconds / 1e9, "GB/s")


class Point(ctypes.Structure):
    _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double)]


def _modify(n, x, s, A):
    n.value **= 2
    x.value **= 2
    s.value = s.value.upper()
    for a in A:
        a.x **= 2
        a.y **= 2


def fork_modify_join():
    # The reference program's objects, with values that stay finite when squared again and
    # again (1.0 ** 2 == 1.0).
    lock = ctx.Lock()
    n_ = ctx.Value("i", 1)
    x = ctx.Value(ctypes.c_double, 1.0, lock=False)
    s = ctx.Array("c", b"hello world", lock=lock)
    A = ctx.Array(Point, [(1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)], lock=lock)
    ops = n(100)

    def run():
        for _ in range(ops):
            p = ctx.Process(target=_modify, args=(n_, x, s, A))
            p.start()
            p.join()

    emit("fork_modify_join", median_ns_per_op(run, ops, reps=3), "ns/op")


def start_method_modify_join(method):
    # The same work with a child that is not a fork of this process: `spawn` starts a fresh
    # interpreter, `forkserver` forks a clean server process. The objects come from the same
    # context (a lock made for `fork` cannot be sent to a `spawn` child). One process first,
    # untimed: it starts the forkserver (and warms the caches) for both methods.
    sctx = mp.get_context(method)
    lock = sctx.Lock()
    n_ = sctx.Value("i", 1)
    x = sctx.Value(ctypes.c_double, 1.0, lock=False)
    s = sctx.Array("c", b"hello world", lock=lock)
    A = sctx.Array(Point, [(1.0, -1.0), (-1.0, 1.0), (1.0, 1.0)], lock=lock)
    ops = n(20)

    def one():
        p = sctx.Process(target=_modify, args=(n_, x, s, A))
        p.start()
        p.join()
        assert p.exitcode == 0

    one()

    def run():
        for _ in range(ops):
            one()

    emit(method + "_modify_join", median_ns_per_op(run, ops, reps=3), "ns/op")


def _pong(cond, turn, rounds):
    for _ in range(rounds):
        with cond:
            cond.wait_for(lambda: turn.value == 1)
            turn.value = 0
            cond.notify()


def condition_ping_pong():
    # Two processes hand a turn back and forth through one Condition: a round trip is two
    # waits and two notifications.
    rounds = n(5_000)
    samples = []
    for _ in range(3):
        cond = ctx.Condition()
        turn = ctx.Value("i", 0, lock=False)
        p = ctx.Process(target=_pong, args=(cond, turn, rounds))
        p.start()
        t0 = time.perf_counter_ns()
        for _ in range(rounds):
            with cond:
                cond.wait_for(lambda: turn.value == 0)
                turn.value = 1
                cond.notify()
        with cond:
            cond.wait_for(lambda: turn.value == 0)
        samples.append((time.perf_counter_ns() - t0) / rounds)
        p.join()
    emit("condition_ping_pong", statistics.median(samples), "ns/op")


def event_set_is_set():
    e = ctx.Event()
    ops = n(200_000)

    def run():
        for _ in range(ops):
            e.set()
            e.is_set()

    emit("event_set_is_set", median_ns_per_op(run, ops), "ns/op")


def semaphore_acquire_release():
    s = ctx.Semaphore(1)
    ops = n(200_000)

    def run():
        for _ in range(ops):
            s.acquire()
            s.release()

    emit("semaphore_acquire_release", median_ns_per_op(run, ops), "ns/op")


def shm_numpy_read():
    """Issue 20: numpy over the block the Rust side made with RawArray::<f64>::create_shm
    (named in $SHAREDCTYPES_BENCH_SHM; 1M f64, a[i] = i). Per repetition: attach
    (SharedMemory + np.ndarray over shm.buf, no copy), copy it out with np.copyto into a
    buffer already touched (the first read after the attach takes the page faults), then
    copy it again (the steady read)."""
    name = os.environ.get("SHAREDCTYPES_BENCH_SHM")
    if not name:
        return
    try:
        import numpy as np
        from multiprocessing.shared_memory import SharedMemory
    except ImportError as e:
        emit("shm_numpy_missing", f"{e.name} is not installed for {sys.executable}", "note")
        return

    def attach():
        # Not handed to this process's resource tracker, which would unlink it at exit.
        if sys.version_info >= (3, 13):
            return SharedMemory(name, track=False)
        from multiprocessing import resource_tracker

        shm = SharedMemory(name)
        resource_tracker.unregister(shm._name, "shared_memory")
        return shm

    attach().close()  # untimed: starts the resource tracker (before 3.13)
    dst = np.ones(1_000_000)
    attaches, firsts, reads = [], [], []
    for _ in range(max(REPS, n(21))):
        t0 = time.perf_counter_ns()
        shm = attach()
        a = np.ndarray((shm.size // 8,), dtype=np.float64, buffer=shm.buf)
        t1 = time.perf_counter_ns()
        np.copyto(dst, a)
        t2 = time.perf_counter_ns()
        np.copyto(dst, a)
        t3 = time.perf_counter_ns()
        del a
        shm.close()
        attaches.append(t1 - t0)
        firsts.append(t2 - t0)
        reads.append(t3 - t2)
    assert dst[-1] == 999_999.0 and dst.sum() == 499_999_500_000.0, dst
    emit("shm_numpy_attach", statistics.median(attaches) / 1000, "us")
    emit("shm_numpy_first_read", dst.nbytes / statistics.median(firsts), "GB/s")
    emit("shm_numpy_read", dst.nbytes / statistics.median(reads), "GB/s")


def _produce(q, count):
    record = bytes(64)
    for _ in range(count):
        q.put(record)


def _consume(q, count):
    for _ in range(count):
        q.get()


def queue_1p1c():
    """One producer process, the consumer in this one: multiprocessing.Queue of 64-byte
    bytes objects (pickled, through a pipe)."""
    count = n(50_000)
    samples = []
    for _ in range(3):
        q = ctx.Queue(1024)
        p = ctx.Process(target=_produce, args=(q, count))
        t0 = time.perf_counter_ns()
        p.start()
        _consume(q, count)
        p.join()
        samples.append((time.perf_counter_ns() - t0) / count)
    emit("queue_1p1c", statistics.median(samples), "ns/op")


def queue_4p4c():
    count = n(50_000) // 4 * 4
    samples = []
    for _ in range(3):
        q = ctx.Queue(1024)
        procs = [ctx.Process(target=_produce, args=(q, count // 4)) for _ in range(4)]
        procs += [ctx.Process(target=_consume, args=(q, count // 4)) for _ in range(4)]
        t0 = time.perf_counter_ns()
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        samples.append((time.perf_counter_ns() - t0) / count)
    emit("queue_4p4c", statistics.median(samples), "ns/op")


def _square(x):
    return x * x


def pool_map():
    """Pool(2).map of 100k cheap items, the pool started beforehand (as on the Rust side)."""
    count = n(100_000)
    xs = list(range(count))
    with ctx.Pool(2) as pool:
        pool.map(_square, xs[:1000])
        emit("pool_map", median_ns_per_op(lambda: pool.map(_square, xs), count, reps=3), "ns/op")


# The workloads of each section of the Rust side (`cargo bench --bench vs_cpython -- <word>`
# runs the sections whose name contains the word; argv[2] names them, comma-separated).
SECTIONS = {
    # First, while the process is small (fork cost grows with its memory).
    "spawn": [
        fork_modify_join,
        lambda: start_method_modify_join("spawn"),
        lambda: start_method_modify_join("forkserver"),
    ],
    "lock": [locked_increment, get_then_set, raw_increment, contended_2proc],
    # raw_value first: the heap arenas it maps are then reused by the Values' data.
    "alloc": [lambda: alloc("raw_value"), lambda: alloc("value")],
    "copy": [array_copy, shm_numpy_read],
    "sync": [condition_ping_pong, event_set_is_set, semaphore_acquire_release],
    "queue": [queue_1p1c, queue_4p4c],
    "pool": [pool_map],
}


def main():
    emit("python_version", sys.version.split()[0], "version")
    wanted = sys.argv[2].split(",") if len(sys.argv) > 2 else list(SECTIONS)
    for section, workloads in SECTIONS.items():
        if section in wanted:
            for workload in workloads:
                workload()


if __name__ == "__main__":
    main()
