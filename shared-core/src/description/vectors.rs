//! The format's test vectors (`docs/format/vectors/`, expectations in
//! `docs/format/vectors.ini`): read and checked here, and written from the encoders with
//! `SHAREDCTYPES_BLESS=1 cargo test -p shared-core vectors`. The Python package's tests read
//! the same files.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::{At, Description, ElemType, HEADER_FIXED, Kind, LOCK_CELL, Mutex, check_named};
use crate::layout::{FieldLayout, Layout};

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/format")
}

const F64: Layout = Layout::primitive("f64", 8, 8, "double", "c_double");
const U16: Layout = Layout::primitive("u16", 2, 2, "uint16_t", "c_uint16");
const U32: Layout = Layout::primitive("u32", 4, 4, "uint32_t", "c_uint32");
const POINT_FIELDS: &[FieldLayout] = &[
    FieldLayout::new("x", 0, "f64", &F64),
    FieldLayout::new("y", 8, "f64", &F64),
];
const POINT: Layout = Layout::structure("Point", 16, 8, POINT_FIELDS, None);

fn elem(l: &Layout) -> ElemType {
    ElemType {
        name: l.type_name(),
        size: l.size as u64,
        align: l.align as u64,
        fingerprint: l.fingerprint,
        layout: l.describe(),
    }
}

/// A whole named object's file: the header of `d` (laid out as `named::create` does), the
/// lock cell's tag, the data part holding `data` (a state's words, or elements).
fn file(mut d: Description, data: &[u8]) -> Vec<u8> {
    let header_len = d.to_header(0).len() as u64;
    let mut end = header_len;
    if let Some((m, _)) = d.lock {
        let offset = end.next_multiple_of(64);
        d.lock = Some((m, At { file: 0, offset }));
        end = offset + LOCK_CELL.0;
    }
    if d.data.is_some() {
        let align = d
            .elem
            .as_ref()
            .map(|e| e.align)
            .or(d.kind.state().map(|s| s.1))
            .unwrap_or(8);
        let offset = end.next_multiple_of(align.max(64));
        d.data = Some(At { file: 0, offset });
        end = offset + data.len() as u64;
    }
    let size = end.next_multiple_of(64);
    let mut out = d.to_header(size);
    out.resize(size as usize, 0);
    if let Some((m, at)) = d.lock {
        let tag = match m {
            Mutex::Lock => *b"SLCK",
            Mutex::RLock => *b"RLCK",
        };
        let at = at.offset as usize + 52;
        out[at..at + 4].copy_from_slice(&tag);
    }
    if let Some(at) = d.data {
        let at = at.offset as usize;
        out[at..at + data.len()].copy_from_slice(data);
    }
    out
}

