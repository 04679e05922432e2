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


def handle(layout_text, data, kind="value", count=None, lock=None):
    """The handle line Rust writes (``Handle::to_text``)."""
    layout = sc.parse_layout(layout_text)
    words = [
        "sharedctypes/1",
        "kind=" + kind,
        "type=T",
        "size=%d" % layout.size,
        "align=%d" % layout.align,
        "fingerprint=%016x" % layout.fingerprint,
    ]
    if count is not None:
        words.append("count=%d" % count)
    words.append("data=" + data)
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
        # The old module accepted it and read and wrote 8 bytes past the mapping: in a child.
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
        self.assertEqual(out.strip(), "InvalidHandle: count=0: a value has exactly 1 element")

    def test_value_with_count_two(self):
        fd = memfd(self, 4096)
        self.assertInvalid(handle("f64", "%d:0" % fd, count=2), "count=2: a value has exactly 1 element")

    def test_data_past_the_end_of_the_file(self):
        fd = memfd(self, 4096)
        self.assertInvalid(handle("f64", "%d:4096" % fd), "data 4096..4104 lies outside the object (4096 bytes)")
        self.assertInvalid(
            handle("f64", "%d:0" % fd, kind="array", count=1000), "data 0..8000 lies outside the object (4096 bytes)"
        )

    def test_zero_length_array_offset_past_the_end(self):
        fd = memfd(self, 4096)
        self.assertInvalid(
            handle("i32", "%d:8192" % fd, kind="array", count=0), "data 8192..8192 lies outside the object (4096 bytes)"
        )

    def test_count_that_overflows(self):
        fd = memfd(self, 4096)
        self.assertInvalid(
            handle("i32", "%d:0" % fd, kind="array", count=1 << 62),
            "4611686018427387904 elements of 4 bytes overflow the address space",
        )

    def test_misaligned_data(self):
        fd = memfd(self, 4096)
        self.assertInvalid(handle("f64", "%d:68" % fd), "data offset 68 is not aligned to 8 (the element alignment)")

    def test_data_overlapping_the_lock_in_the_same_file(self):
        fd = memfd(self, 4096, lock_at=0)
        self.assertInvalid(
            handle("f64", "%d:32" % fd, lock="lock:%d:0" % fd), "data 32..40 overlaps the lock 0..56"
        )
        self.assertInvalid(
            handle("u8", "%d:0" % fd, kind="array", count=100, lock="lock:%d:64" % fd),
            "data 0..100 overlaps the lock 64..120",
        )

    def test_lock_past_the_end_or_misaligned(self):
        fd = memfd(self, 4096, lock_at=0)
        self.assertInvalid(
            handle("f64", "%d:64" % fd, lock="lock:%d:4096" % fd), "lock 4096..4152 lies outside the object (4096 bytes)"
        )
        self.assertInvalid(
            handle("f64", "%d:64" % fd, lock="lock:%d:4048" % fd), "lock 4048..4104 lies outside the object (4096 bytes)"
        )
        self.assertInvalid(handle("f64", "%d:64" % fd, lock="lock:%d:4" % fd), "lock offset 4 is not aligned to 8")

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
            handle("f64", "%d:0" % fd), "descriptor %d in data=%d:0 is not open in this process (Bad file descriptor)" % (fd, fd)
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
        cases = [
            (good.replace(data, "data=%d" % fd), "data=%d is not descriptor:offset" % fd),
            (good.replace(data, "data=%d:64:1" % fd), "data=%d:64:1 is not descriptor:offset" % fd),
            (good.replace(data, "data=x:64"), "descriptor 'x' in data=x:64 is not a number from 0 to 2147483647"),
            (good.replace(data, "data=%d:-8" % fd), "offset '-8' in data=%d:-8 is not a number from 0 to 9223372036854775807" % fd),
            (good.replace(data, "data=%d:\uff16\uff14" % fd), "offset '\uff16\uff14' in data=%d:\uff16\uff14 is not a number from 0 to 9223372036854775807" % fd),
            (good.replace(data, "data=%d: 64" % fd), "'64' is not key=value"),
            (good.replace(lock, "lock=mutex:%d:0" % fd), "unknown lock kind 'mutex' in lock=mutex:%d:0" % fd),
            (good.replace(lock, "lock=lock"), "lock=lock is not kind:descriptor:offset"),
            (good.replace(lock, "lock=lock:%d:0x8" % fd), "offset '0x8' in lock=lock:%d:0x8 is not a number from 0 to 9223372036854775807" % fd),
            (good + " count=1x", "count '1x' in count=1x is not a number from 0 to 9223372036854775807"),
            (good.replace("size=8", "size=16"), "size=16 does not match the layout (8)"),
            (good.replace("align=8", "align=4"), "align=4 does not match the layout (8)"),
            (good.replace("fingerprint=", "fingerprint=0x"), "fingerprint=0x%016x is not 1 to 16 hex digits" % sc.fingerprint("f64")),
            (good.replace("type=T", "type=%zz"), "type=%zz is malformed (bad escape '%zz')"),
            (good + " kind=array", "'kind' appears twice"),
            (good + " colour=red", "unknown field 'colour' in 'colour=red'"),
            (good.replace(" " + data, ""), "the handle of a value has no data= word"),
            (good.replace("kind=value", "kind=lock"), "this module receives values and arrays, not 'lock'"),
            (good + " bytes=00", "a value has no bytes= word (only a copy has)"),
            ("sharedctypes/2 kind=value", "it starts with 'sharedctypes/2', not 'sharedctypes/1'"),
            (good.replace("layout=f64", "layout=f64x"), "unknown scalar type 'f64x' at 0 in 'f64x'"),
            (good.replace("layout=f64", "layout=f64]"), "trailing text in layout 'f64]'"),
        ]
        for line, message in cases:
            with self.subTest(message=message):
                with self.assertRaises(sc.InvalidHandle) as caught:
                    sc.from_handle(line)
                self.assertEqual(str(caught.exception), message)

    def test_fingerprint_not_matching_the_layout(self):
        fd = memfd(self, 4096)
        line = handle("f64", "%d:0" % fd).replace("fingerprint=%016x" % sc.fingerprint("f64"), "fingerprint=1234")
        with self.assertRaises(sc.LayoutMismatch) as caught:
            sc.from_handle(line)
        self.assertEqual(
            str(caught.exception),
            "the layout description does not match the fingerprint (0x0000000000001234, computed %#018x)"
            % sc.fingerprint("f64"),
        )


if __name__ == "__main__":
    unittest.main()
