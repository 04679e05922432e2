"""The waiting primitives of the format (``docs/format.md`` section 6) from Python: Event,
Semaphore, BoundedSemaphore, Condition and Barrier, taking part in exactly the protocol the
Rust crate's ``sync`` module follows (same words, same order of operations, same futexes),
so that Python and Rust processes wait for and wake each other.

Every word of a state is read and written through ``_atomic`` (one sequentially consistent
access each); sleeping is ``FUTEX_WAIT`` on a word, waking ``FUTEX_WAKE``.
"""

import ctypes
import functools
import threading

from . import _atomic
from ._atomic import deadline_after, futex_wait, futex_wake, time_left

__all__ = ["Event", "Semaphore", "BoundedSemaphore", "Condition", "Barrier", "BrokenBarrierError"]

# Python's own exception (a RuntimeError), so that code written for threading's and
# multiprocessing's barriers catches it.
BrokenBarrierError = threading.BrokenBarrierError

_U32 = 0xFFFFFFFF
_MINUS_ONE = _U32  # added to a 32-bit word: subtracts 1
_WAKE_ALL = (1 << 31) - 1


def _tag(text):
    return int.from_bytes(text, "little")


class _State:
    """A primitive's state: `size` bytes at `address` (aligned to `align`) that `keep_alive`
    keeps mapped, whose first word is the tag `TAG`."""

    TAG = 0
    WHAT = ""
    SIZE = 16
    ALIGN = 4

    def __init__(self, address, keep_alive):
        if not isinstance(address, int) or address <= 0:
            raise TypeError("the address of a state is a positive int, not %r" % (address,))
        if address % self.ALIGN:
            from . import InvalidHandle

            raise InvalidHandle("%s's state at %#x is not aligned to %d bytes" % (self.WHAT, address, self.ALIGN))
        self._atomics = _atomic.backend()
        self._address = address
        self._keep_alive = keep_alive
        tag = self._load(0)
        if tag != self.TAG:
            from . import InvalidHandle

            raise InvalidHandle(
                "its state has tag %#010x, not %#010x (%s)" % (tag, self.TAG, self.WHAT)
            )

    def _load(self, offset):
        return self._atomics.load32(self._address + offset)

    def _store(self, offset, value):
        self._atomics.store32(self._address + offset, value)

    def _add(self, offset, delta):
        return self._atomics.add32(self._address + offset, delta & _U32)


def _wait_while_equal(atomics, word, expected, waiters, deadline, done):
    """Rust's ``sync::wait_while_equal``: waits until ``done()`` (which may also take what it
    waits for), sleeping on the word at `word` while it holds `expected` and counting this
    thread in the word at `waiters` while asleep. ``False`` if `deadline` passed first.
    Wake-ups for other reasons (signals, spurious returns) only make it look again, with the
    time that is left."""
    while True:
        if done():
            return True
        left = time_left(deadline)
        if left is not None and left <= 0:
            return done()
        atomics.add32(waiters, 1)
        try:
            woke = futex_wait(word, expected, left)
        finally:
            atomics.add32(waiters, _MINUS_ONE)
        if not woke:
            return done()


# --- Event -----------------------------------------------------------------------------------


class Event(_State):
    """A flag processes and threads wait for (``multiprocessing.Event``), in shared memory:
    the Rust ``Event``.

    State (16 bytes, align 4): ``tag`` (``SEVT``), ``word`` (bit 0: the flag; the other
    bits: the number of ``set()`` calls, wrapping, so that a waiter that saw it change goes
    on even if the flag was cleared again at once; one word, so that no waiter sees a
    ``set()`` half done), ``waiters`` (threads asleep in a wait), a reserved zero word.

    `address` is that of the state, which `keep_alive` (for instance the mapping) keeps
    valid; its tag is checked (``InvalidHandle``).
    """

    TAG = _tag(b"SEVT")
    WHAT = "an Event"
    _WORD, _WAITERS = 4, 8
    _SET, _ONE_SET = 1, 2

    def set(self):
        """Sets the flag and wakes every waiter (a system call only if someone waits)."""
        word = self._address + self._WORD
        try:
            w = self._atomics.load32(word)
            while True:
                seen = self._atomics.cas32(word, w, ((w + self._ONE_SET) & _U32) | self._SET)
                if seen == w:
                    break
                w = seen
            if self._load(self._WAITERS) != 0:
                futex_wake(word, _WAKE_ALL)
        except BaseException:
            # Interrupted, perhaps after setting it: wake them anyway (a waiter woken for
            # nothing looks and sleeps again), never leave one asleep on a set flag.
            futex_wake(word, _WAKE_ALL)
            raise

    def clear(self):
        """Clears the flag."""
        word = self._address + self._WORD
        w = self._atomics.load32(word)
        while w & self._SET:
            seen = self._atomics.cas32(word, w, w & ~self._SET & _U32)
            if seen == w:
                break
            w = seen

    def is_set(self):
        """True while the flag is set."""
        return self._load(self._WORD) & self._SET != 0

    def wait(self, timeout=None):
        """Blocks until the flag is set (or a ``set()`` happened meanwhile), for at most
        `timeout` seconds (``None``: for ever; negative: look once). ``True`` if released,
        ``False`` on timeout."""
        deadline = deadline_after(timeout)
        seen = self._load(self._WORD)

        def released():
            now = self._load(self._WORD)
            return now & self._SET != 0 or (now >> 1) != (seen >> 1)

        return _wait_while_equal(
            self._atomics, self._address + self._WORD, seen, self._address + self._WAITERS, deadline, released
        )

    def __repr__(self):
        return "<sharedctypes.Event set=%s>" % self.is_set()


