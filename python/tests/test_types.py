"""The ctypes class passed as `cls` is compared with the object's layout type by type:
scalar kinds (signed, unsigned, float, char, bool, wide char), sizes, alignments, array
lengths, nested structs; pointers anywhere are refused; platform aliases are accepted."""

import ctypes
import struct
import unittest

import sharedctypes as sc

from tests.support import POINT, forge, run_python

POINTER_MESSAGE = "%s is a pointer type (%s): a pointer is only meaningful in the process that wrote it"


class Point(ctypes.Structure):
    _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double)]


class ThroughOpenNamed(unittest.TestCase):
    """The checks as open_named applies them to a forged object."""

    def open_as(self, layout_text, cls, data=b""):
        name, _ = forge(self, layout_text, data=data)
        return sc.open_named(name, cls=cls)

    def assertMismatch(self, layout_text, cls, message):
        with self.assertRaises(sc.LayoutMismatch) as caught:
            self.open_as(layout_text, cls)
        self.assertEqual(str(caught.exception), message)

    def test_exact_matching_class_is_accepted(self):
        obj = self.open_as(POINT, Point, data=struct.pack("<2d", 0.5, -1.5))
        self.assertIs(type(obj.get_obj()), Point)
        self.assertEqual((obj.value.x, obj.value.y), (0.5, -1.5))

    def test_int64_where_the_layout_has_f64_is_refused(self):
        class IntPoint(ctypes.Structure):
            _fields_ = [("x", ctypes.c_int64), ("y", ctypes.c_double)]

        self.assertMismatch(
            POINT,
            IntPoint,
            "IntPoint.x is %s (a signed integer), the shared object's type has f64 (a float) there"
            % ctypes.c_int64.__name__,
        )

    def test_char_p_is_refused_before_any_read(self):
        # The old module accepted it (same name, offset and size) and crashed reading .p.
        name, _ = forge(self, "Holder(8,8){p@0:u64=u64}", data=struct.pack("<Q", 16))
        out = run_python(
            self,
            """
            import ctypes, sys, sharedctypes as sc
            class Holder(ctypes.Structure):
                _fields_ = [("p", ctypes.c_char_p)]
            try:
                print(sc.open_named(sys.argv[1], cls=Holder).value.p)
            except sc.LayoutMismatch as e:
                print("LayoutMismatch:", e)
            """,
            name,
        )
        self.assertEqual(out.strip(), "LayoutMismatch: " + POINTER_MESSAGE % ("Holder.p", "c_char_p"))

    def test_pointer_nested_in_a_struct_array_is_refused(self):
        class Inner(ctypes.Structure):
            _fields_ = [("n", ctypes.c_int64), ("p", ctypes.POINTER(ctypes.c_int))]

        class Outer(ctypes.Structure):
            _fields_ = [("id", ctypes.c_uint64), ("inner", Inner * 2)]

        layout = "Outer(40,8){id@0:u64=u64,inner@8:%5BInner%3B%202%5D=[Inner(16,8){n@0:i64=i64,p@8:u64=u64};2]}"
        self.assertMismatch(layout, Outer, POINTER_MESSAGE % ("Outer.inner[].p", "LP_c_int"))

    def test_class_with_another_size_keeps_its_message(self):
        class Wrong(ctypes.Structure):
            _fields_ = [("id", ctypes.c_uint64)]

        self.assertMismatch(POINT, Wrong, "Wrong has 8 bytes, the shared object's type 16")


class PointerTypes(unittest.TestCase):
    def test_every_kind_of_pointer_is_refused(self):
        layout = sc.parse_layout("u64")
        for cls in (
            ctypes.c_char_p,
            ctypes.c_wchar_p,
            ctypes.c_void_p,
            ctypes.py_object,
            ctypes.POINTER(ctypes.c_double),
            ctypes.CFUNCTYPE(ctypes.c_int),
        ):
            with self.subTest(cls=cls.__name__):
                with self.assertRaises(sc.LayoutMismatch) as caught:
                    layout.check(cls)
                self.assertEqual(str(caught.exception), POINTER_MESSAGE % (cls.__name__, cls.__name__))

    def test_pointer_in_padding_is_refused_too(self):
        # Not a field of the layout, but a pointer all the same.
        class Padded(ctypes.Structure):
            _fields_ = [("a", ctypes.c_uint8), ("hidden", ctypes.c_void_p)]

        with self.assertRaises(sc.LayoutMismatch) as caught:
            sc.parse_layout("Padded(16,8){a@0:u8=u8}").check(Padded)
        self.assertEqual(str(caught.exception), POINTER_MESSAGE % ("Padded.hidden", "c_void_p"))


