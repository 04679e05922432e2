"""Lock: the Rust protocol on robust pthread mutexes made here with libc, and release by a
thread that does not hold the lock refused without touching the cell."""

import ctypes
import mmap
import os
import subprocess
import sys
import threading
import time
import unittest
import warnings

import sharedctypes as sc

from tests import support
from tests.support import TAG_LOCK, TAG_RLOCK, cell_fields, forge

NOT_HELD = "release of a lock this thread does not hold"


class LockCell(unittest.TestCase):
    """A lock cell at offset 0 of an anonymous shared mapping."""

    recursive = False

    def setUp(self):
        self.mm = mmap.mmap(-1, mmap.PAGESIZE)
        support.init_lock_cell(self.mm, 0, self.recursive)
        self._base = ctypes.c_char.from_buffer(self.mm)
        self.lock = sc.Lock(ctypes.addressof(self._base), self.mm, self.recursive)
        self.tag = TAG_RLOCK if self.recursive else TAG_LOCK

    def tearDown(self):
        del self.lock, self._base
        self.mm.close()

    def cell(self):
        """(owner tid, holder pid, depth, died, tag)."""
        return cell_fields(self.mm, 0)

    def in_thread(self, holder_ready, release_now):
        """Starts a thread that acquires the lock, sets `holder_ready`, waits for
        `release_now` and releases it; returns (thread, its native id holder)."""
        tid = []

        def hold():
            self.lock.acquire()
            tid.append(threading.get_native_id())
            holder_ready.set()
            release_now.wait(30)
            self.lock.release()

        thread = threading.Thread(target=hold)
        thread.start()
        return thread, tid


