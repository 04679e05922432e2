"""open_named on forged /dev/shm objects: valid ones open and round-trip; every header field
that is out of range, inconsistent, misaligned or overlapping is refused with
NotSharedctypesObject naming the values, and nothing crashes (risky opens run in a separate
interpreter, which must not die of a signal)."""

import ctypes
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
        self.assertEqual(f["total"], 4096)  # data at 4096, 0 bytes long: inside the file
        obj = sc.open_named(name)
        self.assertEqual((len(obj), obj[:]), (0, []))


class RefusedHeaders(unittest.TestCase):
    """Each refusal names the values, in the words the Rust side uses (docs/format.md
    sections 1 and 4). The header of an "f64" object is 104 + 1 + 3 = 108 bytes: its lock
    cell (if any) is at 128, its data at 128 (or 192 after a lock), the file 4096 bytes."""

    def assertRefused(self, name, message):
        self.assertEqual(open_in_child(self, name), "NotSharedctypesObject: %r: %s" % (name, message))

    def test_value_with_count_zero_at_the_end_of_the_file(self):
        # The v1 module once accepted it and read and wrote 8 bytes past the mapping.
        name, _ = forge(self, "f64", count=0, data_offset=4096)
        self.assertRefused(name, "a value of 0 elements")

    def test_value_with_count_two(self):
        name, _ = forge(self, "f64", count=2)
        self.assertRefused(name, "a value of 2 elements")

    def test_data_overlapping_the_lock(self):
        name, _ = forge(self, "f64", lock=1, data_offset=136)
        self.assertRefused(name, "its data (bytes 136..144) overlaps its lock (bytes 128..184)")

    def test_array_overlapping_the_lock_from_before(self):
        name, _ = forge(self, "[u8;64]", kind=2, count=1, lock=1, data_offset=120, lock_offset=128)
        self.assertRefused(name, "its data (bytes 120..184) overlaps its lock (bytes 128..184)")

    def test_lock_past_the_end_of_the_file(self):
        name, _ = forge(self, "f64", lock=1, lock_offset=4096)
        self.assertRefused(name, "its lock (bytes 4096..4152) runs past the end of the file (4096 bytes)")

    def test_lock_straddling_the_end_of_the_file(self):
        name, _ = forge(self, "f64", lock=1, lock_offset=4088)
        self.assertRefused(name, "its lock (bytes 4088..4144) runs past the end of the file (4096 bytes)")

    def test_misaligned_data_offset(self):
        name, _ = forge(self, "f64", lock=1, data_offset=196)
        self.assertRefused(name, "its data (bytes 196..204) is not aligned to 8 bytes")

    def test_misaligned_lock_offset(self):
        name, _ = forge(self, "f64", lock=1, lock_offset=132, init_lock=False)
        self.assertRefused(name, "its lock (bytes 132..188) is not aligned to 8 bytes")

    def test_data_past_the_end_of_the_file(self):
        name, _ = forge(self, "f64", kind=2, count=1000, file_size=4096, total=4096)
        self.assertRefused(name, "its data (bytes 128..8128) runs past the end of the file (4096 bytes)")

    def test_zero_length_array_offset_past_the_end_of_the_file(self):
        name, _ = forge(self, "i32", kind=2, count=0, data_offset=8192)
        self.assertRefused(name, "its data (bytes 8192..8192) runs past the end of the file (4096 bytes)")

    def test_data_overlapping_the_header(self):
        name, _ = forge(self, "f64", data_offset=64)
        self.assertRefused(name, "its header (bytes 0..108) overlaps its data (bytes 64..72)")

    def test_lock_overlapping_the_header(self):
        name, _ = forge(self, "f64", lock=1, lock_offset=32, init_lock=False)
        self.assertRefused(name, "its header (bytes 0..108) overlaps its lock (bytes 32..88)")

    def test_header_length_inconsistent_with_its_strings(self):
        name, _ = forge(self, "f64", header_len=120)
        self.assertRefused(
            name, "its header length 120 disagrees with its strings (104 + 1 + 3 + 0 bytes) or the bytes there are (120)"
        )

    def test_header_longer_than_the_file(self):
        # Read only as far as the file goes: 4096 bytes, not the 5000 it declares.
        name, _ = forge(self, "f64", layout_len=5000 - 105, header_len=5000)
        self.assertRefused(
            name,
            "its header length 5000 disagrees with its strings (104 + 1 + 4895 + 0 bytes) or the bytes there are (4096)",
        )

    def test_header_longer_than_16_mib(self):
        # Read only up to 16 MiB (the file is bigger): refused without reading the rest.
        big = (16 << 20) + 4096
        name, _ = forge(self, "f64", layout_len=big - 105, header_len=big, file_size=big + 4096, total=big + 4096)
        self.assertRefused(
            name,
            "its header length %d disagrees with its strings (104 + 1 + %d + 0 bytes) or the bytes there are (%d)"
            % (big, big - 105, 16 << 20),
        )

    def test_copy_bytes_length_counts_in_the_header_length(self):
        # As in Rust, only a copy's bytes are read; for other kinds the length only
        # lengthens the header (0..112 here, still clear of the data at 128).
        name, _ = forge(self, "f64", header_len=112, bytes_len=4, data=struct.pack("<d", 0.5))
        self.assertEqual(sc.open_named(name).value, 0.5)
        name, _ = forge(self, "f64", header_len=112, bytes_len=4, data_offset=104)
        self.assertRefused(name, "its header (bytes 0..112) overlaps its data (bytes 104..112)")

    def test_total_size_different_from_the_file(self):
        name, _ = forge(self, "f64", total=8192)
        self.assertRefused(
            name, "its header gives its size as 8192 bytes, but the file has 4096 (truncated or grown by another process?)"
        )

    def test_unknown_kind(self):
        name, _ = forge(self, "f64", kind=12)
        self.assertRefused(name, "it holds an object of unknown kind 12")

    def test_kind_zero(self):
        name, _ = forge(self, "f64", kind=0)
        self.assertRefused(name, "it holds an object of unknown kind 0")

    def test_a_primitive_kind_with_an_element_type(self):
        name, _ = forge(self, "f64", kind=5)
        self.assertRefused(name, "an Event with an element type")

    def test_a_lock_kind_without_a_lock(self):
        name, _ = forge(self, "f64", kind=3, elem_size=0, name_len=0, layout_len=0, header_len=104, strings=b"")
        self.assertRefused(name, "a Lock without its lock")

    def test_a_copy_is_never_in_a_file(self):
        name, _ = forge(
            self, "f64", kind=9, header_len=104 + 4 + 8, bytes_len=8, strings=b"Tf64" + struct.pack("<d", 1.0)
        )
        self.assertRefused(name, "it holds a copied value, which is never in a file")

    def test_unknown_lock_kind(self):
        name, _ = forge(self, "f64", lock=7, lock_offset=128)
        self.assertRefused(name, "it has a lock of unknown kind 7")

    def test_parts_in_other_files(self):
        name, _ = forge(self, "f64", data_file=3)
        self.assertRefused(name, "it names parts in other files than its own")
        name, _ = forge(self, "f64", lock=1, lock_file=1)
        self.assertRefused(name, "it names parts in other files than its own")

    def test_element_size_disagreeing_with_the_layout(self):
        name, _ = forge(self, "f64", elem_size=16)
        self.assertRefused(name, "its element type is 16 bytes aligned to 8, its layout 8 bytes aligned to 8")

    def test_element_alignment_not_a_power_of_two(self):
        name, _ = forge(self, "f64", elem_align=12)
        self.assertRefused(name, "its element alignment 12 is not a power of two up to 4096")

    def test_element_alignment_above_a_page(self):
        name, _ = forge(self, "f64", elem_align=8192, elem_size=8192)
        self.assertRefused(name, "its element alignment 8192 is not a power of two up to 4096")

    def test_element_size_not_a_multiple_of_its_alignment(self):
        name, _ = forge(self, "f64", elem_size=12)
        self.assertRefused(name, "its element size 12 is not a multiple of its alignment 8")

    def test_count_that_overflows(self):
        name, _ = forge(self, "f64", kind=2, count=1 << 61, file_size=4096, total=4096)
        self.assertRefused(name, "its 2305843009213693952 elements of 8 bytes overflow")

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
        self.assertRefused(name, "its layout description is not UTF-8")
        name, _ = forge(self, "f64", strings=b"Tf6x")
        message = open_in_child(self, name)
        self.assertEqual(
            message,
            "NotSharedctypesObject: %r: its layout description is malformed: unknown scalar type 'f6x' at 0 in 'f6x'"
            % name,
        )

    def test_type_name_not_utf8(self):
        name, _ = forge(self, "f64", strings=b"\xfff64")
        self.assertRefused(name, "its type name is not UTF-8")

    def test_unfinished_object_and_other_format_versions(self):
        unfinished, _ = forge(self, "f64", state=0)
        self.assertRefused(unfinished, "its creator has not finished it")
        for version in (1, 3):
            name, _ = forge(self, "f64", version=version)
            self.assertRefused(name, "its format version is %d, this module reads version 2" % version)

    def test_other_magic_bytes(self):
        name, _ = forge(self, "f64", magic=b"SHCTYPEZ")
        self.assertRefused(name, "it does not start with the sharedctypes magic bytes")

    def test_file_shorter_than_a_header(self):
        name, _ = forge(self, "f64", file_size=103)
        self.assertRefused(name, "it is 103 bytes, shorter than a header")

    def test_empty_file(self):
        name, _ = forge(self, "f64", file_size=0)
        self.assertRefused(name, "it is 0 bytes, shorter than a header")

    def test_fingerprint_not_matching_the_layout(self):
        name, _ = forge(self, "f64", fingerprint=0x1234)
        self.assertEqual(
            open_in_child(self, name),
            "LayoutMismatch: %r: the layout description does not match the fingerprint "
            "(0x0000000000001234, computed %#018x)" % (name, sc.fingerprint("f64")),
        )

    def test_cls_for_a_primitive_is_refused(self):
        name = support.new_primitive(self, "event", 0, 0, 0)
        with self.assertRaises(sc.LayoutMismatch) as caught:
            sc.open_named(name, cls=ctypes.c_uint32)
        self.assertEqual(
            str(caught.exception),
            "%r: it holds an Event, which has no element type: cls=%s does not apply"
            % (name, ctypes.c_uint32.__name__),
        )


if __name__ == "__main__":
    unittest.main()
