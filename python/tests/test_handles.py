"""from_handle and inherited: handle lines naming memfds of this process. Valid handles
give working objects; every descriptor, offset and count is checked against the real file
size (bounds, alignment, data apart from the lock) before any ctypes object is made, and
malformed words raise InvalidHandle naming the word."""

import os
import struct
import unittest
from unittest import mock

import sharedctypes as sc

from tests import support
from tests.support import POINT, run_python


def memfd(testcase, size, data_at=None, data=b"", lock_at=None, recursive=False):
    """A memfd of `size` bytes with `data` at `data_at` and a lock cell at `lock_at`."""
    fd = os.memfd_create("sharedctypes-pytest")
    testcase.addCleanup(os.close, fd)
    os.ftruncate(fd, size)
    if data:
        os.pwrite(fd, data, data_at)
    if lock_at is not None:
        import mmap

        with mmap.mmap(fd, size) as mm:
            support.init_lock_cell(mm, lock_at, recursive)
    return fd


def handle(layout_text, data, kind="value", count=1, lock=None):
    """The text line Rust writes (``Description``'s ``Display``, docs/format.md section 3)."""
    layout = sc.parse_layout(layout_text)
    words = [
        "sharedctypes/2",
        "kind=" + kind,
        "type=T",
        "size=%d" % layout.size,
        "align=%d" % layout.align,
        "fingerprint=%016x" % layout.fingerprint,
        "count=%d" % count,
        "data=" + data,
    ]
    if lock is not None:
        words.append("lock=" + lock)
    words.append("layout=" + layout_text)
    return " ".join(words)


class ValidHandles(unittest.TestCase):
    def test_value_with_lock_reads_and_writes(self):
        fd = memfd(self, 4096, data_at=64, data=struct.pack("<d", 2.5), lock_at=0)
        obj = sc.from_handle(handle("f64", "%d:64" % fd, lock="lock:%d:0" % fd))
        self.assertEqual(obj.value, 2.5)
        obj.value = -3.75
        self.assertEqual(struct.unpack("<d", os.pread(fd, 8, 64)), (-3.75,))
        self.assertFalse(obj.get_lock().recursive)

    def test_array_of_structs_without_lock(self):
        fd = memfd(self, 4096, data_at=128, data=struct.pack("<4d", 1, 2, 3, 4))
        obj = sc.from_handle(handle(POINT, "%d:128" % fd, kind="array", count=2))
        self.assertEqual([(p.x, p.y) for p in obj[:]], [(1.0, 2.0), (3.0, 4.0)])
        self.assertIsNone(obj.get_lock())

    def test_lock_in_another_file_at_the_same_offset(self):
        data_fd = memfd(self, 4096, data_at=0, data=struct.pack("<q", 41))
        lock_fd = memfd(self, 4096, lock_at=0, recursive=True)
        obj = sc.from_handle(handle("i64", "%d:0" % data_fd, lock="rlock:%d:0" % lock_fd))
        with obj.get_lock():
            obj.get_obj().value += 1
        self.assertEqual(obj.value, 42)

    def test_zero_length_array_at_the_end_of_the_file(self):
        fd = memfd(self, 4096)
        obj = sc.from_handle(handle("i32", "%d:4096" % fd, kind="array", count=0))
        self.assertEqual((len(obj), obj[:]), (0, []))

    def test_inherited_reads_the_environment(self):
        fd = memfd(self, 4096, data_at=8, data=struct.pack("<I", 7))
        with mock.patch.dict(os.environ, {"SHAREDCTYPES_SHARED_seven": handle("u32", "%d:8" % fd)}):
            self.assertEqual(sc.inherited("seven").value, 7)
        with self.assertRaises(KeyError):
            sc.inherited("seven")


