"""Helpers for the tests: forged named objects in /dev/shm, robust lock cells made with
libc, and running risky code in a separate interpreter.

Everything created in /dev/shm is named ``sharedctypes-pytest-<pid>-<tag>`` and removed by
the test that created it.
"""

import ctypes
import itertools
import mmap
import os
import struct
import subprocess
import sys
import textwrap
import threading
import time

import sharedctypes as sc

SHM = "/dev/shm"
PAGE = mmap.PAGESIZE
HEADER = struct.Struct("<8s6I7Q4I")  # docs/format.md section 4: 104 bytes
FIXED = HEADER.size
LOCK_CELL = 56
TAG_LOCK = int.from_bytes(b"SLCK", "little")
TAG_RLOCK = int.from_bytes(b"RLCK", "little")
MUTEX_OWNER = 8  # glibc: pthread_mutex_t.__data.__owner

# The directory holding the package under test, for the interpreters the tests start.
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(sc.__file__)))

POINT = "Point(16,8){x@0:c_double=f64,y@8:c_double=f64}"

# The repository's format documentation and test vectors (absent from an installed copy).
FORMAT_DIR = os.path.join(PACKAGE_DIR, os.pardir, "docs", "format")

_serial = itertools.count()

# The process's global symbols: libc, and libpthread where it is separate (glibc < 2.34).
_libc = ctypes.CDLL(None, use_errno=True)
for _name in (
    "pthread_mutexattr_init",
    "pthread_mutexattr_setpshared",
    "pthread_mutexattr_setrobust",
    "pthread_mutexattr_settype",
    "pthread_mutexattr_destroy",
):
    getattr(_libc, _name).restype = ctypes.c_int
_libc.pthread_mutex_init.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
_libc.pthread_mutex_init.restype = ctypes.c_int

PTHREAD_PROCESS_SHARED = 1
PTHREAD_MUTEX_ROBUST = 1
PTHREAD_MUTEX_RECURSIVE = 1
PTHREAD_MUTEX_ERRORCHECK = 2


def unique_name(tag):
    """A /dev/shm name no other test (or run) uses."""
    return "sharedctypes-pytest-%d-%s-%d" % (os.getpid(), tag, next(_serial))


def remove_later(testcase, path):
    """Removes `path` (file, symlink, FIFO or empty directory) when the test ends."""

    def remove():
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                os.rmdir(path)
            else:
                os.unlink(path)
        except FileNotFoundError:
            pass

    testcase.addCleanup(remove)


def init_mutex(address, recursive):
    """Initialises a robust, process-shared pthread mutex at `address`, as Rust's
    ``PthreadMutex::init`` does (recursive, or error-checking)."""
    attr = ctypes.create_string_buffer(64)  # pthread_mutexattr_t is 4 bytes on glibc
    kind = PTHREAD_MUTEX_RECURSIVE if recursive else PTHREAD_MUTEX_ERRORCHECK
    for call, args in (
        (_libc.pthread_mutexattr_init, (attr,)),
        (_libc.pthread_mutexattr_setpshared, (attr, PTHREAD_PROCESS_SHARED)),
        (_libc.pthread_mutexattr_setrobust, (attr, PTHREAD_MUTEX_ROBUST)),
        (_libc.pthread_mutexattr_settype, (attr, kind)),
        (_libc.pthread_mutex_init, (address, ctypes.addressof(attr))),
        (_libc.pthread_mutexattr_destroy, (attr,)),
    ):
        rc = call(*args)
        if rc != 0:
            raise OSError(rc, "%s failed" % call.__name__)


def init_lock_cell(buffer, offset, recursive=False):
    """Makes the 56 bytes at `offset` of a writable mmap `buffer` a lock cell."""
    base = ctypes.c_char.from_buffer(buffer)
    try:
        address = ctypes.addressof(base) + offset
        ctypes.memset(address, 0, LOCK_CELL)
        init_mutex(address, recursive)
        struct.pack_into("<I", buffer, offset + 52, TAG_RLOCK if recursive else TAG_LOCK)
    finally:
        del base


def cell_fields(buffer, offset):
    """``(owner tid, holder, depth, died, tag)`` of the lock cell at `offset`."""
    owner = struct.unpack_from("<i", buffer, offset + MUTEX_OWNER)[0]
    return (owner,) + struct.unpack_from("<iIiI", buffer, offset + 40)


def _round_up(n, m):
    return (n + m - 1) // m * m