fn words(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

fn described(kind: Kind, elem: Option<ElemType>, count: u64, lock: Option<Mutex>) -> Description {
    let mut d = Description::new(kind);
    d.elem = elem;
    d.count = count;
    if kind.state().is_some()
        || matches!(
            kind,
            Kind::Value | Kind::Array | Kind::Queue | Kind::BytesQueue
        )
    {
        d.data = Some(At { file: 0, offset: 0 });
    }
    d.lock = lock.map(|m| (m, At { file: 0, offset: 0 }));
    d
}

/// Writes byte `at` of the file as `value`'s little-endian bytes.
fn patch(mut f: Vec<u8>, at: usize, value: &[u8]) -> Vec<u8> {
    f[at..at + value.len()].copy_from_slice(value);
    f
}

/// Every vector: its file name and its bytes.
fn vectors() -> Vec<(&'static str, Vec<u8>)> {
    let point = |x: f64, y: f64| [x.to_le_bytes(), y.to_le_bytes()].concat();
    let value = || {
        file(
            described(Kind::Value, Some(elem(&POINT)), 1, Some(Mutex::RLock)),
            &point(1.5, -2.0),
        )
    };
    let u16s: Vec<u8> = [1u16, 2, 3, 4, 5]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let data_at = |f: &[u8]| u64::from_le_bytes(f[72..80].try_into().unwrap());
    let lock_at = |f: &[u8]| u64::from_le_bytes(f[64..72].try_into().unwrap());
    // A queue's state (256 bytes): tag, closed, capacity, getters, putters; then the
    // putters' line: tail, items, head_seen; the getters' line: head, space, tail_seen; then
    // the getters' lock cell (its tag; a real one is a live mutex).
    let queue_state = |tag: [u8; 4], closed: u32, head: u64, tail: u64, capacity: u64| {
        let line = |end: u64, bumps: u32, seen: u64| {
            [
                end.to_le_bytes().to_vec(),
                words(&[bumps, 0]),
                seen.to_le_bytes().to_vec(),
                vec![0; 40],
            ]
            .concat()
        };
        [
            words(&[u32::from_le_bytes(tag), closed]),
            capacity.to_le_bytes().to_vec(),
            vec![0; 48],
            line(tail, closed, head),
            line(head, closed, tail),
            vec![0; 52],
            b"SLCK".to_vec(),
            vec![0; 8],
        ]
        .concat()
    };
    // Four u32 slots: 9 taken, 10 and 11 waiting.
    let queue_u32 = file(
        described(Kind::Queue, Some(elem(&U32)), 4, Some(Mutex::Lock)),
        &[queue_state(*b"SQU2", 0, 1, 3, 4), words(&[9, 10, 11, 0])].concat(),
    );
    let mut copy = Description::new(Kind::Copy);
    copy.elem = Some(elem(&U32));
    copy.bytes = Some(7u32.to_le_bytes().to_vec());
    let mut text_value = described(Kind::Value, Some(elem(&POINT)), 1, Some(Mutex::RLock));
    text_value.data = Some(At { file: 5, offset: 0 });
    text_value.lock = Some((Mutex::RLock, At { file: 6, offset: 0 }));
    let mut text_event = Description::new(Kind::Event);
    text_event.data = Some(At {
        file: 3,
        offset: 64,
    });
    let v = value();
    vec![
        ("header-value-point-rlock.bin", v.clone()),
        (
            "header-array-u16.bin",
            file(described(Kind::Array, Some(elem(&U16)), 5, None), &u16s),
        ),
        (
            "header-lock.bin",
            file(described(Kind::Lock, None, 0, Some(Mutex::Lock)), &[]),
        ),
        (
            "header-rlock.bin",
            file(described(Kind::Lock, None, 0, Some(Mutex::RLock)), &[]),
        ),
        (
            "header-event.bin",
            file(
                described(Kind::Event, None, 0, None),
                &words(&[u32::from_le_bytes(*b"SEVT"), 3, 0, 0]),
            ),
        ),
        (
            "header-condition.bin",
            file(
                described(Kind::Condition, None, 0, Some(Mutex::RLock)),
                &words(&[u32::from_le_bytes(*b"SCND"), 0, 0, 0, 0, 0]),
            ),
        ),
        (
            "header-semaphore.bin",
            file(
                described(Kind::Semaphore, None, 0, None),
                &words(&[u32::from_le_bytes(*b"SSEM"), 3, 0, u32::MAX]),
            ),
        ),
        (
            "header-bounded-semaphore.bin",
            file(
                described(Kind::BoundedSemaphore, None, 0, None),
                &words(&[u32::from_le_bytes(*b"SSEM"), 2, 0, 2]),
            ),
        ),
        (
            "header-barrier.bin",
            file(
                described(Kind::Barrier, None, 0, Some(Mutex::Lock)),
                &words(&[u32::from_le_bytes(*b"SBAR"), 3, 0, 0, 0, u32::MAX]),
            ),
        ),
        ("header-queue-u32.bin", queue_u32.clone()),
        (
            "header-bytes-queue.bin",
            file(
                described(Kind::BytesQueue, None, 32, Some(Mutex::Lock)),
                &[
                    queue_state(*b"SBQ2", 1, 0, 16, 32),
                    2u64.to_le_bytes().to_vec(),
                    b"hi\0\0\0\0\0\0".to_vec(),
                    vec![0; 16],
                ]
                .concat(),
            ),
        ),
        (
            "bad-queue-capacity-0.bin",
            patch(queue_u32, 56, &0u64.to_le_bytes()),
        ),
        (
            "bad-data-overlaps-lock.bin",
            patch(v.clone(), 72, &(lock_at(&v) + 8).to_le_bytes()),
        ),
        (
            "bad-version-3.bin",
            patch(v.clone(), 8, &3u32.to_le_bytes()),
        ),
        (
            "bad-value-count-0.bin",
            patch(v.clone(), 56, &0u64.to_le_bytes()),
        ),
        (
            "bad-data-past-end.bin",
            patch(v.clone(), 72, &(v.len() as u64 - 8).to_le_bytes()),
        ),
        (
            "bad-misaligned-data.bin",
            patch(v.clone(), 72, &(data_at(&v) + 4).to_le_bytes()),
        ),
        (
            "bad-size-not-the-files.bin",
            patch(v.clone(), 80, &(v.len() as u64 + 4096).to_le_bytes()),
        ),
        (
            "bad-unknown-kind.bin",
            patch(v.clone(), 20, &42u32.to_le_bytes()),
        ),
        (
            "bad-header-overlaps-data.bin",
            patch(v.clone(), 72, &16u64.to_le_bytes()),
        ),
        (
            "bad-unfinished.bin",
            patch(v.clone(), 12, &0u32.to_le_bytes()),
        ),
        (
            "bad-header-length.bin",
            patch(v, 16, &(HEADER_FIXED as u32 + 1).to_le_bytes()),
        ),
        (
            "text-value-point-rlock.txt",
            format!("{text_value}\n").into_bytes(),
        ),
        ("text-copy-u32.txt", format!("{copy}\n").into_bytes()),
        ("text-event.txt", format!("{text_event}\n").into_bytes()),
        (
            "bad-text-version-1.txt",
            format!("{text_event}\n")
                .replace("sharedctypes/2", "sharedctypes/1")
                .into_bytes(),
        ),
        (
            "bad-text-repeated-key.txt",
            format!("{text_event} data=3:64\n").into_bytes(),
        ),
        (
            "bad-text-event-with-lock.txt",
            format!("{text_event} lock=lock:3:0\n").into_bytes(),
        ),
    ]
}

/// The expectations: `[file]` sections of `key = value` lines.
fn expectations() -> BTreeMap<String, BTreeMap<String, String>> {
    let text = std::fs::read_to_string(dir().join("vectors.ini")).unwrap_or_default();
    let mut all: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut section = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.to_string());
            all.entry(name.to_string()).or_default();
        } else if let (Some(s), Some((k, v))) = (&section, line.split_once('=')) {
            all.get_mut(s)
                .unwrap()
                .insert(k.trim().to_string(), v.trim().to_string());
        }
    }
    all
}

