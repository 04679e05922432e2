"""The shared objects of a Rust program that uses `sharedctypes`, from Python.

Pure Python, standard library only (``ctypes``, ``mmap``), Python 3.10 or later on Linux
(x86-64, glibc: the lock cell holds glibc's 40-byte ``pthread_mutex_t``). It reads and checks
the object format the Rust crate writes, version 2, as ``docs/format.md`` specifies it byte by
byte (``Description``), and takes part in the same protocols.

Two ways to reach an object:

* ``open_named(name)`` opens a named object (``Value::create_named``, ``Event::create_named``
  and friends on the Rust side): it maps ``/dev/shm/<name>`` and checks its header;
* ``inherited(name)`` receives an object the Rust parent shared with this process through
  ``Process::command(cmd).share(name, &obj)`` (its description is the text line in the
  environment variable ``SHAREDCTYPES_SHARED_<name>``; ``from_handle(line)`` reads one).

Either returns what the description says the object is:

* a value or an array: a ``SharedObject``: ``.value`` (a value), indexing and ``len()`` (an
  array), ``get_lock()`` (a context manager on the very same robust pthread mutex the Rust
  side uses) and ``get_obj()`` (the raw ``ctypes`` object, without the lock). The element
  type is rebuilt from the layout description the object carries, and checked: its layout
  fingerprint is recomputed here and must equal the one Rust wrote, and a ``ctypes`` class
  you pass (for instance the one ``LAYOUT.to_ctypes()`` renders) must have the same fields,
  of the same types, at the same offsets;
* a ``Lock`` or an ``RLock``: a ``Lock``;
* an ``Event``, a ``Semaphore``, a ``BoundedSemaphore``, a ``Condition`` or a ``Barrier``:
  the class of the same name, with the API of ``multiprocessing``'s (``wait(timeout)``,
  ``acquire(blocking, timeout)``, ``notify(n)``, ...), waiting on and waking the very same
  futexes as Rust's processes, in the same order of operations (``docs/format.md`` section
  6). Their words are changed with real atomic instructions, which ``ctypes`` alone cannot
  do: see ``sharedctypes._atomic`` for how (machine code in an execute-only page, or
  libatomic) and ``AtomicsUnavailable`` for a system where neither is possible.

Nothing is trusted before it is checked. Every field of a named object's header, and every
word of a text line, is validated against the real size of the file before any ``ctypes``
object is made: the parts must lie inside their files, aligned, apart from the header and
from each other, so that a forged or corrupt object is refused (``NotSharedctypesObject``,
``InvalidHandle``, with the reasons the Rust side gives) instead of reading or writing
outside the mapping. A symbolic link at ``/dev/shm/<name>`` is not followed, and, as on the
Rust side, an object whose file another user owns is refused (``OtherOwner``) unless
``allow_other_owner=True``. A ``ctypes`` class holding a pointer anywhere is refused: a
pointer is only meaningful in the process that wrote it.

Locks follow the Rust protocol exactly. When a holder dies holding the lock, the next
``acquire`` succeeds, makes the mutex consistent, and warns with ``OwnerDiedWarning``; the
report stays in shared memory (every acquirer, Python or Rust, sees ``owner_died``) until a
holder repairs the data and calls ``clear_owner_died()``. Meanwhile ``.value`` and indexing,
which take the lock internally and cannot repair, raise ``OwnerDiedError``.
"""

import atexit
import collections
import ctypes
import ctypes.util
import errno as _errno
import functools
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
    "Event",
    "Semaphore",
    "BoundedSemaphore",
    "Condition",
    "Barrier",
    "BrokenBarrierError",
    "Queue",
    "BytesQueue",
    "Closed",
    "ParticipantDied",
    "MessageTooLarge",
    "Description",
    "ElemType",
    "At",
    "Part",
    "OwnerDiedWarning",
    "OwnerDiedError",
    "LayoutMismatch",
    "NotSharedctypesObject",
    "InvalidHandle",
    "OtherOwner",
    "AtomicsUnavailable",
    "atomics",
    "parse_layout",
    "fingerprint",
]

__version__ = "0.2.0"


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


class Closed(ValueError):
    """An operation on a closed queue: a ``put`` after ``close()``, or a ``get`` once the
    queue is closed and drained (CPython's ``multiprocessing.Queue`` raises ``ValueError``
    too once closed). Rust's ``Error::Closed``."""

    def __init__(self, message="the queue is closed"):
        super().__init__(message)


class ParticipantDied(RuntimeError):
    """A process using the queue died in the middle of an operation (it held the queue's
    putters' or getters' lock): reported once, by the next operation on that side (a put after
    a putter's death, a get after a getter's), which did nothing; the queue is whole (at most
    the item the dead process was moving is lost) and the next operation works as usual.
    ``pid`` is the dead process's id, 0 if unknown. Rust's ``Error::ParticipantDied``."""

    def __init__(self, pid):
        self.pid = pid
        super().__init__(
            "a process using the queue (%s) died in the middle of an operation: at most what it was "
            "moving is lost; nothing was done, try again" % ("pid %d" % pid if pid > 0 else "pid unknown")
        )


class MessageTooLarge(ValueError):
    """A message longer than a ``BytesQueue`` could ever hold (its capacity less 8).
    ``len`` and ``capacity`` are in bytes. Rust's ``Error::MessageTooLarge``."""

    def __init__(self, length, capacity):
        self.len = length
        self.capacity = capacity
        super().__init__(
            "a message of %d bytes can never fit a queue of %d bytes (each message takes its length "
            "rounded up to 8, plus 8)" % (length, capacity)
        )


from ._atomic import AtomicsUnavailable  # noqa: E402
from ._sync import Barrier, BoundedSemaphore, BrokenBarrierError, Condition, Event, Semaphore  # noqa: E402


