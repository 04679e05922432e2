"""The shared objects of a Rust program that uses `sharedctypes`, from Python.

Pure Python, standard library only (``ctypes``, ``mmap``), Python 3.9 or later on Linux
(x86-64, glibc: the lock cell holds glibc's 40-byte ``pthread_mutex_t``).

Two ways to reach an object:

* ``open_named(name)`` opens a named object (``Value::create_named`` and friends on the Rust
  side): it maps ``/dev/shm/<name>``, checks the header, and rebuilds the element type;
* ``inherited(name)`` receives an object the Rust parent shared with this process through
  ``Process::command(cmd).share(name, &obj)`` (the handle is in the environment variable
  ``SHAREDCTYPES_SHARED_<name>``).

Either returns a ``SharedObject``: ``.value`` (a value), indexing and ``len()`` (an array),
``get_lock()`` (a context manager on the very same robust pthread mutex the Rust side uses)
and ``get_obj()`` (the raw ``ctypes`` object, without the lock). The element type is rebuilt
from the layout description the object carries, and checked: its layout fingerprint is
recomputed here and must equal the one Rust wrote, and a ``ctypes`` class you pass (for
instance the one ``LAYOUT.to_ctypes()`` renders) must have the same fields, of the same
types, at the same offsets.

Nothing is trusted before it is checked. Every field of a named object's header, and every
word of a handle, is validated against the real size of the file before any ``ctypes``
object is made: the data and the lock must lie inside the file, aligned, apart from the
header and from each other, so that a forged or corrupt object is refused
(``NotSharedctypesObject``, ``InvalidHandle``) instead of reading or writing outside the
mapping. A symbolic link at ``/dev/shm/<name>`` is not followed, and, as on the Rust side,
an object whose file another user owns is refused (``OtherOwner``) unless
``allow_other_owner=True``. A ``ctypes`` class holding a pointer anywhere is refused: a
pointer is only meaningful in the process that wrote it.

Locks follow the Rust protocol exactly. When a holder dies holding the lock, the next
``acquire`` succeeds, makes the mutex consistent, and warns with ``OwnerDiedWarning``; the
report stays in shared memory (every acquirer, Python or Rust, sees ``owner_died``) until a
holder repairs the data and calls ``clear_owner_died()``. Meanwhile ``.value`` and indexing,
which take the lock internally and cannot repair, raise ``OwnerDiedError``.
"""

import ctypes
import ctypes.util
import errno as _errno
import mmap
import os
import re
import stat
import struct
import sys
import threading
import time
import warnings
import weakref

__all__ = [
    "open_named",
    "inherited",
    "from_handle",
    "SharedObject",
    "Lock",
    "OwnerDiedWarning",
    "OwnerDiedError",
    "LayoutMismatch",
    "NotSharedctypesObject",
    "InvalidHandle",
    "OtherOwner",
    "parse_layout",
    "fingerprint",
]

__version__ = "0.1.0"


class OwnerDiedWarning(UserWarning):
    """A holder of the lock died holding it; the data it guards may be half-updated."""


class OwnerDiedError(RuntimeError):
    """An operation that takes the lock internally found an unrepaired owner death."""


class LayoutMismatch(TypeError):
    """The object holds another type than the one asked for."""


class NotSharedctypesObject(ValueError):
    """The named file is not a sharedctypes object of this format version (or is corrupt)."""


class InvalidHandle(ValueError):
    """A handle that is malformed or names memory it may not."""


class OtherOwner(PermissionError):
    """A named object whose file another user owns (opened only with
    ``allow_other_owner=True``): a process that can write an object's lock cell can make the
    lock code of every process using it write where it chooses."""


# No Rust type or object is larger than isize::MAX bytes; every size, offset and count read
# from shared memory or a handle is refused above it.
_MAX_SIZE = (1 << 63) - 1


def _is_power_of_two(n):
    return n > 0 and n & (n - 1) == 0


# --- Layout descriptions and fingerprints -------------------------------------------------