/// What a reader finds in a vector: the fields the `.ini` names, or the error.
fn read(name: &str, bytes: &[u8]) -> Result<BTreeMap<String, String>, String> {
    let (d, file_size, header_len) = if name.ends_with(".bin") {
        let d = check_named(bytes, bytes.len() as u64)?;
        let header_len = u32::from_le_bytes(bytes[16..20].try_into().unwrap());
        (d, Some(bytes.len()), Some(header_len))
    } else {
        let line = std::str::from_utf8(bytes).map_err(|e| e.to_string())?;
        let d: Description = line.parse().map_err(|e: crate::Error| match e {
            crate::Error::InvalidHandle { reason } => reason,
            e => e.to_string(),
        })?;
        d.parts()?;
        (d, None, None)
    };
    let mut out = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        out.insert(k.to_string(), v);
    };
    put("kind", d.kind.word().to_string());
    put("lock", d.lock.map_or("none", |(m, _)| m.word()).to_string());
    if let Some(e) = &d.elem {
        put("type", e.name.clone());
        put("size", e.size.to_string());
        put("align", e.align.to_string());
        put("fingerprint", format!("{:016x}", e.fingerprint));
        put("layout", e.layout.clone());
    }
    if d.kind.has_count() {
        put("count", d.count.to_string());
    }
    if let Some(at) = d.data {
        put("data", format!("{}:{}", at.file, at.offset));
    }
    if let Some((_, at)) = d.lock {
        put("lock_at", format!("{}:{}", at.file, at.offset));
    }
    if let Some(bytes) = &d.bytes {
        put("bytes", bytes.iter().map(|b| format!("{b:02x}")).collect());
    }
    if let Some(size) = file_size {
        put("file_size", size.to_string());
    }
    if let Some(len) = header_len {
        put("header_len", len.to_string());
    }
    if let (Some(at), true) = (d.data, name.ends_with(".bin")) {
        let len = d
            .parts()?
            .into_iter()
            .find(|p| p.what == "data")
            .map_or(0, |p| p.len) as usize;
        let at = at.offset as usize;
        put(
            "data_hex",
            bytes[at..at + len]
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        );
    }
    Ok(out)
}

#[test]
fn vectors_are_read_as_the_format_says() {
    let bless = std::env::var_os("SHAREDCTYPES_BLESS").is_some();
    let vdir = dir().join("vectors");
    if bless {
        std::fs::create_dir_all(&vdir).unwrap();
    }
    let expected = expectations();
    let mut seen = Vec::new();
    for (name, bytes) in vectors() {
        let path = vdir.join(name);
        if bless {
            std::fs::write(&path, &bytes).unwrap();
        }
        let on_disk = std::fs::read(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        if bless {
            // What the reader finds, to write vectors.ini from (by hand, checked by eye).
            eprintln!("[{name}]");
            match read(name, &on_disk) {
                Ok(found) => found.iter().for_each(|(k, v)| eprintln!("{k} = {v}")),
                Err(e) => eprintln!("error = {e}"),
            }
            eprintln!();
            continue;
        }
        assert_eq!(
            on_disk, bytes,
            "{name} differs from what the encoders write (re-bless?)"
        );
        let want = expected
            .get(name)
            .unwrap_or_else(|| panic!("{name} has no section in vectors.ini"));
        match (read(name, &on_disk), want.get("error")) {
            (Err(reason), Some(phrase)) => {
                assert!(
                    reason.contains(phrase.as_str()),
                    "{name}: `{reason}` lacks `{phrase}`"
                )
            }
            (Ok(found), None) => {
                for (k, v) in want {
                    assert_eq!(found.get(k), Some(v), "{name}: {k}");
                }
                for k in found.keys() {
                    assert!(
                        want.contains_key(k),
                        "{name}: vectors.ini does not say `{k}`"
                    );
                }
            }
            (found, error) => panic!("{name}: read {found:?}, expected error {error:?}"),
        }
        seen.push(name.to_string());
    }
    for name in expected.keys() {
        assert!(
            seen.contains(name),
            "vectors.ini names {name}, which is not a vector"
        );
    }
}
