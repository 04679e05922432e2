"""Atomic operations on words of shared memory, and futexes, from pure Python.

The synchronisation primitives of the format (``docs/format.md`` section 6) are words that
several processes change at once: a semaphore's count is taken with a compare-and-swap, a
condition's 64-bit ``counts`` word is updated with one, an event's generation is bumped
with a fetch-and-add. None of that can be done with ``ctypes`` or ``mmap`` alone:

* ``ctypes.c_uint32.from_address(a).value = v`` is a plain store (``memcpy`` in C), and a
  read-modify-write made of a ``ctypes`` load and a store is two accesses another process
  can come between: two processes that both "add 1" may add 1 in all. The GIL does not help
  (it is per process, and other threads release it around every foreign call).
* libc exports no general atomic operation: ``pthread_spin_trylock`` only swaps 0 for 1,
  ``sem_trywait`` only decrements the low half of glibc's own 64-bit semaphore word, and the
  kernel's ``FUTEX_WAKE_OP`` adds or stores atomically but returns no old value (so no
  compare-and-swap can be built on it) and ``FUTEX_CMP_REQUEUE`` only compares.

What *is* possible is to execute the very instructions a C compiler emits for
``__atomic_*`` with sequentially consistent ordering. Two backends do that:

``"x86-64 code"`` (the default on x86-64)
    Eight tiny functions of x86-64 machine code, byte for byte what ``gcc -O2`` emits for
    ``__atomic_load_n``, ``__atomic_store_n``, ``__atomic_fetch_add`` and
    ``__atomic_compare_exchange_n`` (``mov``, ``xchg``, ``lock xadd``, ``lock cmpxchg``), and
    two that end a ``with lock:`` and a ``with semaphore:`` block in one foreign call each
    (see ``Lock.__exit__`` and ``Semaphore.__exit__``),
    copied into a page of this process's memory mapped read-write, which is then made
    read-execute (``mprotect``: the page is never writable and executable at once) and
    called through ``ctypes.CFUNCTYPE``. Standard library only. The page is never unmapped.
    A system that forbids making memory executable (SELinux ``deny_execmem``, PaX
    ``MPROTECT``) refuses the ``mprotect``; then the next backend is tried.

``"libatomic"``
    The same operations from GCC's ``libatomic.so.1`` (``__atomic_compare_exchange_4`` and
    friends), used only if ``__atomic_is_lock_free`` says that 4- and 8-byte operations are
    lock-free (a libatomic that falls back to a lock would use a lock of *this* process,
    which other processes do not see).

Each backend is checked by a short self-test before use. ``SHAREDCTYPES_ATOMICS=code`` or
``=libatomic`` in the environment selects one. When none is available (another
architecture without libatomic, or both refused), ``backend()`` raises
``AtomicsUnavailable`` naming why: values, arrays and locks still work (they need no
atomics of their own: the pthread mutex is glibc's), the waiting primitives do not.

Every access to a word of a primitive's state goes through the backend (also plain loads
and stores), so that each one is a single, sequentially consistent access, as in Rust. One
exception: a queue's words that only the holder of one side's lock writes (``tail`` and
``head_seen``, ``head``) are read by that holder with a plain ``ctypes`` load, as Rust reads
them (relaxed, under the lock), at a sixth of the cost of a foreign call.

Futexes: ``futex_wait`` and ``futex_wake`` call ``syscall(SYS_futex, ...)`` through libc
with ``FUTEX_WAIT`` and ``FUTEX_WAKE`` (the shared variants, not ``FUTEX_PRIVATE_FLAG``:
the kernel keys the word by its page, whatever address each process maps it at), with
x86-64's system call number (202): on another machine ``backend()`` and the futex calls
raise ``AtomicsUnavailable`` rather than make a wrong system call.

Limits: every operation is a ``ctypes`` foreign call (about a microsecond); a wait is woken
early by a signal only if the signal is delivered to the waiting thread (as with CPython's
own locks), then it goes on with the time left.
"""

import ctypes
import errno as _errno
import math
import os
import platform
import time

__all__ = ["AtomicsUnavailable", "backend", "make_backend", "futex_wait", "futex_wake", "deadline_after"]