class RefusedRegions(unittest.TestCase):
    def assertInvalid(self, line, message):
        with self.assertRaises(sc.InvalidHandle) as caught:
            sc.from_handle(line)
        self.assertEqual(str(caught.exception), message)

    def test_value_with_count_zero_at_the_end_of_the_file(self):
        # The v1 module once accepted it and read and wrote 8 bytes past the mapping: in a
        # child.
        fd = memfd(self, 4096)
        line = handle("f64", "%d:4096" % fd, count=0)
        out = run_python(
            self,
            """
            import sys, sharedctypes as sc
            try:
                obj = sc.from_handle(sys.argv[1])
                obj.value = obj.value
                print("opened")
            except Exception as e:
                print("%s: %s" % (type(e).__name__, e))
            """,
            line,
            pass_fds=(fd,),
        )
        self.assertEqual(out.strip(), "InvalidHandle: a value of 0 elements")

    def test_value_with_count_two(self):
        fd = memfd(self, 4096)
        self.assertInvalid(handle("f64", "%d:0" % fd, count=2), "a value of 2 elements")

    def test_data_past_the_end_of_the_file(self):
        fd = memfd(self, 4096)
        self.assertInvalid(
            handle("f64", "%d:4096" % fd), "its data (bytes 4096..4104) runs past the end of the file (4096 bytes)"
        )
        self.assertInvalid(
            handle("f64", "%d:0" % fd, kind="array", count=1000),
            "its data (bytes 0..8000) runs past the end of the file (4096 bytes)",
        )

    def test_zero_length_array_offset_past_the_end(self):
        fd = memfd(self, 4096)
        self.assertInvalid(
            handle("i32", "%d:8192" % fd, kind="array", count=0),
            "its data (bytes 8192..8192) runs past the end of the file (4096 bytes)",
        )

    def test_count_that_overflows(self):
        fd = memfd(self, 4096)
        self.assertInvalid(
            handle("i32", "%d:0" % fd, kind="array", count=1 << 62), "its 4611686018427387904 elements of 4 bytes overflow"
        )
        # Within 64 bits, but not within the file.
        self.assertInvalid(
            handle("i32", "%d:0" % fd, kind="array", count=1 << 61),
            "its data (bytes 0..9223372036854775808) runs past the end of the file (4096 bytes)",
        )

    def test_misaligned_data(self):
        fd = memfd(self, 4096)
        self.assertInvalid(handle("f64", "%d:68" % fd), "its data (bytes 68..76) is not aligned to 8 bytes")

    def test_data_overlapping_the_lock_in_the_same_file(self):
        fd = memfd(self, 4096, lock_at=0)
        self.assertInvalid(
            handle("f64", "%d:32" % fd, lock="lock:%d:0" % fd), "its data (bytes 32..40) overlaps its lock (bytes 0..56)"
        )
        self.assertInvalid(
            handle("u8", "%d:0" % fd, kind="array", count=100, lock="lock:%d:64" % fd),
            "its data (bytes 0..100) overlaps its lock (bytes 64..120)",
        )

    def test_overlap_through_two_descriptors_of_the_same_file(self):
        fd = memfd(self, 4096, lock_at=0)
        other = os.dup(fd)
        self.addCleanup(os.close, other)
        self.assertInvalid(
            handle("f64", "%d:32" % fd, lock="lock:%d:0" % other), "its data (bytes 32..40) overlaps its lock (bytes 0..56)"
        )

    def test_lock_past_the_end_or_misaligned(self):
        fd = memfd(self, 4096, lock_at=0)
        self.assertInvalid(
            handle("f64", "%d:64" % fd, lock="lock:%d:4096" % fd),
            "its lock (bytes 4096..4152) runs past the end of the file (4096 bytes)",
        )
        self.assertInvalid(
            handle("f64", "%d:64" % fd, lock="lock:%d:4048" % fd),
            "its lock (bytes 4048..4104) runs past the end of the file (4096 bytes)",
        )
        self.assertInvalid(
            handle("f64", "%d:64" % fd, lock="lock:%d:4" % fd), "its lock (bytes 4..60) is not aligned to 8 bytes"
        )

    def test_lock_of_the_other_kind(self):
        fd = memfd(self, 4096, lock_at=0)
        self.assertInvalid(
            handle("f64", "%d:64" % fd, lock="rlock:%d:0" % fd),
            "the lock cell at 0 has tag 0x4b434c53, not 0x4b434c52 (an RLock)",
        )

    def test_descriptor_not_open(self):
        fd = os.memfd_create("sharedctypes-pytest")
        os.close(fd)
        self.assertInvalid(
            handle("f64", "%d:0" % fd),
            "descriptor %d in data=%d:0 is not open in this process (Bad file descriptor)" % (fd, fd),
        )
        self.assertInvalid(
            handle("f64", "4294967296:0"),
            "descriptor 4294967296 in data=4294967296:0 is not open in this process (no descriptor is that big)",
        )

    def test_descriptor_of_a_directory_or_an_empty_file(self):
        dir_fd = os.open("/", os.O_RDONLY)
        self.addCleanup(os.close, dir_fd)
        self.assertInvalid(
            handle("f64", "%d:0" % dir_fd), "descriptor %d in data=%d:0 is a directory, not shared memory" % (dir_fd, dir_fd)
        )
        empty = memfd(self, 0)
        self.assertInvalid(handle("f64", "%d:0" % empty), "descriptor %d in data=%d:0 names an empty file" % (empty, empty))


