//! Character arrays follow CPython's exact rules (checked against CPython 3.11/3.13 output):
//!
//! ```python
//! s = RawArray('c', 5); s.value = b'hello'   # raw b'hello'
//! s.value = b'hi'                            # raw b'hi\x00lo', value b'hi'
//! s.raw = b'ab'                              # raw b'ab\x00lo', value b'ab'
//! s.value = b'abcdef'                        # ValueError: byte string too long
//! w = RawArray('u', 4); w.value = 'é'        # list(w) == ['é', '\x00', 'c', 'd']
//! ```

use sharedctypes::{Array, CChar, Error, Process, RawArray, WChar};

#[test]
fn char_array_value_and_raw_follow_cpython() {
    let s = RawArray::<CChar>::zeroed(5).unwrap();
    s.set_value(b"hello").unwrap();
    assert_eq!((s.raw(), s.value()), (b"hello".to_vec(), b"hello".to_vec()));
    s.set_value(b"hi").unwrap();
    assert_eq!((s.raw(), s.value()), (b"hi\0lo".to_vec(), b"hi".to_vec()));
    s.set_raw(b"ab").unwrap();
    assert_eq!((s.raw(), s.value()), (b"ab\0lo".to_vec(), b"ab".to_vec()));
    s.set_raw(b"xyzuv").unwrap();
    assert_eq!((s.raw(), s.value()), (b"xyzuv".to_vec(), b"xyzuv".to_vec()));
    s.set_value(b"a\0b").unwrap();
    assert_eq!((s.raw(), s.value()), (b"a\0b\0v".to_vec(), b"a".to_vec()));

    let too_long = Error::TooLong {
        what: "byte string",
        len: 6,
        capacity: 5,
    };
    assert_eq!(s.set_value(b"abcdef"), Err(too_long.clone()));
    assert_eq!(s.set_raw(b"abcdef"), Err(too_long));
    assert_eq!(
        s.raw(),
        b"a\0b\0v",
        "a refused write must not write anything"
    );
    assert_eq!(
        s.set_value(b"abcdef").unwrap_err().to_string(),
        "byte string too long: 6 characters do not fit in an array of 5"
    );
}

#[test]
fn wide_char_array_value_follows_cpython() {
    let w = RawArray::<WChar>::zeroed(4).unwrap();
    w.set_value("abcd").unwrap();
    assert_eq!(w.value(), "abcd");
    w.set_value("é").unwrap();
    assert_eq!(w.value(), "é");
    assert_eq!(
        w.to_vec(),
        [
            WChar::from('é'),
            WChar(0),
            WChar::from('c'),
            WChar::from('d')
        ]
    );
    assert_eq!(
        w.set_value("abcde"),
        Err(Error::TooLong {
            what: "string",
            len: 5,
            capacity: 4
        })
    );
    // Counted in characters, not bytes: four 4-byte UTF-8 characters fit.
    w.set_value("🦀🦀🦀🦀").unwrap();
    assert_eq!(w.value(), "🦀🦀🦀🦀");

    // Another process may write any 32-bit value.
    w.set(1, WChar(0xD800)).unwrap();
    assert_eq!(w.value(), "🦀\u{FFFD}🦀🦀");
    assert_eq!(
        w.try_value(),
        Err(Error::InvalidWideChar {
            index: 1,
            value: 0xD800
        })
    );
}

#[test]
fn empty_char_array() {
    let s = RawArray::<CChar>::zeroed(0).unwrap();
    assert_eq!(s.value(), b"");
    s.set_value(b"").unwrap();
    assert_eq!(
        s.set_value(b"x"),
        Err(Error::TooLong {
            what: "byte string",
            len: 1,
            capacity: 0
        })
    );
}

#[test]
fn locked_string_upper_cased_by_a_child() {
    let s = Array::from_slice(&b"hello world".map(CChar)).unwrap();
    let child = Process::start(|| -> sharedctypes::Result<()> {
        s.set_value(&s.value()?.to_ascii_uppercase())
    })
    .unwrap();
    assert_eq!(child.join().unwrap(), 0);
    assert_eq!(s.value().unwrap(), b"HELLO WORLD");
    assert_eq!(s.raw().unwrap(), b"HELLO WORLD");
}
