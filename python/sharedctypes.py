"""The shared objects of a Rust program that uses `sharedctypes`, from Python.

Pure Python, standard library only (``ctypes``, ``mmap``), Python 3.8 or later on Linux.

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
instance the one ``LAYOUT.to_ctypes()`` renders) must have the same fields at the same
offsets.

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
    "parse_layout",
    "fingerprint",
]


class OwnerDiedWarning(UserWarning):
    """A holder of the lock died holding it; the data it guards may be half-updated."""


class OwnerDiedError(RuntimeError):
    """An operation that takes the lock internally found an unrepaired owner death."""


class LayoutMismatch(TypeError):
    """The object holds another type than the one asked for."""


class NotSharedctypesObject(ValueError):
    """The named file is not a sharedctypes object of this format version."""


class InvalidHandle(ValueError):
    """A handle that is malformed or names memory it may not."""


# --- Layout descriptions and fingerprints -------------------------------------------------

# Rust scalar name -> (ctypes type, size, alignment).
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


class Layout:
    """A parsed layout description: ``kind`` is "primitive", "array" or "struct"."""

    def __init__(self, kind, name, size, align, elem=None, length=0, fields=(), repr_align=None):
        self.kind = kind
        self.name = name
        self.size = size
        self.align = align
        self.elem = elem
        self.length = length
        self.fields = list(fields)  # (name, offset, type_name, Layout)
        self.repr_align = repr_align
        self.fingerprint = self._fingerprint()

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
        fields = []
        end = 0
        for i, (name, offset, _type_name, layout) in enumerate(self.fields):
            if offset > end:
                fields.append(("_pad%d" % i, ctypes.c_char * (offset - end)))
            ident = "_" + name if name[:1].isdigit() else name
            fields.append((ident, layout.ctype()))
            end = offset + layout.size
        if self.size > end:
            fields.append(("_pad_end", ctypes.c_char * (self.size - end)))
        cls = type(self.name, (ctypes.Structure,), {"_fields_": fields})
        _check_ctype(cls, self)
        return cls


def _check_ctype(cls, layout):
    """Checks that a ctypes type has `layout`: size, and each field's name and offset."""
    if ctypes.sizeof(cls) != layout.size:
        raise LayoutMismatch(
            "%s has %d bytes, the shared object's type %d" % (cls.__name__, ctypes.sizeof(cls), layout.size)
        )
    if layout.kind != "struct":
        return
    for name, offset, _type_name, _field in layout.fields:
        ident = "_" + name if name[:1].isdigit() else name
        candidates = [ident, ident + "_"]  # to_ctypes() appends "_" to C keywords
        found = [getattr(cls, c) for c in candidates if hasattr(cls, c)]
        if not found or found[0].offset != offset:
            raise LayoutMismatch(
                "%s has no field %r at offset %d, as the shared object's type %s has"
                % (cls.__name__, name, offset, layout.name)
            )


def _unquote(s):
    out = bytearray()
    i = 0
    while i < len(s):
        if s[i] == "%":
            out.append(int(s[i + 1 : i + 3], 16))
            i += 3
        else:
            out += s[i].encode()
            i += 1
    return out.decode()


class _Parser:
    def __init__(self, text):
        self.text = text
        self.i = 0

    def take_while(self, ok):
        start = self.i
        while self.i < len(self.text) and ok(self.text[self.i]):
            self.i += 1
        return self.text[start : self.i]

    def name(self):
        return _unquote(self.take_while(lambda c: c.isalnum() or c in "_%"))

    def number(self):
        digits = self.take_while(str.isdigit)
        if not digits:
            raise InvalidHandle("a number expected at %d in %r" % (self.i, self.text))
        return int(digits)

    def expect(self, c):
        if self.text[self.i : self.i + 1] != c:
            raise InvalidHandle("%r expected at %d in %r" % (c, self.i, self.text))
        self.i += 1

    def desc(self):
        if self.text[self.i : self.i + 1] == "[":
            self.i += 1
            elem = self.desc()
            self.expect(";")
            length = self.number()
            self.expect("]")
            return Layout("array", "array", elem.size * length, elem.align, elem=elem, length=length)
        name = self.name()
        if self.text[self.i : self.i + 1] != "(":
            ctype = _PRIMITIVES.get(name)
            if ctype is None:
                raise InvalidHandle("unknown scalar type %r" % name)
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
        return Layout("struct", name, size, align, fields=fields, repr_align=repr_align)


def parse_layout(text):
    """Parses a layout description (``Layout::describe`` on the Rust side)."""
    p = _Parser(text)
    layout = p.desc()
    if p.i != len(text):
        raise InvalidHandle("trailing text in layout %r" % text)
    return layout


def fingerprint(text):
    """The layout fingerprint of a layout description, as Rust computes it."""
    return parse_layout(text).fingerprint


