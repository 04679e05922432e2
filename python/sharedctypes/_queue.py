"""Queues from Python: the Rust ``Queue<T>`` (records) and ``BytesQueue`` (byte messages),
taking part in exactly the protocol of the Rust crate's ``queue`` module
(``docs/format.md`` section 6, "queue (``SQU2``) and bytes queue (``SBQ2``)").

Both are bounded rings in shared memory: a 256-byte state of atomic words (three cache
lines, then a second lock cell), then the ring (slots of the element type, or bytes).
Putters take the queue's ``Lock`` (its lock part); getters take the lock cell at offset 192
of the state. Everything that moves an item happens under its side's lock, and an item
becomes visible (or gone) by one store of ``tail`` (or ``head``), so a process killed at any
instruction leaves the ring consistent: the next operation on that side reports the death
once (``ParticipantDied``), doing nothing, and the queue goes on.

The state (every word accessed through ``_atomic``, one sequentially consistent access each,
as Rust accesses them):

====== ==== =========================================================================
offset size field
====== ==== =========================================================================
0      4    ``tag``: ``SQU2`` (a Queue) or ``SBQ2`` (a BytesQueue)
4      4    ``closed``: 1 once closed
8      8    ``capacity``: the description's ``count``
16     4    ``getters``: threads asleep on ``items`` (low 16 bits), and its epoch (top 16)
20     4    ``putters``: threads asleep on ``space``, and its epoch
64     8    ``tail``: units put in since creation (under the put lock)
72     4    ``items``: bumped by a put that sees ``getters`` not 0, and by a close
80     8    ``head_seen``: ``head`` as a putter last read it (under the put lock)
128    8    ``head``: units taken out since creation (under the get lock)
136    4    ``space``: bumped by a get that sees ``putters`` not 0, and by a close
144    8    ``tail_seen``: ``tail`` as a Rust getter last read it (Python's leave it)
192    56   the getters' lock cell (a ``Lock``, docs/format.md section 5)
====== ==== =========================================================================

Waiting: count yourself in ``getters`` (``putters``), read ``items`` (``space``), look once
more whether an item (room) is there, sleep on the word while it is unchanged for at most
100 ms at a time (a wake-up may have gone to a process that died), uncount, look again under
the lock; a waiter that gives up passes a wake-up on if what it waited for is there. A put
stores ``tail``, then reads ``getters``: either the getter sees the new ``tail`` or the put
sees the getter and changes ``items`` under it. A put wakes a getter per item, a get a
putter of a Queue per slot freed and every putter of a BytesQueue; a waiter that leaves (a timeout, an error) passes its wake-up on.
A sleeper takes itself out of the count only in the epoch it counted itself in; a process
whose wake-ups woke nobody 64 times in a row (sleepers killed in their sleep stay counted)
starts a new epoch with a count of 0, then changes the word and wakes every sleeper on it. A
sleeper looks at the epoch after it reads the word and counts itself again if it changed, so
a live sleeper wiped with the dead stays asleep uncounted only until that wake-up (or its
next look at 100 ms, if the waker died in between).
"""

import ctypes
import errno as _errno
import itertools
import os
import queue as _stdqueue
import struct
import threading
import time

from . import (
    Closed,
    InvalidHandle,
    MessageTooLarge,
    ParticipantDied,
    _MUTEX_INCONSISTENT,
    _MUTEX_OWNER,
    _Cell,
    _record_death,
    _timed_lock,
    _unlock_level,
    _check_ctype,
    _holder_tid,
    _libc,
)
from . import _atomic
from ._atomic import deadline_after, futex_wait, futex_wake

__all__ = ["Queue", "BytesQueue"]

_TAG_QUEUE = int.from_bytes(b"SQU2", "little")
_TAG_BYTES_QUEUE = int.from_bytes(b"SBQ2", "little")

# The state's words (docs/format.md section 6).
_TAG, _CLOSED, _CAPACITY, _GETTERS, _PUTTERS = 0, 4, 8, 16, 20
_TAIL, _ITEMS, _HEAD_SEEN = 64, 72, 80
_HEAD, _SPACE, _TAIL_SEEN = 128, 136, 144
_GET_LOCK = 192
_STATE = 256

_U32 = 0xFFFFFFFF
_U64 = (1 << 64) - 1
_WAKE_ALL = (1 << 31) - 1
# A `getters`/`putters` word: the sleepers' count, and its epoch in the top 16 bits.
_COUNT = 0x0000FFFF
_EPOCH = 0x00010000
# Wake-ups in a row that woke nobody after which a waker starts a new epoch (Rust's FRUITLESS).
_FRUITLESS = 64
# How long a sleeper sleeps at most before it looks again (Rust's ``RESCUE``).
_RESCUE = 0.1
# What a blocking get's first attempt returns when there is no item (``None`` can be one).
_NONE = object()
# A bytes-queue message's length prefix.
_PREFIX = 8

# This process's pid, for the lock cell's ``holder`` (updated in a forked child).
_pid = os.getpid()


def _after_fork():
    global _pid
    _pid = os.getpid()


os.register_at_fork(after_in_child=_after_fork)


# How long an operation that does not wait (``put_nowait``, ``get_nowait``) waits for a
# side's lock, which a holder keeps for the copy of one item: a bound on one that is stopped
# (and a "not now" while another copies a large message).
_TRY_LOCK = 0.001


def _lock_wait(block, deadline):
    """How long an attempt waits for its side's lock: for ever when blocking without a
    timeout, else until the deadline, and at least ``_TRY_LOCK``."""
    if not block:
        return _TRY_LOCK
    if deadline is None:
        return None
    return max(deadline - time.monotonic(), _TRY_LOCK)


