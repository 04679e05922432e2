"""Queue and BytesQueue from Python (docs/format.md section 6, "queue (SQU2) and bytes queue
(SBQ2)"): named queues laid out as Rust's ``create_named`` lays them out (real robust lock
cells: the putters' lock part and the getters' cell in the state), used from threads and from forked processes, every word of their state checked after
each step; records and messages of every shape and length, FIFO order, timeouts, close,
validation of what shared memory holds, and processes that die in the middle of an
operation.
"""

import ctypes
import errno
import math
import mmap
import os
import queue
import random
import signal
import struct
import subprocess
import sys
import textwrap
import threading
import time
import unittest

import sharedctypes as sc
from sharedctypes import _queue

from tests import support

SQU2 = support.tag(b"SQU2")
SBQ2 = support.tag(b"SBQ2")
# The getters' lock cell in the state.
GET_LOCK = 192

# A record with holes, a nested array and a CChar array: 32 bytes, align 8.
REC = (
    "Rec(32,8){id@0:u8=u8,at@4:i32=i32,vals@8:%5Bf32%3B%203%5D=[f32;3],"
    "tag@20:%5BCChar%3B%204%5D=[CChar;4],ok@24:bool=CBool,big@26:u16=u16}"
)
# A record of 1 KiB: a kill lands inside an operation (copying it) often.
BIG = "Big(1024,8){seq@0:u64=u64,words@8:%5Bu64%3B%20126%5D=[u64;126],check@1016:u64=u64}"


def _round_up(n, m):
    return (n + m - 1) // m * m


class Forged:
    """A named queue laid out as Rust's ``Queue::create_named`` / ``BytesQueue::create_named``
    would (header, a Lock's cell at the next multiple of 64, the data part at the next
    multiple of 64 or of the element alignment, whole pages; the getters' Lock cell at offset
    192 of the state), state words given; removed when the test ends. ``state(...)`` reads
    the state back."""

    def __init__(self, testcase, capacity, layout_text=None, recursive=False, closed=0, head=0, tail=0,
                 state_capacity=None, tag=None, type_name="T"):
        layout = sc.parse_layout(layout_text) if layout_text else None
        kind = 10 if layout else 11
        name_b = type_name.encode() if layout else b""
        layout_b = layout_text.encode() if layout else b""
        header_len = support.FIXED + len(name_b) + len(layout_b)
        lock_offset = _round_up(header_len, 64)
        align = max(8, layout.align) if layout else 8
        self.data_offset = _round_up(lock_offset + support.LOCK_CELL, max(64, align))
        self.ring_at = max(256, layout.align) if layout else 256
        length = self.ring_at + capacity * (layout.size if layout else 1)
        total = _round_up(self.data_offset + length, support.PAGE)
        image = bytearray(total)
        support.HEADER.pack_into(
            image, 0, b"SHCTYPES", 2, 1, header_len, kind, 2 if recursive else 1, 0,
            layout.fingerprint if layout else 0, layout.size if layout else 0, layout.align if layout else 0,
            capacity, lock_offset, self.data_offset, total, len(name_b), len(layout_b), 0, 0,
        )
        image[support.FIXED : header_len] = name_b + layout_b
        struct.pack_into(
            "<IIQ", image, self.data_offset,
            tag if tag is not None else (SQU2 if layout else SBQ2), closed,
            capacity if state_capacity is None else state_capacity,
        )
        struct.pack_into("<Q", image, self.data_offset + 64, tail)
        struct.pack_into("<Q", image, self.data_offset + 128, head)
        self.name = support.plant(testcase, image, lock_offset, recursive)
        self.path = os.path.join(support.SHM, self.name)
        self.lock_offset = lock_offset
        with open(self.path, "r+b") as fh, mmap.mmap(fh.fileno(), total) as mm:
            support.init_lock_cell(mm, self.data_offset + GET_LOCK, False)

    def read(self, at, n):
        with open(self.path, "rb") as fh:
            fh.seek(at)
            return fh.read(n)

    def state(self):
        """``(closed, head, tail, items, space, getters, putters, capacity)``."""
        words = self.read(self.data_offset, 160)
        closed, capacity, getters, putters = struct.unpack_from("<4xIQII", words, 0)
        tail, items = struct.unpack_from("<QI", words, 64)
        head, space = struct.unpack_from("<QI", words, 128)
        return (closed, head, tail, items, space, getters, putters, capacity)

    def seen(self):
        """``(head_seen, tail_seen)``: each side's last look at the other's end."""
        words = self.read(self.data_offset, 160)
        return struct.unpack_from("<Q", words, 80) + struct.unpack_from("<Q", words, 144)

    def ring(self, n):
        """The first `n` bytes of the ring."""
        return self.read(self.data_offset + self.ring_at, n)

    def cell(self, getters=False):
        """``(owner tid, holder, depth, died, tag)`` of the putters' lock cell (the queue's
        lock part), or of the getters' cell in the state."""
        at = self.data_offset + GET_LOCK if getters else self.lock_offset
        return struct.unpack("<i", self.read(at + 8, 4)) + struct.unpack("<iIiI", self.read(at + 40, 16))


def fork(body):
    """Runs ``body()`` in a forked child, which exits 0 if it returns, 1 (printing the
    error) if it raises; the child's pid."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            body()
            code = 0
        except BaseException as e:  # noqa: B902
            os.write(2, ("child: %s: %s\n" % (type(e).__name__, e)).encode())
        finally:
            os._exit(code)
    return pid


def reap_killed(pid):
    """Kills the child `pid` if it still runs, and reaps it (for a cleanup)."""
    try:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass


def reap(pid, timeout=30):
    """The child's wait status, failing (after killing it) if it runs longer than `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("child %d did not end within %s s" % (pid, timeout))
        time.sleep(0.001)