# Rust scalar name -> ctypes type.
_PRIMITIVES = {
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

_SIGNED = "a signed integer"
_UNSIGNED = "an unsigned integer"
_FLOAT = "a float"
_CHAR = "a char"
_BOOL = "a bool"
_WCHAR = "a wide char"

# What each Rust scalar is, and what each ctypes type code is: a class matches a scalar when
# both are the same kind of thing of the same size and alignment (so that the aliases of a
# platform, c_long for c_int64 on LP64, are accepted).
_PRIMITIVE_KINDS = {
    "i8": _SIGNED,
    "u8": _UNSIGNED,
    "i16": _SIGNED,
    "u16": _UNSIGNED,
    "i32": _SIGNED,
    "u32": _UNSIGNED,
    "i64": _SIGNED,
    "u64": _UNSIGNED,
    "isize": _SIGNED,
    "usize": _UNSIGNED,
    "f32": _FLOAT,
    "f64": _FLOAT,
    "CChar": _CHAR,
    "CBool": _BOOL,
    "WChar": _WCHAR,
}
_CODE_KINDS = {}
_CODE_KINDS.update(dict.fromkeys("bhilq", _SIGNED))
_CODE_KINDS.update(dict.fromkeys("BHILQ", _UNSIGNED))
_CODE_KINDS.update(dict.fromkeys("fdg", _FLOAT))
_CODE_KINDS.update({"c": _CHAR, "?": _BOOL, "u": _WCHAR})

# ctypes simple types that hold an address: c_char_p, c_wchar_p, c_void_p, py_object (and
# Windows' BSTR).
_POINTER_CODES = "zZPOX"

_BASIS = 0xCBF29CE484222325
_PRIME = 0x100000001B3
_MASK = (1 << 64) - 1


def _bytes(h, data):
    for b in data:
        h = ((h ^ b) * _PRIME) & _MASK
    return h


def _word(h, value):
    return _bytes(h, (value & _MASK).to_bytes(8, "little"))


def _text(h, s):
    data = s.encode()
    return _bytes(_word(h, len(data)), data)


def _head(tag, name, size, align):
    return _word(_word(_text(_text(_BASIS, tag), name), size), align)


def _field_ident(name):
    """The Python identifier of a field (``0`` -> ``_0``), as ``to_ctypes()`` writes it."""
    return "_" + name if name[:1].isdigit() else name


class Layout:
    """A parsed layout description: ``kind`` is "primitive", "array" or "struct".

    ``size`` and ``align`` are the type's; ``natural_align`` is the alignment its fields
    alone give it (lower than ``align`` only under ``#[repr(align(N))]``, which ``ctypes``
    cannot express before Python 3.13). Structs have ``fields``, a list of ``(name, offset,
    type_name, Layout)``; arrays have ``elem`` and ``length``.
    """

    def __init__(self, kind, name, size, align, elem=None, length=0, fields=(), repr_align=None):
        self.kind = kind
        self.name = name
        self.size = size
        self.align = align
        self.elem = elem
        self.length = length
        self.fields = list(fields)  # (name, offset, type_name, Layout)
        self.repr_align = repr_align
        if kind == "primitive":
            self.natural_align = align
        elif kind == "array":
            self.natural_align = elem.natural_align
        else:
            self.natural_align = max([f[3].natural_align for f in self.fields] + [1])
        self.fingerprint = self._fingerprint()

    def __repr__(self):
        return "<Layout %s %s: %d bytes, align %d, fingerprint %#018x>" % (
            self.kind,
            self.name,
            self.size,
            self.align,
            self.fingerprint,
        )

    def _fingerprint(self):
        if self.kind == "primitive":
            return _head("primitive", self.name, self.size, self.align)
        if self.kind == "array":
            return _word(_word(_head("array", "", self.size, self.align), self.length), self.elem.fingerprint)
        h = _head("struct", self.name, self.size, self.align)
        h = _word(h, self.repr_align or 0)
        h = _word(h, len(self.fields))
        for name, offset, type_name, layout in self.fields:
            h = _text(h, name)
            h = _word(h, offset)
            h = _word(h, layout.size)
            h = _text(h, type_name)
            h = _word(h, layout.fingerprint)
        return h

    def ctype(self):
        """The ``ctypes`` type with this layout (padding fields where C would put holes)."""
        if self.kind == "primitive":
            return _PRIMITIVES[self.name]
        if self.kind == "array":
            return self.elem.ctype() * self.length
        idents = {_field_ident(f[0]) for f in self.fields}

        def pad_name(base):
            while base in idents:
                base += "_"
            idents.add(base)
            return base

        fields = []
        end = 0
        for i, (name, offset, _type_name, layout) in enumerate(self.fields):
            if offset > end:
                fields.append((pad_name("_pad%d" % i), ctypes.c_char * (offset - end)))
            fields.append((_field_ident(name), layout.ctype()))
            end = offset + layout.size
        if self.size > end:
            fields.append((pad_name("_pad_end"), ctypes.c_char * (self.size - end)))
        namespace = {"_fields_": fields}
        if self.align > self.natural_align and sys.version_info >= (3, 13):
            namespace["_align_"] = self.align
        cls = type(self.name, (ctypes.Structure,), namespace)
        _check_ctype(cls, self)
        return cls

    def check(self, cls):
        """Raises ``LayoutMismatch`` unless the ``ctypes`` type `cls` has this layout.

        Compares types, not only names: sizes, alignments, every field's offset and kind of
        scalar (signed or unsigned integer, float, char, bool, wide char), array lengths,
        nested structs recursively; refuses any pointer type anywhere in `cls`.
        """
        _check_ctype(cls, self)


# The base classes of ctypes types, and the structure/union bases of the other byte order.
_CDATA = (ctypes.Structure, ctypes.Union, ctypes.Array, ctypes._SimpleCData, ctypes._Pointer, ctypes._CFuncPtr)
if sys.byteorder == "little":
    _NATIVE_ORDER_ATTR = "__ctype_le__"
    _FOREIGN_STRUCTS = tuple(
        getattr(ctypes, n) for n in ("BigEndianStructure", "BigEndianUnion") if hasattr(ctypes, n)
    )
else:  # pragma: no cover - big-endian hosts
    _NATIVE_ORDER_ATTR = "__ctype_be__"
    _FOREIGN_STRUCTS = tuple(
        getattr(ctypes, n) for n in ("LittleEndianStructure", "LittleEndianUnion") if hasattr(ctypes, n)
    )


def _declared_fields(cls):
    """Every ``_fields_`` entry of a Structure or Union class, its bases' first."""
    out = []
    for klass in reversed(cls.__mro__):
        if "_fields_" in vars(klass) and issubclass(klass, (ctypes.Structure, ctypes.Union)):
            out.extend(klass._fields_)
    return out


def _pointer_in(t, where):
    """``(path, type)`` of the first pointer type inside the ctypes type `t`, or None."""
    if not isinstance(t, type):
        return None
    if issubclass(t, (ctypes._Pointer, ctypes._CFuncPtr)):
        return where, t
    if issubclass(t, ctypes._SimpleCData):
        return (where, t) if t._type_ in _POINTER_CODES else None
    if issubclass(t, ctypes.Array):
        return _pointer_in(t._type_, where + "[]")
    if issubclass(t, (ctypes.Structure, ctypes.Union)):
        for entry in _declared_fields(t):
            found = _pointer_in(entry[1], "%s.%s" % (where, entry[0]))
            if found:
                return found
    return None


def _type_name(t):
    return getattr(t, "__name__", repr(t))


def _check_ctype(cls, layout):
    """Checks that the ctypes type `cls` has `layout`, type by type (see ``Layout.check``)."""
    if not (isinstance(cls, type) and issubclass(cls, _CDATA)):
        raise LayoutMismatch("cls must be a ctypes type, not %r" % (cls,))
    found = _pointer_in(cls, cls.__name__)
    if found:
        raise LayoutMismatch(
            "%s is a pointer type (%s): a pointer is only meaningful in the process that wrote it"
            % (found[0], _type_name(found[1]))
        )
    _check_type(cls, layout, cls.__name__)


def _check_type(t, layout, where):
    if not (isinstance(t, type) and issubclass(t, _CDATA)):
        raise LayoutMismatch("%s is %r, not a ctypes type" % (where, t))
    size = ctypes.sizeof(t)
    if size != layout.size:
        raise LayoutMismatch("%s has %d bytes, the shared object's type %d" % (where, size, layout.size))
    align = ctypes.alignment(t)
    if align != layout.align and align != layout.natural_align:
        raise LayoutMismatch("%s is aligned to %d bytes, the shared object's type to %d" % (where, align, layout.align))
    if layout.kind == "primitive":
        want = _PRIMITIVE_KINDS[layout.name]
        if not issubclass(t, ctypes._SimpleCData):
            raise LayoutMismatch(
                "%s is %s, not a scalar: the shared object's type has %s (%s) there"
                % (where, _type_name(t), layout.name, want)
            )
        have = _CODE_KINDS.get(t._type_)
        if have != want:
            raise LayoutMismatch(
                "%s is %s (%s), the shared object's type has %s (%s) there"
                % (where, _type_name(t), have or "type code %r" % t._type_, layout.name, want)
            )
        if size > 1 and hasattr(t, _NATIVE_ORDER_ATTR) and getattr(t, _NATIVE_ORDER_ATTR) is not t:
            raise LayoutMismatch(
                "%s is %s, in the other byte order: the shared object's %s is in this machine's"
                % (where, _type_name(t), layout.name)
            )
    elif layout.kind == "array":
        if not issubclass(t, ctypes.Array):
            raise LayoutMismatch(
                "%s is %s, not an array: the shared object's type has an array of %d there"
                % (where, _type_name(t), layout.length)
            )
        if t._length_ != layout.length:
            raise LayoutMismatch(
                "%s has %d elements, the shared object's type %d" % (where, t._length_, layout.length)
            )
        _check_type(t._type_, layout.elem, where + "[]")
    else:
        if not issubclass(t, ctypes.Structure):
            raise LayoutMismatch(
                "%s is %s, not a ctypes.Structure: the shared object's type is the struct %s"
                % (where, _type_name(t), layout.name)
            )
        if _FOREIGN_STRUCTS and issubclass(t, _FOREIGN_STRUCTS):
            raise LayoutMismatch(
                "%s is a %s: the shared object's struct %s is in this machine's byte order"
                % (where, [b.__name__ for b in _FOREIGN_STRUCTS if issubclass(t, b)][0], layout.name)
            )
        declared = {}
        for entry in _declared_fields(t):
            declared[entry[0]] = entry  # a redeclared name: the last one is the attribute
        for name, offset, _type_name_, field in layout.fields:
            ident = _field_ident(name)
            candidates = [ident, ident + "_"]  # to_c() appends "_" to C keywords
            entry = next((declared[c] for c in candidates if c in declared), None)
            descriptor = getattr(t, entry[0], None) if entry else None
            at = getattr(descriptor, "offset", None)
            if entry is None or not isinstance(at, int) or at != offset:
                raise LayoutMismatch(
                    "%s has no field %r at offset %d, as the shared object's type %s has%s"
                    % (t.__name__, name, offset, layout.name, "" if not isinstance(at, int) else " (it is at %d)" % at)
                )
            if len(entry) > 2:
                raise LayoutMismatch(
                    "%s.%s is a bit field: the shared object's type has %s there"
                    % (where, entry[0], field.name if field.kind != "array" else "an array")
                )
            _check_type(entry[1], field, "%s.%s" % (where, entry[0]))


def _unquote(s):
    """Decodes the percent-encoding of a name; ValueError if malformed."""
    out = bytearray()
    i = 0
    while i < len(s):
        if s[i] == "%":
            digits = s[i + 1 : i + 3]
            if len(digits) != 2 or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise ValueError("bad escape %r" % s[i : i + 3])
            out.append(int(digits, 16))
            i += 3
        else:
            out += s[i].encode()
            i += 1
    return out.decode()  # UnicodeDecodeError is a ValueError


_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_%")
_DIGIT_CHARS = frozenset("0123456789")
# Deeper nesting than any real type: refused before Python's recursion limit is near.
_MAX_DEPTH = 64


class _Parser:
    """A recursive-descent parser of ``Layout::describe`` text, which also checks that the
    layout it describes is one a C compiler could produce: sizes and alignments consistent,
    fields in order, aligned and inside their struct (so that ``Layout.ctype()`` can build it
    exactly)."""

    def __init__(self, text):
        self.text = text
        self.i = 0
        self.depth = 0

    def fail(self, what, at=None):
        raise InvalidHandle("%s at %d in %r" % (what, self.i if at is None else at, self.text))

    def take_while(self, ok):
        start = self.i
        while self.i < len(self.text) and ok(self.text[self.i]):
            self.i += 1
        return self.text[start : self.i]

    def name(self):
        start = self.i
        raw = self.take_while(lambda c: c in _NAME_CHARS)
        try:
            return _unquote(raw)
        except ValueError as e:
            self.fail("a malformed name %r (%s)" % (raw, e), start)

    def number(self):
        start = self.i
        digits = self.take_while(lambda c: c in _DIGIT_CHARS)
        if not digits:
            self.fail("a number expected")
        if len(digits) > 19 or int(digits) > _MAX_SIZE:
            self.fail("the number %s is too big" % digits, start)
        return int(digits)

    def expect(self, c):
        if self.text[self.i : self.i + 1] != c:
            self.fail("%r expected" % c)
        self.i += 1

    def desc(self):
        self.depth += 1
        if self.depth > _MAX_DEPTH:
            self.fail("types nested deeper than %d" % _MAX_DEPTH)
        try:
            return self._desc()
        finally:
            self.depth -= 1

    def _desc(self):
        start = self.i
        if self.text[self.i : self.i + 1] == "[":
            self.i += 1
            elem = self.desc()
            self.expect(";")
            length = self.number()
            self.expect("]")
            if elem.size * length > _MAX_SIZE:
                self.fail("an array of %d elements of %d bytes is too big" % (length, elem.size), start)
            return Layout("array", "array", elem.size * length, elem.align, elem=elem, length=length)
        name = self.name()
        if self.text[self.i : self.i + 1] != "(":
            ctype = _PRIMITIVES.get(name)
            if ctype is None:
                self.fail("unknown scalar type %r" % name, start)
            return Layout("primitive", name, ctypes.sizeof(ctype), ctypes.alignment(ctype))
        self.expect("(")
        size = self.number()
        self.expect(",")
        align = self.number()
        repr_align = None
        if self.text[self.i : self.i + 1] == ",":
            self.i += 1
            repr_align = self.number()
        self.expect(")")
        self.expect("{")
        fields = []
        while self.text[self.i : self.i + 1] != "}":
            if fields:
                self.expect(",")
            fname = self.name()
            self.expect("@")
            offset = self.number()
            self.expect(":")
            type_name = self.name()
            self.expect("=")
            fields.append((fname, offset, type_name, self.desc()))
        self.expect("}")
        self._check_struct(name, size, align, repr_align, fields, start)
        return Layout("struct", name, size, align, fields=fields, repr_align=repr_align)

    def _check_struct(self, name, size, align, repr_align, fields, start):
        if not _is_power_of_two(align):
            self.fail("struct %s: alignment %d is not a power of two" % (name, align), start)
        if size % align:
            self.fail("struct %s: size %d is not a multiple of its alignment %d" % (name, size, align), start)
        if repr_align is not None and (not _is_power_of_two(repr_align) or repr_align > align):
            self.fail(
                "struct %s: repr(align(%d)) is not a power of two up to its alignment %d" % (name, repr_align, align),
                start,
            )
        end = 0
        for fname, offset, _type_name, layout in fields:
            what = "struct %s: field %s" % (name, fname)
            if layout.align > align:
                self.fail("%s is aligned to %d, more than the struct (%d)" % (what, layout.align, align), start)
            if offset % layout.align:
                self.fail("%s at offset %d is not aligned to %d" % (what, offset, layout.align), start)
            if offset < end:
                self.fail("%s at offset %d overlaps the field before it (ending at %d)" % (what, offset, end), start)
            end = offset + layout.size
            if end > size:
                self.fail("%s (%d..%d) does not fit in its %d bytes" % (what, offset, end, size), start)


def parse_layout(text):
    """Parses a layout description (``Layout::describe`` on the Rust side) into a ``Layout``.

    Raises ``InvalidHandle`` (naming the position) for malformed text, and for layouts no C
    compiler would produce (misaligned, overlapping or out-of-struct fields, sizes that are
    not a multiple of the alignment, alignments that are not powers of two).
    """
    if not isinstance(text, str):
        raise TypeError("a layout description is a str, not %s" % type(text).__name__)
    p = _Parser(text)
    layout = p.desc()
    if p.i != len(text):
        raise InvalidHandle("trailing text in layout %r" % text)
    return layout


def fingerprint(text):
    """The layout fingerprint of a layout description, as Rust computes it."""
    return parse_layout(text).fingerprint


# --- The robust lock ----------------------------------------------------------------------

try:
    _libc = ctypes.CDLL("libc.so.6", use_errno=True)
except OSError:  # pragma: no cover - another C library
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
for _f in ("pthread_mutex_lock", "pthread_mutex_trylock", "pthread_mutex_unlock", "pthread_mutex_consistent"):
    getattr(_libc, _f).argtypes = [ctypes.c_void_p]
    getattr(_libc, _f).restype = ctypes.c_int


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


_libc.pthread_mutex_timedlock.argtypes = [ctypes.c_void_p, ctypes.POINTER(_Timespec)]
_libc.pthread_mutex_timedlock.restype = ctypes.c_int

_TAG_LOCK = int.from_bytes(b"SLCK", "little")
_TAG_RLOCK = int.from_bytes(b"RLCK", "little")
_LOCK_CELL = 56
_LOCK_ALIGN = 8

# glibc's pthread_mutex_t starts with `int __lock; unsigned __count; int __owner;`: __owner,
# at byte 8, is the kernel thread id of the holder (0 when free).
try:
    _GLIBC = os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
except (AttributeError, ValueError, OSError):  # pragma: no cover - another C library
    _GLIBC = False
_MUTEX_OWNER = 8


class _Cell(ctypes.Structure):
    """The 56-byte cell of a lock: the pthread mutex, then sharedctypes' bookkeeping."""

    _fields_ = [
        ("mutex", ctypes.c_byte * 40),
        ("holder", ctypes.c_int32),
        ("depth", ctypes.c_uint32),
        ("died", ctypes.c_int32),
        ("tag", ctypes.c_uint32),
    ]


class Lock:
    """A robust, process-shared lock of a shared object: the Rust ``Lock`` or ``RLock``.

    Use it as a context manager (``with obj.get_lock(): ...``) or with ``acquire`` and
    ``release``. A holder's death is reported as on the Rust side (see the module docs).

    `address` is that of a 56-byte lock cell that `keep_alive` (for instance the mapping)
    keeps valid; its tag must say it is a ``Lock`` (or an ``RLock`` if `recursive`).
    """

    def __init__(self, address, keep_alive, recursive):
        self._cell = _Cell.from_address(address)
        self._addr = address
        self._keep_alive = keep_alive
        self.recursive = recursive
        want = _TAG_RLOCK if recursive else _TAG_LOCK
        if self._cell.tag != want:
            raise InvalidHandle("the lock cell has tag %#x, not %#x" % (self._cell.tag, want))

    def acquire(self, blocking=True, timeout=None, warn=True):
        """Takes the lock; ``False`` if not blocking (or after `timeout` seconds) and busy.

        While a holder's death is unrepaired, every acquisition warns (``OwnerDiedWarning``,
        unless `warn` is false) and ``owner_died`` is true.
        """
        if not blocking:
            rc = _libc.pthread_mutex_trylock(self._addr)
        elif timeout is None or timeout < 0:
            rc = _libc.pthread_mutex_lock(self._addr)
        else:
            deadline = time.time() + timeout
            ts = _Timespec(int(deadline), int((deadline % 1) * 1e9))
            rc = _libc.pthread_mutex_timedlock(self._addr, ctypes.byref(ts))
        if rc in (_errno.EBUSY, _errno.ETIMEDOUT):
            return False
        if rc == _errno.EDEADLK:
            if blocking and timeout is None:
                raise RuntimeError("this thread already holds the lock: a Lock is not re-entrant")
            return False
        if rc == _errno.EOWNERDEAD:
            dead = self._cell.holder
            if _libc.pthread_mutex_consistent(self._addr) != 0:
                _libc.pthread_mutex_unlock(self._addr)
                raise OSError(ctypes.get_errno(), "pthread_mutex_consistent failed")
            self._cell.died = dead if dead > 0 else -1
            self._cell.depth = 0
            rc = 0
        if rc != 0:
            raise OSError(rc, os.strerror(rc))
        if self._cell.depth == 0:
            self._cell.holder = os.getpid()
        self._cell.depth += 1
        if self._cell.died != 0 and warn:
            died = self._cell.died
            warnings.warn(
                OwnerDiedWarning(
                    "a holder of the lock (%s) died while holding it: the data it guards may be "
                    "half-updated until a holder repairs it and calls clear_owner_died()"
                    % ("pid %d" % died if died > 0 else "pid unknown")
                ),
                stacklevel=2,
            )
        return True

    def _held_by_this_thread(self):
        if _GLIBC:
            owner = ctypes.c_int32.from_address(self._addr + _MUTEX_OWNER).value
            return owner == threading.get_native_id()
        # Without glibc's layout only the process can be told, not the thread.
        return self._cell.holder == os.getpid()  # pragma: no cover

    def release(self):
        """Releases the lock, taken by this thread.

        ``RuntimeError`` if this thread does not hold it; then nothing in the cell changes
        (the bookkeeping of a lock another thread or process holds is left alone).
        """
        if not self._held_by_this_thread():
            raise RuntimeError("release of a lock this thread does not hold")
        # The Rust protocol: depth down, holder cleared at depth 0 (a holder that dies after
        # that is reported with its pid unknown, never a wrong one), then the unlock.
        depth = max(self._cell.depth - 1, 0)
        self._cell.depth = depth
        if depth == 0:
            self._cell.holder = 0
        rc = _libc.pthread_mutex_unlock(self._addr)
        if rc != 0:
            raise RuntimeError("pthread_mutex_unlock failed (%s)" % os.strerror(rc))

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()
        return False

    @property
    def owner_died(self):
        """True while a holder's death is unrepaired (read it while holding the lock)."""
        return self._cell.died != 0

    @property
    def dead_owner_pid(self):
        """The pid of the holder that died, if known."""
        died = self._cell.died
        return died if died > 0 else None

    def clear_owner_died(self):
        """Ends the owner-died report once the data is repaired (hold the lock)."""
        self._cell.died = 0


# --- Objects --------------------------------------------------------------------------------


class _Mapping:
    """One shared-memory file, mapped once per process (like the Rust side)."""

    _alive = weakref.WeakValueDictionary()

    def __init__(self, fd, size):
        self.size = size
        if self.size == 0:
            raise InvalidHandle("the shared memory it names is empty")
        self.mm = mmap.mmap(fd, self.size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self._base = ctypes.c_char.from_buffer(self.mm)
        self.address = ctypes.addressof(self._base)

    @classmethod
    def of(cls, fd, st=None):
        """The mapping of the file `fd` refers to, at least ``st.st_size`` bytes long."""
        if st is None:
            st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
        found = cls._alive.get(key)
        if found is None or found.size < st.st_size:
            found = cls(fd, st.st_size)
            cls._alive[key] = found
        return found

    def check(self, offset, length, align):
        """Raises ``InvalidHandle`` unless `length` bytes at `offset` lie in the mapping,
        aligned to `align`."""
        if offset < 0 or length < 0 or offset + length > self.size:
            raise InvalidHandle(
                "%d bytes at offset %d do not lie inside the shared memory they name (%d bytes)"
                % (length, offset, self.size)
            )
        if align and offset % align:
            raise InvalidHandle("offset %d is not aligned to %d bytes" % (offset, align))


class SharedObject:
    """A shared value or array of a Rust program (see the module docs)."""

    def __init__(self, mapping, layout, data_offset, count, is_array, lock, cls=None):
        ctype = layout.ctype()
        if cls is not None:
            _check_ctype(cls, layout)
            ctype = cls
        if not is_array and count != 1:
            raise InvalidHandle("a value has exactly 1 element, not %d" % count)
        mapping.check(data_offset, layout.size * count, layout.align)
        self._mapping = mapping
        self.layout = layout
        self.is_array = is_array
        self._count = count
        whole = ctype * count if is_array else ctype
        self._obj = whole.from_address(mapping.address + data_offset)
        self._lock = lock

    def get_obj(self):
        """The ``ctypes`` object in shared memory, without the lock."""
        return self._obj

    def get_lock(self):
        """The lock (``None`` for a raw object)."""
        return self._lock

    def _locked(self, f):
        if self._lock is None:
            return f()
        self._lock.acquire(warn=False)
        try:
            if self._lock.owner_died:
                raise OwnerDiedError(
                    "a holder of the lock (%s) died while holding it: repair the data under "
                    "get_lock() and call clear_owner_died()"
                    % ("pid %d" % self._lock.dead_owner_pid if self._lock.dead_owner_pid else "pid unknown")
                )
            return f()
        finally:
            self._lock.release()

    @staticmethod
    def _out(v):
        # A copy for structs and arrays (the shared bytes may change under it), the Python
        # value for scalars.
        if isinstance(v, (ctypes.Structure, ctypes.Array)):
            return type(v).from_buffer_copy(v)
        return v

    def _is_text(self):
        return self.is_array and self.layout.kind == "primitive" and self.layout.name in ("CChar", "WChar")

    @property
    def value(self):
        """A copy of the value, under the lock; for a ``CChar`` or ``WChar`` array, the text up
        to the first NUL (as Python's ``Array('c', ...).value``)."""
        if self._is_text():
            return self._locked(lambda: self._obj.value)
        if self.is_array:
            raise TypeError("an array has no .value: index it")
        return self._locked(lambda: self._out(self._obj if self.layout.kind != "primitive" else self._obj.value))

    @value.setter
    def value(self, v):
        if self.is_array and not self._is_text():
            raise TypeError("an array has no .value: index it")

        def store():
            if self.is_array or self.layout.kind == "primitive":
                self._obj.value = v
            else:
                if not isinstance(v, ctypes.Structure):
                    raise TypeError("a ctypes.Structure is needed, not %s" % type(v).__name__)
                if type(v) is not type(self._obj):
                    _check_ctype(type(v), self.layout)  # same layout, so exactly its bytes
                ctypes.memmove(ctypes.addressof(self._obj), ctypes.addressof(v), ctypes.sizeof(v))

        self._locked(store)

    @property
    def raw(self):
        """Every byte of a ``CChar`` array, under the lock (Python's ``.raw``)."""
        if not (self._is_text() and self.layout.name == "CChar"):
            raise TypeError("only a CChar array has .raw")
        return self._locked(lambda: self._obj.raw)

    def __len__(self):
        return self._count if self.is_array else 1

    def __getitem__(self, i):
        if not self.is_array:
            raise TypeError("a value is not indexable: use .value")

        def load():
            if isinstance(i, slice):
                return [self._out(x) for x in self._obj[i]]
            return self._out(self._obj[i])

        return self._locked(load)

    def __setitem__(self, i, v):
        if not self.is_array:
            raise TypeError("a value is not indexable: use .value")

        def store():
            self._obj[i] = v

        self._locked(store)


# --- Checking where the parts of an object lie ----------------------------------------------


def _check_data(fail, size, offset, length, align, header_len=0):
    """The data, `length` bytes at `offset`, inside a file of `size` bytes, aligned, after the
    header. `fail(message)` raises."""
    end = offset + length
    if end > size:
        fail("data %d..%d lies outside the object (%d bytes)" % (offset, end, size))
    if offset % align:
        fail("data offset %d is not aligned to %d (the element alignment)" % (offset, align))
    if offset < header_len:
        fail("data %d..%d overlaps the header 0..%d" % (offset, end, header_len))


def _check_lock(fail, size, offset, header_len=0):
    """The 56-byte lock cell at `offset` inside a file of `size` bytes, aligned to 8, after
    the header."""
    end = offset + _LOCK_CELL
    if offset % _LOCK_ALIGN:
        fail("lock offset %d is not aligned to %d" % (offset, _LOCK_ALIGN))
    if end > size:
        fail("lock %d..%d lies outside the object (%d bytes)" % (offset, end, size))
    if offset < header_len:
        fail("lock %d..%d overlaps the header 0..%d" % (offset, end, header_len))


def _check_apart(fail, data_offset, data_len, lock_offset):
    """The data and the lock cell (in the same file) do not overlap. Empty data (a
    zero-length array) overlaps the cell when its offset lies strictly inside it."""
    data_end = data_offset + data_len
    lock_end = lock_offset + _LOCK_CELL
    if data_len:
        overlap = data_offset < lock_end and lock_offset < data_end
    else:
        overlap = lock_offset < data_offset < lock_end
    if overlap:
        fail("data %d..%d overlaps the lock %d..%d" % (data_offset, data_end, lock_offset, lock_end))


def _check_count(fail, count, elem_size):
    if count > _MAX_SIZE or count * elem_size > _MAX_SIZE:
        fail("%d elements of %d bytes overflow the address space" % (count, elem_size))


# --- Named objects ---------------------------------------------------------------------------

# The fixed part of a named object's header (shared-core/src/named/header.rs): magic,
# version, state, header length, kind, lock, reserved, fingerprint, element size, element
# alignment, count, lock offset, data offset, total size, name length, layout length.
_HEADER = struct.Struct("<8s6I7Q2I")
_FIXED = _HEADER.size  # 96
# Far longer than any type name and layout description (refused rather than read).
_MAX_HEADER = 1 << 24
_MAGIC = b"SHCTYPES"
_VERSION = 1
_READY = 1
_KIND_VALUE, _KIND_ARRAY = 1, 2
_LOCK_NONE, _LOCK_LOCK, _LOCK_RLOCK = 0, 1, 2
_NAME_OK = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


def _check_name(name):
    """The rules Rust applies to names: 1 to 200 of ``[A-Za-z0-9_.-]``, not starting with
    ``.``. ``ValueError`` naming the rule otherwise."""
    if not isinstance(name, str):
        raise TypeError("a name is a str, not %s" % type(name).__name__)
    if not name:
        reason = "it is empty"
    elif len(name.encode("utf-8", "surrogatepass")) > 200:
        reason = "it is longer than 200 bytes"
    elif name.startswith("."):
        reason = "it starts with '.' (hidden names are for objects being created)"
    elif not set(name) <= _NAME_OK:
        reason = "only ASCII letters, digits, '_', '-' and '.' are allowed"
    else:
        return
    raise ValueError("invalid name %r: %s" % (name, reason))


def _file_kind(mode):
    for test, what in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
    ):
        if test(mode):
            return what
    return "not a regular file (mode %#o)" % mode


def _open_named_file(name, path):
    """Opens `path` read-write without following a symbolic link (or blocking on a FIFO)."""
    flags = os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK
    try:
        return os.open(path, flags)
    except OSError as e:
        try:
            st = os.lstat(path)
        except OSError:
            raise e from None
        if stat.S_ISLNK(st.st_mode):
            try:
                target = " (to %r)" % os.readlink(path)
            except OSError:
                target = ""
            raise NotSharedctypesObject("%r is a symbolic link%s, which is not followed" % (name, target)) from None
        if not stat.S_ISREG(st.st_mode):
            what = _file_kind(st.st_mode)
            raise NotSharedctypesObject("%r is %s, not a shared memory object" % (name, what)) from None
        raise


def open_named(name, cls=None, allow_other_owner=False):
    """Opens the named object ``name`` (created by ``create_named`` in Rust).

    `cls`, if given, is the ``ctypes`` type to see the elements as (checked against the
    object's layout, see ``Layout.check``); by default it is rebuilt from the layout.

    Raises ``ValueError`` for a name Rust would refuse, ``FileNotFoundError`` if there is no
    such object, ``NotSharedctypesObject`` for anything at ``/dev/shm/<name>`` that is not a
    complete, consistent sharedctypes object (a symbolic link, a directory, a forged or
    corrupt header: every header field is checked before use), ``LayoutMismatch`` if the
    layout does not match its fingerprint or `cls`, and, as Rust does, ``OtherOwner`` if
    another user owns the file, unless `allow_other_owner` says that user is trusted.
    """
    _check_name(name)
    fd = _open_named_file(name, "/dev/shm/" + name)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotSharedctypesObject("%r is %s, not a shared memory object" % (name, _file_kind(st.st_mode)))
        me = os.geteuid()
        if st.st_uid != me and not allow_other_owner:
            raise OtherOwner(
                "the shared object %r belongs to user %d, not to this process's user %d: a process that "
                "can write an object can make this one's lock code write where it chooses, so it is "
                "opened only with allow_other_owner=True, if you trust that user" % (name, st.st_uid, me)
            )
        size = st.st_size
        head = os.pread(fd, _FIXED, 0) if size >= _FIXED else b""
        if len(head) < _FIXED:
            raise NotSharedctypesObject("%r is %d bytes, shorter than a header (%d bytes)" % (name, size, _FIXED))
        fixed = _check_header(name, size, head)
        strings = os.pread(fd, fixed["header_len"] - _FIXED, _FIXED)
        layout, lock_offset = _check_parts(name, size, fixed, strings)
        mapping = _Mapping.of(fd, st)
    finally:
        os.close(fd)
    lock = None
    if lock_offset is not None:
        recursive = fixed["lock"] == _LOCK_RLOCK

        def fail(message):
            raise NotSharedctypesObject("%r: %s" % (name, message))

        _check_lock_tag(mapping, lock_offset, recursive, fail)
        lock = Lock(mapping.address + lock_offset, mapping, recursive)
    return SharedObject(mapping, layout, fixed["data_offset"], fixed["count"], fixed["kind"] == _KIND_ARRAY, lock, cls)


def _check_header(name, size, head):
    """The fixed fields of a header, checked on their own and against the file `size`."""

    def fail(message):
        raise NotSharedctypesObject("%r: %s" % (name, message))

    (
        magic,
        version,
        state,
        header_len,
        kind,
        lock,
        _reserved,
        fp,
        elem_size,
        elem_align,
        count,
        lock_offset,
        data_offset,
        total,
        name_len,
        layout_len,
    ) = _HEADER.unpack(head)
    if magic != _MAGIC:
        raise NotSharedctypesObject("%r does not start with the sharedctypes magic bytes" % name)
    if version != _VERSION:
        raise NotSharedctypesObject("%r has format version %d, this module reads %d" % (name, version, _VERSION))
    if state != _READY:
        raise NotSharedctypesObject("%r is not finished by its creator (state %d)" % (name, state))
    if header_len != _FIXED + name_len + layout_len:
        fail(
            "header length %d is not %d + %d (type name) + %d (layout description) = %d"
            % (header_len, _FIXED, name_len, layout_len, _FIXED + name_len + layout_len)
        )
    if header_len > _MAX_HEADER:
        fail("header length %d is more than %d" % (header_len, _MAX_HEADER))
    if header_len > size:
        fail("its header (%d bytes) does not fit in the object (%d bytes)" % (header_len, size))
    if total != size:
        fail("the header says the object is %d bytes, the file is %d bytes" % (total, size))
    if kind not in (_KIND_VALUE, _KIND_ARRAY):
        fail("kind %d is neither %d (a value) nor %d (an array)" % (kind, _KIND_VALUE, _KIND_ARRAY))
    if lock not in (_LOCK_NONE, _LOCK_LOCK, _LOCK_RLOCK):
        fail("lock kind %d is not 0 (none), 1 (a Lock) or 2 (an RLock)" % lock)
    if not _is_power_of_two(elem_align):
        fail("element alignment %d is not a power of two" % elem_align)
    if kind == _KIND_VALUE and count != 1:
        fail("a value with count %d (a value has exactly 1 element)" % count)
    return {
        "header_len": header_len,
        "kind": kind,
        "lock": lock,
        "fingerprint": fp,
        "elem_size": elem_size,
        "elem_align": elem_align,
        "count": count,
        "lock_offset": lock_offset,
        "data_offset": data_offset,
        "name_len": name_len,
    }


def _check_parts(name, size, fixed, strings):
    """The layout, checked against the header, and where the data and the lock lie, checked
    against the file `size`: ``(layout, lock offset or None)``."""

    def fail(message):
        raise NotSharedctypesObject("%r: %s" % (name, message))

    name_len = fixed["name_len"]
    if len(strings) != fixed["header_len"] - _FIXED:
        fail("its strings were cut short (%d of %d bytes)" % (len(strings), fixed["header_len"] - _FIXED))
    try:
        text = strings[name_len:].decode("utf-8")
        layout = parse_layout(text)
    except (UnicodeDecodeError, InvalidHandle) as e:
        fail("its layout description is malformed: %s" % e)
    if layout.fingerprint != fixed["fingerprint"]:
        raise LayoutMismatch(
            "%r: the layout description does not match the fingerprint (%#018x, computed %#018x)"
            % (name, fixed["fingerprint"], layout.fingerprint)
        )
    elem_size, elem_align = fixed["elem_size"], fixed["elem_align"]
    if (elem_size, elem_align) != (layout.size, layout.align):
        fail(
            "the header says elements of %d bytes aligned to %d, its layout %d bytes aligned to %d"
            % (elem_size, elem_align, layout.size, layout.align)
        )
    count, header_len = fixed["count"], fixed["header_len"]
    _check_count(fail, count, elem_size)
    data_offset, data_len = fixed["data_offset"], count * elem_size
    _check_data(fail, size, data_offset, data_len, elem_align, header_len)
    lock_offset = fixed["lock_offset"]
    if fixed["lock"] == _LOCK_NONE:
        if lock_offset != 0:
            fail("lock offset %d without a lock (lock kind 0)" % lock_offset)
        return layout, None
    _check_lock(fail, size, lock_offset, header_len)
    _check_apart(fail, data_offset, data_len, lock_offset)
    return layout, lock_offset


def _check_lock_tag(mapping, offset, recursive, fail):
    tag = ctypes.c_uint32.from_address(mapping.address + offset + 52).value
    want = _TAG_RLOCK if recursive else _TAG_LOCK
    if tag != want:
        what = "an RLock" if recursive else "a Lock"
        fail("the lock cell at %d has tag %#010x, not %#010x (%s)" % (offset, tag, want, what))


# --- Handles -----------------------------------------------------------------------------------

_HANDLE_FIELDS = ("kind", "type", "size", "align", "fingerprint", "count", "data", "lock", "bytes", "layout")
_DECIMAL = re.compile(r"[0-9]{1,19}\Z")
_HEX16 = re.compile(r"[0-9a-fA-F]{1,16}\Z")
_MAX_FD = (1 << 31) - 1


def _handle_number(text, what, word, limit=_MAX_SIZE):
    """A decimal number from a handle; InvalidHandle naming the word otherwise."""
    if not _DECIMAL.match(text) or int(text) > limit:
        raise InvalidHandle("%s %r in %s is not a number from 0 to %d" % (what, text, word, limit))
    return int(text)


def _region(value, word):
    """``fd:offset`` (`value`) of a ``data=`` or ``lock=`` `word`."""
    parts = value.split(":")
    if len(parts) != 2:
        raise InvalidHandle("%s is not descriptor:offset" % word)
    return (
        _handle_number(parts[0], "descriptor", word, _MAX_FD),
        _handle_number(parts[1], "offset", word),
    )


def _received_file(fd, word):
    """The stat of a descriptor a handle names: open, a regular file, not empty."""
    try:
        st = os.fstat(fd)
    except OSError as e:
        raise InvalidHandle("descriptor %d in %s is not open in this process (%s)" % (fd, word, e.strerror)) from None
    if not stat.S_ISREG(st.st_mode):
        raise InvalidHandle("descriptor %d in %s is %s, not shared memory" % (fd, word, _file_kind(st.st_mode)))
    if st.st_size == 0:
        raise InvalidHandle("descriptor %d in %s names an empty file" % (fd, word))
    return st


def from_handle(handle, cls=None):
    """The object a handle line describes (``sharedctypes/1 kind=...``), its descriptors
    inherited by this process.

    Every word is checked (``InvalidHandle`` naming a malformed one), and every descriptor,
    offset and count against the real size of the file it names, before any ``ctypes``
    object is made: the data and the lock must lie inside, aligned, apart from each other.
    """
    if not isinstance(handle, str):
        raise TypeError("a handle is a str, not %s" % type(handle).__name__)
    words = handle.strip().split(" ")
    if words[0] != "sharedctypes/1":
        raise InvalidHandle("it starts with %r, not 'sharedctypes/1'" % words[0])
    fields = {}
    for w in words[1:]:
        k, sep, v = w.partition("=")
        if not sep:
            raise InvalidHandle("%r is not key=value" % w)
        if k not in _HANDLE_FIELDS:
            raise InvalidHandle("unknown field %r in %r" % (k, w))
        if k in fields:
            raise InvalidHandle("%r appears twice" % k)
        fields[k] = v
    kind = fields.get("kind")
    if kind not in ("value", "array"):
        raise InvalidHandle("this module receives values and arrays, not %r" % kind)
    for required in ("fingerprint", "data", "layout"):
        if required not in fields:
            raise InvalidHandle("the handle of a %s has no %s= word" % (kind, required))
    if "bytes" in fields:
        raise InvalidHandle("a %s has no bytes= word (only a copy has)" % kind)
    if "type" in fields:
        try:
            _unquote(fields["type"])
        except ValueError as e:
            raise InvalidHandle("type=%s is malformed (%s)" % (fields["type"], e)) from None
    if not _HEX16.match(fields["fingerprint"]):
        raise InvalidHandle("fingerprint=%s is not 1 to 16 hex digits" % fields["fingerprint"])
    layout = parse_layout(fields["layout"])
    fp = int(fields["fingerprint"], 16)
    if layout.fingerprint != fp:
        raise LayoutMismatch(
            "the layout description does not match the fingerprint (%#018x, computed %#018x)" % (fp, layout.fingerprint)
        )
    for key, have in (("size", layout.size), ("align", layout.align)):
        if key in fields and _handle_number(fields[key], key, "%s=%s" % (key, fields[key])) != have:
            raise InvalidHandle("%s=%s does not match the layout (%d)" % (key, fields[key], have))
    count = 1
    if "count" in fields:
        count = _handle_number(fields["count"], "count", "count=" + fields["count"])
    if kind == "value" and count != 1:
        raise InvalidHandle("count=%d: a value has exactly 1 element" % count)

    def fail(message):
        raise InvalidHandle(message)

    _check_count(fail, count, layout.size)
    data_word = "data=" + fields["data"]
    fd, offset = _region(fields["data"], data_word)
    data_st = _received_file(fd, data_word)
    data_len = count * layout.size
    _check_data(fail, data_st.st_size, offset, data_len, layout.align)
    lock_at = None
    if "lock" in fields:
        lock_word = "lock=" + fields["lock"]
        lkind, sep, at = fields["lock"].partition(":")
        if not sep:
            raise InvalidHandle("%s is not kind:descriptor:offset" % lock_word)
        if lkind not in ("lock", "rlock"):
            raise InvalidHandle("unknown lock kind %r in %s" % (lkind, lock_word))
        lfd, loffset = _region(at, lock_word)
        lock_st = _received_file(lfd, lock_word)
        _check_lock(fail, lock_st.st_size, loffset)
        if (lock_st.st_dev, lock_st.st_ino) == (data_st.st_dev, data_st.st_ino):
            _check_apart(fail, offset, data_len, loffset)
        lock_at = (lfd, lock_st, loffset, lkind == "rlock")
    mapping = _Mapping.of(fd, data_st)
    lock = None
    if lock_at is not None:
        lfd, lock_st, loffset, recursive = lock_at
        lock_mapping = _Mapping.of(lfd, lock_st)
        _check_lock_tag(lock_mapping, loffset, recursive, fail)
        lock = Lock(lock_mapping.address + loffset, lock_mapping, recursive)
    return SharedObject(mapping, layout, offset, count, kind == "array", lock, cls)


def inherited(name, cls=None):
    """The object the Rust parent shared as ``name`` with ``Process::command``."""
    handle = os.environ.get("SHAREDCTYPES_SHARED_" + name)
    if handle is None:
        raise KeyError("no shared object named %r was passed to this process" % name)
    return from_handle(handle, cls)