# --- Semaphores ------------------------------------------------------------------------------


class Semaphore(_State):
    """A counter of permits (``multiprocessing.Semaphore``), in shared memory: the Rust
    ``Semaphore``. ``release()`` may raise the count without bound (up to 2**32 - 1).

    State (16 bytes, align 4): ``tag`` (``SSEM``), ``count`` (free permits), ``waiters``,
    ``bound`` (4294967295 for a Semaphore; the initial value of a BoundedSemaphore).
    """

    TAG = _tag(b"SSEM")
    WHAT = "a semaphore"
    _BOUNDED = False
    _COUNT, _WAITERS, _BOUND = 4, 8, 12

    def __init__(self, address, keep_alive):
        super().__init__(address, keep_alive)
        bounded = self._load(self._BOUND) != _U32
        if bounded != self._BOUNDED:
            from . import InvalidHandle

            raise InvalidHandle(
                "its state is of a %s (bound %d) where a %s is expected"
                % ("BoundedSemaphore" if bounded else "Semaphore", self._load(self._BOUND), type(self).__name__)
            )

    def _try_take(self):
        """Takes a permit if one is free; ``True`` if taken. Interrupted (a
        ``KeyboardInterrupt`` raised as the swap returns), it gives back a permit it took."""
        word = self._address + self._COUNT
        cell = ctypes.c_uint32()
        tried = None
        try:
            c = self._atomics.load32(word)
            while c > 0:
                tried = c
                cell.value = c
                self._atomics.cas32_into(word, cell, c - 1)
                if cell.value == c:
                    return True
                c = cell.value
            return False
        except BaseException:
            # From `tried = c` to the swap's return nothing can raise: `cell` holds `tried`
            # after the interrupt exactly when the swap took the permit.
            if tried is not None and cell.value == tried:
                self._give()
            raise

    def acquire(self, blocking=True, timeout=None):
        """Takes a permit, waiting while there is none, for at most `timeout` seconds
        (``None``: for ever); with ``blocking=False``, only if one is free now. ``True`` if
        taken."""
        if not blocking:
            if timeout is not None:
                raise ValueError("can't specify a timeout for a non-blocking acquire")
            return self._try_take()
        return _wait_while_equal(
            self._atomics,
            self._address + self._COUNT,
            0,
            self._address + self._WAITERS,
            deadline_after(timeout),
            self._try_take,
        )

    def release(self):
        """Gives a permit back (adds one), waking one waiter. ``ValueError`` if that would
        bring the count past its bound (a BoundedSemaphore past its initial value)."""
        bound = self._load(self._BOUND)
        self._give(bound)

    def _give(self, bound=_U32):
        """Adds a permit (up to `bound`) and wakes one waiter."""
        word = self._address + self._COUNT
        try:
            c = self._atomics.load32(word)
            while True:
                if c >= bound:
                    raise ValueError(
                        "Semaphore released too many times: it holds %d permits, the most it may hold is %d"
                        % (c, bound)
                    )
                seen = self._atomics.cas32(word, c, c + 1)
                if seen == c:
                    break
                c = seen
            if self._load(self._WAITERS) != 0:
                futex_wake(word, 1)
        except BaseException:
            # Interrupted, perhaps after adding it: wake one anyway (a waiter woken for
            # nothing looks and sleeps again), never leave one asleep beside a free permit.
            futex_wake(word, 1)
            raise

    def get_value(self):
        """The number of free permits now."""
        return self._load(self._COUNT)

    def __enter__(self):
        self.acquire()
        return self

    @property
    def __exit__(self):
        # As a Lock's: where the machine-code atomics are in use, the end of a ``with`` block
        # is one foreign call (``sem_exit``, bound here at the start of the block), so that a
        # signal that comes while the block runs code without calls is handled only once the
        # permit is back (a Python ``__exit__`` would see it at its entry, before giving it
        # back). Unlike ``release()``, a block whose semaphore is at its bound ends quietly.
        code = self._atomics.sem_exit
        if code is None:
            return self._exit_py
        return functools.partial(code, self._address, self)

    def _exit_py(self, *exc):
        self.release()
        return False

    def __repr__(self):
        return "<sharedctypes.%s value=%d>" % (type(self).__name__, self.get_value())