def _passed(deadline):
    return deadline is not None and time.monotonic() >= deadline


class _LeanLock:
    """A ``Lock`` cell at `address`, taken on a lean path that follows the cell protocol of
    docs/format.md section 5 exactly, a death recorded on it reported once."""

    def __init__(self, address, what):
        self._what = what
        self._mutex = address
        self._cell = _Cell.from_address(address)
        self._owner = ctypes.c_int32.from_address(address + _MUTEX_OWNER)
        self._word = ctypes.c_int32.from_address(address)
        self._lock = _libc.pthread_mutex_lock
        self._trylock = _libc.pthread_mutex_trylock
        self._unlock = _libc.pthread_mutex_unlock

    def acquire(self, wait=None):
        """Takes the lock, waiting at most `wait` seconds (``None``: for ever); ``False`` if it
        did not come free in time (a holder that is alive but stopped holds up no operation
        with a timeout for longer). A death recorded on it is reported and cleared (the ring
        is consistent whatever instruction the dead process was at): ``ParticipantDied``, with
        the lock released."""
        if wait is None:
            rc = self._lock(self._mutex)
        else:
            rc = self._trylock(self._mutex)
            if rc == _errno.EBUSY:
                rc = _timed_lock(self._mutex, wait)
            if rc == _errno.ETIMEDOUT or rc == _errno.EBUSY:
                return False
        if rc != 0:
            if rc != _errno.EOWNERDEAD:
                raise OSError(rc, "pthread_mutex_lock on the %s: %s" % (self._what, os.strerror(rc)))
            _record_death(self._mutex, self._cell)
        cell = self._cell
        if cell.depth == 0:
            cell.holder = _pid
        cell.depth += 1
        died = cell.died
        if died != 0:
            cell.died = 0
            self.release()
            raise ParticipantDied(died if died > 0 else 0)
        return True

    def release(self):
        depth = self._cell.depth
        rc = _unlock_level(self._mutex, self._cell, depth - 1 if depth > 0 else 0)
        if rc != 0:
            raise RuntimeError("pthread_mutex_unlock of the %s failed (%s)" % (self._what, os.strerror(rc)))

    def before(self):
        """Who holds the lock before an operation takes it, for ``give_back``."""
        return _holder_tid(self._owner, self._word)

    def give_back(self, before):
        """Releases the lock if this operation took it: if this thread holds it now and did
        not `before`. How an operation ends whatever happened in it: a ``KeyboardInterrupt``
        between taking the lock and the ``try``, or in the middle of recording a death (glibc's
        owner is then not yet this thread: the futex word says who holds it), included (a live
        process that kept the lock would stop every other process for good); a re-entrant call
        that failed (``EDEADLK``) gives back nothing of the outer call's."""
        tid = threading.get_native_id()
        if _holder_tid(self._owner, self._word) != tid or before == tid:
            return
        if self._owner.value == _MUTEX_INCONSISTENT:
            _record_death(self._mutex, self._cell)
        self.release()


