"""open_named: the name rules Rust applies, and what lies at /dev/shm/<name> (symbolic links
are not followed; directories and FIFOs are refused)."""

import os
import struct
import unittest

import sharedctypes as sc

from tests import support
from tests.support import forge, remove_later, unique_name


class NameRules(unittest.TestCase):
    def test_invalid_names_raise_value_error_naming_the_rule(self):
        cases = [
            ("", "it is empty"),
            ("a" * 201, "it is longer than 200 bytes"),
            (".hidden", "it starts with '.' (hidden names are for objects being created)"),
            ("a/b", "only ASCII letters, digits, '_', '-' and '.' are allowed"),
            ("../etc/passwd", "it starts with '.' (hidden names are for objects being created)"),
            ("caf\u00e9", "only ASCII letters, digits, '_', '-' and '.' are allowed"),
            ("two words", "only ASCII letters, digits, '_', '-' and '.' are allowed"),
            ("nul\x00", "only ASCII letters, digits, '_', '-' and '.' are allowed"),
        ]
        for name, reason in cases:
            with self.subTest(name=name):
                with self.assertRaises(ValueError) as caught:
                    sc.open_named(name)
                self.assertIs(type(caught.exception), ValueError)
                self.assertEqual(str(caught.exception), "invalid name %r: %s" % (name, reason))

    def test_two_hundred_characters_are_allowed(self):
        # A valid name that does not exist: the rules pass it, the open does not find it.
        with self.assertRaises(FileNotFoundError):
            sc.open_named("sharedctypes-pytest-%d-" % os.getpid() + "x" * 170)

    def test_a_name_must_be_a_str(self):
        with self.assertRaises(TypeError):
            sc.open_named(b"name")


class WhatLiesThere(unittest.TestCase):
    def test_symbolic_link_to_a_valid_object_is_not_followed(self):
        target, _ = forge(self, "f64", data=struct.pack("<d", 1.5))
        self.assertEqual(sc.open_named(target).value, 1.5)
        link = unique_name("link")
        target_path = os.path.join(support.SHM, target)
        os.symlink(target_path, os.path.join(support.SHM, link))
        remove_later(self, os.path.join(support.SHM, link))
        with self.assertRaises(sc.NotSharedctypesObject) as caught:
            sc.open_named(link)
        self.assertEqual(str(caught.exception), "%r is a symbolic link (to %r), which is not followed" % (link, target_path))

    def test_dangling_symbolic_link_is_refused(self):
        link = unique_name("dangling")
        os.symlink("/nonexistent/target", os.path.join(support.SHM, link))
        remove_later(self, os.path.join(support.SHM, link))
        with self.assertRaises(sc.NotSharedctypesObject) as caught:
            sc.open_named(link)
        self.assertEqual(
            str(caught.exception), "%r is a symbolic link (to '/nonexistent/target'), which is not followed" % link
        )

    def test_directory_is_refused(self):
        name = unique_name("dir")
        os.mkdir(os.path.join(support.SHM, name))
        remove_later(self, os.path.join(support.SHM, name))
        with self.assertRaises(sc.NotSharedctypesObject) as caught:
            sc.open_named(name)
        self.assertEqual(str(caught.exception), "%r is a directory, not a shared memory object" % name)

    def test_fifo_is_refused_without_blocking(self):
        name = unique_name("fifo")
        os.mkfifo(os.path.join(support.SHM, name))
        remove_later(self, os.path.join(support.SHM, name))
        with self.assertRaises(sc.NotSharedctypesObject) as caught:
            sc.open_named(name)
        self.assertEqual(str(caught.exception), "%r is a FIFO, not a shared memory object" % name)

    @unittest.skipUnless(os.geteuid() == 0, "giving a file to another user needs root")
    def test_object_of_another_user_needs_allow_other_owner(self):
        name, _ = forge(self, "f64", data=struct.pack("<d", 4.5))
        os.chown(os.path.join(support.SHM, name), 65534, 65534)
        with self.assertRaises(sc.OtherOwner) as caught:
            sc.open_named(name)
        self.assertEqual(
            str(caught.exception),
            "the shared object %r belongs to user 65534, not to this process's user 0: a process that can "
            "write an object can make this one's lock code write where it chooses, so it is opened only "
            "with allow_other_owner=True, if you trust that user" % name,
        )
        self.assertEqual(sc.open_named(name, allow_other_owner=True).value, 4.5)

    def test_missing_object_raises_file_not_found(self):
        with self.assertRaises(FileNotFoundError):
            sc.open_named(unique_name("missing"))


if __name__ == "__main__":
    unittest.main()