class AtomicsUnavailable(RuntimeError):
    """No way to perform atomic operations on shared memory in this process (see the
    ``sharedctypes._atomic`` docs): the waiting primitives cannot be used here."""


_X86_64 = platform.machine().lower() in ("x86_64", "amd64")

try:
    _libc = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:  # pragma: no cover - another C library
    import ctypes.util

    _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)

_SEQ_CST = 5  # __ATOMIC_SEQ_CST

# name -> (x86-64 machine code, restype, argtypes). The bytes are exactly what gcc -O2 emits
# for the C functions in the comments (checked with objdump):
_CODE = (
    # uint32_t load32(uint32_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
    # mov (%rdi),%eax; ret
    ("load32", b"\x8b\x07\xc3", ctypes.c_uint32, [ctypes.c_void_p]),
    # void store32(uint32_t *p, uint32_t v) { __atomic_store_n(p, v, __ATOMIC_SEQ_CST); }
    # xchg %esi,(%rdi); ret
    ("store32", b"\x87\x37\xc3", None, [ctypes.c_void_p, ctypes.c_uint32]),
    # uint32_t add32(uint32_t *p, uint32_t v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
    # mov %esi,%eax; lock xadd %eax,(%rdi); ret
    ("add32", b"\x89\xf0\xf0\x0f\xc1\x07\xc3", ctypes.c_uint32, [ctypes.c_void_p, ctypes.c_uint32]),
    # uint32_t cas32(uint32_t *p, uint32_t e, uint32_t d)
    #     { __atomic_compare_exchange_n(p, &e, d, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); return e; }
    # mov %esi,%eax; lock cmpxchg %edx,(%rdi); ret
    ("cas32", b"\x89\xf0\xf0\x0f\xb1\x17\xc3", ctypes.c_uint32, [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]),
    # uint64_t load64(uint64_t *p) { return __atomic_load_n(p, __ATOMIC_SEQ_CST); }
    # mov (%rdi),%rax; ret
    ("load64", b"\x48\x8b\x07\xc3", ctypes.c_uint64, [ctypes.c_void_p]),
    # uint64_t cas64(uint64_t *p, uint64_t e, uint64_t d) { ...as cas32... }
    # mov %rsi,%rax; lock cmpxchg %rdx,(%rdi); ret
    ("cas64", b"\x48\x89\xf0\xf0\x48\x0f\xb1\x17\xc3", ctypes.c_uint64, [ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint64]),
    # void cas32_into(uint32_t *p, uint32_t *e, uint32_t d)
    #     { __atomic_compare_exchange_n(p, e, d, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST); }
    # mov (%rsi),%eax; lock cmpxchg %edx,(%rdi); je 1f; mov %eax,(%rsi); 1: ret
    (
        "cas32_into",
        b"\x8b\x06\xf0\x0f\xb1\x17\x74\x02\x89\x06\xc3",
        None,
        [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint32), ctypes.c_uint32],
    ),
    # void cas64_into(uint64_t *p, uint64_t *e, uint64_t d) { ...as cas32_into... }
    # mov (%rsi),%rax; lock cmpxchg %rdx,(%rdi); je 1f; mov %rax,(%rsi); 1: ret
    (
        "cas64_into",
        b"\x48\x8b\x06\xf0\x48\x0f\xb1\x17\x74\x03\x48\x89\x06\xc3",
        None,
        [ctypes.c_void_p, ctypes.POINTER(ctypes.c_uint64), ctypes.c_uint64],
    ),
    # int exit_release(lock_cell *cell, int (*unlock)(pthread_mutex_t *), lock, ...): the end of a
    # `with lock:` block (see Lock.__exit__), one foreign call: if glibc's owner (byte 8 of
    # the cell) is this thread (gettid), the cell's depth (byte 44) down by one, its holder
    # (byte 40) cleared at depth 0, then unlock(cell); 0 either way (a with statement's
    # __exit__ must not say "suppress the exception"). Assembled with `as` (objdump):
    #   push rbx; mov rbx,rdi; mov eax,186; syscall; cmp eax,[rbx+8]; jne 3f
    #   mov eax,[rbx+44]; test eax,eax; je 1f; dec eax
    #   1: mov [rbx+44],eax; test eax,eax; jne 2f; mov dword [rbx+40],0
    #   2: mov rdi,rbx; call rsi
    #   3: xor eax,eax; pop rbx; ret
    (
        "exit_release",
        bytes.fromhex(
            "534889fbb8ba0000000f053b4308751c8b432c85c07402ffc889432c85c07507c74328000000004889dfffd631c05bc3"
        ),
        ctypes.c_int,
        [ctypes.c_void_p, ctypes.c_void_p, ctypes.py_object, ctypes.py_object, ctypes.py_object, ctypes.py_object],
    ),
    # int sem_exit(semaphore_state *s, ...): the end of a `with semaphore:` block (see
    # Semaphore.__exit__), one foreign call: adds a permit to the count (byte 4) by
    # compare-and-swap unless it is at the bound (byte 12), then, if the waiters word (byte 8)
    # is not 0, FUTEX_WAKE one sleeper on the count; 0 either way. Assembled with `as`:
    #   mov eax,[rdi+4]
    #   1: cmp eax,[rdi+12]; jae 3f; lea edx,[rax+1]; lock cmpxchg [rdi+4],edx; jne 1b
    #   cmp dword [rdi+8],0; je 3f
    #   add rdi,4; mov esi,1 (FUTEX_WAKE); mov edx,1; mov eax,202 (futex); syscall
    #   3: xor eax,eax; ret
    (
        "sem_exit",
        bytes.fromhex(
            "8b47043b470c73258d5001f00fb1570475f1837f080074154883c704be01000000ba01000000b8ca0000000f0531c0c3"
        ),
        ctypes.c_int,
        [ctypes.c_void_p, ctypes.py_object, ctypes.py_object, ctypes.py_object, ctypes.py_object],
    ),
)