def atomics():
    """The name of the way this process performs atomic operations on shared memory
    (``"x86-64 code"`` or ``"libatomic"``, see ``sharedctypes._atomic``);
    ``AtomicsUnavailable`` naming why if there is none."""
    from . import _atomic

    return _atomic.backend().name


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

try:  # glibc 2.30 and later: a timed wait on a clock of the caller's choosing
    _libc.pthread_mutex_clocklock.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.POINTER(_Timespec)]
    _libc.pthread_mutex_clocklock.restype = ctypes.c_int
    _TIMED_LOCK = "pthread_mutex_clocklock"
except AttributeError:
    _TIMED_LOCK = "pthread_mutex_timedlock"


# Timeouts of more seconds than this wait for ever (their deadline would not fit a timespec).
_FOREVER = 1 << 32


def _timed_lock(address, seconds):
    """Waits at most `seconds` (``ValueError`` for NaN; for ever beyond ``_FOREVER``, as Rust
    does) for the mutex at `address`: ``pthread_mutex_clocklock`` on ``CLOCK_MONOTONIC``, so
    that no change of the wall clock (a step, or a time service slewing it) moves the
    timeout; ``pthread_mutex_timedlock`` on ``CLOCK_REALTIME`` where glibc lacks it (before
    2.30), as Rust's ``Deadline`` does. The pthread result."""
    if seconds != seconds:
        raise ValueError("a timeout cannot be NaN")
    if seconds >= _FOREVER:
        return _libc.pthread_mutex_lock(address)
    wait = int(max(seconds, 0) * 1e9)
    if _TIMED_LOCK == "pthread_mutex_clocklock":
        at = divmod(time.clock_gettime_ns(time.CLOCK_MONOTONIC) + wait, 10**9)
        return _libc.pthread_mutex_clocklock(address, time.CLOCK_MONOTONIC, ctypes.byref(_Timespec(*at)))
    at = divmod(time.time_ns() + wait, 10**9)
    return _libc.pthread_mutex_timedlock(address, ctypes.byref(_Timespec(*at)))

_TAG_LOCK = int.from_bytes(b"SLCK", "little")
_TAG_RLOCK = int.from_bytes(b"RLCK", "little")
_LOCK_CELL = 56
_LOCK_ALIGN = 8

# glibc's pthread_mutex_t starts with `int __lock; unsigned __count; int __owner;`: __lock,
# at byte 0, is the futex word (the holder's kernel thread id in its low 30 bits); __count,
# at byte 4, the recursion count; __owner, at byte 8, the kernel thread id of the holder (0
# when free, 0x7fffffff after EOWNERDEAD until pthread_mutex_consistent).
try:
    _GLIBC = os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc")
except (AttributeError, ValueError, OSError):  # pragma: no cover - another C library
    _GLIBC = False
_MUTEX_COUNT = 4
_MUTEX_OWNER = 8
_FUTEX_TID_MASK = 0x3FFFFFFF
_MUTEX_INCONSISTENT = 0x7FFFFFFF


_UNLOCK = ctypes.cast(_libc.pthread_mutex_unlock, ctypes.c_void_p).value
_exit_release = []  # the machine code's exit_release, looked up once (None: not in use)


def _exit_release_code():
    """The code backend's ``exit_release`` (see ``Lock.__exit__``), or ``None`` where another
    backend, or none, is in use."""
    if not _exit_release:
        from . import _atomic

        try:
            _exit_release.append(_atomic.backend().exit_release)
        except _atomic.AtomicsUnavailable:
            _exit_release.append(None)
    return _exit_release[0]


def _holder_tid(owner, word):
    """The kernel thread id of the thread that holds the mutex whose ``__owner`` and
    ``__lock`` are the ``ctypes`` views `owner` and `word` (0 if free): ``__owner``, except
    between an ``EOWNERDEAD`` and ``pthread_mutex_consistent``, when glibc sets it to
    0x7fffffff and only the futex word of a robust mutex still says who holds it."""
    tid = owner.value
    if tid == _MUTEX_INCONSISTENT:
        return word.value & _FUTEX_TID_MASK
    return tid


class _Cell(ctypes.Structure):
    """The 56-byte cell of a lock: the pthread mutex, then sharedctypes' bookkeeping."""

    _fields_ = [
        ("mutex", ctypes.c_byte * 40),
        ("holder", ctypes.c_int32),
        ("depth", ctypes.c_uint32),
        ("died", ctypes.c_int32),
        ("tag", ctypes.c_uint32),
    ]


def _record_death(address, cell):
    """After ``EOWNERDEAD`` from the mutex of the lock cell `cell` at `address` (this thread
    holds it now): records the death in the cell as the Rust side does (``died``: the dead
    holder's pid, -1 if unknown; ``depth`` 0) and makes the mutex consistent. The record comes
    first: interrupted anywhere in between, this is done again (``holder`` still names the
    dead holder) by ``Lock._give_back`` or, if this process dies, by the next acquirer."""
    dead = cell.holder
    cell.died = dead if dead > 0 else -1
    cell.depth = 0
    if _libc.pthread_mutex_consistent(address) != 0:
        _libc.pthread_mutex_unlock(address)
        raise OSError(ctypes.get_errno(), "pthread_mutex_consistent failed")


# --- Mappings at exit -----------------------------------------------------------------------
#
# The kernel releases the robust mutexes a dying thread holds by walking its list of them, in
# shared memory: a mutex whose memory is no longer mapped then stays locked for ever. At a normal
# exit the interpreter frees its objects, and an mmap freed is unmapped, before the process's
# threads end: a lock a thread holds then (the main thread after ``sys.exit`` or an uncaught
# ``KeyboardInterrupt`` inside ``with lock:``, a daemon thread in the middle of a put) would never
# be released. So at exit every mapping that can hold a lock is kept (its reference count raised
# for good): the kernel unmaps it when the process ends, after the walk. (Rust keeps a held
# lock's memory mapped the same way.)