class _Ring:
    """The ring both queues are built on: its state at `address` in `mapping` (checked: its
    tag, its capacity against `capacity`, the description's count, and the getters' lock
    cell), `capacity` units from ``address + ring_at``, the putters' `lock` (a ``Lock``) and
    the getters' lock in the state."""

    TAG = 0
    WHAT = ""

    def __init__(self, mapping, data_offset, ring_at, length, align, capacity, lock):
        from . import _TAG_LOCK

        mapping.check(data_offset, length, align)
        if lock is None or lock.recursive:
            raise InvalidHandle("%s needs a Lock" % self.WHAT)
        self._mapping = mapping
        self._mm = mapping.mm
        self._lock = lock
        self._atomics = a = _atomic.backend()
        self._address = address = mapping.address + data_offset
        self._ring_offset = data_offset + ring_at  # in the mapping
        tag = a.load32(address + _TAG)
        if tag != self.TAG:
            raise InvalidHandle("the handle names not %s (tag %#010x)" % (self.WHAT, tag))
        found = a.load64(address + _CAPACITY)
        if found != capacity:
            raise InvalidHandle("its state says capacity %d, its description %d" % (found, capacity))
        cell = a.load32(address + _GET_LOCK + _Cell.tag.offset)
        if cell != _TAG_LOCK:
            raise InvalidHandle("its getters' lock cell is not a Lock (tag %#010x)" % cell)
        self._capacity = capacity
        # Bound once: every operation is a handful of foreign calls.
        self._load32, self._load64, self._add32, self._cas64 = a.load32, a.load64, a.add32, a.cas64
        self._store32 = a.store32
        self._closed_at = address + _CLOSED
        self._getters_at = address + _GETTERS
        self._putters_at = address + _PUTTERS
        self._tail_at = address + _TAIL
        self._items_at = address + _ITEMS
        self._head_seen_at = address + _HEAD_SEEN
        self._head_at = address + _HEAD
        self._space_at = address + _SPACE
        self._tail_seen_at = address + _TAIL_SEEN
        # The words only the holder of a side's lock writes (`tail` and `head_seen` the
        # putters', `head` the getters'), read by that holder with a plain ctypes load: as
        # Rust's holders read them (relaxed; the lock orders them), for a sixth of what a
        # foreign call costs. Every other access to the state goes through the backend.
        self._tail_word = ctypes.c_uint64.from_address(address + _TAIL)
        self._head_seen_word = ctypes.c_uint64.from_address(address + _HEAD_SEEN)
        self._head_word = ctypes.c_uint64.from_address(address + _HEAD)
        self._uniform = self.TAG == _TAG_QUEUE
        self._fruitless = [0, 0]  # wake-ups of getters, of putters, in a row that woke nobody
        self._putters_lock = _LeanLock(lock._addr, "queue's lock")
        self._getters_lock = _LeanLock(address + _GET_LOCK, "queue's getters' lock")

    # -- the state -------------------------------------------------------------------------

    def _in_use(self, head, tail):
        """The units in use between `head` and `tail`, checked: ``InvalidHandle`` if another
        process left them inconsistent."""
        used = (tail - head) & _U64
        if used > self._capacity:
            raise InvalidHandle(
                "the queue's state is corrupt: %d units in use (head %d, tail %d) in a capacity of %d"
                % (used, head, tail, self._capacity)
            )
        return used

    def _store64(self, at, old, new, what):
        """Stores `new` in the 64-bit word at `at`, which holds `old` (under the lock nobody
        else changes it): one atomic compare-and-swap."""
        seen = self._cas64(at, old, new & _U64)
        if seen != old:
            raise InvalidHandle(
                "the queue's state is corrupt: its %s changed from %d to %d while this process held its lock"
                % (what, old, seen)
            )

    def _used(self):
        # `head` first: it only grows, so `tail` read after it is at least as far along.
        head = self._load64(self._head_at)
        tail = self._load64(self._tail_at)
        return min((tail - head) & _U64, self._capacity)

    def _is_closed(self):
        return self._load32(self._closed_at) != 0

    def _close(self):
        # Under the putters' lock when it can be had, so that no put is half-way through when
        # close returns; a death stays recorded for the next put to report.
        try:
            self._lock.acquire(warn=False)
        except (OSError, RuntimeError):
            locked = False
        else:
            locked = True
        try:
            self._store32(self._closed_at, 1)
        finally:
            if locked:
                self._lock.release()
        self._add32(self._items_at, 1)
        self._add32(self._space_at, 1)
        futex_wake(self._items_at, _WAKE_ALL)
        futex_wake(self._space_at, _WAKE_ALL)

    # -- waiting ---------------------------------------------------------------------------

    def _wake_sleepers(self, word, sleepers, n, side):
        """After a put (get): if a getter (putter) counts itself asleep in `sleepers`,
        changes `word` and wakes `n` of them; after ``_FRUITLESS`` wake-ups in a row that
        woke nobody (a sleeper killed in its sleep stays counted), starts a new epoch of the
        count with no sleepers, then changes `word` and wakes every sleeper on it (see the
        module docs)."""
        count = self._load32(sleepers)
        if count & _COUNT == 0:
            return
        self._add32(word, 1)
        if futex_wake(word, n) > 0:
            self._fruitless[side] = 0
            return
        self._fruitless[side] += 1
        if self._fruitless[side] >= _FRUITLESS:
            self._fruitless[side] = 0
            new = ((count & ~_COUNT) + _EPOCH) & _U32 & ~_COUNT
            if self._atomics.cas32(sleepers, count, new) == count:
                self._add32(word, 1)
                futex_wake(word, _WAKE_ALL)

    def _uncount(self, sleepers, epoch):
        """Takes a sleeper out of the count in `sleepers` if it is still of `epoch`."""
        now = self._load32(sleepers)
        while now & ~_COUNT & _U32 == epoch and now & _COUNT != 0:
            seen = self._atomics.cas32(sleepers, now, now - 1)
            if seen == now:
                return
            now = seen

    def _sleep(self, word, sleepers, deadline, ready):
        """Waits until ``ready()`` or the deadline (``False`` then), sleeping on `word` at
        most ``_RESCUE`` at a time, counted in `sleepers` (first count, then read the word,
        then look once more: see the module docs); ``True`` also when a rescue look is due,
        for the caller to look under the lock."""
        until = time.monotonic() + _RESCUE
        if deadline is not None and deadline < until:
            until = deadline
        load32, add32 = self._load32, self._add32
        while not ready():
            left = until - time.monotonic()
            if left <= 0:
                break
            epoch = (add32(sleepers, 1) + 1) & ~_COUNT & _U32
            try:
                seen = load32(word)
                if load32(sleepers) & ~_COUNT & _U32 != epoch:
                    continue  # wiped by a new epoch since: count again, in that one
                if ready():
                    return True
                woke = futex_wait(word, seen, left)
            finally:
                self._uncount(sleepers, epoch)
            if not woke:
                break
        if ready():
            return True
        return deadline is None or time.monotonic() < deadline

    def _pass_on(self, word, sleepers, n, pending):
        """Wakes `n` more sleepers on `word` if one is asleep and ``pending()``."""
        if self._load32(sleepers) & _COUNT != 0 and pending():
            self._add32(word, 1)
            futex_wake(word, n)

    def _putters_per_room(self, items):
        """How many putters a get of `items` items wakes: that many for a Queue (a freed
        slot is room for any one putter), all of them for a BytesQueue (the first might need
        more room than was freed)."""
        return items if self._uniform else _WAKE_ALL

    def _put(self, need, write, block, timeout, want=None):
        """Puts an item of `need` units (at most the capacity): ``write(tail, room)`` writes
        it under the putters' lock, then ``tail`` moves past it; how many items were put.
        With `want` (a batch, at least `need` units), ``write`` may write more, up to the
        `room` it is given, and returns ``(units, items)`` it wrote; each item wakes a
        sleeping getter. ``queue.Full`` if there is no room in time (at once if not
        `block`)."""
        deadline = deadline_after(timeout) if block else None
        load32 = self._load32
        capacity = self._capacity

        def room():
            return capacity - self._used() >= need

        slept = False
        while True:
            try:
                done = self._put_once(need, write, _lock_wait(block, deadline), want)
            except (ParticipantDied, InvalidHandle):
                if slept:  # a wake-up this putter took goes to another
                    self._pass_on(self._space_at, self._putters_at, self._putters_per_room(1), room)
                raise
            if done:
                _, items = done
                self._wake_sleepers(self._items_at, self._getters_at, items, 0)  # one getter each
                return items
            if not block:
                raise _stdqueue.Full
            if _passed(deadline):  # an attempt may have waited that long for the lock
                if slept:
                    self._pass_on(self._space_at, self._putters_at, self._putters_per_room(1), room)
                raise _stdqueue.Full
            slept = True
            if not self._sleep(self._space_at, self._putters_at, deadline,
                               lambda: room() or load32(self._closed_at) != 0):
                # Leaving: a wake-up this putter took may have been meant for another.
                self._pass_on(self._space_at, self._putters_at, self._putters_per_room(1), room)
                raise _stdqueue.Full

    def _put_once(self, need, write, lock_wait, want=None):
        """One attempt of ``_put`` under the putters' lock (waited for at most `lock_wait`
        seconds, ``None``: for ever): ``(units, items)`` put, ``0`` if there is no room, or
        the lock did not come free in time."""
        load32, load64 = self._load32, self._load64
        capacity = self._capacity
        lock = self._putters_lock
        before = lock.before()
        try:
            if not lock.acquire(lock_wait):
                return 0
            if load32(self._closed_at) != 0:
                raise Closed()
            tail = self._tail_word.value
            # The last look at `head` first: only when it says there is less room than
            # wanted, a new one.
            head_seen = self._head_seen_word.value
            used = (tail - head_seen) & _U64
            if used > capacity or capacity - used < min(want or need, capacity):
                head = load64(self._head_at)
                used = self._in_use(head, tail)
                # Only putters write it, under this lock: a store (as a compare-and-swap).
                self._cas64(self._head_seen_at, head_seen, head)
            if capacity - used < need:
                return 0
            wrote = write(tail, capacity - used)
            wrote, items = (need, 1) if wrote is None else wrote
            if not need <= wrote <= capacity - used:  # pragma: no cover - a bug of this module
                raise AssertionError("a put wrote %d units where %d to %d fit" % (wrote, need, capacity - used))
            self._store64(self._tail_at, tail, tail + wrote, "tail")
            return wrote, items
        finally:
            lock.give_back(before)

    def _put_first(self, need, write, arg):
        """A blocking put's first attempt, as ``_put_once`` makes it in fewer Python calls
        (most puts end here): ``write(tail, arg)`` writes the item of `need` units if there
        is room (without `write`, `arg` is a ``Queue`` element's bytes, written here: one
        Python call less on the most common path); ``False`` if there is none (the waiting,
        closing and timeouts are ``_put``'s)."""
        load64 = self._load64
        capacity = self._capacity
        lock = self._putters_lock
        before = lock.before()
        try:
            lock.acquire()
            if self._load32(self._closed_at) != 0:
                raise Closed()
            tail = self._tail_word.value
            # The last look at `head` first: only when it says there is no room, a new one.
            head_seen = self._head_seen_word.value
            used = (tail - head_seen) & _U64
            if used > capacity or capacity - used < need:
                head = load64(self._head_at)
                used = self._in_use(head, tail)
                self._cas64(self._head_seen_at, head_seen, head)
                if capacity - used < need:
                    return False
            if write is None:
                at = self._ring_offset + (tail % capacity) * self._size
                self._mm[at : at + len(arg)] = arg
            else:
                write(tail, arg)
            self._store64(self._tail_at, tail, tail + need, "tail")
        finally:
            lock.give_back(before)
        if self._load32(self._getters_at) & _COUNT != 0:
            self._wake_sleepers(self._items_at, self._getters_at, 1, 0)
        return True

    def _get_first(self, read):
        """A blocking get's first attempt, as ``_get_once`` makes it in fewer Python calls
        (most gets end here): what ``read(head, used)`` reads (it returns ``(result,
        units)``, one item; without `read`, a ``Queue``'s element, read here), or ``_NONE``
        if the ring is empty (the waiting, closing and timeouts are ``_get``'s)."""
        load64 = self._load64
        lock = self._getters_lock
        before = lock.before()
        try:
            lock.acquire()
            head = self._head_word.value
            used = self._in_use(head, load64(self._tail_at))
            if used == 0:
                return _NONE
            if read is None:
                at = self._ring_offset + (head % self._capacity) * self._size
                result, took = self._ctype.from_buffer_copy(self._mm, at), 1
                if self._scalar:
                    result = result.value
            else:
                result, took = read(head, used)
            self._store64(self._head_at, head, head + took, "head")
        finally:
            lock.give_back(before)
        if self._load32(self._putters_at) & _COUNT != 0:
            self._wake_sleepers(self._space_at, self._putters_at, self._putters_per_room(1), 1)
        return result

    def _get(self, read, block, timeout):
        """Takes what ``read(head, used)`` reads under the getters' lock (it returns
        ``(result, units, count)``: the units it took, and how many items), then ``head``
        moves past them. ``queue.Empty`` if nothing came in time (at once if not `block`),
        ``Closed`` once closed and empty."""
        deadline = deadline_after(timeout) if block else None
        load32 = self._load32

        def some():
            return self._used() > 0

        slept = False
        while True:
            try:
                got = self._get_once(read, _lock_wait(block, deadline))
            except (ParticipantDied, InvalidHandle):
                if slept:  # a wake-up this getter took goes to another
                    self._pass_on(self._items_at, self._getters_at, 1, some)
                raise
            if got is not None:
                result, count = got
                self._wake_sleepers(self._space_at, self._putters_at, self._putters_per_room(count), 1)
                return result
            if not block:
                raise _stdqueue.Empty
            if _passed(deadline):  # an attempt may have waited that long for the lock
                if slept:
                    self._pass_on(self._items_at, self._getters_at, 1, some)
                raise _stdqueue.Empty
            slept = True
            if not self._sleep(self._items_at, self._getters_at, deadline,
                               lambda: some() or load32(self._closed_at) != 0):
                self._pass_on(self._items_at, self._getters_at, 1, some)
                raise _stdqueue.Empty

    def _get_once(self, read, lock_wait):
        """One attempt of ``_get`` under the getters' lock (waited for at most `lock_wait`
        seconds, ``None``: for ever): ``(result, count)``, or ``None`` if the ring is empty
        or the lock did not come free in time; ``Closed`` once closed and empty."""
        load32, load64 = self._load32, self._load64
        lock = self._getters_lock
        while True:
            before = lock.before()
            try:
                if not lock.acquire(lock_wait):
                    return None
                head = self._head_word.value
                # Always a new look at `tail`, and `tail_seen` left as it is (Rust's getters
                # look at their last one first and keep it; here each foreign call costs more
                # than the cache line it would save, and `get_many` takes everything that is
                # there). It stays at most `tail`, as the protocol needs.
                tail = load64(self._tail_at)
                used = self._in_use(head, tail)
                if used > 0:
                    result, took, count = read(head, used)
                    self._store64(self._head_at, head, head + took, "head")
                    return result, count
                if load32(self._closed_at) == 0:
                    return None
                # Every put that returned before the close is in `tail` by now.
                if load64(self._tail_at) == head:
                    raise Closed()
            finally:
                lock.give_back(before)

    # -- the API both queues share ----------------------------------------------------------

    @property
    def capacity(self):
        """The queue's capacity: slots (a Queue) or bytes (a BytesQueue)."""
        return self._capacity

    def close(self):
        """Closes the queue, for every process: later puts raise ``Closed``, gets drain what
        is left and then raise ``Closed``, and everyone waiting is woken to see it. (Unlike
        CPython's ``Queue.close()``, which only closes this process's end, this ends the
        stream for every consumer, as Rust's ``close`` does.)"""
        self._close()

    def is_closed(self):
        """True once closed (by any process)."""
        return self._is_closed()

    @property
    def closed(self):
        """True once closed (by any process)."""
        return self._is_closed()

    def put_nowait(self, item):
        """``put(item, False)``: ``queue.Full`` unless there is room now."""
        return self.put(item, False)

    def get_nowait(self):
        """``get(False)``: ``queue.Empty`` unless an item is there now."""
        return self.get(False)

    def __iter__(self):
        """Gets until the queue is closed and drained, going on past a death report
        (``ParticipantDied``); any other error is raised."""
        while True:
            try:
                yield self.get()
            except Closed:
                return
            except ParticipantDied:
                continue