class BoundedSemaphore(Semaphore):
    """A semaphore whose ``release()`` refuses (``ValueError``) to go past its initial value:
    the Rust ``BoundedSemaphore`` (``multiprocessing.BoundedSemaphore``)."""

    _BOUNDED = True


# --- Condition -------------------------------------------------------------------------------

_WAITER = 1 << 32
_TOKENS = _WAITER - 1


class Condition(_State):
    """A condition variable (``multiprocessing.Condition``) over a lock cell, in shared
    memory: the Rust ``Condition``.

    State (24 bytes, align 8): ``tag`` (``SCND``), ``seq`` (bumped by every notification that
    wakes someone: waiters sleep on it), ``counts`` (64 bits at offset 8: waiters not yet
    notified in the high half, wake-ups granted and not yet taken in the low half),
    ``sleepers`` (at offset 16: threads asleep on ``seq``; a notifier wakes only if it is not
    0), then 32 reserved bits.

    ``acquire``/``release`` and ``with cond:`` take its lock (a ``Lock`` object); ``wait``
    must be called holding it, releases every level of it while asleep and takes it back.
    A waiter killed while waiting disturbs no later notification.
    """

    TAG = _tag(b"SCND")
    WHAT = "a Condition"
    ALIGN = 8
    _SEQ, _COUNTS, _SLEEPERS = 4, 8, 16

    def __init__(self, address, keep_alive, lock):
        super().__init__(address, keep_alive)
        self._lock = lock

    def get_lock(self):
        """The lock (a ``Lock``)."""
        return self._lock

    def acquire(self, blocking=True, timeout=None):
        """Takes the lock (see ``Lock.acquire``)."""
        return self._lock.acquire(blocking, timeout)

    def release(self):
        """Releases the lock."""
        self._lock.release()

    def __enter__(self):
        self._lock.acquire()
        return self

    # The lock's own ``__exit__`` (bound when the ``with`` statement starts): no frame of the
    # condition's comes between the end of the block and the release, where an interrupt
    # would keep the lock.
    __exit__ = property(lambda self: self._lock.__exit__)

    def _counts(self):
        return self._atomics.load64(self._address + self._COUNTS)

    def _take_wakeup(self, took):
        """Takes a wake-up if one is granted; ``True`` if taken. `took` (a one-element list)
        is set to ``True`` by the very swap that takes it: a wait interrupted as the swap
        returns knows it was notified."""
        word = self._address + self._COUNTS
        cell = ctypes.c_uint64()
        c = self._atomics.load64(word)
        while c & _TOKENS:
            cell.value = c
            try:
                self._atomics.cas64_into(word, cell, c - 1)
            finally:
                # Nothing can raise between the swap's return and this test.
                if cell.value == c:
                    took[0] = True
            if took[0]:
                return True
            c = cell.value
        return False

    def _leave(self, registered):
        """Leaves a wait that ends without a wake-up taken (its deadline passed, or it was
        interrupted): takes a wake-up if a notification came since `registered` (the wait
        *was* notified), else gives back its place as a waiter. ``True`` if notified."""
        notified_since = self._load(self._SEQ) != registered
        word = self._address + self._COUNTS
        c = self._atomics.load64(word)
        while True:
            waiters, tokens = c >> 32, c & _TOKENS
            notified = (notified_since or waiters == 0) and tokens != 0
            if notified:
                new = c - 1
            elif waiters != 0:
                new = c - _WAITER
            else:
                return False  # inconsistent counts (another process wrote them): leave them
            seen = self._atomics.cas64(word, c, new)
            if seen == c:
                return notified
            c = seen

    def wait(self, timeout=None):
        """Releases the lock (every level of an RLock), sleeps until notified, for at most
        `timeout` seconds (``None``: for ever), and takes the lock back. ``True`` if notified,
        ``False`` on timeout. May return without a notification, as every condition
        variable: check what you wait for in a loop, or use ``wait_for``.

        ``RuntimeError`` if this thread does not hold the lock.
        """
        lock = self._lock
        if not lock._held_by_this_thread():
            raise RuntimeError("cannot wait on un-acquired lock")
        deadline = deadline_after(timeout)
        atomics = self._atomics
        seq_word = self._address + self._SEQ
        sleepers_word = self._address + self._SLEEPERS
        # The generation first, then the place among the waiters: a notification that counts
        # this waiter bumps the generation after counting it, so this waiter may take a
        # wake-up; one that came before does not count it, and its wake-ups are for others.
        registered = atomics.load32(seq_word)
        atomics.add64(self._address + self._COUNTS, _WAITER)
        notified = None
        took = [False]
        depth = lock._release_all()
        try:
            while True:
                seen = atomics.load32(seq_word)
                if seen != registered and self._take_wakeup(took):
                    notified = True
                    break
                left = time_left(deadline)
                if left is not None and left <= 0:
                    notified = self._leave(registered)
                    break
                # Counted before the futex compares ``seq`` with ``seen``: a notifier that bumps
                # ``seq`` after that either sees the count and wakes, or the futex returns at once.
                # Returns on a notification, a signal, a timeout or spuriously: all look again.
                atomics.add32(sleepers_word, 1)
                try:
                    futex_wait(seq_word, seen, left)
                finally:
                    atomics.add32(sleepers_word, _MINUS_ONE)
        finally:
            if notified is None and not took[0]:
                # Interrupted (KeyboardInterrupt, ...) before taking a wake-up: leave as a
                # timeout does. (One taken is this waiter's: its place among the waiters went
                # with it, and giving it back as well would count another waiter out.)
                self._leave(registered)
            lock._reacquire(depth)
        return notified

    def wait_for(self, predicate, timeout=None):
        """Waits until ``predicate()`` is true, for at most `timeout` seconds; the
        predicate's last value (``threading.Condition.wait_for``). Call it holding the lock;
        the predicate is evaluated with the lock held."""
        deadline = deadline_after(timeout)
        result = predicate()
        while not result:
            left = time_left(deadline)
            if left is not None and left <= 0:
                break
            self.wait(left)
            result = predicate()
        return result

    def notify(self, n=1):
        """Wakes at most `n` waiters (no system call if nobody waits). Call it holding the
        lock (``RuntimeError`` otherwise), after changing what the waiters wait for."""
        if not self._lock._held_by_this_thread():
            raise RuntimeError("cannot notify on un-acquired lock")
        self._notify(n)

    def _notify(self, n):
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError("notify(n) needs a count of at least 0, not %r" % (n,))
        n = min(n, _U32)
        word = self._address + self._COUNTS
        try:
            c = self._atomics.load64(word)
            while True:
                woken = min(c >> 32, n)
                if woken == 0:
                    return
                seen = self._atomics.cas64(word, c, c - woken * _WAITER + woken)
                if seen == c:
                    break
                c = seen
            self._add(self._SEQ, 1)
            if self._load(self._SLEEPERS) != 0:
                futex_wake(self._address + self._SEQ, woken)
        except BaseException:
            # Interrupted, perhaps after granting wake-ups: a new generation and every
            # sleeper woken (one with nothing to take looks and sleeps again), never a grant
            # the waiters sleep through.
            self._add(self._SEQ, 1)
            futex_wake(self._address + self._SEQ, _WAKE_ALL)
            raise

    def notify_all(self):
        """Wakes every waiter. Call it holding the lock."""
        self.notify(_U32)

    def __repr__(self):
        return "<sharedctypes.Condition waiters=%d>" % (self._counts() >> 32)