_mapped = weakref.WeakSet()  # every _Mapping, and the keep-alives of locks made over other memory
_exiting = False
_py_incref = ctypes.pythonapi.Py_IncRef
_py_incref.argtypes = [ctypes.py_object]
_py_incref.restype = None


def _keep_mapped_at_exit(obj):
    """Registers `obj`, which keeps shared memory mapped, to be kept at exit (kept at once if
    the interpreter is exiting already)."""
    if _exiting:
        _py_incref(obj)
        return
    try:
        _mapped.add(obj)
    except TypeError:  # pragma: no cover - an object that cannot be weakly referenced
        _py_incref(obj)  # kept for good rather than risk a lock that is never released


@atexit.register
def _keep_mappings():
    global _exiting
    _exiting = True
    for obj in list(_mapped):
        _py_incref(obj)


def _unlock_level(address, cell, depth):
    """The Rust protocol's release of one level of the lock cell `cell` at `address`: the cell
    holds `depth` levels now, the holder is cleared at 0 (a holder that dies after that is
    reported with its pid unknown, never a wrong one), then the unlock; its return code."""
    cell.depth = depth
    if depth == 0:
        cell.holder = 0
    return _libc.pthread_mutex_unlock(address)


class Lock:
    """A robust, process-shared lock: the Rust ``Lock`` or ``RLock`` (``recursive``), alone
    (a named lock, from ``open_named``) or the lock of a value, an array, a Condition or a
    Barrier.

    Use it as a context manager (``with obj.get_lock(): ...``) or with ``acquire`` and
    ``release``. A holder's death is reported as on the Rust side (see the module docs).

    `address` is that of a 56-byte lock cell that `keep_alive` (for instance the mapping)
    keeps valid; its tag must say it is a ``Lock`` (or an ``RLock`` if `recursive`).
    """

    def __init__(self, address, keep_alive, recursive):
        self._cell = _Cell.from_address(address)
        self._addr = address
        self._word = ctypes.c_int32.from_address(address)
        self._count = ctypes.c_uint32.from_address(address + _MUTEX_COUNT)
        self._owner = ctypes.c_int32.from_address(address + _MUTEX_OWNER)
        if not isinstance(keep_alive, _Mapping):
            _keep_mapped_at_exit(keep_alive)
        self._exit_code = _exit_release_code() if _GLIBC else None
        self._keep_alive = keep_alive
        self.recursive = recursive
        want = _TAG_RLOCK if recursive else _TAG_LOCK
        if self._cell.tag != want:
            raise InvalidHandle("the lock cell has tag %#x, not %#x" % (self._cell.tag, want))

    def acquire(self, blocking=True, timeout=None, warn=True):
        """Takes the lock; ``False`` if not blocking (or after `timeout` seconds) and busy.

        While a holder's death is unrepaired, every acquisition warns (``OwnerDiedWarning``,
        unless `warn` is false) and ``owner_died`` is true.

        An acquisition that raises (a ``KeyboardInterrupt`` arriving just after the mutex was
        taken, a warning turned into an error) gives back what it took: a live process never
        keeps a lock it does not know it holds, which would stop every other process for good.
        """
        before = (_holder_tid(self._owner, self._word), self._count.value, self._cell.depth)
        try:
            return self._acquire(blocking, timeout, warn)
        except BaseException:
            self._give_back(before)
            raise

    def _acquire(self, blocking, timeout, warn):
        if not blocking:
            rc = _libc.pthread_mutex_trylock(self._addr)
        elif timeout is None or timeout < 0:
            rc = _libc.pthread_mutex_lock(self._addr)
        else:
            rc = _timed_lock(self._addr, timeout)
        if rc in (_errno.EBUSY, _errno.ETIMEDOUT):
            return False
        if rc == _errno.EDEADLK:
            if blocking and timeout is None:
                raise RuntimeError("this thread already holds the lock: a Lock is not re-entrant")
            return False
        if rc == _errno.EOWNERDEAD:
            _record_death(self._addr, self._cell)
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
                stacklevel=3,
            )
        return True

    def _give_back(self, before):
        """After an acquisition interrupted anywhere (`before`: the thread that held the mutex,
        its recursion count and the cell's depth, read before it): if it took a level of the lock,
        releases that level as ``release`` would, the death it found (if any) recorded first."""
        if not _GLIBC:  # pragma: no cover - without glibc's layout the holder is not known
            return
        tid = threading.get_native_id()
        if _holder_tid(self._owner, self._word) != tid:
            return  # not taken (or already given back)
        held_before = before[0] == tid
        if held_before and (not self.recursive or self._count.value <= before[1]):
            return  # held before, and no level more: this acquisition took nothing
        if self._owner.value == _MUTEX_INCONSISTENT:
            _record_death(self._addr, self._cell)  # interrupted in the middle of recording it
        _unlock_level(self._addr, self._cell, before[2] if held_before else 0)

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
        # An interrupt lands before `_unlock_level` changes anything, or after the unlock.
        depth = self._cell.depth
        rc = _unlock_level(self._addr, self._cell, depth - 1 if depth > 0 else 0)
        if rc != 0:
            raise RuntimeError("pthread_mutex_unlock failed (%s)" % os.strerror(rc))

    def _release_all(self):
        """Releases every acquisition this thread holds, for a condition wait (which takes
        them again with ``_reacquire``); how many there were. The Rust protocol: depth and
        holder cleared first, then the mutex unlocked that many times."""
        depth = max(self._cell.depth, 1)
        self._cell.depth = 0
        self._cell.holder = 0
        for _ in range(depth):
            rc = _libc.pthread_mutex_unlock(self._addr)
            if rc != 0:
                raise RuntimeError("pthread_mutex_unlock failed (%s)" % os.strerror(rc))
        return depth

    def _reacquire(self, depth):
        """Takes the lock again `depth` times after ``_release_all`` (a holder's death is
        warned of once)."""
        for i in range(max(depth, 1)):
            self.acquire(warn=i == 0)

    def __enter__(self):
        self.acquire()
        return self

    @property
    def __exit__(self):
        # The end of a ``with`` block. A signal is handled only at a call, a function's entry or
        # a backward jump: one that arrives while the block runs code without calls is handled
        # at the next of these, which, for a Python ``__exit__``, is its entry, before its
        # first instruction: the lock would stay held. So where the machine-code atomics are
        # in use, ``__exit__`` is one foreign call (``exit_release``, bound here at the start
        # of the block: a ``functools.partial``, no Python frame; it holds the lock, hence its
        # memory, alive as a bound method would) that releases this thread's level; a signal
        # is then handled only once it has returned. (Unlike ``release()``, a block whose lock
        # this thread no longer holds ends quietly: a lock released inside the block is left
        # alone.) Elsewhere, ``_exit_py``.
        code = self._exit_code
        if code is None:
            return self._exit_py
        return functools.partial(code, self._addr, _UNLOCK, self)

    def _exit_py(self, *exc):
        # Interrupted anywhere in the release (a signal handled as one of its calls returns),
        # the release is finished here: the ``with`` block's level is given back either way.
        # (Only a signal handled at the very entry of this method, before its first
        # instruction, still keeps the lock; CPython's own locks, written in C, have no such
        # instant, nor has the machine-code ``__exit__`` above.)
        depth, count = self._cell.depth, self._count.value
        try:
            self.release()
        except BaseException:
            self._finish_release(depth, count)
            raise
        return False

    def _finish_release(self, depth, count):
        """After a release interrupted anywhere (`depth` and glibc's `count`: the lock's
        before it), does what it did not: the bookkeeping, the unlock."""
        if not _GLIBC:  # pragma: no cover - without glibc's layout the holder is not known
            return
        if _holder_tid(self._owner, self._word) != threading.get_native_id():
            return  # released (for good)
        if self.recursive and self._count.value < count:
            return  # the level was unlocked (the thread holds the ones below)
        if self._cell.depth == depth:  # nothing done yet
            depth = depth - 1 if depth > 0 else 0
        else:  # the bookkeeping was done, not the unlock
            depth = self._cell.depth
        _unlock_level(self._addr, self._cell, depth)

    def __repr__(self):
        return "<sharedctypes.Lock %s>" % ("RLock" if self.recursive else "Lock")

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
        _keep_mapped_at_exit(self)

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
        # from_buffer, not from_address: the ctypes object (and every element taken from it)
        # keeps the mapping alive, so get_obj() may outlive this SharedObject.
        self._obj = whole.from_buffer(mapping.mm, data_offset)
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