_PROT_READ, _PROT_WRITE, _PROT_EXEC = 1, 2, 4
_MAP_PRIVATE, _MAP_ANONYMOUS = 0x02, 0x20
_MAP_FAILED = ctypes.c_void_p(-1).value


class Atomics:
    """Sequentially consistent atomic operations on aligned words at addresses.

    ``load32(a)``, ``store32(a, v)``, ``add32(a, v) -> old`` (wrapping), ``cas32(a, expected,
    new) -> old`` (stored only if the word held `expected`; the old value either way),
    ``load64(a)``, ``cas64(a, expected, new) -> old``. `a` must be the address of a live
    word aligned to its size: nothing is checked here.

    ``cas32_into(a, cell, new)`` and ``cas64_into(a, cell, new)`` take the expected value in
    `cell` (a ``ctypes.c_uint32`` or ``c_uint64``) and leave there the value found: it still
    holds the expected value exactly when the word was swapped. Each is one foreign call with
    nothing of Python's around it (the code backend's functions and libatomic's are called
    directly), so the outcome is in `cell` even when a ``KeyboardInterrupt`` is raised as the
    call returns: how a caller that took something (a permit, a wake-up) knows, in its
    ``except``, whether it must give it back. (This relies on CPython 3.10 and later handling
    signals only at calls, function entries and backward jumps: nothing is handled between
    storing the expected value in the cell and the call. Python 3.9 could handle one after
    any instruction, which is why the package needs 3.10.)
    """

    def __init__(
        self,
        name,
        load32,
        store32,
        add32,
        cas32,
        load64,
        cas64,
        cas32_into,
        cas64_into,
        exit_release=None,
        sem_exit=None,
    ):
        self.name = name
        self.load32 = load32
        self.store32 = store32
        self.add32 = add32
        self.cas32 = cas32
        self.load64 = load64
        self.cas64 = cas64
        self.cas32_into = cas32_into
        self.cas64_into = cas64_into
        # The code backend's ends of a `with lock:` block (see ``Lock.__exit__``) and of a
        # `with semaphore:` block (``Semaphore.__exit__``), else None.
        self.exit_release = exit_release
        self.sem_exit = sem_exit

    def __repr__(self):
        return "<sharedctypes atomics: %s>" % self.name

    def add64(self, address, delta):
        """Adds `delta` (wrapping) to the 64-bit word at `address`; the old value."""
        old = self.load64(address)
        while True:
            seen = self.cas64(address, old, (old + delta) & 0xFFFFFFFFFFFFFFFF)
            if seen == old:
                return old
            old = seen