class QueueOfScalars(unittest.TestCase):
    def setUp(self):
        self.f = Forged(self, 4, "u32")
        self.q = sc.open_named(self.f.name)

    def test_put_and_get_move_head_and_tail_and_bump_the_words(self):
        q = self.q
        self.assertIsInstance(q, sc.Queue)
        self.assertEqual((q.capacity, q.qsize(), q.empty(), q.full(), q.closed), (4, 0, True, False, False))
        for x in (7, 8, 0xFFFFFFFF):
            q.put(x)
        # Nobody asleep: `items` and `space` are not touched.
        self.assertEqual(self.f.state(), (0, 0, 3, 0, 0, 0, 0, 4))
        self.assertEqual(self.f.ring(16), struct.pack("<4I", 7, 8, 0xFFFFFFFF, 0))
        self.assertEqual(q.get(), 7)
        self.assertEqual(self.f.state(), (0, 1, 3, 0, 0, 0, 0, 4))
        # Python's getters read `tail` afresh and leave `tail_seen` (a foreign call more).
        self.assertEqual(self.f.seen(), (0, 0))
        q.put_nowait(9)
        q.put(10, timeout=1)
        self.assertEqual((q.qsize(), q.full(), q.empty()), (4, True, False))
        # The fifth unit went to slot 0 again.
        self.assertEqual(self.f.ring(16), struct.pack("<4I", 10, 8, 0xFFFFFFFF, 9))
        self.assertEqual([q.get_nowait() for _ in range(4)], [8, 0xFFFFFFFF, 9, 10])
        self.assertEqual(self.f.state(), (0, 5, 5, 0, 0, 0, 0, 4))
        # The putter that found the ring full looked at `head` (1).
        self.assertEqual(self.f.seen(), (1, 0))
        self.assertEqual(repr(q), "<sharedctypes.Queue of u32: 0/4 items>")
        # Both locks are free and their cells as the protocol leaves them.
        self.assertEqual(self.f.cell(), (0, 0, 0, 0, support.TAG_LOCK))
        self.assertEqual(self.f.cell(getters=True), (0, 0, 0, 0, support.TAG_LOCK))

    def test_fifo_order_holds_around_a_small_ring(self):
        q = self.q
        out = []
        n = 0
        for round_ in range(60):
            for _ in range(round_ % 4 + 1):
                if not q.full():  # one thread: a put on a full queue would wait for ever
                    q.put(n)
                    n += 1
            for _ in range(round_ % 3 + 1):
                if not q.empty():
                    out.append(q.get())
        while not q.empty():
            out.append(q.get())
        self.assertEqual(out, list(range(n)))
        self.assertEqual(self.f.state()[1:3], (n, n))

    def test_put_many_puts_what_fits_at_once_and_waits_for_room(self):
        q = self.q
        self.assertEqual(q.put_many([]), 0)
        self.assertEqual(q.put_many([1, 2, 3]), 3)
        self.assertEqual(self.f.state()[1:3], (0, 3))  # `tail` moved once, by three
        self.assertEqual(q.get_many(3), [1, 2, 3])
        # Its last look at `head` (0) showed room for one: a batch of four looks again.
        self.assertEqual(q.put_many([4, 5, 6, 7, 8]), 4)
        self.assertEqual(self.f.seen(), (3, 0))
        self.assertEqual(self.f.ring(16), struct.pack("<4I", 5, 6, 7, 4))  # around the end
        with self.assertRaises(queue.Full):
            q.put_many([8], timeout=0.01)
        with self.assertRaises(queue.Full):
            q.put_many([8], block=False)
        # A waiting batch is put when room comes, as much of it as fits.
        thread, results = support.in_thread(q.put_many, [8, 9, 10])
        self.assertTrue(support.wait_until(lambda: self.f.state()[6] == 1))  # putters
        self.assertEqual(q.get_many(2), [4, 5])
        thread.join(30)
        self.assertEqual(results, [2])
        self.assertEqual(q.get_many(10), [6, 7, 8, 9])
        # put_many takes what put takes, and refuses what it refuses with the same error
        # (the first bad item's); a bad item anywhere in the batch: nothing is put.
        for bad, error in (([11, -1], ValueError), ([11, 1 << 32], ValueError), ([1.5], TypeError),
                           (["7"], TypeError), ([ctypes.c_int32(5)], sc.LayoutMismatch)):
            with self.subTest(bad=bad):
                with self.assertRaises(error) as caught:
                    q.put_many(bad)
                with self.assertRaises(error) as one:
                    q.put(bad[-1])
                self.assertEqual(str(caught.exception), str(one.exception))
        self.assertEqual(q.qsize(), 0)
        self.assertEqual(q.put_many([ctypes.c_uint32(11), True, 0xFFFFFFFF]), 3)
        self.assertEqual(q.get_many(3), [11, 1, 0xFFFFFFFF])
        # An iterator is refused: what does not fit would be lost with it.
        with self.assertRaises(TypeError):
            q.put_many(x for x in [1, 2])
        self.assertEqual(q.qsize(), 0)
        # A ctypes subclass that converts itself to a number is checked as put checks it,
        # and its memory is what goes in (``bytes()`` of it would ask ``__index__``).

        class Wrong(ctypes.c_int32):
            def __index__(self):
                return self.value

        class Right(ctypes.c_uint32):
            def __index__(self):
                return self.value

        for items in ([Wrong(5)], [5, Wrong(5)]):
            with self.assertRaises(sc.LayoutMismatch):
                q.put_many(items)
        with self.assertRaises(sc.LayoutMismatch):
            q.put(Wrong(5))
        q.put(Right(5))
        self.assertEqual(q.put_many([Right(6), 7]), 2)
        self.assertEqual(self.f.ring(12), struct.pack("<3I", 5, 6, 7))
        self.assertEqual(q.get_many(3), [5, 6, 7])
        q.close()
        with self.assertRaises(sc.Closed):
            q.put_many([12])

    def test_a_blocking_put_that_finds_no_room_by_its_last_look_looks_at_head_again(self):
        q = self.q
        for x in range(4):
            q.put(x)
        self.assertEqual(q.get_many(2), [0, 1])
        q.put(4)  # its last look at `head` (0) says full: it reads `head` (2) and keeps it
        self.assertEqual(self.f.seen(), (2, 0))
        q.put(5)  # room by its last look: no new one
        self.assertEqual(self.f.seen(), (2, 0))
        self.assertEqual(q.get_many(4), [2, 3, 4, 5])

    def test_put_many_of_floats_and_signed_integers_wraps_around_the_ring(self):
        f64 = sc.open_named(Forged(self, 3, "f64").name)
        f64.put(0.5)
        self.assertEqual(f64.get(), 0.5)
        self.assertEqual(f64.put_many([1, 2.5, -0.0, 9.0]), 3)  # from slot 1, around the end
        got = f64.get_many(3)
        self.assertEqual(got, [1.0, 2.5, 0.0])
        self.assertEqual(math.copysign(1, got[2]), -1.0)
        self.assertEqual(f64.put_many([float("nan"), True]), 2)
        nan, one = f64.get_many(2)
        self.assertTrue(math.isnan(nan))
        self.assertEqual(one, 1.0)
        i64 = sc.open_named(Forged(self, 4, "i64").name)
        self.assertEqual(i64.put_many([-1, -(1 << 63), (1 << 63) - 1]), 3)
        self.assertEqual(i64.get_many(3), [-1, -(1 << 63), (1 << 63) - 1])
        with self.assertRaises(ValueError):
            i64.put_many([1 << 63])

    def test_a_batch_wakes_a_sleeping_getter_per_item(self):
        q = self.q
        rescue, _queue._RESCUE = _queue._RESCUE, 60.0  # no look at 100 ms: only a wake-up
        try:
            threads = [support.in_thread(q.get, True, 30) for _ in range(3)]
            self.assertTrue(support.wait_until(lambda: self.f.state()[5] == 3))  # getters
            self.assertEqual(q.put_many([1, 2, 3]), 3)
            for thread, _ in threads:
                thread.join(10)
        finally:
            _queue._RESCUE = rescue
        self.assertEqual(sorted(r for _, results in threads for r in results), [1, 2, 3])

    def test_values_that_do_not_fit_are_refused_and_change_nothing(self):
        q = self.q
        for bad, error in ((-1, ValueError), (1 << 32, ValueError), (1.5, TypeError), ("7", TypeError)):
            with self.subTest(bad=bad):
                with self.assertRaises(error):
                    q.put(bad)
        self.assertEqual(self.f.state(), (0, 0, 0, 0, 0, 0, 0, 4))
        q.put(ctypes.c_uint32(5))
        with self.assertRaises(sc.LayoutMismatch):
            q.put(ctypes.c_int32(5))  # a signed integer where the queue holds u32
        self.assertEqual(q.get(), 5)

    def test_timeouts_raise_empty_and_full_within_bounds(self):
        q = self.q
        for call in (lambda: q.get(timeout=0.05), lambda: q.get(True, 0.05)):
            start = time.monotonic()
            with self.assertRaises(queue.Empty):
                call()
            self.assertTrue(0.05 <= time.monotonic() - start < 1.0)
        start = time.monotonic()
        for call in (q.get_nowait, lambda: q.get(False), lambda: q.get(timeout=-1), lambda: q.get(False, 10)):
            with self.assertRaises(queue.Empty):
                call()
        self.assertLess(time.monotonic() - start, 0.5)
        for x in range(4):
            q.put(x)
        start = time.monotonic()
        with self.assertRaises(queue.Full):
            q.put(4, timeout=0.05)
        self.assertTrue(0.05 <= time.monotonic() - start < 1.0)
        with self.assertRaises(queue.Full):
            q.put_nowait(4)
        with self.assertRaises(queue.Full):
            q.put(4, block=False)
        # Nobody counted asleep any more; nothing changed.
        self.assertEqual(self.f.state(), (0, 0, 4, 0, 0, 0, 0, 4))
        self.assertEqual(q.get_many(10), [0, 1, 2, 3])

    def test_a_waiting_getter_is_woken_by_a_put_and_a_waiting_putter_by_a_get(self):
        q = self.q
        thread, results = support.in_thread(q.get, True, 30)
        self.assertTrue(support.wait_until(lambda: self.f.state()[5] == 1))  # getters
        q.put(42)
        thread.join(30)
        self.assertEqual(results, [42])
        for x in range(4):
            q.put(x)
        # No timeout: the put's first attempt finds no room and leaves the waiting to `_put`.
        thread, results = support.in_thread(q.put, 4)
        self.assertTrue(support.wait_until(lambda: self.f.state()[6] == 1))  # putters
        self.assertEqual(q.get(), 0)
        thread.join(30)
        self.assertEqual(results, [None])
        self.assertEqual(q.get_many(8), [1, 2, 3, 4])
        self.assertEqual(self.f.state()[5:7], (0, 0))

    def test_close_refuses_puts_drains_gets_and_wakes_every_waiter(self):
        q = self.q
        getters = [support.in_thread(q.get, True, 30) for _ in range(2)]
        self.assertTrue(support.wait_until(lambda: self.f.state()[5] == 2))
        start = time.monotonic()
        q.close()
        for thread, _ in getters:
            thread.join(30)
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual([type(r[0]) for _, r in getters], [sc.Closed, sc.Closed])
        self.assertEqual(str(getters[0][1][0]), "the queue is closed")
        self.assertTrue(q.closed and q.is_closed())
        self.assertEqual(self.f.state(), (1, 0, 0, 1, 1, 0, 0, 4))
        with self.assertRaises(sc.Closed):
            q.put(1)
        with self.assertRaises(ValueError):  # as CPython's "Queue is closed"
            q.put_nowait(1)

    def test_close_wakes_a_waiting_putter_and_gets_drain_what_is_left(self):
        q = self.q
        for x in (1, 2, 3, 4):
            q.put(x)
        thread, results = support.in_thread(q.put, 5, True, 30)
        self.assertTrue(support.wait_until(lambda: self.f.state()[6] == 1))
        q.close()
        thread.join(30)
        self.assertIsInstance(results[0], sc.Closed)
        self.assertEqual(list(q), [1, 2, 3, 4])  # iteration drains, then ends
        with self.assertRaises(sc.Closed):
            q.get(timeout=5)
        with self.assertRaises(sc.Closed):
            q.get_nowait()
        self.assertEqual(self.f.state(), (1, 4, 4, 1, 1, 0, 0, 4))

    def test_get_many_and_get_array_take_what_is_there_around_the_end(self):
        q = self.q
        for x in (1, 2, 3):
            q.put(x)
        self.assertEqual(q.get_many(2), [1, 2])
        for x in (4, 5, 6):
            q.put(x)  # slots 3, 0, 1
        arr = q.get_array(10)
        self.assertEqual((type(arr._type_), len(arr), list(arr)), (type(ctypes.c_uint32), 4, [3, 4, 5, 6]))
        self.assertEqual(self.f.state(), (0, 6, 6, 0, 0, 0, 0, 4))
        with self.assertRaises(queue.Empty):
            q.get_many(3, timeout=0.01)
        for bad in (0, -1, 1.0, True):
            with self.assertRaises(ValueError):
                q.get_many(bad)