class MalformedWords(unittest.TestCase):
    def test_each_malformed_word_is_named(self):
        fd = memfd(self, 4096, lock_at=0)
        good = handle("f64", "%d:64" % fd, lock="lock:%d:0" % fd)
        self.assertEqual(sc.from_handle(good).value, 0.0)
        data, lock = "data=%d:64" % fd, "lock=lock:%d:0" % fd
        fp = "fingerprint=%016x" % sc.fingerprint("f64")
        cases = [
            (good.replace(data, "data=%d" % fd), "data=%d is not file:offset" % fd),
            (good.replace(data, "data=%d:64:1" % fd), "the offset in data=64:1 is not a number"),
            (good.replace(data, "data=x:64"), "the file in data=x is not a number"),
            (good.replace(data, "data=%d:-8" % fd), "the offset in data=-8 is not a number"),
            (good.replace(data, "data=%d:+8" % fd), "the offset in data=+8 is not a number"),
            (good.replace(data, "data=%d:\uff16\uff14" % fd), "the offset in data=\uff16\uff14 is not a number"),
            (good.replace(data, "data=%d:18446744073709551616" % fd), "the offset in data=18446744073709551616 is too big"),
            (good.replace(data, "data=%d: 64" % fd), "`64` is not key=value"),
            (good.replace(" " + data, "  " + data), "`` is not key=value"),
            (good.replace(lock, "lock=mutex:%d:0" % fd), "unknown lock kind `mutex`"),
            (good.replace(lock, "lock=lock"), "lock=lock is not kind:file:offset"),
            (good.replace(lock, "lock=lock:%d:0x8" % fd), "the offset in lock=0x8 is not a number"),
            (good.replace("count=1", "count=1x"), "count=1x is not a number"),
            (good.replace("count=1 ", ""), "value without count="),
            (good.replace("size=8", "size=16"), "its element type is 16 bytes aligned to 8, its layout 8 bytes aligned to 8"),
            (good.replace("align=8", "align=4"), "its element type is 8 bytes aligned to 4, its layout 8 bytes aligned to 8"),
            (good.replace("align=8", "align=3"), "its element alignment 3 is not a power of two up to 4096"),
            (good.replace(fp, "fingerprint=0x" + fp[-14:]), "fingerprint=0x%s is not 16 hex digits" % fp[-14:]),
            (good.replace(fp, "fingerprint=" + fp[-15:]), "fingerprint=%s is not 16 hex digits" % fp[-15:]),
            (good.replace(fp, "fingerprint=%s_0" % fp[-14:]), "fingerprint=%s_0 is not 16 hex digits" % fp[-14:]),
            (good.replace(" " + fp, ""), "a type without fingerprint="),
            (good.replace(" size=8", ""), "a type without size="),
            (good.replace(" type=T", ""), "size= without type=: type=, size=, align=, fingerprint= and layout= come together"),
            (good.replace("type=T", "type=%zz"), "bad escape in name `%zz`"),
            (good.replace("type=T", "type=%ff"), "name `%ff` is not UTF-8"),
            (good + " kind=array", "`kind` appears twice"),
            (good + " colour=red", "unknown field `colour`"),
            (good.replace(" " + data, ""), "a value with a Lock without its data"),
            (good.replace("kind=value", "kind=vector"), "unknown kind `vector`"),
            (good.replace("kind=value ", ""), "no kind"),
            (good.replace("kind=value", "kind=event").replace(" count=1", ""), "an Event with an element type"),
            (good + " bytes=00", "a value with a Lock with bytes"),
            (good + " bytes=0", "bytes= is not an even number of hex digits"),
            ("sharedctypes/1 kind=value", "it starts with `sharedctypes/1`, not `sharedctypes/2` (another program, or another format version)"),
            ("", "it starts with ``, not `sharedctypes/2` (another program, or another format version)"),
            (good.replace("layout=f64", "layout=f64x"), "its layout description is malformed: unknown scalar type 'f64x' at 0 in 'f64x'"),
            (good.replace("layout=f64", "layout=f64]"), "its layout description is malformed: trailing text in layout 'f64]'"),
        ]
        for line, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(sc.InvalidHandle) as caught:
                    sc.from_handle(line)
                self.assertEqual(str(caught.exception), message)

    def test_a_trailing_newline_is_allowed(self):
        fd = memfd(self, 4096, data_at=0, data=struct.pack("<d", 1.25))
        self.assertEqual(sc.from_handle(handle("f64", "%d:0" % fd) + "\n").value, 1.25)

    def test_fingerprint_not_matching_the_layout(self):
        fd = memfd(self, 4096)
        line = handle("f64", "%d:0" % fd).replace("fingerprint=%016x" % sc.fingerprint("f64"), "fingerprint=0000000000001234")
        with self.assertRaises(sc.LayoutMismatch) as caught:
            sc.from_handle(line)
        self.assertEqual(
            str(caught.exception),
            "the layout description does not match the fingerprint (0x0000000000001234, computed %#018x)"
            % sc.fingerprint("f64"),
        )