class ErrorCheckingLock(LockCell):
    def held_by_a_thread(self):
        """Has a thread take the lock; ``release()`` ends that thread, giving it back."""
        ready, release = threading.Event(), threading.Event()
        thread, _ = self.in_thread(ready, release)
        self.assertTrue(ready.wait(30))

        def done():
            release.set()
            thread.join(30)

        return done

    def test_a_timed_acquire_waits_on_the_monotonic_clock(self):
        # A deadline on the wall clock moves with it: a step, or a time service slewing it
        # (this project's CI machine ran 0.5% fast one day, and 100 ms waits ended early).
        if sc._TIMED_LOCK != "pthread_mutex_clocklock":
            self.skipTest("glibc before 2.30 has no pthread_mutex_clocklock: the wall clock is used")
        seen = []
        real = sc._libc.pthread_mutex_clocklock

        def recorded(address, clock, ts):
            seen.append((clock, ts._obj.tv_sec + ts._obj.tv_nsec / 1e9 - time.clock_gettime(clock)))
            return real(address, clock, ts)

        sc._libc.pthread_mutex_clocklock = recorded
        self.addCleanup(setattr, sc._libc, "pthread_mutex_clocklock", real)
        done = self.held_by_a_thread()
        try:
            start = time.monotonic()
            self.assertFalse(self.lock.acquire(timeout=0.2))
            self.assertGreaterEqual(time.monotonic() - start, 0.2)
        finally:
            done()
        [(clock, left)] = seen
        self.assertEqual(clock, time.CLOCK_MONOTONIC)
        self.assertTrue(0.15 < left <= 0.2, left)  # the deadline: 0.2 s from then, on that clock

    def test_without_clocklock_a_timed_acquire_uses_the_wall_clock(self):
        self.addCleanup(setattr, sc, "_TIMED_LOCK", sc._TIMED_LOCK)
        sc._TIMED_LOCK = "pthread_mutex_timedlock"  # as before glibc 2.30
        done = self.held_by_a_thread()
        try:
            self.assertFalse(self.lock.acquire(timeout=0.05))
        finally:
            done()
        self.assertTrue(self.lock.acquire(timeout=5))
        self.lock.release()

    def test_a_timeout_too_long_for_a_deadline_waits_for_the_lock(self):
        # As Rust's acquire_timeout does (it used to wrap around and give up at once).
        done = self.held_by_a_thread()
        threading.Timer(0.2, done).start()
        self.assertTrue(self.lock.acquire(timeout=1e19))
        self.lock.release()
        with self.assertRaises(ValueError):
            self.lock.acquire(timeout=float("nan"))

    def test_acquire_and_release_keep_the_rust_bookkeeping(self):
        me = threading.get_native_id()
        self.assertTrue(self.lock.acquire())
        self.assertEqual(self.cell(), (me, os.getpid(), 1, 0, self.tag))
        self.assertFalse(self.lock.acquire(blocking=False))  # not re-entrant
        self.lock.release()
        self.assertEqual(self.cell(), (0, 0, 0, 0, self.tag))

    def test_release_by_another_thread_changes_nothing(self):
        ready, release_now = threading.Event(), threading.Event()
        thread, tid = self.in_thread(ready, release_now)
        try:
            self.assertTrue(ready.wait(30))
            before = self.cell()
            self.assertEqual(before, (tid[0], os.getpid(), 1, 0, self.tag))
            with self.assertRaises(RuntimeError) as caught:
                self.lock.release()
            self.assertEqual(self.cell(), before)  # the old module zeroed depth and holder
            self.assertEqual(str(caught.exception), NOT_HELD)
        finally:
            release_now.set()
            thread.join(30)
        self.assertEqual(self.cell(), (0, 0, 0, 0, self.tag))

    def test_release_of_a_free_lock_changes_nothing(self):
        with self.assertRaises(RuntimeError) as caught:
            self.lock.release()
        self.assertEqual(self.cell(), (0, 0, 0, 0, self.tag))
        self.assertEqual(str(caught.exception), NOT_HELD)
        with self.lock:
            self.assertEqual(self.cell()[1:3], (os.getpid(), 1))

    def test_threads_increment_exactly_under_the_lock(self):
        counter = ctypes.c_int64.from_buffer(self.mm, 64)

        def work():
            for _ in range(2000):
                with self.lock:
                    counter.value += 1

        threads = [threading.Thread(target=work) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(counter.value, 8000)
        self.assertEqual(self.cell(), (0, 0, 0, 0, self.tag))
        del counter


class RecursiveLock(LockCell):
    recursive = True

    def test_depth_counts_and_holder_clears_at_zero(self):
        me = threading.get_native_id()
        self.lock.acquire()
        self.lock.acquire()
        self.assertEqual(self.cell(), (me, os.getpid(), 2, 0, self.tag))
        self.lock.release()
        self.assertEqual(self.cell(), (me, os.getpid(), 1, 0, self.tag))
        self.lock.release()
        self.assertEqual(self.cell(), (0, 0, 0, 0, self.tag))

    def test_release_by_another_thread_changes_nothing(self):
        ready, release_now = threading.Event(), threading.Event()
        thread, tid = self.in_thread(ready, release_now)
        try:
            self.assertTrue(ready.wait(30))
            before = self.cell()
            with self.assertRaises(RuntimeError) as caught:
                self.lock.release()
            self.assertEqual(self.cell(), before)  # the old module zeroed depth and holder
            self.assertEqual(str(caught.exception), NOT_HELD)
        finally:
            release_now.set()
            thread.join(30)


class InterruptedAcquisition(LockCell):
    """An acquisition interrupted (as by a ``KeyboardInterrupt``) anywhere after the mutex was
    taken gives back what it took; a live process never keeps a lock it does not know of."""

    def patch(self, owner, name, replacement):
        real = getattr(owner, name)
        setattr(owner, name, replacement)
        self.addCleanup(setattr, owner, name, real)
        return real

    def interrupt_after(self, owner, name, times=1):
        """Makes the next `times` calls of ``owner.name`` do their work, then raise
        ``KeyboardInterrupt`` (as a signal handled right after the call would)."""
        left = [times]

        def interrupted(*args):
            result = real(*args)
            if left[0] > 0:
                left[0] -= 1
                raise KeyboardInterrupt
            return result

        real = self.patch(owner, name, interrupted)

    def assert_free(self):
        self.assertEqual(self.cell(), (0, 0, 0, 0, self.tag))
        pid = os.fork()
        if pid == 0:  # another process takes it at once (and gives it back)
            code = 1
            try:
                if self.lock.acquire(blocking=False):
                    self.lock.release()
                    code = 0
            finally:
                os._exit(code)
        self.assertEqual(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), 0)

    def die_holding(self):
        """A child process takes the lock and ends without releasing it; its pid."""
        pid = os.fork()
        if pid == 0:
            try:
                self.lock.acquire()
            finally:
                os._exit(0)
        self.assertEqual(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]), 0)
        return pid

    def test_an_interrupt_right_after_the_mutex_call_gives_the_lock_back(self):
        self.interrupt_after(sc._libc, "pthread_mutex_lock")
        with self.assertRaises(KeyboardInterrupt):
            with self.lock:
                self.fail("the body ran without the lock")
        self.assert_free()

    def test_an_interrupt_in_the_bookkeeping_gives_the_lock_back(self):
        self.interrupt_after(os, "getpid")  # the holder's pid, written after the mutex call
        with self.assertRaises(KeyboardInterrupt):
            self.lock.acquire()
        self.assert_free()

    def test_an_interrupt_after_a_try_or_a_timed_wait_gives_the_lock_back(self):
        for call, take in (
            ("pthread_mutex_trylock", lambda: self.lock.acquire(blocking=False)),
            (sc._TIMED_LOCK, lambda: self.lock.acquire(timeout=5)),
        ):
            self.interrupt_after(sc._libc, call)
            with self.assertRaises(KeyboardInterrupt):
                take()
            self.assert_free()

    def test_an_interrupt_while_recording_a_death_keeps_the_death_and_gives_the_lock_back(self):
        for interrupted in ("pthread_mutex_lock", "pthread_mutex_consistent"):
            dead = self.die_holding()
            self.interrupt_after(sc._libc, interrupted)
            with self.assertRaises(KeyboardInterrupt):
                self.lock.acquire()
            self.assertEqual(self.cell(), (0, 0, 0, dead, self.tag), interrupted)
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                self.assertTrue(self.lock.acquire())
            self.assertEqual([w.category for w in seen], [sc.OwnerDiedWarning])
            self.assertEqual(self.lock.dead_owner_pid, dead)
            self.lock.clear_owner_died()
            self.lock.release()
            self.assert_free()

    def test_a_death_warning_raised_as_an_error_gives_the_lock_back(self):
        dead = self.die_holding()
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with self.assertRaises(sc.OwnerDiedWarning):
                self.lock.acquire()
        self.assertEqual(self.cell(), (0, 0, 0, dead, self.tag))
        self.assertTrue(self.lock.acquire(blocking=False, warn=False))
        self.lock.clear_owner_died()
        self.lock.release()
        self.assert_free()

    def test_an_acquisition_that_takes_nothing_releases_nothing(self):
        me = threading.get_native_id()
        self.lock.acquire()
        if self.recursive:
            self.interrupt_after(sc._libc, "pthread_mutex_trylock")
            with self.assertRaises(KeyboardInterrupt):
                self.lock.acquire(blocking=False)  # took a second level, given back
        else:
            with self.assertRaises(RuntimeError):
                self.lock.acquire()  # EDEADLK: nothing taken
        self.assertEqual(self.cell(), (me, os.getpid(), 1, 0, self.tag))
        self.lock.release()
        self.assert_free()


    def test_an_interrupt_in_the_release_at_the_end_of_a_with_block_still_releases(self):
        self.lock._exit_code = None  # the Python __exit__ (where the machine code is not used)
        for owner, name in ((threading, "get_native_id"), (sc._libc, "pthread_mutex_unlock")):
            with self.assertRaises(KeyboardInterrupt):
                with self.lock:
                    self.interrupt_after(owner, name)
            self.assert_free()

    def test_a_signal_during_a_with_block_never_leaves_the_lock_held(self):
        # A block of code without calls: a signal that comes in it is handled at the next
        # call, function entry or backward jump, which for a Python __exit__ is its entry.
        if self.lock._exit_code is None:
            self.skipTest("the machine-code atomics are not in use here: __exit__ is Python's")
        interrupted, held = support.with_blocks_interrupted_at_random(
            self, self.lock, self.lock._held_by_this_thread, self.lock.release
        )
        self.assertGreater(interrupted, 0)
        self.assertEqual(held, 0, "of %d interrupted blocks" % interrupted)
        self.assert_free()

    def test_a_with_block_whose_lock_was_released_inside_leaves_the_holder_alone(self):
        if self.lock._exit_code is None:
            self.skipTest("the machine-code atomics are not in use here: __exit__ is Python's")
        ready, release_now = threading.Event(), threading.Event()
        with self.lock:
            self.lock.release()  # inside the block: another thread takes it meanwhile
            thread, tid = self.in_thread(ready, release_now)
            self.assertTrue(ready.wait(30))
        try:
            self.assertEqual(self.cell(), (tid[0], os.getpid(), 1, 0, self.tag))  # untouched
        finally:
            release_now.set()
            thread.join(30)
        self.assert_free()