def named_fields(layout_text, type_name="T", kind=1, lock=0, count=1):
    """The header fields Rust's ``named::create`` writes for such an object (format version
    2: header, lock cell at the next multiple of 64, data at the next multiple of 64 or of
    its alignment, whole pages)."""
    layout = sc.parse_layout(layout_text)
    name_len, layout_len = len(type_name.encode()), len(layout_text.encode())
    header_len = FIXED + name_len + layout_len
    lock_offset = _round_up(header_len, 64) if lock else 0
    after_lock = lock_offset + LOCK_CELL if lock else header_len
    data_offset = _round_up(after_lock, max(layout.align, 64))
    total = _round_up(data_offset + count * layout.size, PAGE)
    return {
        "magic": b"SHCTYPES",
        "version": 2,
        "state": 1,
        "header_len": header_len,
        "kind": kind,
        "lock": lock,
        "lock_file": 0,
        "fingerprint": layout.fingerprint,
        "elem_size": layout.size,
        "elem_align": layout.align,
        "count": count,
        "lock_offset": lock_offset,
        "data_offset": data_offset,
        "total": total,
        "name_len": name_len,
        "layout_len": layout_len,
        "data_file": 0,
        "bytes_len": 0,
    }


_ORDER = (
    "magic",
    "version",
    "state",
    "header_len",
    "kind",
    "lock",
    "lock_file",
    "fingerprint",
    "elem_size",
    "elem_align",
    "count",
    "lock_offset",
    "data_offset",
    "total",
    "name_len",
    "layout_len",
    "data_file",
    "bytes_len",
)


def forge(testcase, layout_text, data=b"", type_name="T", kind=1, lock=0, count=1, file_size=None,
          init_lock=True, strings=None, **overrides):
    """Creates ``/dev/shm/<unique name>`` laid out as Rust would (see `named_fields`), with
    any header field replaced by `overrides`; the file is `file_size` bytes (by default the
    size Rust would give it), `data` is written at the (overridden) data offset and a lock
    cell, initialised like Rust's, at the lock offset when it fits. Returns
    ``(name, fields)``; the file is removed when the test ends."""
    fields = named_fields(layout_text, type_name, kind, lock, count)
    size = fields["total"] if file_size is None else file_size
    fields.update(overrides)
    image = bytearray(max(size, FIXED + 4096))
    HEADER.pack_into(image, 0, *(fields[k] for k in _ORDER))
    text = strings if strings is not None else type_name.encode() + layout_text.encode()
    image[FIXED : FIXED + len(text)] = text
    if data:
        image[fields["data_offset"] : fields["data_offset"] + len(data)] = data
    lock_offset = fields["lock_offset"]
    cell_fits = fields["lock"] in (1, 2) and lock_offset + LOCK_CELL <= size
    del image[size:]
    name = unique_name("obj")
    path = os.path.join(SHM, name)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    remove_later(testcase, path)
    try:
        os.write(fd, bytes(image))
        if cell_fits and init_lock:
            with mmap.mmap(fd, size) as mm:
                init_lock_cell(mm, lock_offset, recursive=fields["lock"] == 2)
    finally:
        os.close(fd)
    return name, fields


def run_python(testcase, code, *args, pass_fds=(), check=True, env=None):
    """Runs `code` in a fresh interpreter that imports the package under test; its stdout.
    `env`: more environment variables.

    Fails the test if the interpreter was killed by a signal (a crash: the point of running
    risky code there) or, with `check`, exited non-zero."""
    env = dict(os.environ, PYTHONPATH=PACKAGE_DIR, **(env or {}))
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)] + [str(a) for a in args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
        pass_fds=pass_fds,
        timeout=60,
    )
    testcase.assertGreaterEqual(
        proc.returncode, 0, "killed by signal %d: %s%s" % (-proc.returncode, proc.stdout, proc.stderr)
    )
    if check:
        testcase.assertEqual(proc.returncode, 0, proc.stderr)
    return proc.stdout


# Opens a named object and uses all of it, reading and writing every element, as a program
# would; prints "opened ..." or the exception's type and message.
OPEN_AND_USE = """
import sys, sharedctypes as sc
try:
    obj = sc.open_named(sys.argv[1])
    if obj.is_array:
        items = [obj[i] for i in range(len(obj))]
        for i, v in enumerate(items):
            obj[i] = v
    else:
        obj.value = obj.value
    print("opened", len(obj))
except Exception as e:
    print("%s: %s" % (type(e).__name__, e))
"""


def open_in_child(testcase, name):
    """The outcome of `OPEN_AND_USE` on `name`, in a separate interpreter."""
    return run_python(testcase, OPEN_AND_USE, name).strip()


# --- Synchronisation primitives, laid out as Rust's named::create lays them out ----------------