def _code_backend():
    if not _X86_64:
        raise AtomicsUnavailable("the machine code backend is x86-64 code, this machine is %s" % platform.machine())
    mmap_ = _libc.mmap
    mmap_.restype = ctypes.c_void_p
    mmap_.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
    mprotect = _libc.mprotect
    mprotect.restype = ctypes.c_int
    mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    munmap = _libc.munmap
    munmap.restype = ctypes.c_int
    munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    page = os.sysconf("SC_PAGE_SIZE")
    base = mmap_(None, page, _PROT_READ | _PROT_WRITE, _MAP_PRIVATE | _MAP_ANONYMOUS, -1, 0)
    if base is None or base == _MAP_FAILED:
        e = ctypes.get_errno()
        raise AtomicsUnavailable("mmap of a page for the atomic operations failed: %s" % os.strerror(e))
    at = 0
    functions = {}
    for name, code, restype, argtypes in _CODE:
        ctypes.memmove(base + at, code, len(code))
        functions[name] = (base + at, restype, argtypes)
        at += (len(code) + 15) // 16 * 16  # each function at a multiple of 16, like a compiler's
    if mprotect(base, page, _PROT_READ | _PROT_EXEC) != 0:
        e = ctypes.get_errno()
        munmap(base, page)
        raise AtomicsUnavailable(
            "this system refuses to make memory executable (mprotect PROT_EXEC: %s)" % os.strerror(e)
        )
    # From here the page is never written or unmapped: the functions live as long as the
    # process.
    made = {
        name: ctypes.CFUNCTYPE(restype, *argtypes)(address) for name, (address, restype, argtypes) in functions.items()
    }
    return Atomics("x86-64 code", **made)


def _libatomic_backend():
    try:
        lib = ctypes.CDLL("libatomic.so.1")
    except OSError as e:
        raise AtomicsUnavailable("libatomic.so.1 cannot be loaded (%s)" % e) from None

    def fn(name, restype, argtypes):
        f = getattr(lib, name)
        f.restype = restype
        f.argtypes = argtypes
        return f

    is_lock_free = fn("__atomic_is_lock_free", ctypes.c_bool, [ctypes.c_size_t, ctypes.c_void_p])
    probe = (ctypes.c_uint64 * 1)()
    for size in (4, 8):
        if not is_lock_free(size, ctypes.addressof(probe)):
            raise AtomicsUnavailable("libatomic's %d-byte operations are not lock-free here" % size)
    u32, u64, vp, i = ctypes.c_uint32, ctypes.c_uint64, ctypes.c_void_p, ctypes.c_int
    load4 = fn("__atomic_load_4", u32, [vp, i])
    store4 = fn("__atomic_store_4", None, [vp, u32, i])
    add4 = fn("__atomic_fetch_add_4", u32, [vp, u32, i])
    cmpxchg4 = fn("__atomic_compare_exchange_4", ctypes.c_bool, [vp, vp, u32, i, i])
    load8 = fn("__atomic_load_8", u64, [vp, i])
    cmpxchg8 = fn("__atomic_compare_exchange_8", ctypes.c_bool, [vp, vp, u64, i, i])

    def into(name, word):
        # The orders as default arguments of the prototype: a call with three arguments is
        # one foreign call, with no Python function around it.
        proto = ctypes.CFUNCTYPE(ctypes.c_bool, vp, ctypes.POINTER(word), word, i, i)
        flags = ((1, "p"), (1, "e"), (1, "d"), (1, "success", _SEQ_CST), (1, "failure", _SEQ_CST))
        return proto((name, lib), flags)

    def cas32(address, expected, new):
        e = u32(expected)  # on failure, libatomic writes the value it found here
        cmpxchg4(address, ctypes.addressof(e), new, _SEQ_CST, _SEQ_CST)
        return e.value

    def cas64(address, expected, new):
        e = u64(expected)
        cmpxchg8(address, ctypes.addressof(e), new, _SEQ_CST, _SEQ_CST)
        return e.value

    return Atomics(
        "libatomic",
        load32=lambda a: load4(a, _SEQ_CST),
        store32=lambda a, v: store4(a, v, _SEQ_CST),
        add32=lambda a, v: add4(a, v & 0xFFFFFFFF, _SEQ_CST),
        cas32=cas32,
        load64=lambda a: load8(a, _SEQ_CST),
        cas64=cas64,
        cas32_into=into("__atomic_compare_exchange_4", u32),
        cas64_into=into("__atomic_compare_exchange_8", u64),
    )