class OtherKinds(unittest.TestCase):
    """Every kind a text line may describe: locks, primitives (their state checked by tag)
    and copies."""

    def test_a_lock_alone(self):
        fd = memfd(self, 4096, lock_at=64, recursive=True)
        lock = sc.from_handle("sharedctypes/2 kind=lock lock=rlock:%d:64" % fd)
        self.assertIsInstance(lock, sc.Lock)
        self.assertTrue(lock.recursive)
        with lock:
            with lock:
                self.assertEqual(support.cell_fields(os.pread(fd, 64 + 56, 0), 64)[1:3], (os.getpid(), 2))

    def test_an_event_and_its_tag(self):
        fd = memfd(self, 4096, data_at=64, data=struct.pack("<4I", support.tag(b"SEVT"), 3, 0, 0))
        event = sc.from_handle("sharedctypes/2 kind=event data=%d:64" % fd)
        self.assertIsInstance(event, sc.Event)
        self.assertTrue(event.is_set())
        with self.assertRaises(sc.InvalidHandle) as caught:
            sc.from_handle("sharedctypes/2 kind=semaphore data=%d:64" % fd)
        self.assertEqual(str(caught.exception), "its state has tag 0x54564553, not 0x4d455353 (a semaphore)")
        with self.assertRaises(sc.InvalidHandle) as caught:
            sc.from_handle("sharedctypes/2 kind=event data=%d:4088" % fd)
        self.assertEqual(
            str(caught.exception), "its data (bytes 4088..4104) runs past the end of the file (4096 bytes)"
        )

    def test_a_semaphore_of_the_other_kind(self):
        fd = memfd(self, 4096, data_at=0, data=struct.pack("<4I", support.tag(b"SSEM"), 2, 0, 2))
        self.assertEqual(sc.from_handle("sharedctypes/2 kind=bounded_semaphore data=%d:0" % fd).get_value(), 2)
        with self.assertRaises(sc.InvalidHandle) as caught:
            sc.from_handle("sharedctypes/2 kind=semaphore data=%d:0" % fd)
        self.assertEqual(
            str(caught.exception), "its state is of a BoundedSemaphore (bound 2) where a Semaphore is expected"
        )

    def test_a_condition_needs_its_lock(self):
        fd = memfd(self, 4096, data_at=64, data=struct.pack("<4I", support.tag(b"SCND"), 0, 0, 0), lock_at=0,
                   recursive=True)
        cond = sc.from_handle("sharedctypes/2 kind=condition data=%d:64 lock=rlock:%d:0" % (fd, fd))
        self.assertIsInstance(cond, sc.Condition)
        with self.assertRaises(sc.InvalidHandle) as caught:
            sc.from_handle("sharedctypes/2 kind=condition data=%d:64" % fd)
        self.assertEqual(str(caught.exception), "a Condition without its lock")

    def test_a_copy_is_its_value(self):
        self.assertEqual(
            sc.from_handle(
                "sharedctypes/2 kind=copy type=u32 size=4 align=4 fingerprint=%016x bytes=07000000 layout=u32"
                % sc.fingerprint("u32")
            ),
            7,
        )
        point = sc.from_handle(
            "sharedctypes/2 kind=copy type=Point size=16 align=8 fingerprint=%016x bytes=%s layout=%s"
            % (sc.fingerprint(POINT), struct.pack("<2d", 1.5, -2.0).hex(), POINT)
        )
        self.assertEqual((type(point).__name__, point.x, point.y), ("Point", 1.5, -2.0))
        with self.assertRaises(sc.InvalidHandle) as caught:
            sc.from_handle(
                "sharedctypes/2 kind=copy type=u32 size=4 align=4 fingerprint=%016x bytes=0700 layout=u32"
                % sc.fingerprint("u32")
            )
        self.assertEqual(str(caught.exception), "2 bytes for a value of 4 bytes")


if __name__ == "__main__":
    unittest.main()