KIND_CODES = {
    "value": 1,
    "array": 2,
    "lock": 3,
    "condition": 4,
    "event": 5,
    "semaphore": 6,
    "bounded_semaphore": 7,
    "barrier": 8,
}
STATE_ALIGN = {"condition": 8, "event": 4, "semaphore": 4, "bounded_semaphore": 4, "barrier": 4}


def tag(text):
    return int.from_bytes(text, "little")


def primitive_image(kind, state=b"", lock=0):
    """The bytes of a named primitive's file (``kind``: "event", "condition", ...; `state`:
    its state's bytes; `lock`: 0, 1 or 2) and ``(lock offset, data offset)``: the header at
    0, the lock cell at 128 (if any), the state at the next multiple of 64."""
    lock_offset = _round_up(FIXED, 64) if lock else 0
    data_offset = 0
    end = lock_offset + LOCK_CELL if lock else FIXED
    if kind != "lock":
        data_offset = _round_up(end, max(STATE_ALIGN[kind], 64))
        end = data_offset + len(state)
    size = _round_up(end, 64)
    image = bytearray(size)
    HEADER.pack_into(
        image, 0, b"SHCTYPES", 2, 1, FIXED, KIND_CODES[kind], lock, 0, 0, 0, 0, 0, lock_offset, data_offset,
        size, 0, 0, 0, 0,
    )
    image[data_offset : data_offset + len(state)] = state
    return image, lock_offset, data_offset


def plant(testcase, image, lock_offset=0, recursive=None):
    """Writes `image` to ``/dev/shm/<unique name>`` (removed when the test ends), with a
    robust lock cell initialised like Rust's at `lock_offset` if `recursive` is not None;
    the name."""
    name = unique_name("planted")
    path = os.path.join(SHM, name)
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    remove_later(testcase, path)
    try:
        os.write(fd, bytes(image))
        if recursive is not None:
            with mmap.mmap(fd, len(image)) as mm:
                init_lock_cell(mm, lock_offset, recursive)
    finally:
        os.close(fd)
    return name


def new_primitive(testcase, kind, *words):
    """Creates a named primitive as Rust would (real robust lock cell included) and returns
    its name: ``new_primitive(t, "semaphore", 3, 0, 0xFFFFFFFF)`` (the words after the tag)."""
    tags = {
        "event": b"SEVT",
        "semaphore": b"SSEM",
        "bounded_semaphore": b"SSEM",
        "condition": b"SCND",
        "barrier": b"SBAR",
    }
    lock = {"condition": 2, "barrier": 1}.get(kind, 0)
    state = struct.pack("<I", tag(tags[kind])) + struct.pack("<%dI" % len(words), *words)
    image, lock_offset, _ = primitive_image(kind, state, lock)
    return plant(testcase, image, lock_offset, None if not lock else lock == 2)


def state_words(obj, n):
    """The first `n` 32-bit words of a primitive's state, as they are in shared memory."""
    return list((ctypes.c_uint32 * n).from_address(obj._address))


def wait_until(predicate, timeout=20.0):
    """Polls `predicate()` until it is true (``True``) or `timeout` seconds pass (``False``)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.001)
    return True


def in_thread(f, *args):
    """Runs ``f(*args)`` in a thread; ``(thread, results)``: the result (or exception) is
    appended to `results`."""
    results = []

    def run():
        try:
            results.append(f(*args))
        except BaseException as e:  # noqa: B902 - reported to the test
            results.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, results


def with_blocks_interrupted_at_random(testcase, manager, leaked, repair, runs=3000):
    """Runs ``with manager: pass`` (a block that makes no call) `runs` times, each with a
    ``KeyboardInterrupt`` raised by a SIGALRM at a random instant around it; after each,
    ``leaked()`` says whether the block kept what it should have given back (``repair()``
    gives it back then). ``(interrupted, leaked)`` counts."""
    import random
    import signal

    armed = [False]

    def handler(*_):
        if armed[0]:
            armed[0] = False
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, handler)
    testcase.addCleanup(signal.signal, signal.SIGALRM, previous)
    testcase.addCleanup(signal.setitimer, signal.ITIMER_REAL, 0)
    interrupted = kept = 0
    for _ in range(runs):
        armed[0] = True
        try:
            signal.setitimer(signal.ITIMER_REAL, random.uniform(1e-6, 4e-5))
            with manager:
                pass
            spins = 0
            while armed[0] and spins < 100000:
                spins += 1
        except KeyboardInterrupt:
            interrupted += 1
        armed[0] = False
        signal.setitimer(signal.ITIMER_REAL, 0)
        if leaked():
            kept += 1
            repair()
    return interrupted, kept