class Queue(_Ring):
    """A bounded FIFO of records in shared memory (``multiprocessing.Queue(maxsize)``): the
    Rust ``Queue<T>``, opened with ``open_named``, ``inherited`` or ``from_handle``.

    Items come out as the element type: a ``ctypes`` structure (or array) rebuilt from the
    layout description the queue carries (or `cls`, checked against it), a copy in this
    process's memory; or a Python scalar (``int``, ``float``, ``bytes`` of 1 for ``CChar``,
    ``bool``, ``str`` of 1 for ``WChar``) for a scalar element type. ``put`` takes an instance
    of that type (or of any ``ctypes`` class with the same layout), a scalar, a tuple or list
    of the fields' values (nested structs and arrays as tuples or lists, a ``CChar`` array as
    ``bytes``), or a dict of them by field name.

    ``put(item, block=True, timeout=None)`` and ``get(block=True, timeout=None)`` raise
    ``queue.Full`` and ``queue.Empty`` as CPython's queues do; ``Closed`` once closed (a
    ``get`` drains what is left first); ``ParticipantDied`` (once, on the side it died: the
    next put after a putter's death, the next get after a getter's) after a process died in
    the middle of an operation, which then did nothing. ``put_many(items)`` puts as many
    as fit in one go, ``get_many(n)`` takes up to `n` items in one go, ``get_array(n)``
    returns them as one ``ctypes`` array.
    """

    TAG = _TAG_QUEUE
    WHAT = "a queue"

    def __init__(self, mapping, data_offset, layout, capacity, lock, cls=None):
        from . import _queue_layout

        ctype = layout.ctype()
        if cls is not None:
            _check_ctype(cls, layout)
            ctype = cls
        self.layout = layout
        self._ctype = ctype
        self._scalar = layout.kind == "primitive"
        self._size = size = layout.size
        ring_at, length, align = _queue_layout(layout, capacity)
        super().__init__(mapping, data_offset, ring_at, length, align, capacity, lock)
        if size == 0:
            raise InvalidHandle("a queue of an element type of 0 bytes")
        self._fields = [(f[0], f[3]) for f in layout.fields] if layout.kind == "struct" else None

    @property
    def element_type(self):
        """The ``ctypes`` type of the items."""
        return self._ctype

    # -- items in and out --

    def _to_bytes(self, item):
        """The bytes of `item` as an element (see the class docs); ``TypeError`` or
        ``ValueError`` naming what does not fit."""
        if type(item) is self._ctype and not self._scalar:
            data = bytes(item)
        else:
            data = _encode(self.layout, item)
        if len(data) != self._size:  # pragma: no cover - a bug of this module
            raise AssertionError("%d bytes for an element of %d" % (len(data), self._size))
        return data

    def put(self, item, block=True, timeout=None):
        """Puts `item` at the back, waiting while the queue is full (at most `timeout`
        seconds; not at all if not `block`): ``queue.Full`` if there was no room.
        ``Closed`` once closed; ``ParticipantDied`` (once) after a process died in the middle
        of an operation: `item` was not put."""
        data = self._to_bytes(item)  # before the lock: a bad item changes nothing
        if block and timeout is None and self._put_first(1, None, data):
            return
        self._put(1, lambda tail, room: self._write_slot(tail, data), block, timeout)

    def put_many(self, items, block=True, timeout=None):
        """Puts as many of `items` (a sequence) as there is room for, in order and at once,
        waiting while the queue is full (at most `timeout` seconds; not at all if not
        `block`): how many were put, at least one (``0`` for no items, without a look at the
        queue); the rest (``items[n:]``) is the caller's to put again. One lock and one
        wake-up per batch; getters see the whole batch at once, and a process killed in the
        middle of one puts none of it. ``queue.Full`` if there was no room in time;
        ``Closed``, ``ParticipantDied`` as for ``put`` (nothing was put). The items that could
        go in (at most a queue's capacity of them: a call looks at no more) are checked
        before the lock is taken: a bad one changes nothing."""
        if not hasattr(items, "__len__"):
            # What does not fit is the caller's to put again: an iterator would lose it.
            raise TypeError("put_many takes a sequence (a list, a tuple, a ctypes array), not %s"
                            % type(items).__name__)
        blob, n = self._encode_many(itertools.islice(items, self._capacity))
        if n == 0:
            return 0

        def write(tail, room):
            # One copy up to the end of the ring, one from its start.
            k = min(room, n)
            capacity, size, ring = self._capacity, self._size, self._ring_offset
            first = tail % capacity
            upto = min(k, capacity - first)
            self._mm[ring + first * size : ring + (first + upto) * size] = blob[: upto * size]
            if upto < k:
                self._mm[ring : ring + (k - upto) * size] = blob[upto * size : k * size]
            return k, k

        return self._put(1, write, block, timeout, want=n)

    def _encode_many(self, items):
        """The bytes of `items` as elements, one after the other, and how many. Plain Python
        numbers (``int``, ``float``, ``bool``) for a queue of a numeric scalar are packed in
        one ``struct.pack``, which refuses what ``_to_bytes`` refuses (on a refusal,
        ``_to_bytes`` of each item names the culprit); anything else goes through
        ``_to_bytes`` one by one."""
        items = list(items)
        fmt = _SCALAR_FORMATS.get(self.layout.name) if self._scalar else None
        if (fmt is not None and self.layout.name not in ("CChar", "CBool")
                and all(type(x) in (int, float, bool) for x in items)):
            try:
                return struct.pack("<%d%s" % (len(items), fmt[1:]), *items), len(items)
            except (struct.error, OverflowError, TypeError):
                pass
        return b"".join(self._to_bytes(item) for item in items), len(items)

    def _write_slot(self, tail, data):
        at = self._ring_offset + (tail % self._capacity) * self._size
        self._mm[at : at + len(data)] = data

    def get(self, block=True, timeout=None):
        """Takes the item at the front, waiting while the queue is empty (at most `timeout`
        seconds; not at all if not `block`): ``queue.Empty`` if nothing came. ``Closed`` once
        closed and drained; ``ParticipantDied`` (once) after a process died in the middle of
        an operation: nothing was taken."""
        if block and timeout is None:
            item = self._get_first(None)
            if item is not _NONE:
                return item
        return self._get(self._read_one, block, timeout)

    def _read_item(self, head, used):
        """The item at `head`, and the one slot it takes."""
        item = self._ctype.from_buffer_copy(self._mm, self._ring_offset + (head % self._capacity) * self._size)
        return (item.value if self._scalar else item), 1

    def _read_one(self, head, used):
        """``_get``'s read of one item at `head`."""
        item, took = self._read_item(head, used)
        return item, took, 1

    def _take(self, n, block, timeout):
        """Up to `n` items (at least 1) as a ``ctypes`` array, in one operation."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError("get_many(n) needs n of at least 1, not %r" % (n,))
        ctype, mm, size, capacity, ring = self._ctype, self._mm, self._size, self._capacity, self._ring_offset

        def read(head, used):
            k = min(n, used)
            out = (ctype * k)()
            first = head % capacity
            upto = min(k, capacity - first)  # up to the end of the ring, then from its start
            ctypes.memmove(out, self._mapping.address + ring + first * size, upto * size)
            if upto < k:
                ctypes.memmove(ctypes.addressof(out) + upto * size, self._mapping.address + ring, (k - upto) * size)
            return out, k, k

        return self._get(read, block, timeout)

    def get_many(self, n, block=True, timeout=None):
        """Takes up to `n` items at once: waits as ``get`` does for the first, then takes
        every item there is, up to `n`, in one operation (one lock, one wake-up); a list of
        at least one item. Much cheaper per item than ``get`` when items are waiting."""
        return list(self._take(n, block, timeout))

    def get_array(self, n, block=True, timeout=None):
        """``get_many`` as one ``ctypes`` array of the items (``len()`` of 1 to `n`), a copy
        in this process's memory: no Python object per item (numpy wraps it with
        ``numpy.frombuffer(arr, dtype)`` or ``numpy.ctypeslib.as_array(arr)``)."""
        return self._take(n, block, timeout)

    def qsize(self):
        """Items in the queue now (another process may change it at once)."""
        return self._used()

    def empty(self):
        """True if the queue holds no item now."""
        return self._used() == 0

    def full(self):
        """True if the queue is full now."""
        return self._used() >= self._capacity

    def __repr__(self):
        return "<sharedctypes.Queue of %s: %d/%d items%s>" % (
            self.layout.name,
            self._used(),
            self._capacity,
            ", closed" if self._is_closed() else "",
        )


# Rust scalar name -> struct format (little-endian, standard sizes: these check ranges).
_SCALAR_FORMATS = {
    "i8": "<b",
    "u8": "<B",
    "i16": "<h",
    "u16": "<H",
    "i32": "<i",
    "u32": "<I",
    "i64": "<q",
    "u64": "<Q",
    "isize": "<q",
    "usize": "<Q",
    "f32": "<f",
    "f64": "<d",
    "CChar": "<c",
    "CBool": "<?",
}


def _encode_scalar(name, value):
    if name == "WChar":
        if not isinstance(value, str) or len(value) != 1:
            raise TypeError("a WChar is a str of one character, not %r" % (value,))
        return ord(value).to_bytes(4, "little")
    if name == "CChar" and isinstance(value, int) and not isinstance(value, bool):
        if not 0 <= value <= 255:
            raise ValueError("%d does not fit a CChar (0 to 255)" % value)
        return bytes((value,))
    if name not in ("f32", "f64", "CBool", "CChar") and not hasattr(value, "__index__"):
        raise TypeError("a %s is an integer, not %s" % (name, type(value).__name__))
    try:
        return struct.pack(_SCALAR_FORMATS[name], value)
    except (struct.error, OverflowError) as e:
        raise ValueError("%r does not fit a %s (%s)" % (value, name, e)) from None


def _encode(layout, value):
    """The bytes of an element of `layout` from a Python value: a scalar, a sequence (fields
    in order, or array elements), a dict of fields by name, ``bytes`` for a ``CChar`` array
    (padded with zeros), or a ``ctypes`` instance of the same layout (checked).
    ``TypeError`` or ``ValueError`` naming what does not fit."""
    if isinstance(value, (ctypes.Structure, ctypes.Union, ctypes.Array, ctypes._SimpleCData)):
        _check_ctype(type(value), layout)
        # Its memory, not ``bytes(value)``: that asks ``__index__`` first, and a subclass
        # that defines one would give that many zero bytes.
        return ctypes.string_at(ctypes.addressof(value), ctypes.sizeof(value))
    if layout.kind == "primitive":
        return _encode_scalar(layout.name, value)
    if layout.kind == "array":
        elem = layout.elem
        if elem.kind == "primitive" and elem.name == "CChar" and isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
            if len(data) > layout.length:
                raise ValueError("%d bytes for an array of %d CChar" % (len(data), layout.length))
            return data + bytes(layout.length - len(data))
        if isinstance(value, (str, bytes, dict)) or not hasattr(value, "__len__"):
            raise TypeError("an array of %d elements is a sequence, not %s" % (layout.length, type(value).__name__))
        if len(value) != layout.length:
            raise ValueError("%d values for an array of %d elements" % (len(value), layout.length))
        return b"".join(_encode(elem, v) for v in value)
    # A struct: fields by name (a dict) or in order (a sequence); holes are zero.
    names = [f[0] for f in layout.fields]
    if isinstance(value, dict):
        unknown = [k for k in value if k not in names]
        if unknown:
            raise TypeError("%s has no field %r" % (layout.name, unknown[0]))
        missing = [n for n in names if n not in value]
        if missing:
            raise ValueError("no value for the field %r of %s" % (missing[0], layout.name))
        values = [value[n] for n in names]
    else:
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
            raise TypeError(
                "a %s is a ctypes instance, a tuple or list of its %d fields (%s) or a dict of them, not %s"
                % (layout.name, len(names), ", ".join(names), type(value).__name__)
            )
        if len(value) != len(names):
            raise ValueError(
                "%d values for the %d fields of %s (%s)" % (len(value), len(names), layout.name, ", ".join(names))
            )
        values = value
    out = bytearray(layout.size)
    for (_name, offset, _type_name, field), v in zip(layout.fields, values):
        out[offset : offset + field.size] = _encode(field, v)
    return bytes(out)


def _footprint(length):
    """The ring bytes a message of `length` bytes takes: its prefix, and itself rounded up
    to 8."""
    return _PREFIX + (length + 7) // 8 * 8


class BytesQueue(_Ring):
    """A bounded FIFO of byte messages in shared memory (``multiprocessing.Queue`` of
    pickled objects): the Rust ``BytesQueue``, opened with ``open_named``, ``inherited`` or
    ``from_handle``. Each message is any ``bytes``-like of up to ``max_message`` bytes
    (``capacity - 8``); it takes its length rounded up to 8, plus 8, of the ring.

    ``put(message, block=True, timeout=None)``, ``get(block=True, timeout=None) -> bytes``,
    and the rest as for ``Queue``; ``MessageTooLarge`` (a ``ValueError``) for a message that
    can never fit. To send objects, pickle them: ``q.put(pickle.dumps(obj))`` and
    ``pickle.loads(q.get())`` (only from processes you trust, as always with pickle).
    """

    TAG = _TAG_BYTES_QUEUE
    WHAT = "a BytesQueue"

    def __init__(self, mapping, data_offset, capacity, lock):
        from . import _queue_layout

        if capacity < _PREFIX or capacity % 8:
            raise InvalidHandle("a BytesQueue of %d bytes, not a non-zero multiple of 8" % capacity)
        ring_at, length, align = _queue_layout(None, capacity)
        super().__init__(mapping, data_offset, ring_at, length, align, capacity, lock)

    @property
    def max_message(self):
        """The longest message the queue can hold: its capacity less 8."""
        return self._capacity - _PREFIX

    def put(self, message, block=True, timeout=None):
        """Puts `message` (``bytes``, ``bytearray``, ``memoryview``...) at the back, waiting
        while there is not room for it (at most `timeout` seconds; not at all if not
        `block`): ``queue.Full`` if there was none. ``MessageTooLarge`` if it could never fit;
        ``Closed`` once closed; ``ParticipantDied`` (once) after a process died in the middle
        of an operation: the message was not put."""
        need, message = self._prepare(message)
        if need > self._capacity:
            raise MessageTooLarge(message[0], self._capacity)
        if block and timeout is None and self._put_first(need, self._write, message):
            return
        self._put(need, lambda tail, room: self._write(tail, message), block, timeout)

    @staticmethod
    def _prepare(message):
        """The units `message` takes, and ``(length, bytes padded to a multiple of 8)``."""
        data = bytes(memoryview(message).cast("B")) if not isinstance(message, bytes) else message
        length = len(data)
        need = _footprint(length)
        return need, (length, data + bytes(need - _PREFIX - length))

    def put_many(self, messages, block=True, timeout=None):
        """Puts as many of `messages` (a sequence) as there is room for, in order and at
        once, waiting while there is not room for the first (at most `timeout` seconds; not
        at all if not `block`): how many were put, at least one (``0`` for none, without a
        look at the queue); the rest (``messages[n:]``) is the caller's to put again. A later
        message that could never fit ends the batch before it (the call that starts with it
        raises ``MessageTooLarge``). One lock for the batch; getters see it all at once.
        ``queue.Full``, ``MessageTooLarge``, ``Closed``, ``ParticipantDied`` as for ``put``
        (for the first message): nothing was put."""
        if not hasattr(messages, "__len__"):
            raise TypeError("put_many takes a sequence (a list, a tuple), not %s" % type(messages).__name__)
        capacity = self._capacity
        prepared = []
        total = 0
        for m in messages:  # as far as the messages that could ever fit go, a ring's worth
            need, message = self._prepare(m)
            if need > capacity:
                if not prepared:
                    raise MessageTooLarge(message[0], capacity)
                break
            prepared.append((need, message))
            total += need
            if total >= capacity:
                break
        if not prepared:
            return 0

        def write(tail, room):
            units = items = 0
            for need, message in prepared:
                if need > room - units:
                    break
                self._write(tail + units, message)
                units += need
                items += 1
            return units, items

        return self._put(prepared[0][0], write, block, timeout, want=sum(n for n, _ in prepared))

    def _write(self, tail, message):
        """Writes `message` (its length, and its bytes padded to a multiple of 8) at `tail`."""
        length, padded = message
        capacity, mm, ring = self._capacity, self._mm, self._ring_offset
        at = tail % capacity
        if at % 8:
            raise InvalidHandle(
                "the BytesQueue's state is corrupt: its next message goes at byte %d, not a multiple of 8" % tail
            )
        mm[ring + at : ring + at + _PREFIX] = length.to_bytes(8, "little")
        at = (at + _PREFIX) % capacity
        first = min(len(padded), capacity - at)
        mm[ring + at : ring + at + first] = padded[:first]
        if first < len(padded):
            mm[ring : ring + len(padded) - first] = padded[first:]

    def _read(self, head, used):
        """The message at `head` (`used` bytes in use) and the bytes it takes, checked."""
        capacity, mm, ring = self._capacity, self._mm, self._ring_offset
        if head % 8:
            raise InvalidHandle(
                "the BytesQueue's state is corrupt: its next message is at byte %d, not a multiple of 8" % head
            )
        at = head % capacity
        length = int.from_bytes(mm[ring + at : ring + at + _PREFIX], "little")
        took = _footprint(length)
        if took > used:
            raise InvalidHandle(
                "the BytesQueue's state is corrupt: a message of %d bytes where %d bytes are in use" % (length, used)
            )
        at = (at + _PREFIX) % capacity
        first = min(length, capacity - at)
        data = mm[ring + at : ring + at + first]
        if first < length:
            data += mm[ring : ring + length - first]
        return data, took

    def get(self, block=True, timeout=None):
        """Takes the message at the front (``bytes``), waiting while there is none (at most
        `timeout` seconds; not at all if not `block`): ``queue.Empty`` if nothing came.
        ``Closed`` once closed and drained; ``ParticipantDied`` (once) after a process died
        in the middle of an operation: nothing was taken."""
        if block and timeout is None:
            data = self._get_first(self._read)
            if data is not _NONE:
                return data

        def read(head, used):
            data, took = self._read(head, used)
            return data, took, 1

        return self._get(read, block, timeout)

    def get_many(self, n, block=True, timeout=None):
        """Takes up to `n` messages at once: waits as ``get`` does for the first, then takes
        every message there is, up to `n`, in one operation; a list of at least one."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError("get_many(n) needs n of at least 1, not %r" % (n,))

        def read(head, used):
            out = []
            took = 0
            while took < used and len(out) < n:
                data, t = self._read(head + took, used - took)
                out.append(data)
                took += t
            return out, took, len(out)

        return self._get(read, block, timeout)

    def used_bytes(self):
        """Bytes of ring in use now (messages with their prefixes and padding)."""
        return self._used()

    def qsize(self):
        """Messages in the queue now, counted under the getters' lock (another process may
        change it at once). Like every operation that takes that lock, reports a getter's
        death once (``ParticipantDied``)."""
        before = self._getters_lock.before()
        try:
            self._getters_lock.acquire()
            head = self._load64(self._head_at)
            used = self._in_use(head, self._load64(self._tail_at))
            count = took = 0
            while took < used:
                took += self._read(head + took, used - took)[1]
                count += 1
            return count
        finally:
            self._getters_lock.give_back(before)

    def empty(self):
        """True if no message is in the queue now."""
        return self._used() == 0

    def full(self):
        """True if not even an empty message fits now (less than 8 bytes free)."""
        return self._capacity - self._used() < _PREFIX

    def __repr__(self):
        return "<sharedctypes.BytesQueue: %d/%d bytes used%s>" % (
            self._used(),
            self._capacity,
            ", closed" if self._is_closed() else "",
        )
