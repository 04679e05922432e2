"""The atomic operations (both backends where this system has them) and the futex calls the
waiting primitives are built on: exact results, no lost update between threads and
processes, timeouts, and waits interrupted by signals restarted with the time left."""

import ctypes
import mmap
import os
import signal
import threading
import time
import unittest

import sharedctypes as sc
from sharedctypes import _atomic

from tests import support
from tests.support import run_python


def backend_or_skip(testcase, which):
    try:
        return _atomic.make_backend(which)
    except sc.AtomicsUnavailable as e:
        testcase.skipTest("the %s backend is not available here: %s" % (which, e))


class Operations:
    """The same tests for each backend (``which``)."""

    which = None

    def setUp(self):
        self.atomics = backend_or_skip(self, self.which)
        self.mm = mmap.mmap(-1, mmap.PAGESIZE)  # MAP_SHARED: seen by forked children
        self.addCleanup(self.mm.close)
        self.words = (ctypes.c_uint32 * 8).from_buffer(self.mm)
        self.addCleanup(self.release_words)
        self.base = ctypes.addressof(self.words)

    def release_words(self):
        del self.words

    def test_each_operation_gives_exactly_what_c_gives(self):
        a, w = self.atomics, self.base
        a.store32(w, 0xFFFFFFFE)
        self.assertEqual(self.words[0], 0xFFFFFFFE)
        self.assertEqual(a.load32(w), 0xFFFFFFFE)
        self.assertEqual(a.add32(w, 3), 0xFFFFFFFE)  # the old value
        self.assertEqual(a.load32(w), 1)  # wrapped
        self.assertEqual(a.add32(w, 0xFFFFFFFF), 1)  # adding 2**32 - 1 subtracts 1
        self.assertEqual(a.load32(w), 0)
        self.assertEqual(a.cas32(w, 5, 6), 0)  # fails: the value found, nothing stored
        self.assertEqual(a.load32(w), 0)
        self.assertEqual(a.cas32(w, 0, 0x89ABCDEF), 0)  # succeeds: the old value
        self.assertEqual(a.load32(w), 0x89ABCDEF)
        self.assertEqual(self.words[1:8], [0] * 7)  # the neighbours untouched
        d = w + 8
        self.assertEqual(a.cas64(d, 0, 0xFFFFFFFF00000001), 0)
        self.assertEqual((self.words[2], self.words[3]), (1, 0xFFFFFFFF))
        self.assertEqual(a.load64(d), 0xFFFFFFFF00000001)
        self.assertEqual(a.cas64(d, 1, 2), 0xFFFFFFFF00000001)
        self.assertEqual(a.add64(d, (1 << 32) - 1), 0xFFFFFFFF00000001)
        self.assertEqual(a.load64(d), 0)  # wrapped at 2**64
        self.assertEqual(a.add64(d, -1), 0)
        self.assertEqual(a.load64(d), 0xFFFFFFFFFFFFFFFF)
        self.assertEqual(a.add64(d, 1 << 32), 0xFFFFFFFFFFFFFFFF)
        self.assertEqual(a.load64(d), 0xFFFFFFFF)

    def test_a_swap_into_a_cell_leaves_the_value_found_there(self):
        a, w = self.atomics, self.base
        self.words[0] = 7
        cell = ctypes.c_uint32(5)
        a.cas32_into(w, cell, 6)  # fails: the value found, nothing stored
        self.assertEqual((cell.value, self.words[0]), (7, 7))
        a.cas32_into(w, cell, 0x89ABCDEF)  # succeeds: the cell keeps the expected value
        self.assertEqual((cell.value, self.words[0]), (7, 0x89ABCDEF))
        self.assertEqual(self.words[1:8], [0] * 7)
        d = w + 8
        cell = ctypes.c_uint64(0)
        a.cas64_into(d, cell, 0xFFFFFFFF00000001)
        self.assertEqual((cell.value, a.load64(d)), (0, 0xFFFFFFFF00000001))
        a.cas64_into(d, cell, 2)
        self.assertEqual((cell.value, a.load64(d)), (0xFFFFFFFF00000001, 0xFFFFFFFF00000001))
        self.assertEqual(self.words[4:8], [0] * 4)

    def hammer(self, rounds):
        """Increments word 0 by compare-and-swap, word 1 by fetch-and-add and the 64-bit
        word 2..3 by a carry into its high half, `rounds` times each."""
        a, w = self.atomics, self.base
        for _ in range(rounds):
            old = a.load32(w)
            while True:
                seen = a.cas32(w, old, (old + 1) & 0xFFFFFFFF)
                if seen == old:
                    break
                old = seen
            a.add32(w + 4, 1)
            a.add64(w + 8, (1 << 32) + 1)

    def test_no_update_is_lost_between_threads_and_processes(self):
        rounds = 3000
        children = []
        for _ in range(2):
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child
                try:
                    self.hammer(rounds)
                finally:
                    os._exit(0)
            children.append(pid)
        threads = [threading.Thread(target=self.hammer, args=(rounds,)) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for pid in children:
            self.assertEqual(os.waitpid(pid, 0)[1], 0)
        total = 5 * rounds
        self.assertEqual(self.words[0:4], [total, total, total, total])


class CodeBackend(Operations, unittest.TestCase):
    which = "code"


class LibatomicBackend(Operations, unittest.TestCase):
    which = "libatomic"


class Selection(unittest.TestCase):
    def test_the_environment_selects_a_backend(self):
        script = """
        import sharedctypes as sc
        try:
            print(sc.atomics())
        except sc.AtomicsUnavailable as e:
            print("unavailable:", e)
        """
        env = dict(os.environ)
        try:
            for forced, expected in (("code", "x86-64 code"), ("libatomic", "libatomic")):
                os.environ["SHAREDCTYPES_ATOMICS"] = forced
                try:
                    _atomic.make_backend(forced)
                except sc.AtomicsUnavailable:
                    continue
                self.assertEqual(run_python(self, script).strip(), expected)
            os.environ["SHAREDCTYPES_ATOMICS"] = "magic"
            self.assertEqual(
                run_python(self, script).strip(),
                "unavailable: no atomic operations on shared memory are available in this process "
                "(magic: no atomics backend 'magic': there are 'code', 'libatomic')",
            )
        finally:
            os.environ.clear()
            os.environ.update(env)

    def test_without_atomics_values_still_open_and_primitives_say_why(self):
        name = support.new_primitive(self, "event", 0, 0, 0)
        value, _ = support.forge(self, "u32", data=b"\x07\x00\x00\x00")
        out = run_python(
            self,
            """
            import sys, sharedctypes as sc
            print(sc.open_named(sys.argv[2]).value)
            try:
                sc.open_named(sys.argv[1])
            except sc.AtomicsUnavailable as e:
                print(type(e).__name__, e)
            """,
            name,
            value,
            env={"SHAREDCTYPES_ATOMICS": "none"},
        )
        self.assertEqual(
            out,
            "7\nAtomicsUnavailable no atomic operations on shared memory are available in this process "
            "(none: no atomics backend 'none': there are 'code', 'libatomic')\n",
        )


class Futex(unittest.TestCase):
    def setUp(self):
        self.word = (ctypes.c_uint32 * 1)()
        self.address = ctypes.addressof(self.word)

    def test_a_wait_times_out_after_its_timeout(self):
        start = time.monotonic()
        self.assertIs(_atomic.futex_wait(self.address, 0, 0.05), False)
        self.assertGreaterEqual(time.monotonic() - start, 0.05)

    def test_a_wait_on_a_changed_word_returns_at_once(self):
        start = time.monotonic()
        self.assertIs(_atomic.futex_wait(self.address, 1, 10), True)
        self.assertLess(time.monotonic() - start, 5)

    def test_a_wake_wakes_the_sleepers(self):
        woken = []
        t = threading.Thread(target=lambda: woken.append(_atomic.futex_wait(self.address, 0, 30)))
        t.start()
        deadline = time.monotonic() + 10
        count = 0
        while not count and time.monotonic() < deadline:
            count = _atomic.futex_wake(self.address, 5)
            time.sleep(0.001)
        t.join(30)
        self.assertEqual((count, woken), (1, [True]))
        self.assertEqual(_atomic.futex_wake(self.address, 5), 0)  # nobody left

    def test_a_bad_address_is_an_os_error(self):
        with self.assertRaises(OSError) as caught:
            _atomic.futex_wait(1, 0, 0.01)  # not aligned
        self.assertEqual(caught.exception.errno, 22)  # EINVAL


class Deadlines(unittest.TestCase):
    def test_timeouts(self):
        now = time.monotonic()
        self.assertIsNone(_atomic.deadline_after(None))
        self.assertIsNone(_atomic.deadline_after(float("inf")))
        self.assertIsNone(_atomic.deadline_after(1 << 41))
        self.assertGreaterEqual(_atomic.deadline_after(-5), now)
        self.assertLess(_atomic.deadline_after(-5), now + 5)
        with self.assertRaises(ValueError) as caught:
            _atomic.deadline_after(float("nan"))
        self.assertEqual(str(caught.exception), "a timeout of NaN seconds")
        with self.assertRaises(TypeError) as caught:
            _atomic.deadline_after("soon")
        self.assertEqual(str(caught.exception), "a timeout is a number of seconds or None, not 'soon'")


@unittest.skipUnless(threading.current_thread() is threading.main_thread(), "signals reach the main thread")
class Signals(unittest.TestCase):
    """A signal whose handler returns interrupts the futex wait (EINTR); the wait goes on for
    the time that is left. One whose handler raises ends the wait, leaving the state clean."""

    def setUp(self):
        self.event = sc.open_named(support.new_primitive(self, "event", 0, 0, 0))
        self.seen = []

    def alarm_in(self, seconds, handler):
        previous = signal.signal(signal.SIGALRM, handler)
        self.addCleanup(signal.signal, signal.SIGALRM, previous)
        self.addCleanup(signal.setitimer, signal.ITIMER_REAL, 0)
        signal.setitimer(signal.ITIMER_REAL, seconds)

    def test_a_wait_interrupted_by_a_handled_signal_waits_the_time_left(self):
        self.alarm_in(0.05, lambda *_: self.seen.append(time.monotonic()))
        start = time.monotonic()
        self.assertIs(self.event.wait(0.3), False)
        end = time.monotonic()
        self.assertEqual(len(self.seen), 1)
        self.assertLess(self.seen[0], start + 0.3)  # it came during the wait ...
        self.assertGreaterEqual(end - start, 0.3)  # ... which went on to its end
        self.assertLess(end - start, 10)
        self.assertEqual(support.state_words(self.event, 4), [support.tag(b"SEVT"), 0, 0, 0])

    def test_a_signal_whose_handler_raises_ends_the_wait_cleanly(self):
        def interrupt(*_):
            raise KeyboardInterrupt

        self.alarm_in(0.05, interrupt)
        with self.assertRaises(KeyboardInterrupt):
            self.event.wait(30)
        self.assertEqual(support.state_words(self.event, 4), [support.tag(b"SEVT"), 0, 0, 0])  # no waiter left


if __name__ == "__main__":
    unittest.main()
