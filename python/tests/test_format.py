"""The format's test vectors (docs/format/vectors/, expectations in docs/format/vectors.ini;
docs/format.md section 8): every vector the .ini lists is read here as the Rust tests read
it, and what the reader finds must be exactly what the .ini says (no field missing, none
more), or the refusal must contain the phrase it gives. Each good header, copied to
/dev/shm, opens with open_named as its kind's class, with the values it holds; each bad one
is refused by open_named too (the queues are also read and drained: their contents are
exactly those the vectors hold).

The vectors live in the repository (``python/../docs/format``), not in an installed copy of
the package: there these tests are skipped, saying so.
"""

import os
import queue
import unittest

import sharedctypes as sc

from tests import support

VECTORS = os.path.normpath(os.path.join(support.FORMAT_DIR, "vectors"))
INI = os.path.normpath(os.path.join(support.FORMAT_DIR, "vectors.ini"))
NOT_HERE = "the format's test vectors are not here (%s): they are in the repository, not in an installed copy" % INI


def expectations():
    """The .ini: ``{file: {key: value}}``, read as the Rust tests read it (``[file]``
    sections of ``key = value`` lines; ``#`` and ``;`` start comments; the first ``=``
    separates)."""
    sections = {}
    section = None
    with open(INI, encoding="utf-8") as fh:
        for raw in fh:
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("[") and line.endswith("]"):
                section = sections.setdefault(line[1:-1], {})
            elif section is not None and "=" in line:
                key, _, value = line.partition("=")
                section[key.strip()] = value.strip()
    return sections


def read(name, data):
    """What a reader finds in the vector `name` (its bytes `data`): the fields the .ini
    names, from the Description the package reads; or the exception it refuses it with."""
    if name.endswith(".bin"):
        d = sc.Description.from_named_file(data, len(data))
    else:
        d = sc.Description.from_text(data.decode("utf-8"))
    found = {"kind": d.kind, "lock": d.lock or "none"}
    if d.elem is not None:
        found.update(
            type=d.elem.name,
            size=str(d.elem.size),
            align=str(d.elem.align),
            fingerprint="%016x" % d.elem.fingerprint,
            layout=d.elem.layout,
        )
    if d.kind in ("value", "array", "queue", "bytes_queue"):
        found["count"] = str(d.count)
    if d.data is not None:
        found["data"] = "%d:%d" % d.data
    if d.lock_at is not None:
        found["lock_at"] = "%d:%d" % d.lock_at
    if d.bytes is not None:
        found["bytes"] = d.bytes.hex()
    if name.endswith(".bin"):
        found["file_size"] = str(len(data))
        found["header_len"] = str(d.header_len)
        if d.data is not None:
            (part,) = [p for p in d.parts() if p.what == "data"]
            found["data_hex"] = data[part.at.offset : part.at.offset + part.len].hex()
    return found