# --- Descriptions: the model of docs/format.md, its checks and its two encodings ---------------

_VERSION = 2
_VERSION_WORD = "sharedctypes/2"
# The header (docs/format.md section 4): magic, version, state, header length, kind, lock,
# lock file, fingerprint, element size, element alignment, count, lock offset, data offset,
# file size, name length, layout length, data file, copy bytes length.
_HEADER = struct.Struct("<8s6I7Q4I")
_FIXED = _HEADER.size  # 104
# The most bytes a header may have (its strings are a type's name and layout): refused
# rather than read.
_MAX_HEADER = 16 << 20
_MAGIC = b"SHCTYPES"
_READY = 1
_MAX_ALIGN = 4096
_MAX_U64 = (1 << 64) - 1

# Every kind: its text and its code.
_KINDS = (
    ("value", 1),
    ("array", 2),
    ("lock", 3),
    ("condition", 4),
    ("event", 5),
    ("semaphore", 6),
    ("bounded_semaphore", 7),
    ("barrier", 8),
    ("copy", 9),
    ("queue", 10),
    ("bytes_queue", 11),
)
_KIND_OF_CODE = {code: word for word, code in _KINDS}
_KIND_CODES = dict(_KINDS)
# The size and alignment of a primitive's state (its data part).
_STATES = {
    "condition": (24, 8),
    "event": (16, 4),
    "semaphore": (16, 4),
    "bounded_semaphore": (16, 4),
    "barrier": (24, 4),
}
_LOCK_OF_CODE = {0: None, 1: "lock", 2: "rlock"}
# A queue's state: 256 bytes at the start of its data part (docs/format.md section 6).
_QUEUE_STATE = 256
# The kinds whose descriptions carry a count: of elements, of slots or of bytes.
_COUNTED = ("value", "array", "queue", "bytes_queue")


def _queue_layout(elem, count):
    """``(ring_at, len, align)`` of a queue's data part (docs/format.md section 1): a queue's
    `count` slots of `elem` from ``max(256, align)``, aligned to ``max(64, align)``; a bytes
    queue's `count` bytes (`elem` None) from 256, aligned to 64."""
    if elem is None:
        return _QUEUE_STATE, _QUEUE_STATE + count, 64
    ring_at = max(_QUEUE_STATE, elem.align)
    return ring_at, ring_at + count * elem.size, max(64, elem.align)


class ElemType(collections.namedtuple("ElemType", "name size align fingerprint layout")):
    """The element type of a value, an array or a copy: its name as written (``Point``),
    size, alignment, layout fingerprint and layout description (not yet parsed)."""


class At(collections.namedtuple("At", "file offset")):
    """Where a part lies: a file (0 for "this file" in a named object; a descriptor number in
    a text line) and the byte offset in it."""

    def __str__(self):
        return "%d:%d" % self


class Part(collections.namedtuple("Part", "what at len align")):
    """One part of an object in a file (``what``: "data", "lock" or "header"), for the
    checks."""

    @property
    def end(self):
        return min(self.at.offset + self.len, _MAX_U64)

    def __str__(self):
        return "its %s (bytes %d..%d)" % (self.what, self.at.offset, self.end)