class Scalars(unittest.TestCase):
    def test_platform_aliases_are_accepted(self):
        for rust, cls in (
            ("i8", ctypes.c_byte),
            ("u8", ctypes.c_ubyte),
            ("i16", ctypes.c_short),
            ("u16", ctypes.c_ushort),
            ("i32", ctypes.c_int),
            ("u32", ctypes.c_uint),
            ("i64", ctypes.c_long),
            ("i64", ctypes.c_longlong),
            ("u64", ctypes.c_ulong),
            ("u64", ctypes.c_ulonglong),
            ("isize", ctypes.c_ssize_t),
            ("isize", ctypes.c_int64),
            ("usize", ctypes.c_size_t),
            ("f32", ctypes.c_float),
            ("f64", ctypes.c_double),
            ("CChar", ctypes.c_char),
            ("CBool", ctypes.c_bool),
            ("WChar", ctypes.c_wchar),
        ):
            with self.subTest(rust=rust, cls=cls.__name__):
                self.assertIsNone(sc.parse_layout(rust).check(cls))

    def test_rebuilt_scalars_are_the_documented_ctypes(self):
        expected = {
            "i8": ctypes.c_int8,
            "u8": ctypes.c_uint8,
            "i16": ctypes.c_int16,
            "u16": ctypes.c_uint16,
            "i32": ctypes.c_int32,
            "u32": ctypes.c_uint32,
            "i64": ctypes.c_int64,
            "u64": ctypes.c_uint64,
            "isize": ctypes.c_ssize_t,
            "usize": ctypes.c_size_t,
            "f32": ctypes.c_float,
            "f64": ctypes.c_double,
            "CChar": ctypes.c_char,
            "CBool": ctypes.c_bool,
            "WChar": ctypes.c_wchar,
        }
        for rust, cls in expected.items():
            with self.subTest(rust=rust):
                self.assertIs(sc.parse_layout(rust).ctype(), cls)

    def test_other_kinds_of_the_same_size_are_refused(self):
        for rust, cls, message in (
            ("i32", ctypes.c_uint32, "c_uint is c_uint (an unsigned integer), the shared object's type has i32 (a signed integer) there"),
            ("u64", ctypes.c_int64, "c_long is c_long (a signed integer), the shared object's type has u64 (an unsigned integer) there"),
            ("f32", ctypes.c_int32, "c_int is c_int (a signed integer), the shared object's type has f32 (a float) there"),
            ("i64", ctypes.c_double, "c_double is c_double (a float), the shared object's type has i64 (a signed integer) there"),
            ("CChar", ctypes.c_byte, "c_byte is c_byte (a signed integer), the shared object's type has CChar (a char) there"),
            ("u8", ctypes.c_char, "c_char is c_char (a char), the shared object's type has u8 (an unsigned integer) there"),
            ("u8", ctypes.c_bool, "c_bool is c_bool (a bool), the shared object's type has u8 (an unsigned integer) there"),
            ("WChar", ctypes.c_uint32, "c_uint is c_uint (an unsigned integer), the shared object's type has WChar (a wide char) there"),
            ("f64", ctypes.c_float, "c_float has 4 bytes, the shared object's type 8"),
        ):
            with self.subTest(rust=rust, cls=cls.__name__):
                with self.assertRaises(sc.LayoutMismatch) as caught:
                    sc.parse_layout(rust).check(cls)
                self.assertEqual(str(caught.exception), message)

    def test_other_byte_order_is_refused(self):
        swapped = ctypes.c_int32.__ctype_be__

        class Big(ctypes.BigEndianStructure):
            _fields_ = [("v", ctypes.c_int32)]

        with self.assertRaises(sc.LayoutMismatch) as caught:
            sc.parse_layout("i32").check(swapped)
        self.assertEqual(
            str(caught.exception),
            "%s is %s, in the other byte order: the shared object's i32 is in this machine's"
            % (swapped.__name__, swapped.__name__),
        )
        with self.assertRaises(sc.LayoutMismatch) as caught:
            sc.parse_layout("Big(4,4){v@0:i32=i32}").check(Big)
        self.assertEqual(
            str(caught.exception), "Big is a BigEndianStructure: the shared object's struct Big is in this machine's byte order"
        )