@unittest.skipUnless(os.path.isfile(INI) and os.path.isdir(VECTORS), NOT_HERE)
class Vectors(unittest.TestCase):
    def setUp(self):
        self.expected = expectations()

    def vector(self, name):
        with open(os.path.join(VECTORS, name), "rb") as fh:
            return fh.read()

    def test_every_vector_is_read_as_the_ini_says(self):
        self.assertGreaterEqual(len(self.expected), 25)
        for name, want in sorted(self.expected.items()):
            with self.subTest(vector=name):
                data = self.vector(name)
                if "error" in want:
                    error = sc.NotSharedctypesObject if name.endswith(".bin") else sc.InvalidHandle
                    with self.assertRaises(error) as caught:
                        read(name, data)
                    self.assertIn(want["error"], str(caught.exception))
                    self.assertEqual(set(want), {"error"})
                else:
                    self.assertEqual(read(name, data), want)

    def test_every_vector_file_has_a_section(self):
        on_disk = sorted(f for f in os.listdir(VECTORS) if f.endswith((".bin", ".txt")))
        self.assertEqual(on_disk, sorted(self.expected))

    def test_the_fingerprints_are_those_of_the_layouts(self):
        for name, want in sorted(self.expected.items()):
            if "layout" in want:
                with self.subTest(vector=name):
                    self.assertEqual("%016x" % sc.fingerprint(want["layout"]), want["fingerprint"])

    def plant(self, name):
        """The vector copied to /dev/shm under a unique name (removed when the test ends)."""
        return support.plant(self, self.vector(name))

    def test_every_good_header_opens_by_name_as_its_kind(self):
        opened = {}
        for name, want in sorted(self.expected.items()):
            if name.endswith(".bin") and "error" not in want:
                opened[name] = sc.open_named(self.plant(name))
        classes = {name: type(obj).__name__ for name, obj in opened.items()}
        self.assertEqual(
            classes,
            {
                "header-array-u16.bin": "SharedObject",
                "header-barrier.bin": "Barrier",
                "header-bounded-semaphore.bin": "BoundedSemaphore",
                "header-bytes-queue.bin": "BytesQueue",
                "header-condition.bin": "Condition",
                "header-event.bin": "Event",
                "header-lock.bin": "Lock",
                "header-queue-u32.bin": "Queue",
                "header-rlock.bin": "Lock",
                "header-semaphore.bin": "Semaphore",
                "header-value-point-rlock.bin": "SharedObject",
            },
        )
        value = opened["header-value-point-rlock.bin"]
        point = value.get_obj()
        self.assertEqual((value.is_array, type(point).__name__, point.x, point.y), (False, "Point", 1.5, -2.0))
        self.assertTrue(value.get_lock().recursive)
        array = opened["header-array-u16.bin"]
        self.assertEqual((array.is_array, array.get_obj()[:], array.get_lock()), (True, [1, 2, 3, 4, 5], None))
        self.assertFalse(opened["header-lock.bin"].recursive)
        self.assertTrue(opened["header-rlock.bin"].recursive)
        self.assertTrue(opened["header-event.bin"].is_set())
        self.assertTrue(opened["header-condition.bin"].get_lock().recursive)
        self.assertEqual(opened["header-semaphore.bin"].get_value(), 3)
        self.assertEqual(opened["header-bounded-semaphore.bin"].get_value(), 2)
        barrier = opened["header-barrier.bin"]
        self.assertEqual((barrier.parties, barrier.n_waiting, barrier.broken), (3, 0, False))
        # A queue of u32 holding 10 and 11 (9 was taken) in 4 slots; a closed bytes queue
        # holding b"hi": drained, then closed.
        q = opened["header-queue-u32.bin"]
        self.assertEqual((q.capacity, q.qsize(), q.closed, q.layout.name), (4, 2, False, "u32"))
        self.assertEqual([q.get_nowait(), q.get_nowait()], [10, 11])
        with self.assertRaises(queue.Empty):
            q.get_nowait()
        b = opened["header-bytes-queue.bin"]
        self.assertEqual((b.capacity, b.max_message, b.used_bytes(), b.qsize(), b.closed), (32, 24, 16, 1, True))
        self.assertEqual(b.get(), b"hi")
        with self.assertRaises(sc.Closed):
            b.get()
        with self.assertRaises(sc.Closed):
            b.put(b"more")

    def test_every_bad_header_is_refused_by_name_with_its_reason(self):
        checked = 0
        for name, want in sorted(self.expected.items()):
            if name.endswith(".bin") and "error" in want:
                with self.subTest(vector=name):
                    planted = self.plant(name)
                    with self.assertRaises(sc.NotSharedctypesObject) as caught:
                        sc.open_named(planted)
                    message = str(caught.exception)
                    self.assertTrue(message.startswith("%r: " % planted), message)
                    self.assertIn(want["error"], message)
                checked += 1
        self.assertGreaterEqual(checked, 10)


if __name__ == "__main__":
    unittest.main()