class Description:
    """A description of a shared object (``docs/format.md``): what it is and where its parts
    lie, read from a text line (``from_text``) or a binary header (``from_header``,
    ``from_named_file``) and checked as the format says.

    ``kind``: "value", "array", "lock", "condition", "event", "semaphore",
    "bounded_semaphore", "barrier" or "copy". ``elem``: an ``ElemType`` or ``None``.
    ``count``: 1 for a value, the length of an array, 0 otherwise. ``data`` and ``lock_at``:
    ``At(file, offset)`` or ``None``. ``lock``: ``None``, "lock" or "rlock". ``bytes``: a
    copy's bytes, else ``None``. From a header, also ``state``, ``header_len`` and
    ``file_size`` (``None`` from text).
    """

    def __init__(self, kind, elem=None, count=0, data=None, lock=None, lock_at=None, bytes=None):
        self.kind = kind
        self.elem = elem
        self.count = count
        self.data = data
        self.lock = lock
        self.lock_at = lock_at
        self.bytes = bytes
        self.state = None
        self.header_len = None
        self.file_size = None

    def __repr__(self):
        fields = ["kind=%r" % self.kind]
        for name in ("elem", "count", "data", "lock", "lock_at", "bytes", "header_len", "file_size"):
            value = getattr(self, name)
            if value not in (None, 0):
                fields.append("%s=%r" % (name, value))
        return "Description(%s)" % ", ".join(fields)

    def what(self):
        """What the object is, for messages: "a value with an RLock", "an Event"."""

        def with_lock(what):
            return {None: what, "lock": what + " with a Lock", "rlock": what + " with an RLock"}[self.lock]

        kind = self.kind
        if kind == "value":
            return with_lock("a value")
        if kind == "array":
            return with_lock("an array")
        if kind == "lock":
            return "an RLock" if self.lock == "rlock" else "a Lock"
        if kind == "condition":
            return with_lock("a Condition")
        return {
            "event": "an Event",
            "semaphore": "a Semaphore",
            "bounded_semaphore": "a BoundedSemaphore",
            "barrier": "a Barrier",
            "copy": "a copied value",
            "queue": "a Queue",
            "bytes_queue": "a BytesQueue",
        }[kind]

    # -- the checks of section 1 --

    def parts(self):
        """The parts the description says the object has (a list of ``Part``), each checked
        for itself (docs/format.md section 1: the parts of its kind and no other, a value of
        one element, an element type where the kind has one, its alignment a power of two up
        to 4096 dividing its size, a count that does not overflow, a copy's bytes as long as
        its type). ``InvalidHandle`` naming the inconsistency otherwise."""
        parts = []
        elem = self.elem
        what = self.what()
        needs_elem = self.kind in ("value", "array", "copy", "queue")
        if needs_elem != (elem is not None):
            raise InvalidHandle("%s %s an element type" % (what, "without" if needs_elem else "with"))
        if elem is not None:
            if not _is_power_of_two(elem.align) or elem.align > _MAX_ALIGN:
                raise InvalidHandle(
                    "its element alignment %d is not a power of two up to %d" % (elem.align, _MAX_ALIGN)
                )
            if elem.size % elem.align:
                raise InvalidHandle(
                    "its element size %d is not a multiple of its alignment %d" % (elem.size, elem.align)
                )
        if self.kind == "value":
            if self.count != 1:
                raise InvalidHandle("a value of %d elements" % self.count)
            data = (elem.size, elem.align)
        elif self.kind == "array":
            if self.count * elem.size > _MAX_U64:
                raise InvalidHandle("its %d elements of %d bytes overflow" % (self.count, elem.size))
            data = (self.count * elem.size, elem.align)
        elif self.kind in ("queue", "bytes_queue"):
            if self.count == 0:
                raise InvalidHandle("%s of capacity 0" % what)
            if self.kind == "bytes_queue" and self.count % 8:
                raise InvalidHandle("a BytesQueue of %d bytes, not a multiple of 8" % self.count)
            _, length, align = _queue_layout(elem, self.count)
            if length > _MAX_U64:
                raise InvalidHandle("%s of capacity %d overflows" % (what, self.count))
            data = (length, align)
        else:
            data = _STATES.get(self.kind)
        if data is not None and self.data is not None:
            parts.append(Part("data", self.data, data[0], data[1]))
        elif data is not None:
            raise InvalidHandle("%s without its data" % what)
        elif self.data is not None:
            raise InvalidHandle("%s with a data part" % what)
        if self.kind in ("lock", "condition", "barrier", "queue", "bytes_queue"):
            needs_lock = True
        elif self.kind in ("value", "array"):
            needs_lock = None  # either way
        else:
            needs_lock = False
        if needs_lock is False and self.lock is not None:
            raise InvalidHandle("%s with a lock" % what)
        if needs_lock is True and self.lock is None:
            raise InvalidHandle("%s without its lock" % what)
        if self.lock is not None:
            parts.append(Part("lock", self.lock_at, _LOCK_CELL, _LOCK_ALIGN))
        if self.kind == "copy":
            if self.bytes is None:
                raise InvalidHandle("a copied value without its bytes")
            if len(self.bytes) != elem.size:
                raise InvalidHandle("%d bytes for a value of %d bytes" % (len(self.bytes), elem.size))
        elif self.bytes is not None:
            raise InvalidHandle("%s with bytes" % what)
        return parts

    @staticmethod
    def check_files(parts, size_of, same_file=None):
        """Checks that every part lies inside its file (``size_of(file)`` bytes), at an
        offset that is a multiple of its alignment, and overlaps no other part of the same
        file (``same_file(a, b)``, by default equal file numbers; a part of length 0 overlaps
        nothing). ``InvalidHandle`` naming the parts otherwise, in Rust's words."""
        if same_file is None:
            same_file = lambda a, b: a == b  # noqa: E731
        for part in parts:
            size = size_of(part.at.file)
            if part.at.offset + part.len > min(size, _MAX_U64):
                raise InvalidHandle("%s runs past the end of the file (%d bytes)" % (part, size))
            if part.at.offset % part.align:
                raise InvalidHandle("%s is not aligned to %d bytes" % (part, part.align))
        for i, a in enumerate(parts):
            for b in parts[i + 1 :]:
                apart = (
                    not same_file(a.at.file, b.at.file)
                    or a.len == 0
                    or b.len == 0
                    or a.end <= b.at.offset
                    or b.end <= a.at.offset
                )
                if not apart:
                    raise InvalidHandle("%s overlaps %s" % (a, b))

    # -- the text line (section 3) --

    @classmethod
    def from_text(cls, text):
        """Reads a text line (``sharedctypes/2 kind=...``) and checks it (its syntax, then
        ``parts()``); ``InvalidHandle`` naming what is wrong, in Rust's words."""
        d = cls._parse_text(text)
        d.parts()
        return d

    @classmethod
    def _parse_text(cls, text):
        if not isinstance(text, str):
            raise TypeError("a description is a str, not %s" % type(text).__name__)
        words = text.rstrip("\n").split(" ")
        if words[0] != _VERSION_WORD:
            raise InvalidHandle(
                "it starts with `%s`, not `%s` (another program, or another format version)" % (words[0], _VERSION_WORD)
            )
        fields = {}
        for word in words[1:]:
            key, sep, value = word.partition("=")
            if not sep:
                raise InvalidHandle("`%s` is not key=value" % word)
            if key not in _TEXT_KEYS:
                raise InvalidHandle("unknown field `%s`" % key)
            if key in fields:
                raise InvalidHandle("`%s` appears twice" % key)
            fields[key] = value
        if "kind" not in fields:
            raise InvalidHandle("no kind")
        kind = fields["kind"]
        if kind not in _KIND_CODES:
            raise InvalidHandle("unknown kind `%s`" % kind)
        elem = None
        if "type" in fields:

            def field(key):
                if key not in fields:
                    raise InvalidHandle("a type without %s=" % key)
                return fields[key]

            fp = field("fingerprint")
            if not _HEX16.match(fp):
                raise InvalidHandle("fingerprint=%s is not 16 hex digits" % fp)
            elem = ElemType(
                _decode_name(fields["type"]),
                _text_number("size", field("size")),
                _text_number("align", field("align")),
                int(fp, 16),
                field("layout"),
            )
        else:
            stray = [k for k in ("size", "align", "fingerprint", "layout") if k in fields]
            if stray:
                raise InvalidHandle(
                    "%s= without type=: type=, size=, align=, fingerprint= and layout= come together" % stray[0]
                )
        lock = lock_at = None
        if "lock" in fields:
            value = fields["lock"]
            m, sep, at = value.partition(":")
            if not sep:
                raise InvalidHandle("lock=%s is not kind:file:offset" % value)
            if m not in ("lock", "rlock"):
                raise InvalidHandle("unknown lock kind `%s`" % m)
            lock, lock_at = m, _location("lock", at)
        data_bytes = None
        if "bytes" in fields:
            hexits = fields["bytes"]
            if len(hexits) % 2 or not _HEX.match(hexits):
                raise InvalidHandle("bytes= is not an even number of hex digits")
            data_bytes = bytes.fromhex(hexits)
        if kind in _COUNTED:
            if "count" not in fields:
                raise InvalidHandle("%s without count=" % kind)
            count = _text_number("count", fields["count"])
        elif "count" in fields:
            raise InvalidHandle(
                "count=%s, but only a value, an array or a queue has a count, not kind=%s" % (fields["count"], kind)
            )
        else:
            count = 0
        data = _location("data", fields["data"]) if "data" in fields else None
        return cls(kind, elem, count, data, lock, lock_at, data_bytes)

    # -- the binary header (section 4) --

    @classmethod
    def from_header(cls, header):
        """Reads a binary header (`header`: its bytes, at least its declared length) and
        checks it (its syntax, then ``parts()``); ``NotSharedctypesObject`` naming what is
        wrong, in Rust's words."""
        d = cls._parse_header(header)
        try:
            d.parts()
        except InvalidHandle as e:
            raise NotSharedctypesObject(str(e)) from None
        return d

    @classmethod
    def _parse_header(cls, b):
        b = bytes(b)
        if len(b) < _FIXED:
            raise NotSharedctypesObject("it is %d bytes, shorter than a header" % len(b))
        (
            magic,
            version,
            state,
            header_len,
            kind_code,
            lock_code,
            lock_file,
            fp,
            elem_size,
            elem_align,
            count,
            lock_offset,
            data_offset,
            file_size,
            name_len,
            layout_len,
            data_file,
            bytes_len,
        ) = _HEADER.unpack_from(b)
        if magic != _MAGIC:
            raise NotSharedctypesObject("it does not start with the sharedctypes magic bytes")
        if version != _VERSION:
            raise NotSharedctypesObject("its format version is %d, this module reads version %d" % (version, _VERSION))
        if _FIXED + name_len + layout_len + bytes_len != header_len or header_len > len(b):
            raise NotSharedctypesObject(
                "its header length %d disagrees with its strings (%d + %d + %d + %d bytes) or the bytes there are (%d)"
                % (header_len, _FIXED, name_len, layout_len, bytes_len, len(b))
            )
        kind = _KIND_OF_CODE.get(kind_code)
        if kind is None:
            raise NotSharedctypesObject("it holds an object of unknown kind %d" % kind_code)
        if lock_code not in _LOCK_OF_CODE:
            raise NotSharedctypesObject("it has a lock of unknown kind %d" % lock_code)
        lock = _LOCK_OF_CODE[lock_code]

        def text(start, length, what):
            try:
                return b[start : start + length].decode("utf-8")
            except UnicodeDecodeError:
                raise NotSharedctypesObject("its %s is not UTF-8" % what) from None

        elem = None
        if name_len + layout_len > 0 or elem_size > 0:
            elem = ElemType(
                text(_FIXED, name_len, "type name"),
                elem_size,
                elem_align,
                fp,
                text(_FIXED + name_len, layout_len, "layout description"),
            )
        d = cls(
            kind,
            elem,
            count,
            At(data_file, data_offset) if kind not in ("lock", "copy") else None,
            lock,
            At(lock_file, lock_offset) if lock is not None else None,
            b[_FIXED + name_len + layout_len : header_len] if kind == "copy" else None,
        )
        d.state, d.header_len, d.file_size = state, header_len, file_size
        return d

    @classmethod
    def from_named_file(cls, header, file_size):
        """Reads and checks the header of a named object's file of `file_size` bytes
        (`header`: a copy of its first bytes, at least the declared header length) as
        docs/format.md section 4 says: the header, its state (1), the file size it gives, the
        parts (all in this file) and the header itself inside the file, aligned, apart.
        ``NotSharedctypesObject`` naming what is wrong, in Rust's words."""
        d = cls._parse_header(header)
        if d.state != _READY:
            raise NotSharedctypesObject("its creator has not finished it")
        if d.file_size != file_size:
            raise NotSharedctypesObject(
                "its header gives its size as %d bytes, but the file has %d (truncated or grown by another process?)"
                % (d.file_size, file_size)
            )
        try:
            parts = d.parts()
            if any(p.at.file != 0 for p in parts):
                raise InvalidHandle("it names parts in other files than its own")
            parts.insert(0, Part("header", At(0, 0), d.header_len, 8))
            cls.check_files(parts, lambda _file: file_size)
        except InvalidHandle as e:
            raise NotSharedctypesObject(str(e)) from None
        return d


