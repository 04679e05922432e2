"""open_named on forged /dev/shm objects: valid ones open and round-trip; every header field
that is out of range, inconsistent, misaligned or overlapping is refused with
NotSharedctypesObject naming the values, and nothing crashes (risky opens run in a separate
interpreter, which must not die of a signal)."""

import os
import struct
import unittest

import sharedctypes as sc

from tests import support
from tests.support import POINT, forge, open_in_child


class ValidObjects(unittest.TestCase):
    def test_value_with_lock_round_trips_under_the_lock(self):
        name, f = forge(self, "f64", data=struct.pack("<d", 2.5), lock=1)
        obj = sc.open_named(name)
        self.assertEqual(obj.value, 2.5)
        obj.value = 7.25
        with open(os.path.join(support.SHM, name), "rb") as fh:
            image = fh.read()
        self.assertEqual(struct.unpack_from("<d", image, f["data_offset"]), (7.25,))
        # Released after the write: no holder, depth 0, tag intact.
        owner, holder, depth, died, tag = support.cell_fields(image, f["lock_offset"])
        self.assertEqual((owner, holder, depth, died, tag), (0, 0, 0, 0, support.TAG_LOCK))

    def test_array_of_structs_without_lock_reads_and_writes(self):
        data = struct.pack("<4d", 1.5, -2.0, 3.25, 4.0)
        name, f = forge(self, POINT, data=data, kind=2, count=2)
        obj = sc.open_named(name)
        self.assertIsNone(obj.get_lock())
        self.assertEqual((len(obj), obj[0].x, obj[1].y), (2, 1.5, 4.0))
        obj.get_obj()[1].x = 9.5
        with open(os.path.join(support.SHM, name), "rb") as fh:
            self.assertEqual(struct.unpack_from("<4d", fh.read(), f["data_offset"]), (1.5, -2.0, 9.5, 4.0))

    def test_zero_length_array_at_the_end_of_the_file_is_allowed(self):
        name, f = forge(self, "i32", kind=2, count=0, data_offset=4096)
        self.assertEqual(f["total"], 4096)
        obj = sc.open_named(name)
        self.assertEqual((len(obj), obj[:]), (0, []))


