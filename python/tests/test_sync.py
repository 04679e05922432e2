"""Event, Semaphore, BoundedSemaphore, Condition and Barrier from Python: named objects laid
out as Rust lays them out (real robust lock cells), used from threads and from other
processes, every word of their state checked after each step (docs/format.md section 6)."""

import os
import signal
import subprocess
import sys
import threading
import time
import unittest

import sharedctypes as sc

from tests import support
from tests.support import new_primitive, state_words, tag, wait_until

SEVT, SSEM, SCND, SBAR = tag(b"SEVT"), tag(b"SSEM"), tag(b"SCND"), tag(b"SBAR")
UNBOUNDED = 0xFFFFFFFF


def spawn(testcase, code, *args):
    """Starts `code` in a separate interpreter (importing the package); the Popen, killed
    and reaped when the test ends."""
    child = subprocess.Popen(
        [sys.executable, "-c", code] + [str(a) for a in args],
        env=dict(os.environ, PYTHONPATH=support.PACKAGE_DIR),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        universal_newlines=True,
    )

    def stop():
        if child.poll() is None:
            child.kill()
        child.communicate(timeout=30)

    testcase.addCleanup(stop)
    return child


class EventTests(unittest.TestCase):
    def setUp(self):
        self.name = new_primitive(self, "event", 0, 0, 0)
        self.event = sc.open_named(self.name)

    def test_set_and_clear_write_the_flag_and_bump_the_generation(self):
        self.assertIsInstance(self.event, sc.Event)
        self.assertFalse(self.event.is_set())
        self.event.set()
        self.assertEqual(state_words(self.event, 4), [SEVT, 0b11, 0, 0])  # one set, flag
        self.assertTrue(self.event.is_set())
        self.event.set()
        self.event.clear()
        self.assertEqual(state_words(self.event, 4), [SEVT, 0b100, 0, 0])  # two sets, no flag
        self.event.clear()
        self.assertEqual(state_words(self.event, 4), [SEVT, 0b100, 0, 0])
        self.assertFalse(self.event.is_set())
        self.assertEqual(repr(self.event), "<sharedctypes.Event set=False>")

    def test_wait_times_out_and_returns_at_once_when_set(self):
        start = time.monotonic()
        self.assertIs(self.event.wait(0.05), False)
        self.assertGreaterEqual(time.monotonic() - start, 0.05)
        self.assertIs(self.event.wait(-1), False)  # a negative timeout looks once
        self.event.set()
        self.assertIs(self.event.wait(), True)
        self.assertIs(self.event.wait(0), True)
        self.assertEqual(state_words(self.event, 4), [SEVT, 0b11, 0, 0])

    def test_a_sleeping_thread_is_woken_by_set(self):
        thread, results = support.in_thread(self.event.wait, 30)
        self.assertTrue(wait_until(lambda: state_words(self.event, 4)[2] == 1))  # asleep
        self.event.set()
        thread.join(30)
        self.assertEqual(results, [True])
        self.assertEqual(state_words(self.event, 4), [SEVT, 0b11, 0, 0])

    def test_a_pulse_releases_every_waiter_even_if_cleared_at_once(self):
        waiters = [support.in_thread(self.event.wait, 30) for _ in range(3)]
        self.assertTrue(wait_until(lambda: state_words(self.event, 4)[2] == 3))
        self.event.set()
        self.event.clear()
        for thread, _ in waiters:
            thread.join(30)
        self.assertEqual([r for _, r in waiters], [[True]] * 3)
        self.assertEqual(state_words(self.event, 4), [SEVT, 0b10, 0, 0])

    def test_another_process_wakes_a_waiter_and_is_woken(self):
        child = spawn(
            self,
            "import sys, sharedctypes as sc\n"
            "e = sc.open_named(sys.argv[1])\n"
            "print(e.wait(30), flush=True)\n"
            "e.clear()\n",
            self.name,
        )
        self.assertTrue(wait_until(lambda: state_words(self.event, 4)[2] == 1))
        self.event.set()
        out, err = child.communicate(timeout=30)
        self.assertEqual((out, err, child.returncode), ("True\n", "", 0))
        self.assertEqual(state_words(self.event, 4), [SEVT, 0b10, 0, 0])