class QueueOfRecords(unittest.TestCase):
    def setUp(self):
        self.f = Forged(self, 3, REC, type_name="Rec")
        self.q = sc.open_named(self.f.name)

    def test_records_go_in_as_tuples_dicts_or_instances_and_come_out_as_the_struct(self):
        q = self.q
        Rec = q.element_type
        self.assertEqual((Rec.__name__, ctypes.sizeof(Rec)), ("Rec", 32))
        q.put((200, -5, (1.5, 2.5, -3.0), b"ab", True, 65535))
        q.put({"id": 1, "at": 2, "vals": [0.0, 0.0, 0.25], "tag": [97, 98, 99, 100], "ok": False, "big": 3})
        r = Rec()
        r.id, r.at, r.tag, r.big = 9, 7, b"wxyz", 12
        q.put(r)
        got = [q.get() for _ in range(3)]
        self.assertEqual(
            [(g.id, g.at, list(g.vals), g.tag, g.ok, g.big) for g in got],
            [
                (200, -5, [1.5, 2.5, -3.0], b"ab", True, 65535),
                (1, 2, [0.0, 0.0, 0.25], b"abcd", False, 3),
                (9, 7, [0.0, 0.0, 0.0], b"wxyz", False, 12),
            ],
        )
        self.assertIs(type(got[0]), Rec)
        # The bytes in the ring are the C layout's: holes zero.
        self.assertEqual(
            self.f.ring(32),
            struct.pack("<B3xi3f4s?xH4x", 200, -5, 1.5, 2.5, -3.0, b"ab\0\0", True, 65535),
        )
        # A copy: changing it changes nothing in shared memory.
        got[0].id = 1
        self.assertEqual(self.f.ring(1), b"\xc8")

    def test_put_many_of_records_takes_what_put_takes(self):
        q = self.q
        Rec = q.element_type
        r = Rec()
        r.id, r.big = 9, 12
        full = {"id": 1, "at": 2, "vals": [0.0, 0.0, 0.25], "tag": [97, 98, 99, 100], "ok": False, "big": 3}
        first = (200, -5, (1.5, 2.5, -3.0), b"ab", True, 65535)
        self.assertEqual(q.put_many([first, full, r, first]), 3)  # room for three
        self.assertEqual([(g.id, g.big) for g in q.get_many(3)], [(200, 65535), (1, 3), (9, 12)])
        with self.assertRaises(ValueError):
            q.put_many([full, dict(full, id=300)])  # 300 does not fit the u8
        self.assertEqual(q.qsize(), 0)

    def test_records_that_do_not_fit_are_refused_naming_why(self):
        q = self.q
        cases = [
            ((1, 2, 3), ValueError, "3 values for the 6 fields of Rec (id, at, vals, tag, ok, big)"),
            ((256, 0, (0, 0, 0), b"", 0, 0), ValueError, "256 does not fit a u8"),
            ((1, 0, (0, 0), b"", 0, 0), ValueError, "2 values for an array of 3 elements"),
            ((1, 0, (0, 0, 0), b"abcde", 0, 0), ValueError, "5 bytes for an array of 4 CChar"),
            ({"id": 1, "nope": 2}, TypeError, "Rec has no field 'nope'"),
            ({"id": 1}, ValueError, "no value for the field 'at' of Rec"),
            ("text", TypeError, "a Rec is a ctypes instance, a tuple or list of its 6 fields"),
            (ctypes.c_double(1), sc.LayoutMismatch, "c_double has 8 bytes, the shared object's type 32"),
        ]
        for item, error, message in cases:
            with self.subTest(item=item):
                with self.assertRaises(error) as caught:
                    q.put(item)
                self.assertIn(message, str(caught.exception))
        self.assertEqual(self.f.state(), (0, 0, 0, 0, 0, 0, 0, 3))

    def test_get_many_of_records_is_a_list_of_structs(self):
        q = self.q
        for i in range(3):
            q.put((i, -i, (i, i, i), b"r%d" % i, i % 2 == 1, i * 1000))
        got = q.get_many(5)
        self.assertEqual([(g.id, g.at, g.tag, g.big) for g in got], [(0, 0, b"r0", 0), (1, -1, b"r1", 1000), (2, -2, b"r2", 2000)])
        self.assertEqual(self.f.state(), (0, 3, 3, 0, 0, 0, 0, 3))