class InterruptedRecursiveAcquisition(InterruptedAcquisition):
    recursive = True

    def test_an_interrupted_inner_with_block_gives_back_its_level_only(self):
        me = threading.get_native_id()
        self.lock._exit_code = None  # the Python __exit__ (where the machine code is not used)
        self.lock.acquire()
        for owner, name in ((threading, "get_native_id"), (sc._libc, "pthread_mutex_unlock")):
            with self.assertRaises(KeyboardInterrupt):
                with self.lock:
                    self.interrupt_after(owner, name)
            self.assertEqual(self.cell(), (me, os.getpid(), 1, 0, self.tag), name)
        self.lock.release()
        self.assert_free()

    def test_an_interrupted_re_entry_gives_back_its_level_only(self):
        me = threading.get_native_id()
        self.lock.acquire()
        self.lock.acquire()
        self.interrupt_after(sc._libc, "pthread_mutex_lock")
        with self.assertRaises(KeyboardInterrupt):
            self.lock.acquire()
        self.assertEqual(self.cell(), (me, os.getpid(), 2, 0, self.tag))
        self.assertEqual(ctypes.c_uint32.from_buffer(self.mm, 4).value, 2)  # glibc's count
        self.lock.release()
        self.lock.release()
        self.assert_free()


class HolderInAnotherProcess(unittest.TestCase):
    """A lock another process holds (as a Rust holder would), then dies holding."""

    HOLD = """
import os, sys, sharedctypes as sc
obj = sc.open_named(sys.argv[1])
obj.get_lock().acquire()
obj.get_obj().value = -1.0   # half-way through an update...
print("held", flush=True)
sys.stdin.readline()
os._exit(0)                  # ...and gone without releasing
"""

    def test_release_is_refused_and_the_death_is_reported(self):
        name, f = forge(self, "f64", lock=1)
        child = subprocess.Popen(
            [sys.executable, "-c", self.HOLD, name],
            env=dict(os.environ, PYTHONPATH=support.PACKAGE_DIR),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            universal_newlines=True,
        )

        def stop():
            if child.poll() is None:
                child.kill()
            child.wait(30)
            child.stdin.close()
            child.stdout.close()

        self.addCleanup(stop)
        self.assertEqual(child.stdout.readline(), "held\n")

        obj = sc.open_named(name)
        lock = obj.get_lock()
        mm = obj._mapping.mm
        before = cell_fields(mm, f["lock_offset"])
        self.assertEqual(before, (child.pid, child.pid, 1, 0, TAG_LOCK))
        with self.assertRaises(RuntimeError) as caught:
            lock.release()
        self.assertEqual(cell_fields(mm, f["lock_offset"]), before)  # the old module zeroed them
        self.assertEqual(str(caught.exception), NOT_HELD)
        self.assertFalse(lock.acquire(blocking=False))

        child.stdin.write("exit\n")
        child.stdin.flush()
        self.assertEqual(child.wait(30), 0)

        with self.assertRaises(sc.OwnerDiedError) as caught:
            obj.value
        self.assertEqual(
            str(caught.exception),
            "a holder of the lock (pid %d) died while holding it: repair the data under get_lock() and call "
            "clear_owner_died()" % child.pid,
        )
        with warnings.catch_warnings(record=True) as seen:
            warnings.simplefilter("always")
            self.assertTrue(lock.acquire())
        self.assertEqual([w.category for w in seen], [sc.OwnerDiedWarning])
        self.assertEqual((lock.owner_died, lock.dead_owner_pid, obj.get_obj().value), (True, child.pid, -1.0))
        obj.get_obj().value = 0.0
        lock.clear_owner_died()
        lock.release()
        self.assertEqual(obj.value, 0.0)
        self.assertEqual(cell_fields(mm, f["lock_offset"]), (0, 0, 0, 0, TAG_LOCK))