class Aggregates(unittest.TestCase):
    def test_array_length_and_element_type_are_checked(self):
        layout = sc.parse_layout("Buf(16,4){v@0:%5Bi32%3B%204%5D=[i32;4]}")

        class Short(ctypes.Structure):
            _fields_ = [("v", ctypes.c_int32 * 2), ("w", ctypes.c_int32 * 2)]

        class Unsigned(ctypes.Structure):
            _fields_ = [("v", ctypes.c_uint32 * 4)]

        class Right(ctypes.Structure):
            _fields_ = [("v", ctypes.c_int * 4)]

        with self.assertRaises(sc.LayoutMismatch) as caught:
            layout.check(Short)
        self.assertEqual(str(caught.exception), "Short.v has 8 bytes, the shared object's type 16")
        with self.assertRaises(sc.LayoutMismatch) as caught:
            layout.check(Unsigned)
        self.assertEqual(
            str(caught.exception),
            "Unsigned.v[] is c_uint (an unsigned integer), the shared object's type has i32 (a signed integer) there",
        )
        self.assertIsNone(layout.check(Right))

    def test_nested_struct_fields_are_checked_recursively(self):
        layout = sc.parse_layout("Seg(32,8){a@0:Point=" + POINT + ",b@16:Point=" + POINT + "}")

        class FloatPoint(ctypes.Structure):
            _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_uint64)]

        class Seg(ctypes.Structure):
            _fields_ = [("a", Point), ("b", FloatPoint)]

        class Good(ctypes.Structure):
            _fields_ = [("a", Point), ("b", Point)]

        with self.assertRaises(sc.LayoutMismatch) as caught:
            layout.check(Seg)
        self.assertEqual(
            str(caught.exception),
            "Seg.b.y is %s (an unsigned integer), the shared object's type has f64 (a float) there"
            % ctypes.c_uint64.__name__,
        )
        self.assertIsNone(layout.check(Good))

    def test_alignment_is_checked(self):
        class Packed(ctypes.Structure):
            _pack_ = 4
            _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double)]

        self.assertEqual((ctypes.sizeof(Packed), Packed.y.offset), (16, 8))
        with self.assertRaises(sc.LayoutMismatch) as caught:
            sc.parse_layout(POINT).check(Packed)
        self.assertEqual(str(caught.exception), "Packed is aligned to 4 bytes, the shared object's type to 8")

    def test_repr_align_may_be_missing_from_the_class(self):
        # ctypes before Python 3.13 has no _align_: the fields' own alignment is accepted.
        class Slot(ctypes.Structure):
            _fields_ = [("id", ctypes.c_uint32), ("pad", ctypes.c_char * 12)]

        layout = sc.parse_layout("Slot(16,16,16){id@0:u32=u32,pad@4:%5BCChar%3B%2012%5D=[CChar;12]}")
        self.assertEqual((layout.align, layout.natural_align), (16, 4))
        self.assertIsNone(layout.check(Slot))

    def test_missing_field_bit_field_and_union_are_refused(self):
        layout = sc.parse_layout("Pair(8,4){a@0:u32=u32,b@4:u32=u32}")

        class Renamed(ctypes.Structure):
            _fields_ = [("a", ctypes.c_uint32), ("c", ctypes.c_uint32)]

        class Bits(ctypes.Structure):
            _fields_ = [("a", ctypes.c_uint32), ("b", ctypes.c_uint32, 32)]

        class Either(ctypes.Union):
            _fields_ = [("a", ctypes.c_uint32 * 2), ("b", ctypes.c_uint32)]

        for cls, message in (
            (Renamed, "Renamed has no field 'b' at offset 4, as the shared object's type Pair has"),
            (Bits, "Bits.b is a bit field: the shared object's type has u32 there"),
            (Either, "Either is Either, not a ctypes.Structure: the shared object's type is the struct Pair"),
        ):
            with self.subTest(cls=cls.__name__):
                with self.assertRaises(sc.LayoutMismatch) as caught:
                    layout.check(cls)
                self.assertEqual(str(caught.exception), message)

    def test_not_a_ctypes_type_is_refused(self):
        with self.assertRaises(sc.LayoutMismatch) as caught:
            sc.parse_layout("u8").check(int)
        self.assertEqual(str(caught.exception), "cls must be a ctypes type, not <class 'int'>")


class StructAssignment(unittest.TestCase):
    def test_assigning_a_struct_of_another_layout_is_refused(self):
        # The old module memmoved sizeof(the new value) bytes: 64 bytes into a 16-byte value.
        class Big(ctypes.Structure):
            _fields_ = [("x", ctypes.c_double), ("y", ctypes.c_double), ("more", ctypes.c_char * 48)]

        name, f = forge(self, POINT, data=struct.pack("<2d", 1.0, 2.0))
        obj = sc.open_named(name)
        with self.assertRaises(sc.LayoutMismatch) as caught:
            obj.value = Big(3.0, 4.0, b"x" * 48)
        self.assertEqual(str(caught.exception), "Big has 64 bytes, the shared object's type 16")
        obj.value = Point(5.0, 6.0)  # another class, same layout: accepted
        self.assertEqual((obj.value.x, obj.value.y), (5.0, 6.0))


if __name__ == "__main__":
    unittest.main()
