"""Layout descriptions: fingerprints equal to Rust's, the ctypes types rebuilt from them,
and malformed or impossible descriptions refused with InvalidHandle (never another
exception, never a crash)."""

import ctypes
import unittest

import sharedctypes as sc

from tests.support import POINT

FOO = "Foo(24,8){x@0:c_int=i32,y@8:c_double=f64,z@16:c_longlong=i64}"
PARTICLE = "Particle(32,16,16){pos@0:Point=" + POINT + ",id@16:u32=u32,tag@20:%5BCChar%3B%203%5D=[CChar;3]}"


class Fingerprints(unittest.TestCase):
    def test_fingerprints_equal_the_ones_rust_prints(self):
        # From `cargo run --example layout` (examples/layout.rs).
        self.assertEqual(sc.fingerprint(POINT), 0x0F3CC4C9B8E038C4)
        self.assertEqual(sc.fingerprint(FOO), 0x985B432A8BD8D838)
        self.assertEqual(sc.fingerprint(PARTICLE), 0x30E1EFC65A4E1484)


class RebuiltTypes(unittest.TestCase):
    def test_struct_with_a_hole_is_rebuilt_at_the_same_offsets(self):
        cls = sc.parse_layout(FOO).ctype()
        self.assertEqual(
            (ctypes.sizeof(cls), ctypes.alignment(cls), cls.x.offset, cls.y.offset, cls.z.offset), (24, 8, 0, 8, 16)
        )
        self.assertEqual(cls.__name__, "Foo")

    def test_repr_align_struct_is_rebuilt_with_its_size_and_padding(self):
        layout = sc.parse_layout(PARTICLE)
        cls = layout.ctype()
        self.assertEqual((layout.size, layout.align, layout.natural_align, layout.repr_align), (32, 16, 8, 16))
        self.assertEqual((ctypes.sizeof(cls), cls.pos.offset, cls.id.offset, cls.tag.offset), (32, 0, 16, 20))
        self.assertIn(ctypes.alignment(cls), (8, 16))  # 16 where ctypes has _align_ (3.13)

    def test_tuple_fields_and_a_field_named_like_the_padding(self):
        layout = sc.parse_layout("T(16,8){0@0:u8=u8,_pad1@8:u64=u64}")
        cls = layout.ctype()
        self.assertEqual((cls._0.offset, cls._pad1.offset, ctypes.sizeof(cls)), (0, 8, 16))


class MalformedDescriptions(unittest.TestCase):
    def test_each_is_refused_with_invalid_handle(self):
        cases = [
            ("[u8;\u00b2]", "a number expected at 4 in '[u8;\u00b2]'"),
            ("[u8;\uff18]", "a number expected at 4 in '[u8;\uff18]'"),
            ("P%G1(1,1){}", "a malformed name 'P%G1' (bad escape '%G1') at 0 in 'P%G1(1,1){}'"),
            ("P%FF(0,1){}", None),  # not UTF-8
            ("[u8;99999999999999999999]", "the number 99999999999999999999 is too big at 4 in '[u8;99999999999999999999]'"),
            ("[f64;2305843009213693952]", "an array of 2305843009213693952 elements of 8 bytes is too big at 0 in '[f64;2305843009213693952]'"),
            ("S(8,4){a@0:u32=u32,b@2:u32=u32}", "struct S: field b at offset 2 is not aligned to 4 at 0 in 'S(8,4){a@0:u32=u32,b@2:u32=u32}'"),
            ("S(8,8){a@0:u64=u64,b@0:u8=u8}", "struct S: field b at offset 0 overlaps the field before it (ending at 8) at 0 in 'S(8,8){a@0:u64=u64,b@0:u8=u8}'"),
            ("S(8,8){a@8:u64=u64}", "struct S: field a (8..16) does not fit in its 8 bytes at 0 in 'S(8,8){a@8:u64=u64}'"),
            ("S(8,4){a@0:u64=u64}", "struct S: field a is aligned to 8, more than the struct (4) at 0 in 'S(8,4){a@0:u64=u64}'"),
            ("S(12,8){a@0:u32=u32}", "struct S: size 12 is not a multiple of its alignment 8 at 0 in 'S(12,8){a@0:u32=u32}'"),
            ("S(12,3){a@0:u8=u8}", "struct S: alignment 3 is not a power of two at 0 in 'S(12,3){a@0:u8=u8}'"),
            ("S(16,8,32){a@0:u8=u8}", "struct S: repr(align(32)) is not a power of two up to its alignment 8 at 0 in 'S(16,8,32){a@0:u8=u8}'"),
            ("f128", "unknown scalar type 'f128' at 0 in 'f128'"),
            ("f64 ", "trailing text in layout 'f64 '"),
            ("[" * 100 + "u8" + ";1]" * 100, None),  # nested too deep
            ("", "unknown scalar type '' at 0 in ''"),
        ]
        for text, message in cases:
            with self.subTest(text=text[:40]):
                with self.assertRaises(sc.InvalidHandle) as caught:
                    sc.parse_layout(text)
                if message is not None:
                    self.assertEqual(str(caught.exception), message)

    def test_nesting_limit_is_named(self):
        text = "[" * 65 + "u8" + ";1]" * 65
        with self.assertRaises(sc.InvalidHandle) as caught:
            sc.parse_layout(text)
        self.assertTrue(str(caught.exception).startswith("types nested deeper than 64 at 64 in "), str(caught.exception))
        self.assertEqual(sc.parse_layout("[" * 63 + "u8" + ";1]" * 63).size, 1)


if __name__ == "__main__":
    unittest.main()