def _self_test(atomics):
    """Checks every operation's result on a word of this process; raises AtomicsUnavailable
    if any is wrong."""
    words = (ctypes.c_uint64 * 2)()
    a = ctypes.addressof(words)
    checks = []
    atomics.store32(a, 0xFFFFFFFE)
    checks.append(("store32/load32", atomics.load32(a), 0xFFFFFFFE))
    checks.append(("add32 (old)", atomics.add32(a, 3), 0xFFFFFFFE))
    checks.append(("add32 (wraps)", atomics.load32(a), 1))
    checks.append(("cas32 (fails)", atomics.cas32(a, 7, 9), 1))
    checks.append(("cas32 (unchanged)", atomics.load32(a), 1))
    checks.append(("cas32 (succeeds)", atomics.cas32(a, 1, 0xABCDEF01), 1))
    checks.append(("cas32 (stored)", atomics.load32(a), 0xABCDEF01))
    checks.append(("neighbour untouched", atomics.load32(a + 4), 0))
    b = a + 8
    checks.append(("cas64 (succeeds)", atomics.cas64(b, 0, 0x1122334455667788), 0))
    checks.append(("load64", atomics.load64(b), 0x1122334455667788))
    checks.append(("cas64 (fails)", atomics.cas64(b, 5, 6), 0x1122334455667788))
    checks.append(("add64", atomics.add64(b, (1 << 32) - 1), 0x1122334455667788))
    checks.append(("add64 (sum)", atomics.load64(b), 0x1122334555667787))
    cell = ctypes.c_uint32(7)
    atomics.cas32_into(a, cell, 9)
    checks.append(("cas32_into (fails: found)", cell.value, 0xABCDEF01))
    atomics.cas32_into(a, cell, 0x12345678)
    checks.append(("cas32_into (swaps: unchanged)", cell.value, 0xABCDEF01))
    checks.append(("cas32_into (stored)", atomics.load32(a), 0x12345678))
    cell = ctypes.c_uint64(0x1122334555667787)
    atomics.cas64_into(b, cell, 0xFFFFFFFF00000001)
    checks.append(("cas64_into (swaps: unchanged)", cell.value, 0x1122334555667787))
    atomics.cas64_into(b, cell, 3)
    checks.append(("cas64_into (fails: found)", cell.value, 0xFFFFFFFF00000001))
    checks.append(("cas64_into (unchanged word)", atomics.load64(b), 0xFFFFFFFF00000001))
    for what, got, want in checks:
        if got != want:
            raise AtomicsUnavailable("the %s backend fails its self-test: %s gave %#x, not %#x" % (atomics.name, what, got, want))
    return atomics


_BACKENDS = {"code": _code_backend, "libatomic": _libatomic_backend}


def make_backend(which):
    """A new, self-tested backend: ``"code"`` or ``"libatomic"``. ``AtomicsUnavailable``
    naming why if it cannot be used here."""
    try:
        make = _BACKENDS[which]
    except KeyError:
        raise ValueError("no atomics backend %r: there are %s" % (which, ", ".join(map(repr, _BACKENDS)))) from None
    return _self_test(make())


_chosen = None
_why_not = None