# --- Barrier ---------------------------------------------------------------------------------


class Barrier(_State):
    """A barrier for a fixed number of parties (``multiprocessing.Barrier``), in shared
    memory: the Rust ``Barrier``. ``wait()`` blocks until all parties have called it, then
    all go on, each with a different index in ``range(parties)``.

    A timeout or an ``abort()`` breaks it: every waiter of the round and every later
    ``wait`` raises ``BrokenBarrierError`` until ``reset()``. State (24 bytes, align 4):
    ``tag`` (``SBAR``), ``parties``, ``arrived``, ``generation``, ``broken``,
    ``broken_round``; its bookkeeping is done under its lock (a ``Lock``).
    """

    TAG = _tag(b"SBAR")
    WHAT = "a Barrier"
    SIZE = 24
    _PARTIES, _ARRIVED, _GENERATION, _BROKEN, _BROKEN_ROUND = 4, 8, 12, 16, 20

    def __init__(self, address, keep_alive, lock):
        super().__init__(address, keep_alive)
        if self._load(self._PARTIES) == 0:
            from . import InvalidHandle

            raise InvalidHandle("a barrier of 0 parties")
        self._lock = lock

    @property
    def parties(self):
        """The number of parties."""
        return self._load(self._PARTIES)

    @property
    def n_waiting(self):
        """The number of parties waiting now."""
        return self._load(self._ARRIVED)

    @property
    def broken(self):
        """True while the barrier is broken (until ``reset()``)."""
        return self._load(self._BROKEN) != 0

    def _locked(self, f):
        """Runs `f` under the internal lock; a party that died inside breaks the barrier."""
        lock = self._lock
        lock.acquire(warn=False)
        try:
            if lock.owner_died:
                self._break_round()
                lock.clear_owner_died()
                raise BrokenBarrierError
            return f()
        finally:
            lock.release()

    def _break_round(self):
        """Breaks the current round: its waiters and every later ``wait`` fail until
        ``reset``."""
        self._store(self._BROKEN, 1)
        self._store(self._BROKEN_ROUND, self._load(self._GENERATION))
        self._store(self._ARRIVED, 0)
        self._add(self._GENERATION, 1)
        futex_wake(self._address + self._GENERATION, _WAKE_ALL)

    def wait(self, timeout=None):
        """Waits until all parties have arrived, for at most `timeout` seconds (``None``: for
        ever); this party's arrival index. ``BrokenBarrierError`` if the barrier is broken,
        breaks while waiting, or the timeout passes (which breaks it for everyone)."""
        deadline = deadline_after(timeout)
        word = self._address + self._GENERATION

        def too_late(round_):
            # Break the round for everyone (unless it passed meanwhile).
            def breaking():
                if self._load(self._GENERATION) == round_:
                    self._break_round()

            self._locked(breaking)

        def arrive():
            if self._load(self._BROKEN) != 0:
                raise BrokenBarrierError
            round_ = self._load(self._GENERATION)
            try:
                index = self._add(self._ARRIVED, 1)
                if index + 1 >= self._load(self._PARTIES):
                    # The last party: the round passes.
                    self._store(self._ARRIVED, 0)
                    self._add(self._GENERATION, 1)
                    futex_wake(word, _WAKE_ALL)
                    return index, None
                return index, round_
            except BaseException:
                # Interrupted while arriving (under the lock): if the round passed, make sure
                # everyone knows; else this party, perhaps counted, is leaving and the round
                # cannot pass: break it, as a timeout does.
                if self._load(self._GENERATION) != round_:
                    futex_wake(word, _WAKE_ALL)
                else:
                    self._break_round()
                raise

        index, round_ = self._locked(arrive)
        if round_ is None:
            return index
        try:
            while self._load(self._GENERATION) == round_:
                left = time_left(deadline)
                if left is not None and left <= 0:
                    woke = False
                else:
                    woke = futex_wait(word, round_, left)
                if not woke and self._load(self._GENERATION) == round_:
                    too_late(round_)
        except BaseException:
            # Interrupted while waiting: a party that leaves breaks the round (unless it passed).
            too_late(round_)
            raise
        if self._load(self._BROKEN_ROUND) == round_:
            raise BrokenBarrierError
        return index

    def abort(self):
        """Breaks the barrier: every waiter, and every later ``wait``, raises
        ``BrokenBarrierError`` until ``reset()``."""
        lock = self._lock
        lock.acquire(warn=False)
        try:
            self._break_round()
            lock.clear_owner_died()
        finally:
            lock.release()

    def reset(self):
        """Back to the empty, unbroken state: parties waiting now get
        ``BrokenBarrierError``; the next rounds work."""
        lock = self._lock
        lock.acquire(warn=False)
        try:
            if self._load(self._ARRIVED) > 0:
                self._break_round()
            self._store(self._ARRIVED, 0)
            self._store(self._BROKEN, 0)
            lock.clear_owner_died()
        finally:
            lock.release()

    def __repr__(self):
        return "<sharedctypes.Barrier parties=%d n_waiting=%d broken=%s>" % (self.parties, self.n_waiting, self.broken)