class SemaphoreTests(unittest.TestCase):
    def test_acquire_release_and_the_count(self):
        s = sc.open_named(new_primitive(self, "semaphore", 2, 0, UNBOUNDED))
        self.assertIsInstance(s, sc.Semaphore)
        self.assertNotIsInstance(s, sc.BoundedSemaphore)
        self.assertIs(s.acquire(), True)
        self.assertIs(s.acquire(blocking=False), True)
        self.assertIs(s.acquire(blocking=False), False)
        start = time.monotonic()
        self.assertIs(s.acquire(timeout=0.05), False)
        self.assertGreaterEqual(time.monotonic() - start, 0.05)
        self.assertEqual(s.get_value(), 0)
        for _ in range(5):
            s.release()  # no bound
        self.assertEqual(state_words(s, 4), [SSEM, 5, 0, UNBOUNDED])
        with s:
            self.assertEqual(s.get_value(), 4)
        self.assertEqual(repr(s), "<sharedctypes.Semaphore value=5>")
        with self.assertRaises(ValueError) as caught:
            s.acquire(False, 1)
        self.assertEqual(str(caught.exception), "can't specify a timeout for a non-blocking acquire")

    def test_an_unbounded_semaphore_stops_at_its_last_value(self):
        s = sc.open_named(new_primitive(self, "semaphore", UNBOUNDED - 1, 0, UNBOUNDED))
        s.release()
        with self.assertRaises(ValueError) as caught:
            s.release()
        self.assertEqual(
            str(caught.exception),
            "Semaphore released too many times: it holds 4294967295 permits, the most it may hold is 4294967295",
        )

    def test_a_bounded_semaphore_refuses_to_go_past_its_bound(self):
        s = sc.open_named(new_primitive(self, "bounded_semaphore", 1, 0, 2))
        self.assertIsInstance(s, sc.BoundedSemaphore)
        s.release()
        with self.assertRaises(ValueError) as caught:
            s.release()
        self.assertEqual(
            str(caught.exception), "Semaphore released too many times: it holds 2 permits, the most it may hold is 2"
        )
        self.assertEqual(state_words(s, 4), [SSEM, 2, 0, 2])

    def test_the_kind_and_the_bound_must_agree(self):
        image, _, data = support.primitive_image("semaphore", b"SSEM" + bytes(8) + b"\x02\x00\x00\x00")
        name = support.plant(self, image)
        with self.assertRaises(sc.NotSharedctypesObject) as caught:
            sc.open_named(name)
        self.assertEqual(
            str(caught.exception),
            "%r: its state is of a BoundedSemaphore (bound 2) where a Semaphore is expected" % name,
        )

    def test_a_waiter_is_woken_by_a_release(self):
        s = sc.open_named(new_primitive(self, "semaphore", 0, 0, UNBOUNDED))
        thread, results = support.in_thread(s.acquire, True, 30)
        self.assertTrue(wait_until(lambda: state_words(s, 4)[2] == 1))
        s.release()
        thread.join(30)
        self.assertEqual(results, [True])
        self.assertEqual(state_words(s, 4), [SSEM, 0, 0, UNBOUNDED])

    def test_processes_and_threads_count_exactly(self):
        # A semaphore of 1 as a mutex around a plain (non-atomic) counter: no lost update;
        # then extra releases from every side at once, every one counted.
        name = new_primitive(self, "semaphore", 1, 0, UNBOUNDED)
        counter, _ = support.forge(self, "u64", data=bytes(8))
        code = """
import sys, sharedctypes as sc
s = sc.open_named(sys.argv[1])
n = sc.open_named(sys.argv[2]).get_obj()
for _ in range(400):
    s.acquire()
    n.value += 1
    s.release()
print("looped", flush=True)
sys.stdin.readline()  # the extra permits only once nobody counts any more
for _ in range(7):
    s.release()
"""
        children = [spawn(self, code, name, counter) for _ in range(2)]
        s = sc.open_named(name)
        n = sc.open_named(counter).get_obj()

        def work():
            for _ in range(400):
                s.acquire()
                n.value += 1
                s.release()

        threads = [threading.Thread(target=work) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for child in children:
            self.assertEqual(child.stdout.readline(), "looped\n")
        self.assertEqual((n.value, s.get_value()), (1600, 1))
        for child in children:
            child.stdin.write("release\n")
            child.stdin.flush()
        threads = [threading.Thread(target=lambda: [s.release() for _ in range(3)]) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for child in children:
            out, err = child.communicate(timeout=60)
            self.assertEqual((out, err, child.returncode), ("", "", 0))
        self.assertEqual(state_words(s, 4), [SSEM, 1 + 2 * 7 + 2 * 3, 0, UNBOUNDED])


class SemaphoreWithBlocks(unittest.TestCase):
    """The end of a ``with semaphore:`` block, one foreign call where the machine-code atomics
    are in use."""

    def setUp(self):
        self.name = new_primitive(self, "semaphore", 1, 0, UNBOUNDED)
        self.sem = sc.open_named(self.name)
        if self.sem._atomics.sem_exit is None:
            self.skipTest("the machine-code atomics are not in use here: __exit__ is Python's")

    def test_a_signal_during_a_with_block_never_loses_the_permit(self):
        interrupted, lost = support.with_blocks_interrupted_at_random(
            self, self.sem, lambda: self.sem.get_value() == 0, self.sem.release
        )
        self.assertGreater(interrupted, 0)
        self.assertEqual(lost, 0, "of %d interrupted blocks" % interrupted)
        self.assertEqual(state_words(self.sem, 4), [SSEM, 1, 0, UNBOUNDED])

    def test_the_end_of_a_block_wakes_a_waiter_and_a_bound_ends_it_quietly(self):
        waiter = sc.open_named(self.name)
        with self.sem:
            thread, results = support.in_thread(waiter.acquire, True, 30)
            self.assertTrue(wait_until(lambda: state_words(self.sem, 4)[2] == 1))  # asleep
        thread.join(10)
        self.assertEqual(results, [True])
        self.assertEqual(state_words(self.sem, 4), [SSEM, 0, 0, UNBOUNDED])
        bounded = sc.open_named(new_primitive(self, "bounded_semaphore", 1, 0, 1))
        with bounded:
            bounded.release()  # back at its bound inside the block
        self.assertEqual(bounded.get_value(), 1)


class ConditionTests(unittest.TestCase):
    def setUp(self):
        self.name = new_primitive(self, "condition", 0, 0, 0)
        self.cond = sc.open_named(self.name)
        self.cell = self.cond.get_lock()._cell

    def counts(self):
        """(waiters not notified, wake-ups not taken)."""
        words = state_words(self.cond, 4)
        self.assertEqual(words[0], SCND)
        return words[3], words[2]

    def seq(self):
        return state_words(self.cond, 2)[1]

    def test_wait_and_notify_need_the_lock(self):
        with self.assertRaises(RuntimeError) as caught:
            self.cond.wait(0)
        self.assertEqual(str(caught.exception), "cannot wait on un-acquired lock")
        with self.assertRaises(RuntimeError) as caught:
            self.cond.notify()
        self.assertEqual(str(caught.exception), "cannot notify on un-acquired lock")
        with self.cond:
            with self.assertRaises(ValueError) as caught:
                self.cond.notify(-1)
        self.assertEqual(str(caught.exception), "notify(n) needs a count of at least 0, not -1")

    def test_a_timed_out_wait_leaves_no_trace_and_takes_every_level_back(self):
        self.assertTrue(self.cond.get_lock().recursive)
        with self.cond:
            with self.cond:
                start = time.monotonic()
                self.assertIs(self.cond.wait(0.05), False)
                self.assertGreaterEqual(time.monotonic() - start, 0.05)
                self.assertEqual((self.cell.holder, self.cell.depth), (os.getpid(), 2))
                self.assertEqual(self.counts(), (0, 0))
        self.assertEqual((self.cell.holder, self.cell.depth), (0, 0))
        with self.cond:
            self.cond.notify_all()  # nobody waits: nothing changes
        self.assertEqual((self.counts(), self.seq()), ((0, 0), 0))

    def test_the_lock_is_free_while_waiting(self):
        def wait():
            with self.cond:
                return self.cond.wait(30)

        thread, results = support.in_thread(wait)
        self.assertTrue(wait_until(lambda: self.counts() == (1, 0)))
        self.assertTrue(self.cond.acquire(timeout=10))  # released by the waiter
        self.cond.notify()
        # One waiter turned into a wake-up (which the waiter may already have taken: it
        # takes it before it waits for the lock).
        self.assertEqual((self.counts()[0], self.seq()), (0, 1))
        self.assertIn(self.counts()[1], (0, 1))
        self.cond.release()
        thread.join(30)
        self.assertEqual(results, [True])
        self.assertEqual(self.counts(), (0, 0))

    def test_notify_one_wakes_one_waiter(self):
        def wait():
            with self.cond:
                return self.cond.wait(30)

        waiters = [support.in_thread(wait) for _ in range(2)]
        self.assertTrue(wait_until(lambda: self.counts() == (2, 0)))
        with self.cond:
            self.cond.notify(1)
        self.assertTrue(wait_until(lambda: sum(len(r) for _, r in waiters) == 1))
        time.sleep(0.05)
        self.assertEqual(sum(len(r) for _, r in waiters), 1)  # the other sleeps on
        self.assertEqual(self.counts(), (1, 0))
        with self.cond:
            self.cond.notify(1)
        for thread, _ in waiters:
            thread.join(30)
        self.assertEqual([r for _, r in waiters], [[True], [True]])
        self.assertEqual((self.counts(), self.seq()), ((0, 0), 2))

    def test_notify_all_wakes_every_waiter(self):
        def wait():
            with self.cond:
                return self.cond.wait(30)

        waiters = [support.in_thread(wait) for _ in range(3)]
        self.assertTrue(wait_until(lambda: self.counts() == (3, 0)))
        with self.cond:
            self.cond.notify_all()
        for thread, _ in waiters:
            thread.join(30)
        self.assertEqual([r for _, r in waiters], [[True]] * 3)
        self.assertEqual((self.counts(), self.seq()), ((0, 0), 1))

    def test_wait_for_a_predicate_set_by_another_process(self):
        flag, _ = support.forge(self, "u32", data=bytes(4))
        child = spawn(
            self,
            "import sys, sharedctypes as sc\n"
            "c = sc.open_named(sys.argv[1])\n"
            "flag = sc.open_named(sys.argv[2]).get_obj()\n"
            "sys.stdin.readline()\n"
            "with c:\n"
            "    flag.value = 42\n"
            "    c.notify_all()\n",
            self.name,
            flag,
        )
        value = sc.open_named(flag).get_obj()
        with self.cond:
            self.assertIs(self.cond.wait_for(lambda: value.value == 42, 0.01), False)
            child.stdin.write("go\n")
            child.stdin.flush()
            self.assertIs(self.cond.wait_for(lambda: value.value == 42, 30), True)
        out, err = child.communicate(timeout=30)
        self.assertEqual((out, err, child.returncode), ("", "", 0))

    def test_a_waiter_killed_while_waiting_disturbs_no_later_notification(self):
        child = spawn(
            self,
            "import sys, sharedctypes as sc\n"
            "c = sc.open_named(sys.argv[1])\n"
            "with c:\n"
            "    c.wait()\n",
            self.name,
        )
        self.assertTrue(wait_until(lambda: self.counts() == (1, 0)))
        self.assertTrue(self.cond.acquire(timeout=10))  # it is asleep, the lock free
        self.cond.release()
        child.send_signal(signal.SIGKILL)
        self.assertEqual(child.wait(30), -signal.SIGKILL)

        def wait():
            with self.cond:
                return self.cond.wait(30)

        thread, results = support.in_thread(wait)
        self.assertTrue(wait_until(lambda: self.counts() == (2, 0)))  # the dead one still counted
        with self.cond:
            self.cond.notify(1)
        thread.join(30)
        self.assertEqual(results, [True])
        # The grant went to the live waiter: the dead one stays counted, unnotified.
        self.assertEqual(self.counts(), (1, 0))


class BarrierTests(unittest.TestCase):
    def setUp(self):
        self.name = new_primitive(self, "barrier", 3, 0, 0, 0, UNBOUNDED)
        self.barrier = sc.open_named(self.name)

    def test_three_parties_pass_together_with_different_indices(self):
        for round_ in range(2):
            waiters = [support.in_thread(self.barrier.wait, 30) for _ in range(2)]
            self.assertTrue(wait_until(lambda: self.barrier.n_waiting == 2))
            mine = self.barrier.wait(30)
            for thread, _ in waiters:
                thread.join(30)
            indices = sorted([mine] + [r[0] for _, r in waiters])
            self.assertEqual(indices, [0, 1, 2])
            self.assertEqual(state_words(self.barrier, 6), [SBAR, 3, 0, round_ + 1, 0, UNBOUNDED])

    def test_a_timeout_breaks_it_for_everyone_until_reset(self):
        waiter, results = support.in_thread(self.barrier.wait, 30)
        self.assertTrue(wait_until(lambda: self.barrier.n_waiting == 1))
        with self.assertRaises(sc.BrokenBarrierError):
            self.barrier.wait(0.05)
        waiter.join(30)
        self.assertEqual([type(r) for r in results], [sc.BrokenBarrierError])
        self.assertTrue(self.barrier.broken)
        self.assertEqual(state_words(self.barrier, 6), [SBAR, 3, 0, 1, 1, 0])
        with self.assertRaises(sc.BrokenBarrierError):
            self.barrier.wait(30)  # at once: broken
        self.barrier.reset()
        self.assertEqual(state_words(self.barrier, 6), [SBAR, 3, 0, 1, 0, 0])
        waiters = [support.in_thread(self.barrier.wait, 30) for _ in range(2)]
        self.assertTrue(wait_until(lambda: self.barrier.n_waiting == 2))
        self.assertIn(self.barrier.wait(30), (0, 1, 2))
        for thread, _ in waiters:
            thread.join(30)
        self.assertEqual(self.barrier.broken, False)

    def test_abort_sends_the_waiters_away(self):
        waiter, results = support.in_thread(self.barrier.wait)
        self.assertTrue(wait_until(lambda: self.barrier.n_waiting == 1))
        self.barrier.abort()
        waiter.join(30)
        self.assertEqual([type(r) for r in results], [sc.BrokenBarrierError])
        self.assertEqual(repr(self.barrier), "<sharedctypes.Barrier parties=3 n_waiting=0 broken=True>")

    def test_a_barrier_of_no_parties_is_refused(self):
        name = new_primitive(self, "barrier", 0, 0, 0, 0, UNBOUNDED)
        with self.assertRaises(sc.NotSharedctypesObject) as caught:
            sc.open_named(name)
        self.assertEqual(str(caught.exception), "%r: a barrier of 0 parties" % name)


class Interrupting:
    """An atomics backend that raises ``KeyboardInterrupt`` right after a call of `name` (as a
    signal handled as the call returns would), once, for the call where ``when(args, before)``
    is true (`before`: the expected value a ``*_into`` call was given); every other call goes
    through."""

    def __init__(self, real, name, when=lambda args, before: True, first=None):
        self._real = real
        self._name = name
        self._when = when
        self._first = first  # called before the interrupted call, to order it with others
        self.interrupted = False

    def __getattr__(self, attr):
        real = getattr(self._real, attr)
        if attr != self._name or self.interrupted:
            return real

        def call(*args):
            before = args[1].value if attr.endswith("_into") else None
            if self._first is not None:
                self._first()
            result = real(*args)
            if not self.interrupted and self._when(args, before):
                self.interrupted = True
                raise KeyboardInterrupt
            return result

        return call


def swapped(args, before):
    """For a ``*_into`` call: it swapped (its cell still holds the expected value)."""
    return args[1].value == before


class Interrupts(unittest.TestCase):
    """A ``KeyboardInterrupt`` raised as any atomic operation returns leaves every primitive
    whole: nothing taken is kept by the interrupted thread, no waiter sleeps through a change
    it waits for, no count is wrong."""

    def finishes(self, thread):
        """The thread ends at once (it waits up to 30 s for what it was woken for)."""
        thread.join(5)
        self.assertFalse(thread.is_alive(), "a waiter slept through the change it waits for")

    def interrupt(self, primitive, name, **kw):
        proxy = Interrupting(primitive._atomics, name, **kw)
        primitive._atomics = proxy
        return proxy

    def test_a_permit_taken_by_an_interrupted_acquire_is_given_back(self):
        name = new_primitive(self, "semaphore", 1, 0, UNBOUNDED)
        for blocking in (True, False):
            s = sc.open_named(name)
            proxy = self.interrupt(s, "cas32_into", when=swapped)
            with self.assertRaises(KeyboardInterrupt):
                s.acquire(blocking=blocking)
            self.assertTrue(proxy.interrupted)
            self.assertEqual(state_words(s, 4), [SSEM, 1, 0, UNBOUNDED])
        self.assertIs(sc.open_named(name).acquire(blocking=False), True)

    def test_an_interrupted_release_still_wakes_a_waiter(self):
        name = new_primitive(self, "semaphore", 0, 0, UNBOUNDED)
        waiter = sc.open_named(name)
        thread, results = support.in_thread(waiter.acquire, True, 30)
        self.assertTrue(wait_until(lambda: state_words(waiter, 4)[2] == 1))  # asleep
        s = sc.open_named(name)
        self.interrupt(s, "cas32")
        with self.assertRaises(KeyboardInterrupt):
            s.release()
        self.finishes(thread)
        self.assertEqual(results, [True])
        self.assertEqual(state_words(s, 4), [SSEM, 0, 0, UNBOUNDED])

    def test_an_interrupted_set_still_wakes_the_waiters(self):
        name = new_primitive(self, "event", 0, 0, 0)
        waiter = sc.open_named(name)
        thread, results = support.in_thread(waiter.wait, 30)
        self.assertTrue(wait_until(lambda: state_words(waiter, 4)[2] == 1))
        e = sc.open_named(name)
        self.interrupt(e, "cas32")
        with self.assertRaises(KeyboardInterrupt):
            e.set()
        self.finishes(thread)
        self.assertEqual(results, [True])
        self.assertEqual(state_words(e, 4), [SEVT, 0b11, 0, 0])

    def test_an_interrupted_notify_still_wakes_the_waiter(self):
        name = new_primitive(self, "condition", 0, 0, 0)
        waiter = sc.open_named(name)

        def wait():
            with waiter:
                return waiter.wait(30)

        thread, results = support.in_thread(wait)
        self.assertTrue(wait_until(lambda: state_words(waiter, 4)[3] == 1))
        c = sc.open_named(name)
        self.interrupt(c, "cas64")  # the grant: wake-ups given, the generation not yet bumped
        with self.assertRaises(KeyboardInterrupt):
            with c:
                c.notify()
        self.finishes(thread)
        self.assertEqual(results, [True])
        self.assertEqual(state_words(c, 4)[2:], [0, 0])  # no waiter, no wake-up left

    def test_a_wait_interrupted_after_taking_its_wake_up_counts_no_other_waiter_out(self):
        name = new_primitive(self, "condition", 0, 0, 0)
        first, second, c = sc.open_named(name), sc.open_named(name), sc.open_named(name)
        second_counted = threading.Event()
        proxy = self.interrupt(first, "cas64_into", when=swapped, first=lambda: second_counted.wait(10))

        def wait(cond):
            with cond:
                return cond.wait(10)

        one, one_results = support.in_thread(wait, first)
        self.assertTrue(wait_until(lambda: state_words(c, 4)[3] == 1))
        with c:
            c.notify()  # for `first`, which wakes and stops just before taking it
        two, two_results = support.in_thread(wait, second)
        self.assertTrue(wait_until(lambda: state_words(c, 4)[3] == 1))  # `second` counted
        second_counted.set()
        one.join(30)
        self.assertTrue(proxy.interrupted)
        self.assertEqual([type(r) for r in one_results], [KeyboardInterrupt])
        self.assertEqual(state_words(c, 4)[2:], [0, 1])  # `second` still counted, no wake-up
        with c:
            c.notify()
        two.join(30)
        self.assertEqual(two_results, [True])
        self.assertEqual(state_words(c, 4)[2:], [0, 0])

    def test_a_party_interrupted_while_waiting_breaks_the_round(self):
        name = new_primitive(self, "barrier", 3, 0, 0, 0, UNBOUNDED)
        other = sc.open_named(name)
        thread, results = support.in_thread(other.wait, 30)
        self.assertTrue(wait_until(lambda: other.n_waiting == 1))
        real_wait = sc._sync.futex_wait
        main = threading.current_thread()

        def interrupted_wait(*args):
            if threading.current_thread() is main:
                raise KeyboardInterrupt
            return real_wait(*args)

        sc._sync.futex_wait = interrupted_wait
        self.addCleanup(setattr, sc._sync, "futex_wait", real_wait)
        b = sc.open_named(name)
        with self.assertRaises(KeyboardInterrupt):
            b.wait(10)
        self.finishes(thread)
        self.assertEqual([type(r) for r in results], [sc.BrokenBarrierError])
        self.assertEqual(state_words(b, 6), [SBAR, 3, 0, 1, 1, 0])

    def test_the_last_party_interrupted_as_the_round_passes_still_releases_the_others(self):
        name = new_primitive(self, "barrier", 2, 0, 0, 0, UNBOUNDED)
        other = sc.open_named(name)
        thread, results = support.in_thread(other.wait, 30)
        self.assertTrue(wait_until(lambda: other.n_waiting == 1))
        b = sc.open_named(name)
        calls = []
        # The second add of the arrival: the generation's (the first counts this party).
        self.interrupt(b, "add32", when=lambda args, before: calls.append(args) or len(calls) == 2)
        with self.assertRaises(KeyboardInterrupt):
            b.wait(10)
        self.finishes(thread)
        self.assertEqual(results, [0])
        self.assertEqual(state_words(b, 6), [SBAR, 2, 0, 1, 0, UNBOUNDED])


class Tags(unittest.TestCase):
    def test_a_state_with_another_tag_is_refused(self):
        image, _, data = support.primitive_image("event", b"SSEM" + bytes(12))
        name = support.plant(self, image)
        with self.assertRaises(sc.NotSharedctypesObject) as caught:
            sc.open_named(name)
        self.assertEqual(str(caught.exception), "%r: its state has tag 0x4d455353, not 0x54564553 (an Event)" % name)


if __name__ == "__main__":
    unittest.main()