_TEXT_KEYS = frozenset(("kind", "type", "size", "align", "fingerprint", "count", "data", "lock", "bytes", "layout"))
_HEX16 = re.compile(r"[0-9a-fA-F]{16}\Z")
_HEX = re.compile(r"[0-9a-fA-F]*\Z")
_DECIMAL = re.compile(r"[0-9]+\Z")


def _text_number(key, value):
    """A decimal number of a text line: ASCII digits only, at most 2**64 - 1."""
    if not _DECIMAL.match(value):
        raise InvalidHandle("%s=%s is not a number" % (key, value))
    n = int(value)
    if n > _MAX_U64:
        raise InvalidHandle("%s=%s is too big" % (key, value))
    return n


def _location(key, value):
    """``FILE:OFFSET`` of a ``data=`` or ``lock=`` word."""
    file, sep, offset = value.partition(":")
    if not sep:
        raise InvalidHandle("%s=%s is not file:offset" % (key, value))
    return At(_text_number("the file in " + key, file), _text_number("the offset in " + key, offset))


def _decode_name(s):
    """A percent-encoded type name."""
    try:
        return _unquote(s)
    except UnicodeDecodeError:
        raise InvalidHandle("name `%s` is not UTF-8" % s) from None
    except ValueError:
        raise InvalidHandle("bad escape in name `%s`" % s) from None