def backend():
    """The process's atomics backend (chosen once: ``SHAREDCTYPES_ATOMICS``, else the machine
    code, else libatomic); ``AtomicsUnavailable`` naming every reason if there is none."""
    global _chosen, _why_not
    if _chosen is not None:
        return _chosen
    if _why_not is not None:
        raise AtomicsUnavailable(_why_not)
    if not _X86_64:
        # Atomics alone are of no use: the futex calls below use x86-64's system call number.
        _why_not = "the waiting primitives are implemented for x86-64 only, this machine is %s" % platform.machine()
        raise AtomicsUnavailable(_why_not)
    forced = os.environ.get("SHAREDCTYPES_ATOMICS")
    order = [forced] if forced else ["code", "libatomic"]
    reasons = []
    for which in order:
        try:
            _chosen = make_backend(which)
            return _chosen
        except (AtomicsUnavailable, ValueError) as e:
            reasons.append("%s: %s" % (which, e))
    _why_not = "no atomic operations on shared memory are available in this process (%s)" % "; ".join(reasons)
    raise AtomicsUnavailable(_why_not)


# --- Futexes -------------------------------------------------------------------------------------

_SYS_FUTEX = 202  # x86-64 (futex_wait and futex_wake refuse to run on another machine)
_FUTEX_WAIT = 0
_FUTEX_WAKE = 1
_INT_MAX = (1 << 31) - 1


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_syscall = _libc.syscall
_syscall.restype = ctypes.c_long
_syscall.argtypes = [
    ctypes.c_long,
    ctypes.c_void_p,
    ctypes.c_int,
    ctypes.c_uint32,
    ctypes.c_void_p,
    ctypes.c_void_p,
    ctypes.c_uint32,
]


def _check_machine():
    if not _X86_64:
        raise AtomicsUnavailable("futexes are called with x86-64's system call number, this machine is %s" % platform.machine())


def futex_wait(address, expected, timeout=None):
    """Sleeps while the 32-bit word at `address` holds `expected`, for at most `timeout`
    seconds (``None``: until woken). ``False`` if the timeout passed; ``True`` if woken, if
    the word did not hold `expected`, or if a signal interrupted the sleep (``EINTR``): the
    callers look at the word again and, if they go on waiting, wait again for the time that
    is left. ``OSError`` for anything else (a bad address)."""
    _check_machine()
    ts = None
    if timeout is not None:
        seconds = int(timeout)
        ts = _Timespec(seconds, min(int((timeout - seconds) * 1e9), 999999999))
    rc = _syscall(_SYS_FUTEX, address, _FUTEX_WAIT, expected, ctypes.addressof(ts) if ts is not None else None, None, 0)
    if rc == 0:
        return True
    e = ctypes.get_errno()
    if e == _errno.ETIMEDOUT:
        return False
    if e in (_errno.EAGAIN, _errno.EINTR):
        return True
    raise OSError(e, "futex(FUTEX_WAIT) on the word at %#x: %s" % (address, os.strerror(e)))


def futex_wake(address, n):
    """Wakes at most `n` sleepers on the word at `address`; how many were woken."""
    _check_machine()
    rc = _syscall(_SYS_FUTEX, address, _FUTEX_WAKE, min(n, _INT_MAX), None, None, 0)
    if rc < 0:
        e = ctypes.get_errno()
        raise OSError(e, "futex(FUTEX_WAKE) on the word at %#x: %s" % (address, os.strerror(e)))
    return rc


# Timeouts longer than this wait for ever (as Rust's do when `now + timeout` overflows): no
# futex timespec or monotonic clock reading is made of them.
_FOREVER = 1 << 40


def deadline_after(timeout):
    """The ``time.monotonic()`` deadline of a wait of `timeout` seconds: ``None`` for
    ``None`` (and for timeouts beyond any clock: infinity, or more than 2**40 seconds); a
    negative timeout is 0 (look once, as ``multiprocessing`` does). ``ValueError`` for NaN,
    ``TypeError`` for a non-number."""
    if timeout is None:
        return None
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        try:
            timeout = float(timeout)
        except (TypeError, ValueError):
            raise TypeError("a timeout is a number of seconds or None, not %r" % (timeout,)) from None
    if isinstance(timeout, float) and math.isnan(timeout):
        raise ValueError("a timeout of NaN seconds")
    if timeout > _FOREVER:
        return None
    return time.monotonic() + max(timeout, 0)


def time_left(deadline):
    """Seconds until `deadline` (``None``: for ever), at most 0 once it passed."""
    if deadline is None:
        return None
    return deadline - time.monotonic()