# --- The robust lock ----------------------------------------------------------------------

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

    def release(self):
        """Releases the lock (taken by this thread)."""
        depth = max(self._cell.depth - 1, 0)
        self._cell.depth = depth
        if depth == 0:
            self._cell.holder = 0
        rc = _libc.pthread_mutex_unlock(self._addr)
        if rc != 0:
            raise RuntimeError("release of a lock this thread does not hold (%s)" % os.strerror(rc))

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

    def __init__(self, fd):
        st = os.fstat(fd)
        self.size = st.st_size
        if self.size == 0:
            raise InvalidHandle("the shared memory it names is empty")
        self.mm = mmap.mmap(fd, self.size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self._base = ctypes.c_char.from_buffer(self.mm)
        self.address = ctypes.addressof(self._base)

    @classmethod
    def of(cls, fd):
        st = os.fstat(fd)
        key = (st.st_dev, st.st_ino)
        found = cls._alive.get(key)
        if found is None or found.size < st.st_size:
            found = cls(fd)
            cls._alive[key] = found
        return found

    def check(self, offset, length, align):
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
        return self._locked(lambda: self._out(self._obj[i]) if not isinstance(i, slice) else [self._out(x) for x in self._obj[i]])

    def __setitem__(self, i, v):
        if not self.is_array:
            raise TypeError("a value is not indexable: use .value")

        def store():
            self._obj[i] = v

        self._locked(store)


def _lock_at(mapping, offset, recursive):
    mapping.check(offset, 56, 8)
    return Lock(mapping.address + offset, mapping, recursive)


def open_named(name, cls=None):
    """Opens the named object ``name`` (created by ``create_named`` in Rust)."""
    if not name or name.startswith(".") or "/" in name:
        raise ValueError("invalid name %r" % name)
    fd = os.open("/dev/shm/" + name, os.O_RDWR | os.O_CLOEXEC)
    try:
        mapping = _Mapping.of(fd)
    finally:
        os.close(fd)
    if mapping.size < 96:
        raise NotSharedctypesObject("%r is %d bytes, shorter than a header" % (name, mapping.size))
    head = (ctypes.c_char * 96).from_address(mapping.address).raw
    if head[:8] != b"SHCTYPES":
        raise NotSharedctypesObject("%r does not start with the sharedctypes magic bytes" % name)
    u32 = lambda o: int.from_bytes(head[o : o + 4], "little")
    u64 = lambda o: int.from_bytes(head[o : o + 8], "little")
    if u32(8) != 1:
        raise NotSharedctypesObject("%r has format version %d, this module reads 1" % (name, u32(8)))
    if u32(12) != 1:
        raise NotSharedctypesObject("%r is not finished by its creator" % name)
    kind, lock_kind, fp = u32(20), u32(24), u64(32)
    count, lock_offset, data_offset = u64(56), u64(64), u64(72)
    name_len, layout_len = u32(88), u32(92)
    if 96 + name_len + layout_len > mapping.size:
        raise NotSharedctypesObject("%r has an inconsistent header" % name)
    strings = (ctypes.c_char * (name_len + layout_len)).from_address(mapping.address + 96).raw
    layout = parse_layout(strings[name_len:].decode())
    if layout.fingerprint != fp:
        raise LayoutMismatch(
            "%r: the layout description does not match the fingerprint (%#018x, computed %#018x)"
            % (name, fp, layout.fingerprint)
        )
    if layout.size != u64(40) or layout.align != u64(48):
        raise LayoutMismatch("%r: the element size or alignment disagrees with the layout" % name)
    lock = _lock_at(mapping, lock_offset, lock_kind == 2) if lock_kind in (1, 2) else None
    return SharedObject(mapping, layout, data_offset, count, kind == 2, lock, cls)


def from_handle(handle, cls=None):
    """The object a handle line describes (``sharedctypes/1 kind=...``), its descriptors
    inherited by this process."""
    words = handle.strip().split(" ")
    if words[0] != "sharedctypes/1":
        raise InvalidHandle("it starts with %r, not 'sharedctypes/1'" % words[0])
    fields = {}
    for w in words[1:]:
        k, sep, v = w.partition("=")
        if not sep:
            raise InvalidHandle("%r is not key=value" % w)
        fields[k] = v
    kind = fields.get("kind")
    if kind not in ("value", "array"):
        raise InvalidHandle("this module receives values and arrays, not %r" % kind)
    layout = parse_layout(fields["layout"])
    if layout.fingerprint != int(fields["fingerprint"], 16):
        raise LayoutMismatch("the layout description does not match the fingerprint")
    fd, offset = (int(x) for x in fields["data"].split(":"))
    mapping = _Mapping.of(fd)
    lock = None
    if "lock" in fields:
        lkind, lfd, loffset = fields["lock"].split(":")
        lock = _lock_at(_Mapping.of(int(lfd)), int(loffset), lkind == "rlock")
    count = int(fields.get("count", "1"))
    return SharedObject(mapping, layout, offset, count, kind == "array", lock, cls)


def inherited(name, cls=None):
    """The object the Rust parent shared as ``name`` with ``Process::command``."""
    handle = os.environ.get("SHAREDCTYPES_SHARED_" + name)
    if handle is None:
        raise KeyError("no shared object named %r was passed to this process" % name)
    return from_handle(handle, cls)