# --- Building objects from checked descriptions ------------------------------------------------


def _check_lock_tag(mapping, offset, recursive, fail):
    tag = ctypes.c_uint32.from_address(mapping.address + offset + 52).value
    want = _TAG_RLOCK if recursive else _TAG_LOCK
    if tag != want:
        what = "an RLock" if recursive else "a Lock"
        fail("the lock cell at %d has tag %#010x, not %#010x (%s)" % (offset, tag, want, what))


def _elem_layout(elem, fail, prefix):
    """The element type's layout, rebuilt from its description and checked against the
    fingerprint (``LayoutMismatch``), size and alignment it comes with."""
    try:
        layout = parse_layout(elem.layout)
    except InvalidHandle as e:
        fail("its layout description is malformed: %s" % e)
    if layout.fingerprint != elem.fingerprint:
        raise LayoutMismatch(
            "%sthe layout description does not match the fingerprint (%#018x, computed %#018x)"
            % (prefix, elem.fingerprint, layout.fingerprint)
        )
    if (elem.size, elem.align) != (layout.size, layout.align):
        fail(
            "its element type is %d bytes aligned to %d, its layout %d bytes aligned to %d"
            % (elem.size, elem.align, layout.size, layout.align)
        )
    return layout


def _build(d, mapping_of, cls, fail, prefix=""):
    """The object a checked description `d` describes: `mapping_of(file)` maps the file a
    part lies in; `fail(reason)` raises the refusal; `prefix` starts other messages."""
    if cls is not None and d.kind not in ("value", "array", "copy", "queue"):
        raise LayoutMismatch("%sit holds %s, which has no element type: cls=%s does not apply" % (prefix, d.what(), _type_name(cls)))
    if d.kind == "copy":
        layout = _elem_layout(d.elem, fail, prefix)
        ctype = layout.ctype()
        if cls is not None:
            _check_ctype(cls, layout)
            ctype = cls
        value = ctype.from_buffer_copy(d.bytes)
        return value.value if isinstance(value, ctypes._SimpleCData) else value
    lock = None
    if d.lock is not None:
        lock_mapping = mapping_of(d.lock_at.file)
        recursive = d.lock == "rlock"
        _check_lock_tag(lock_mapping, d.lock_at.offset, recursive, fail)
        lock = Lock(lock_mapping.address + d.lock_at.offset, lock_mapping, recursive)
    if d.kind in ("value", "array"):
        layout = _elem_layout(d.elem, fail, prefix)
        return SharedObject(mapping_of(d.data.file), layout, d.data.offset, d.count, d.kind == "array", lock, cls)
    if d.kind == "lock":
        return lock
    if d.kind in ("queue", "bytes_queue"):
        if d.lock != "lock":
            fail("%s's lock is an RLock, not a Lock" % d.what())
        layout = _elem_layout(d.elem, fail, prefix) if d.kind == "queue" else None
        try:
            if d.kind == "queue":
                return Queue(mapping_of(d.data.file), d.data.offset, layout, d.count, lock, cls)
            return BytesQueue(mapping_of(d.data.file), d.data.offset, d.count, lock)
        except InvalidHandle as e:
            fail(str(e))
    mapping = mapping_of(d.data.file)
    address = mapping.address + d.data.offset
    try:
        if d.kind == "event":
            return Event(address, mapping)
        if d.kind == "semaphore":
            return Semaphore(address, mapping)
        if d.kind == "bounded_semaphore":
            return BoundedSemaphore(address, mapping)
        if d.kind == "condition":
            return Condition(address, mapping, lock)
        return Barrier(address, mapping, lock)
    except InvalidHandle as e:
        fail(str(e))