class RefusedHeaders(unittest.TestCase):
    def assertRefused(self, name, message):
        self.assertEqual(open_in_child(self, name), "NotSharedctypesObject: %r: %s" % (name, message))

    def test_value_with_count_zero_at_the_end_of_the_file(self):
        # The old module accepted it and read and wrote 8 bytes past the mapping.
        name, _ = forge(self, "f64", count=0, data_offset=4096)
        self.assertRefused(name, "a value with count 0 (a value has exactly 1 element)")

    def test_value_with_count_two(self):
        name, _ = forge(self, "f64", count=2)
        self.assertRefused(name, "a value with count 2 (a value has exactly 1 element)")

    def test_data_overlapping_the_lock(self):
        name, _ = forge(self, "f64", lock=1, data_offset=136)
        self.assertRefused(name, "data 136..144 overlaps the lock 128..184")

    def test_array_overlapping_the_lock_from_before(self):
        name, _ = forge(self, "[u8;64]", kind=2, count=1, lock=1, data_offset=104, lock_offset=128)
        self.assertRefused(name, "data 104..168 overlaps the lock 128..184")

    def test_lock_past_the_end_of_the_file(self):
        name, _ = forge(self, "f64", lock=1, lock_offset=4096)
        self.assertRefused(name, "lock 4096..4152 lies outside the object (4096 bytes)")

    def test_lock_straddling_the_end_of_the_file(self):
        name, _ = forge(self, "f64", lock=1, lock_offset=4088)
        self.assertRefused(name, "lock 4088..4144 lies outside the object (4096 bytes)")

    def test_misaligned_data_offset(self):
        name, _ = forge(self, "f64", lock=1, data_offset=196)
        self.assertRefused(name, "data offset 196 is not aligned to 8 (the element alignment)")

    def test_misaligned_lock_offset(self):
        name, _ = forge(self, "f64", lock=1, lock_offset=132, init_lock=False)
        self.assertRefused(name, "lock offset 132 is not aligned to 8")

    def test_data_past_the_end_of_the_file(self):
        name, _ = forge(self, "f64", kind=2, count=1000, file_size=4096, total=4096)
        self.assertRefused(name, "data 128..8128 lies outside the object (4096 bytes)")

    def test_zero_length_array_offset_past_the_end_of_the_file(self):
        name, _ = forge(self, "i32", kind=2, count=0, data_offset=8192)
        self.assertRefused(name, "data 8192..8192 lies outside the object (4096 bytes)")

    def test_data_overlapping_the_header(self):
        name, _ = forge(self, "f64", data_offset=64)
        self.assertRefused(name, "data 64..72 overlaps the header 0..100")

    def test_lock_overlapping_the_header(self):
        name, _ = forge(self, "f64", lock=1, lock_offset=32, init_lock=False)
        self.assertRefused(name, "lock 32..88 overlaps the header 0..100")

    def test_header_length_inconsistent_with_its_strings(self):
        name, _ = forge(self, "f64", header_len=120)
        self.assertRefused(name, "header length 120 is not 96 + 1 (type name) + 3 (layout description) = 100")

    def test_header_longer_than_the_file(self):
        name, _ = forge(self, "f64", layout_len=5000 - 97, header_len=5000)
        self.assertRefused(name, "its header (5000 bytes) does not fit in the object (4096 bytes)")

    def test_total_size_different_from_the_file(self):
        name, _ = forge(self, "f64", total=8192)
        self.assertRefused(name, "the header says the object is 8192 bytes, the file is 4096 bytes")

    def test_unknown_kind(self):
        name, _ = forge(self, "f64", kind=3)
        self.assertRefused(name, "kind 3 is neither 1 (a value) nor 2 (an array)")

    def test_unknown_lock_kind(self):
        name, _ = forge(self, "f64", lock=7, lock_offset=128)
        self.assertRefused(name, "lock kind 7 is not 0 (none), 1 (a Lock) or 2 (an RLock)")

    def test_element_size_disagreeing_with_the_layout(self):
        name, _ = forge(self, "f64", elem_size=16)
        self.assertRefused(name, "the header says elements of 16 bytes aligned to 8, its layout 8 bytes aligned to 8")

    def test_element_alignment_not_a_power_of_two(self):
        name, _ = forge(self, "f64", elem_align=12)
        self.assertRefused(name, "element alignment 12 is not a power of two")

    def test_count_that_overflows(self):
        name, _ = forge(self, "f64", kind=2, count=1 << 61, file_size=4096, total=4096)
        self.assertRefused(name, "2305843009213693952 elements of 8 bytes overflow the address space")

    def test_lock_offset_without_a_lock(self):
        name, _ = forge(self, "f64", lock_offset=128)
        self.assertRefused(name, "lock offset 128 without a lock (lock kind 0)")

    def test_lock_cell_with_the_wrong_tag(self):
        # An RLock header over a cell that holds a Lock.
        name, _ = forge(self, "f64", lock=1)
        path = os.path.join(support.SHM, name)
        with open(path, "r+b") as fh:
            fh.seek(24)
            fh.write(struct.pack("<I", 2))
        self.assertRefused(name, "the lock cell at 128 has tag 0x4b434c53, not 0x4b434c52 (an RLock)")

    def test_malformed_layout_description(self):
        name, _ = forge(self, "f64", strings=b"Tf6\xff")
        message = open_in_child(self, name)
        self.assertTrue(
            message.startswith("NotSharedctypesObject: %r: its layout description is malformed: " % name), message
        )

    def test_unfinished_object_and_other_format_version(self):
        unfinished, _ = forge(self, "f64", state=0)
        self.assertEqual(
            open_in_child(self, unfinished),
            "NotSharedctypesObject: %r is not finished by its creator (state 0)" % unfinished,
        )
        version2, _ = forge(self, "f64", version=2)
        self.assertEqual(
            open_in_child(self, version2),
            "NotSharedctypesObject: %r has format version 2, this module reads 1" % version2,
        )

    def test_file_shorter_than_a_header(self):
        name, _ = forge(self, "f64", file_size=95)
        self.assertEqual(
            open_in_child(self, name),
            "NotSharedctypesObject: %r is 95 bytes, shorter than a header (96 bytes)" % name,
        )

    def test_empty_file(self):
        name, _ = forge(self, "f64", file_size=0)
        self.assertEqual(
            open_in_child(self, name),
            "NotSharedctypesObject: %r is 0 bytes, shorter than a header (96 bytes)" % name,
        )

    def test_fingerprint_not_matching_the_layout(self):
        name, _ = forge(self, "f64", fingerprint=0x1234)
        self.assertEqual(
            open_in_child(self, name),
            "LayoutMismatch: %r: the layout description does not match the fingerprint "
            "(0x0000000000001234, computed %#018x)" % (name, sc.fingerprint("f64")),
        )


if __name__ == "__main__":
    unittest.main()