class BytesQueues(unittest.TestCase):
    def setUp(self):
        self.f = Forged(self, 320)
        self.q = sc.open_named(self.f.name)

    def test_a_message_is_its_length_then_its_bytes_padded_to_8(self):
        q = self.q
        self.assertIsInstance(q, sc.BytesQueue)
        self.assertEqual((q.capacity, q.max_message, q.used_bytes(), q.qsize(), q.empty()), (320, 312, 0, 0, True))
        q.put(b"hello")
        q.put(b"")
        q.put(bytearray(b"12345678"))
        self.assertEqual(
            self.f.ring(48),
            struct.pack("<Q", 5) + b"hello\0\0\0" + struct.pack("<Q", 0) + struct.pack("<Q", 8) + b"12345678" + bytes(8),
        )
        self.assertEqual(self.f.state(), (0, 0, 40, 0, 0, 0, 0, 320))
        self.assertEqual((q.used_bytes(), q.qsize()), (40, 3))
        self.assertEqual([q.get(), q.get(), q.get()], [b"hello", b"", b"12345678"])
        self.assertEqual(self.f.state(), (0, 40, 40, 0, 0, 0, 0, 320))

    def test_messages_of_every_length_arrive_whole_around_a_small_ring(self):
        q = self.q
        rng = random.Random(7)
        sent = []
        got = []
        for n in range(0, 301):
            message = bytes(rng.getrandbits(8) for _ in range(n))
            sent.append(message)
            while True:
                try:
                    q.put_nowait(message)
                    break
                except queue.Full:
                    got.append(q.get_nowait())
        while not q.empty():
            got.extend(q.get_many(3))
        self.assertEqual(len(got), 301)
        for n, (a, b) in enumerate(zip(sent, got)):
            self.assertEqual(a, b, "message of %d bytes" % n)
        used = sum(8 + (n + 7) // 8 * 8 for n in range(301))
        self.assertEqual(self.f.state()[1:3], (used, used))
        self.assertGreater(used, 100 * 320)  # round the ring many times

    def test_a_blocking_get_waits_for_a_message_and_a_blocking_put_for_room(self):
        q = self.q
        # No timeout: each first attempt finds nothing (no room) and leaves the waiting to
        # `_get` (`_put`).
        thread, results = support.in_thread(q.get)
        self.assertTrue(support.wait_until(lambda: self.f.state()[5] == 1))  # getters
        q.put(b"woken")
        thread.join(30)
        self.assertEqual(results, [b"woken"])
        q.put(bytes(300))  # 308 of 320 bytes
        thread, results = support.in_thread(q.put, b"12345")  # needs 16
        self.assertTrue(support.wait_until(lambda: self.f.state()[6] == 1))  # putters
        self.assertEqual(q.get(), bytes(300))
        thread.join(30)
        self.assertEqual(results, [None])
        self.assertEqual((q.get(), q.qsize()), (b"12345", 0))
        self.assertEqual(self.f.state()[5:7], (0, 0))

    def test_put_many_puts_the_messages_that_fit_in_order(self):
        q = sc.open_named(Forged(self, 64).name)
        self.assertEqual(q.put_many([]), 0)
        first = [b"abc", b"", b"0123456789", b"0123456789"]  # 16 + 8 + 24 (+ 24 that do not fit)
        self.assertEqual(q.put_many(first), 3)
        self.assertEqual(q.get_many(2), first[:2])
        # From byte 48, around the end: 24 bytes, then 16; then one that can never fit.
        second = [bytearray(b"0123456789"), memoryview(b"xyz"), bytes(57)]
        self.assertEqual(q.put_many(second), 2)
        with self.assertRaises(sc.MessageTooLarge):
            q.put_many(second[2:])
        self.assertEqual(q.get_many(8), [first[2], b"0123456789", b"xyz"])
        # One that can never fit ends the batch before it, in the middle too.
        self.assertEqual(q.put_many([b"a", bytes(57), b"b"]), 1)
        self.assertEqual(q.get_many(8), [b"a"])
        # A batch that wants more room than the putters' last look at `head` showed looks again.
        fresh = sc.open_named(Forged(self, 64).name)
        three = [b"a" * 8] * 3  # 16 bytes each
        self.assertEqual(fresh.put_many(three), 3)
        self.assertEqual(fresh.get_many(3), three)
        self.assertEqual(fresh.put_many(three), 3)  # its last look (0) shows room for one
        self.assertEqual(fresh.get_many(3), three)
        with self.assertRaises(TypeError):
            q.put_many(m for m in [b"x"])
        q.put(bytes(56))  # full
        with self.assertRaises(queue.Full):
            q.put_many([b"x"], timeout=0.01)
        self.assertEqual(q.get(), bytes(56))
        q.close()
        with self.assertRaises(sc.Closed):
            q.put_many([b"x"])

    def test_a_batch_of_messages_wakes_a_sleeping_getter_per_message(self):
        q = self.q
        rescue, _queue._RESCUE = _queue._RESCUE, 60.0  # no look at 100 ms: only a wake-up
        try:
            threads = [support.in_thread(q.get) for _ in range(3)]
            self.assertTrue(support.wait_until(lambda: self.f.state()[5] == 3))  # getters
            self.assertEqual(q.put_many([b"1", b"2", b"3"]), 3)
            for thread, _ in threads:
                thread.join(10)
        finally:
            _queue._RESCUE = rescue
        self.assertEqual(sorted(r for _, results in threads for r in results), [b"1", b"2", b"3"])

    def test_a_get_wakes_every_putter_the_first_may_need_more_room_than_it_freed(self):
        q = sc.open_named(Forged(self, 64).name)
        q.put(b"12345678")  # 16 bytes
        q.put(bytes(40))  # 48: full
        rescue, _queue._RESCUE = _queue._RESCUE, 60.0  # no look at 100 ms: only a wake-up
        try:
            big = support.in_thread(q.put, bytes(40))  # needs 48: asleep first
            self.assertTrue(support.wait_until(lambda: q._load32(q._putters_at) & _queue._COUNT == 1))
            small = support.in_thread(q.put, b"small")  # needs 16
            self.assertTrue(support.wait_until(lambda: q._load32(q._putters_at) & _queue._COUNT == 2))
            self.assertEqual(q.get(), b"12345678")  # frees 16: room for the second only
            small[0].join(10)
            self.assertFalse(small[0].is_alive(), "the putter there was room for was not woken")
            self.assertEqual(q.get(), bytes(40))
            big[0].join(10)
            self.assertEqual(q.get_many(3), [b"small", bytes(40)])
        finally:
            _queue._RESCUE = rescue

    def test_a_message_that_can_never_fit_is_refused_naming_its_size(self):
        q = self.q
        q.put(bytes(312))  # fills it exactly
        self.assertTrue(q.full())
        with self.assertRaises(sc.MessageTooLarge) as caught:
            q.put(bytes(313))
        self.assertIsInstance(caught.exception, ValueError)
        self.assertEqual((caught.exception.len, caught.exception.capacity), (313, 320))
        self.assertEqual(
            str(caught.exception),
            "a message of 313 bytes can never fit a queue of 320 bytes (each message takes its length rounded up to 8, plus 8)",
        )
        with self.assertRaises(queue.Full):
            q.put(b"", timeout=0.01)
        self.assertEqual(q.get(), bytes(312))

    def test_close_and_iteration(self):
        q = self.q
        for m in (b"a", b"bc", b"def"):
            q.put(m)
        q.close()
        with self.assertRaises(sc.Closed):
            q.put(b"x")
        self.assertEqual(list(q), [b"a", b"bc", b"def"])
        with self.assertRaises(sc.Closed):
            q.get_many(2)
        self.assertEqual(repr(q), "<sharedctypes.BytesQueue: 0/320 bytes used, closed>")


class WhatSharedMemoryHoldsIsChecked(unittest.TestCase):
    def refused(self, forged, error, message):
        with self.assertRaises(error) as caught:
            sc.open_named(forged.name)
        self.assertEqual(str(caught.exception), "%r: %s" % (forged.name, message))

    def test_a_state_that_disagrees_with_the_description_is_refused(self):
        self.refused(Forged(self, 4, "u32", state_capacity=5), sc.NotSharedctypesObject,
                     "its state says capacity 5, its description 4")
        self.refused(Forged(self, 4, "u32", tag=SBQ2), sc.NotSharedctypesObject,
                     "the handle names not a queue (tag 0x32514253)")
        self.refused(Forged(self, 16, tag=SQU2), sc.NotSharedctypesObject,
                     "the handle names not a BytesQueue (tag 0x32555153)")
        self.refused(Forged(self, 16, tag=support.tag(b"SBQU")), sc.NotSharedctypesObject,
                     "the handle names not a BytesQueue (tag 0x55514253)")  # the old layout
        self.refused(Forged(self, 4, "u32", recursive=True), sc.NotSharedctypesObject,
                     "a Queue's lock is an RLock, not a Lock")
        self.refused(Forged(self, 12), sc.NotSharedctypesObject, "a BytesQueue of 12 bytes, not a multiple of 8")

    def test_corrupt_ends_and_lengths_are_refused_under_the_lock_and_released(self):
        f = Forged(self, 4, "u32", head=3, tail=9)
        q = sc.open_named(f.name)
        # The blocking `get` and `put` fail in their first attempts.
        for op in (q.get_nowait, q.get, lambda: q.put_nowait(1), lambda: q.put(1)):
            with self.assertRaises(sc.InvalidHandle) as caught:
                op()
            self.assertEqual(
                str(caught.exception),
                "the queue's state is corrupt: 6 units in use (head 3, tail 9) in a capacity of 4",
            )
        self.assertEqual(f.cell(), (0, 0, 0, 0, support.TAG_LOCK))  # released
        self.assertEqual(f.cell(getters=True), (0, 0, 0, 0, support.TAG_LOCK))
        self.assertEqual(q.qsize(), 4)  # clamped to the capacity
        b = Forged(self, 32, tail=16)
        with open(b.path, "r+b") as fh:  # a message of 9 bytes where 16 are in use
            fh.seek(b.data_offset + b.ring_at)
            fh.write(struct.pack("<Q", 9))
        bq = sc.open_named(b.name)
        for get in (bq.get_nowait, bq.get):  # `get`: its first attempt, inline
            with self.assertRaises(sc.InvalidHandle) as caught:
                get()
            self.assertEqual(
                str(caught.exception), "the BytesQueue's state is corrupt: a message of 9 bytes where 16 bytes are in use"
            )
        self.assertEqual(b.state()[1:3], (0, 16))
        self.assertEqual(b.cell(getters=True), (0, 0, 0, 0, support.TAG_LOCK))  # released
        u = Forged(self, 32, head=4, tail=4)  # the next message would go at byte 4
        uq = sc.open_named(u.name)
        for put in (uq.put_nowait, uq.put):  # `put`: its first attempt, inline
            with self.assertRaises(sc.InvalidHandle) as caught:
                put(b"x")
            self.assertEqual(
                str(caught.exception),
                "the BytesQueue's state is corrupt: its next message goes at byte 4, not a multiple of 8",
            )
        self.assertEqual(u.state()[1:3], (4, 4))  # nothing put
        self.assertEqual(u.cell(), (0, 0, 0, 0, support.TAG_LOCK))  # released


class Processes(unittest.TestCase):
    def test_a_forked_producer_sends_exactly_0_to_n_in_order(self):
        f = Forged(self, 16, "u64")
        q = sc.open_named(f.name)
        n = 3000

        def produce():
            q2 = sc.open_named(f.name)  # by name too, beside the inherited mapping
            for i in range(n):
                (q if i % 2 else q2).put(i)
            q.close()

        pid = fork(produce)
        got = []
        while True:
            try:
                got.extend(q.get_many(7, timeout=30))
            except sc.Closed:
                break
        self.assertEqual(os.WEXITSTATUS(reap(pid)), 0)
        self.assertEqual(got, list(range(n)))
        self.assertEqual(f.state()[:3], (1, n, n))
        self.assertEqual(f.state()[5:7], (0, 0))

    def test_a_holder_that_dies_is_reported_once_by_the_next_operation_which_does_nothing(self):
        f = Forged(self, 4, "u32")
        q = sc.open_named(f.name)
        q.put(1)
        pid = fork(lambda: q._lock.acquire(warn=False))  # exits holding the lock
        self.assertEqual(os.WEXITSTATUS(reap(pid)), 0)
        with self.assertRaises(sc.ParticipantDied) as caught:
            q.put(2)
        self.assertEqual(caught.exception.pid, pid)
        self.assertEqual(
            str(caught.exception),
            "a process using the queue (pid %d) died in the middle of an operation: at most what it was "
            "moving is lost; nothing was done, try again" % pid,
        )
        self.assertEqual(f.state()[1:3], (0, 1))  # the put did nothing
        self.assertEqual(f.cell(), (0, 0, 0, 0, support.TAG_LOCK))  # reported, cleared, released
        q.put(2)
        # close() keeps a death for the next put (gets have their own lock); it reports it
        # before it sees the queue closed.
        pid = fork(lambda: q._lock.acquire(warn=False))
        reap(pid)
        q.close()
        self.assertEqual(f.cell()[3], pid)
        self.assertEqual(q.get_nowait(), 1)
        with self.assertRaises(sc.ParticipantDied):
            q.put(3)
        with self.assertRaises(sc.Closed):
            q.put(3)
        # A getter that dies holding the getters' lock: reported once by the next get;
        # iteration goes on past it.
        q2 = sc.open_named(f.name)
        pid = fork(lambda: q2._getters_lock.acquire())
        reap(pid)
        self.assertEqual(f.cell(getters=True)[1:3], (pid, 1))
        self.assertEqual(list(q), [2])
        self.assertEqual(f.cell(getters=True), (0, 0, 0, 0, support.TAG_LOCK))

    def test_a_getter_killed_in_its_sleep_stops_costing_every_put_a_wake_up(self):
        f = Forged(self, 4, "u32")
        q = sc.open_named(f.name)
        pid = fork(q.get)  # sleeps: the queue is empty
        self.assertTrue(support.wait_until(lambda: f.state()[5] == 1))
        os.kill(pid, signal.SIGKILL)
        reap(pid)
        self.assertEqual(f.state()[5], 1)  # still counted
        items = f.state()[3]
        for i in range(63):
            q.put(i)
            self.assertEqual(q.get(), i)
        self.assertEqual(f.state()[5], 1)  # 63 wake-ups that woke nobody: not yet
        self.assertEqual(f.state()[3], items + 63)  # one change of `items` each
        q.put(63)
        self.assertEqual(f.state()[5], 1 << 16)  # a new epoch, nobody asleep
        # The 64th wake-up's change, and the new epoch's (which wakes every sleeper).
        self.assertEqual(f.state()[3], items + 65)
        self.assertEqual(q.get(), 63)
        thread, results = support.in_thread(q.get, True, 30)  # counted in the new epoch
        self.assertTrue(support.wait_until(lambda: f.state()[5] == (1 << 16) + 1))
        q.put(64)
        thread.join(30)
        self.assertEqual(results, [64])
        self.assertEqual(f.state()[5], 1 << 16)

    def test_a_sleeper_wiped_by_a_new_epoch_counts_itself_again(self):
        # A new epoch that comes between a sleeper counting itself and its sleep would leave
        # it asleep uncounted (no put would wake it): it looks at the epoch after reading the
        # word, and counts itself again in the new one.
        f = Forged(self, 4, "u32")
        q = sc.open_named(f.name)
        real, wiped = q._load32, []

        def load32(at):
            value = real(at)
            if at == q._items_at and not wiped:  # the sleeper counted itself, read the word
                wiped.append(real(q._getters_at))
                count = wiped[0]
                q._atomics.cas32(q._getters_at, count, ((count & ~0xFFFF) + (1 << 16)) & 0xFFFF0000)
            return value

        q._load32 = load32
        # No look at 100 ms to rescue it: only counting itself again can get it woken.
        rescue, _queue._RESCUE = _queue._RESCUE, 60.0
        try:
            thread, results = support.in_thread(q.get, True, 60)
            counted = support.wait_until(lambda: f.state()[5] == (1 << 16) + 1, 10.0)
            q.put(7)
            thread.join(10)
        finally:
            _queue._RESCUE = rescue
        self.assertTrue(counted)
        self.assertEqual(wiped, [1])  # it was counted in epoch 0 when the new epoch came
        self.assertEqual(results, [7])
        self.assertEqual(f.state()[5], 1 << 16)

    def test_a_new_epoch_wakes_a_sleeper_it_wiped_in_the_kernel(self):
        # A live getter counted and asleep in the kernel; a put whose wake-up finds nobody (as
        # when it went to a getter that had not reached the kernel yet) is the 64th in a row:
        # the new epoch wipes the live getter's count, and must wake it to count itself again.
        f = Forged(self, 4, "u32")
        q = sc.open_named(f.name)
        rescue, _queue._RESCUE = _queue._RESCUE, 60.0  # no look at 100 ms to rescue it
        real_wake = _queue.futex_wake
        thread = None
        try:
            thread, results = support.in_thread(q.get, True, 60)
            self.assertTrue(support.wait_until(lambda: f.state()[5] == 1, 10.0))
            time.sleep(0.3)  # in the kernel by now
            q._fruitless[0] = _queue._FRUITLESS - 1
            _queue.futex_wake = lambda at, n: real_wake(at, n) if n == _queue._WAKE_ALL else 0
            q.put(7)
            _queue.futex_wake = real_wake
            thread.join(10)
            self.assertEqual(results, [7])
        finally:
            _queue.futex_wake = real_wake
            _queue._RESCUE = rescue
        self.assertEqual(f.state()[5], 1 << 16)

    def test_an_interrupt_right_after_taking_the_lock_still_releases_it(self):
        f = Forged(self, 4, "u32")
        q = sc.open_named(f.name)
        b = Forged(self, 64)
        bq = sc.open_named(b.name)
        bq.put(b"kept")
        ops = ((q._putters_lock, lambda: q.put(1)), (q._putters_lock, lambda: q.put_many([1, 3])),
               (q._getters_lock, q.get_nowait), (q._getters_lock, q.get),
               (bq._putters_lock, lambda: bq.put(b"x")), (bq._getters_lock, bq.get))
        for lock, op in ops:
            take = lock.acquire

            def interrupted(*wait):
                take(*wait)
                raise KeyboardInterrupt  # as a signal between the lock and the `try` would

            lock.acquire = interrupted
            try:
                with self.assertRaises(KeyboardInterrupt):
                    op()
            finally:
                del lock.acquire
        self.assertEqual(f.cell(), (0, 0, 0, 0, support.TAG_LOCK))
        self.assertEqual(f.cell(getters=True), (0, 0, 0, 0, support.TAG_LOCK))
        pid = fork(lambda: q.put(2))  # another process is not blocked
        self.assertEqual(os.WEXITSTATUS(reap(pid)), 0)
        self.assertEqual(q.get_many(4), [2])
        self.assertEqual(b.cell(), (0, 0, 0, 0, support.TAG_LOCK))
        self.assertEqual(b.cell(getters=True), (0, 0, 0, 0, support.TAG_LOCK))
        self.assertEqual(bq.get_many(4), [b"kept"])  # the interrupted put put nothing, the get took nothing

    def test_an_interrupt_while_recording_a_holders_death_still_releases_the_lock(self):
        f = Forged(self, 4, "u32")
        q = sc.open_named(f.name)
        for get in (q.get_nowait, q.get):  # `get`: its first attempt, inline
            with self.subTest(get=get.__name__):
                q.put(7)
                self.assertEqual(os.WEXITSTATUS(reap(fork(q._getters_lock.acquire))), 0)  # dies holding it
                real = sc._queue._record_death
                calls = []

                def interrupted(address, cell):
                    calls.append(cell.holder)
                    if len(calls) == 1:  # the first bytecode: glibc's owner is not yet this thread
                        raise KeyboardInterrupt
                    real(address, cell)

                sc._queue._record_death = interrupted
                try:
                    with self.assertRaises(KeyboardInterrupt):
                        get()
                finally:
                    sc._queue._record_death = real
                self.assertEqual(len(calls), 2)  # recorded when the lock was given back
                owner, holder, depth, died, _ = f.cell(getters=True)
                self.assertEqual((owner, holder, depth), (0, 0, 0))
                self.assertGreater(died, 0)  # still recorded: the next get reports it
                with self.assertRaises(sc.ParticipantDied):
                    q.get(timeout=5)
                self.assertEqual(q.get(timeout=5), 7)

    def test_a_failed_re_entrant_put_leaves_the_outer_put_its_lock(self):
        f = Forged(self, 4, "u32")
        q = sc.open_named(f.name)
        real = sc._queue._Ring._store64
        seen = {}

        def store64(ring, at, old, new, what):
            if what == "tail" and not seen:  # as a signal handler between two bytecodes would
                with self.assertRaises(OSError) as caught:
                    q.put(99)
                seen["errno"] = caught.exception.errno
                seen["held"] = f.cell()[0] == threading.get_native_id()
            return real(ring, at, old, new, what)

        sc._queue._Ring._store64 = store64
        try:
            q.put(1)
        finally:
            sc._queue._Ring._store64 = real
        self.assertEqual(seen, {"errno": errno.EDEADLK, "held": True})
        self.assertEqual(f.cell(), (0, 0, 0, 0, support.TAG_LOCK))
        self.assertEqual(q.get_many(4), [1])

    def test_a_process_that_exits_normally_holding_a_lock_is_reported_as_dead(self):
        # At exit the interpreter frees its objects: a mapping unmapped before the threads end
        # would keep the kernel from releasing the lock.
        f = Forged(self, 4, "u32")
        q = sc.open_named(f.name)
        for ending in ("sys.exit(0)", "raise KeyboardInterrupt", "exit_in_a_daemon_thread()"):
            code = textwrap.dedent(
                """
                import sys, threading, time, sharedctypes as sc
                q = sc.open_named(sys.argv[1])
                def exit_in_a_daemon_thread():
                    threading.Thread(target=q._putters_lock.acquire, daemon=True).start()
                    time.sleep(0.2)
                    sys.exit(0)
                if %r != "exit_in_a_daemon_thread()":
                    q._putters_lock.acquire()
                %s
                """
                % (ending, ending)
            )
            child = subprocess.run(
                [sys.executable, "-c", code, f.name],
                env=dict(os.environ, PYTHONPATH=support.PACKAGE_DIR),
                stderr=subprocess.DEVNULL,
                timeout=30,
            )
            self.assertNotEqual(child.returncode, -9, ending)
            # The kernel marked the futex word owner-died (else a put would wait for good).
            word = struct.unpack("<I", f.read(f.lock_offset, 4))[0]
            self.assertEqual(word & 0x40000000, 0x40000000, "%s: the lock is held for good" % ending)
            with self.assertRaises(sc.ParticipantDied, msg=ending):
                q.put(1, timeout=5)
            q.put(1, timeout=5)
            self.assertEqual(q.get_many(4), [1], ending)

    def test_a_stopped_holder_holds_up_no_nowait_or_timed_operation_for_good(self):
        f = Forged(self, 4, "u32")
        q = sc.open_named(f.name)
        q.put(7)
        ready_r, ready_w = os.pipe()

        def hold():  # takes the getters' mutex itself and sleeps, as a stopped getter would
            assert sc._libc.pthread_mutex_lock(q._getters_lock._mutex) == 0
            os.write(ready_w, b"x")
            time.sleep(60)

        pid = fork(hold)
        self.addCleanup(lambda: reap_killed(pid))
        self.assertEqual(os.read(ready_r, 1), b"x")
        results = {}

        def attempts():
            start = time.monotonic()
            for name, op in (("nowait", q.get_nowait), ("timeout", lambda: q.get(timeout=0.05))):
                try:
                    results[name] = op()
                except queue.Empty:
                    results[name] = "Empty"
            results["elapsed"] = time.monotonic() - start

        thread = threading.Thread(target=attempts, daemon=True)
        thread.start()
        thread.join(10)
        self.assertFalse(thread.is_alive(), "an operation with a timeout waits for good")
        self.assertEqual((results["nowait"], results["timeout"]), ("Empty", "Empty"))
        self.assertGreaterEqual(results["elapsed"], 0.05)
        q.put_nowait(8)  # the putters' lock is free
        os.kill(pid, signal.SIGKILL)
        reap(pid)
        with self.assertRaises(sc.ParticipantDied):  # the holder's pid was never recorded
            q.get(timeout=5)
        self.assertEqual([q.get(timeout=5), q.get(timeout=5)], [7, 8])

    def test_a_process_killed_inside_a_put_loop_is_reported_at_most_once_and_the_queue_stays_whole(self):
        f = Forged(self, 4, BIG, type_name="Big")
        q = sc.open_named(f.name)
        Big = q.element_type
        # Shared with the child (an anonymous MAP_SHARED page): the seq of its last put that
        # returned.
        last_put = ctypes.c_uint64.from_buffer(mmap.mmap(-1, 8))

        def big(seq):
            b = Big()
            b.seq = seq
            b.check = seq ^ 0xFFFFFFFFFFFFFFFF
            for i in range(126):
                b.words[i] = (seq * (i + 1)) & 0xFFFFFFFFFFFFFFFF
            return b

        def whole(b):
            return b.check == b.seq ^ 0xFFFFFFFFFFFFFFFF and all(
                b.words[i] == (b.seq * (i + 1)) & 0xFFFFFFFFFFFFFFFF for i in range(126)
            )

        items = [big(s) for s in range(1, 400)]

        def loop():
            # Puts items[0], takes it back, puts items[1], ... (seq 1, 2, ... 399, 1, ...).
            i = 0
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                q.put(items[i])
                last_put.value = i + 1
                q.get()
                i = (i + 1) % len(items)

        rng = random.Random(11)
        reported = 0
        runs = 12
        for run in range(runs):
            last_put.value = 0
            pid = fork(loop)
            while last_put.value < 3:
                time.sleep(0.0002)
            time.sleep(rng.random() * 0.003)
            os.kill(pid, signal.SIGKILL)
            status = reap(pid)
            self.assertTrue(os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, status)
            last = last_put.value
            try:
                got = q.get_many(8, block=False)
            except sc.ParticipantDied as e:
                self.assertIn(e.pid, (pid, 0), "run %d" % run)
                reported += 1
                try:
                    got = q.get_many(8, block=False)
                except sc.ParticipantDied:
                    self.fail("run %d: the death was reported twice" % run)
                except queue.Empty:
                    got = []
            except queue.Empty:
                got = []
            self.assertLessEqual(len(got), 1, "run %d: more than one item" % run)
            died_getting = reported
            for item in got:
                self.assertTrue(whole(item), "run %d: a torn item (seq %d)" % (run, item.seq))
                # The last put that returned, or the one after it (killed once it was visible).
                self.assertIn(item.seq, (last, last % len(items) + 1), "run %d: item %d after the put of %d" % (run, item.seq, last))
            self.assertEqual(f.cell(getters=True)[1:4], (0, 0, 0), "run %d: the lock is left as the protocol says" % run)
            try:
                q.put(items[0])
            except sc.ParticipantDied as e:  # it died putting: the putters' lock says so
                self.assertEqual(died_getting, reported, "run %d: reported by a get and a put" % run)
                self.assertIn(e.pid, (pid, 0), "run %d" % run)
                reported += 1
                q.put(items[0])
            self.assertEqual(f.cell()[1:4], (0, 0, 0), "run %d: the lock is left as the protocol says" % run)
            self.assertTrue(whole(q.get()))
        self.assertGreater(reported, 0, "no kill landed inside an operation in %d runs" % runs)


if __name__ == "__main__":
    unittest.main()