# --- Named objects ---------------------------------------------------------------------------

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
    """Opens the named object ``name`` (created by ``create_named`` in Rust): what its
    header says it is.

    * a value or an array: a ``SharedObject``; `cls`, if given, is the ``ctypes`` type to see
      the elements as (checked against the object's layout, see ``Layout.check``), by
      default rebuilt from the layout;
    * a ``Lock`` or ``RLock``: a ``Lock`` (``.recursive`` tells which);
    * an ``Event``, ``Semaphore``, ``BoundedSemaphore``, ``Condition`` or ``Barrier``: that
      class of this package, waiting and waking with Rust's processes.

    The file is checked as docs/format.md section 4 says before anything is mapped: a
    regular file (a symbolic link is not followed) of this process's user (unless
    `allow_other_owner`), its header read once and checked, every part inside the file,
    aligned, apart from the others and from the header.

    Raises ``ValueError`` for a name Rust would refuse, ``FileNotFoundError`` if there is no
    such object, ``NotSharedctypesObject`` (``'name': reason``, the reasons Rust gives) for
    anything at ``/dev/shm/<name>`` that is not a complete, consistent sharedctypes object of
    this format version, ``LayoutMismatch`` if the layout does not match its fingerprint or
    `cls`, ``OtherOwner`` if another user owns the file and `allow_other_owner` is false, and
    ``AtomicsUnavailable`` for a waiting primitive where no atomic operations are available.
    """
    _check_name(name)
    fd = _open_named_file(name, "/dev/shm/" + name)

    def fail(reason):
        raise NotSharedctypesObject("%r: %s" % (name, reason))

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
        if size < _FIXED:
            fail("it is %d bytes, shorter than a header" % size)
        fixed = os.pread(fd, _FIXED, 0)
        declared = struct.unpack_from("<I", fixed, 16)[0] if len(fixed) >= 20 else 0
        # Read once, into this process's memory: every check below uses this copy (the file
        # may change meanwhile). Its length is the declared one, bounded by the file and by
        # 16 MiB, and checked again in the copy.
        length = max(_FIXED, min(declared, size, _MAX_HEADER))
        header = os.pread(fd, length, 0)
        try:
            d = Description.from_named_file(header, size)
        except NotSharedctypesObject as e:
            fail(str(e))
        if d.kind == "copy":
            fail("it holds a copied value, which is never in a file")
        mapping = _Mapping.of(fd, st)
    finally:
        os.close(fd)
    return _build(d, lambda _file: mapping, cls, fail, "%r: " % name)


# --- Handles: objects inherited from a Rust parent -------------------------------------------

_MAX_FD = (1 << 31) - 1


def _received_file(fd, word):
    """The stat of a descriptor a text line names: open, a regular file, not empty."""
    if fd > _MAX_FD:
        raise InvalidHandle("descriptor %d in %s is not open in this process (no descriptor is that big)" % (fd, word))
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
    """The object a text line describes (``sharedctypes/2 kind=...``, docs/format.md section
    3), its descriptors inherited by this process: a ``SharedObject``, a ``Lock``, an
    ``Event``, ... as ``open_named`` gives, or for a copy (``kind=copy``) the value itself
    (a Python scalar, or a ``ctypes`` copy of a struct or an array).

    Every word is checked (``InvalidHandle`` naming a malformed one, in Rust's words), and
    every descriptor and offset against the real size of the file it names, before any
    ``ctypes`` object is made: each part inside its file, aligned, apart from the others (in
    the same file, whatever descriptor names it).
    """
    d = Description.from_text(handle)

    def fail(reason):
        raise InvalidHandle(reason)

    parts = d.parts()
    stats = {}
    for part in parts:  # in the order of the parts, as the checks below go
        if part.at.file not in stats:
            word = "data=%s" % (d.data,) if part.what == "data" else "lock=%s:%s" % (d.lock, d.lock_at)
            stats[part.at.file] = _received_file(part.at.file, word)
    Description.check_files(
        parts,
        lambda fd: stats[fd].st_size,
        lambda a, b: (stats[a].st_dev, stats[a].st_ino) == (stats[b].st_dev, stats[b].st_ino),
    )
    return _build(d, lambda fd: _Mapping.of(fd, stats[fd]), cls, fail)


def inherited(name, cls=None):
    """The object the Rust parent shared as ``name`` with ``Process::command`` (its
    description is in the environment variable ``SHAREDCTYPES_SHARED_<name>``); see
    ``from_handle``."""
    _check_name(name)
    handle = os.environ.get("SHAREDCTYPES_SHARED_" + name)
    if handle is None:
        raise KeyError("no shared object named %r was passed to this process" % name)
    return from_handle(handle, cls)


from ._queue import BytesQueue, Queue  # noqa: E402