class HolderThatExitsNormally(unittest.TestCase):
    """A process that ends normally (``sys.exit``, an uncaught exception) while it holds a
    lock: its memory stays mapped until the process ends, so the kernel releases the lock as
    it does for a killed holder, and the next acquirer is told."""

    def test_the_next_acquirer_is_told_the_holder_died(self):
        for ending in ("sys.exit(5)", "raise KeyboardInterrupt", "raise SystemExit(3)"):
            name, f = forge(self, "f64", lock=1)
            code = "import sys, sharedctypes as sc\nobj = sc.open_named(sys.argv[1])\nobj.get_lock().acquire()\n" + ending
            child = subprocess.Popen(
                [sys.executable, "-c", code, name],
                env=dict(os.environ, PYTHONPATH=support.PACKAGE_DIR),
                stderr=subprocess.DEVNULL,
            )
            self.assertNotEqual(child.wait(30), 0, ending)
            obj = sc.open_named(name)
            lock = obj.get_lock()
            with warnings.catch_warnings(record=True) as seen:
                warnings.simplefilter("always")
                self.assertTrue(lock.acquire(timeout=5), "%s: the lock is held for good" % ending)
            self.assertEqual([w.category for w in seen], [sc.OwnerDiedWarning], ending)
            self.assertEqual(lock.dead_owner_pid, child.pid, ending)
            lock.clear_owner_died()
            lock.release()


if __name__ == "__main__":
    unittest.main()
