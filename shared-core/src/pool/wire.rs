//! The messages between a pool and its workers, through two [`BytesQueue`]s: a task is a
//! chunk of inputs and which function to run on them; a result is the chunk's outputs.
//! Items travel as the bytes of their C layout (padding zeroed), read back into aligned
//! memory: every bit pattern is a valid `SharedLayout` value.
//!
//! [`BytesQueue`]: crate::BytesQueue

use core::mem::size_of;
use core::ptr::NonNull;

use crate::access::{Place, SharedLayout};

/// Words before a task's items: job, function (distance and type tag), first index, count.
pub(crate) const TASK_WORDS: usize = 5;
/// Words before a result's items: job, first index, count.
pub(crate) const RESULT_WORDS: usize = 3;

/// A chunk of work: run the function at `entry` (a distance from the spawn anchor; 0 for a
/// crew that runs one function only) with type tag `tag` on inputs `first..first + count`
/// of job `job`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Task {
    pub(crate) job: u64,
    pub(crate) entry: i64,
    pub(crate) tag: u64,
    pub(crate) first: u64,
    pub(crate) count: u64,
}

/// The outputs of a chunk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Done {
    pub(crate) job: u64,
    pub(crate) first: u64,
    pub(crate) count: u64,
}

fn words(out: &mut Vec<u8>, words: &[u64]) {
    for w in words {
        out.extend_from_slice(&w.to_le_bytes());
    }
}

fn word(bytes: &[u8], i: usize) -> Option<u64> {
    let b = bytes.get(i * 8..i * 8 + 8)?;
    Some(u64::from_le_bytes(b.try_into().ok()?))
}

impl Task {
    /// The message: this header, then `items`.
    #[cfg(test)]
    pub(crate) fn encode<T: SharedLayout>(&self, items: &[T]) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode_into(items, &mut out);
        out
    }

    /// The message, into `out` (emptied first: a buffer kept from one chunk to the next).
    pub(crate) fn encode_into<T: SharedLayout>(&self, items: &[T], out: &mut Vec<u8>) {
        out.clear();
        out.reserve(TASK_WORDS * 8 + size_of_val(items));
        words(
            out,
            &[
                self.job,
                self.entry as u64,
                self.tag,
                self.first,
                self.count,
            ],
        );
        append(out, items);
    }

    /// The header of a message, and where its items start; `None` if it is too short.
    pub(crate) fn decode(message: &[u8]) -> Option<(Task, &[u8])> {
        let task = Task {
            job: word(message, 0)?,
            entry: word(message, 1)? as i64,
            tag: word(message, 2)?,
            first: word(message, 3)?,
            count: word(message, 4)?,
        };
        Some((task, &message[TASK_WORDS * 8..]))
    }
}

impl Done {
    /// The message: this header, then `items`.
    pub(crate) fn encode<R: SharedLayout>(&self, items: &[R]) -> Vec<u8> {
        let mut out = Vec::with_capacity(RESULT_WORDS * 8 + size_of_val(items));
        words(&mut out, &[self.job, self.first, self.count]);
        append(&mut out, items);
        out
    }

    /// The bytes where a result message's items start.
    pub(crate) const ITEMS_AT: usize = RESULT_WORDS * 8;

    /// The header of a message, and where its items start; `None` if it is too short.
    pub(crate) fn decode(message: &[u8]) -> Option<(Done, &[u8])> {
        let done = Done {
            job: word(message, 0)?,
            first: word(message, 1)?,
            count: word(message, 2)?,
        };
        Some((done, &message[RESULT_WORDS * 8..]))
    }
}

/// Appends the bytes of `items`' C layout, padding zeroed.
fn append<T: SharedLayout>(out: &mut Vec<u8>, items: &[T]) {
    let size = size_of::<T>();
    if size == 0 || items.is_empty() {
        return;
    }
    if dense::<T>() {
        // SAFETY: `items` is `size_of_val(items)` bytes of live values, and every one of
        // those bytes is a byte of some primitive field (the type has no padding at any
        // depth: `dense`), so initialised; the slice lives only for this statement.
        out.extend_from_slice(unsafe {
            core::slice::from_raw_parts(items.as_ptr().cast::<u8>(), size_of_val(items))
        });
        return;
    }
    // The values are stored field by field into zeroed memory aligned for `T` (so padding
    // stays zero and every byte is initialised), then copied out as bytes in one go.
    let mut slots: Vec<T> = vec![zeroed::<T>(); items.len()];
    for (slot, item) in slots.iter_mut().zip(items) {
        // SAFETY: `slot` is one `T` of `slots`, aligned, live for this statement, and
        // nothing else refers to it meanwhile.
        unsafe { Place::new(NonNull::from(slot)) }.store(*item);
    }
    // SAFETY: the bytes of `slots` were all initialised (zeroed, then fields stored), and
    // `slots` lives until the end of this function.
    let bytes = unsafe {
        core::slice::from_raw_parts(slots.as_ptr().cast::<u8>(), size_of_val(&slots[..]))
    };
    out.extend_from_slice(bytes);
}

/// True when a `T`'s bytes are all bytes of its fields (no padding at any depth), as its
/// layout says (which `SharedLayout`'s contract makes exact), and Rust agrees on its size.
fn dense<T: SharedLayout>() -> bool {
    const { T::LAYOUT.is_dense() && T::LAYOUT.size == size_of::<T>() }
}

/// The `count` values whose C layout `bytes` holds; `None` unless it holds exactly that
/// many.
pub(crate) fn items<T: SharedLayout>(bytes: &[u8], count: u64) -> Option<Vec<T>> {
    let count = usize::try_from(count).ok()?;
    // Checked before allocating: `count` comes from another process.
    if bytes.len() != count.checked_mul(size_of::<T>())? {
        return None;
    }
    let mut out: Vec<T> = vec![zeroed::<T>(); count];
    copy_items(bytes, &mut out)?;
    Some(out)
}

/// Overwrites `out` with the values whose C layout `bytes` holds; `None` (nothing written)
/// unless `bytes` holds exactly `out.len()` of them.
pub(crate) fn copy_items<T: SharedLayout>(bytes: &[u8], out: &mut [T]) -> Option<()> {
    if bytes.len() != size_of_val(out) {
        return None;
    }
    // SAFETY: `out` is `size_of_val(out) == bytes.len()` writable bytes, which do not
    // overlap `bytes` (a shared and an exclusive borrow); every bit pattern is a valid `T`
    // (the `SharedLayout` contract), so every element still holds a valid value after.
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), out.as_mut_ptr().cast::<u8>(), bytes.len());
    }
    Some(())
}

/// A `T` of zero bytes.
fn zeroed<T: SharedLayout>() -> T {
    // SAFETY: every bit pattern of `T`'s size, zeros included, is a valid `T` (the
    // `SharedLayout` contract).
    unsafe { core::mem::zeroed() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_survive_the_trip() {
        let xs = [[1u32, 2, 3], [4, 5, u32::MAX]];
        let task = Task {
            job: 7,
            entry: -42,
            tag: 9,
            first: 100,
            count: 2,
        };
        let message = task.encode(&xs);
        assert_eq!(message.len(), 40 + 24);
        assert_eq!(&message[40..44], &1u32.to_le_bytes());
        let (back, rest) = Task::decode(&message).unwrap();
        assert_eq!(back, task);
        assert_eq!(items::<[u32; 3]>(rest, 2).unwrap(), xs);
        assert_eq!(items::<[u32; 3]>(rest, 3), None);
        assert_eq!(Task::decode(&message[..39]), None);
        let done = Done {
            job: 1,
            first: 2,
            count: 1,
        };
        let message = done.encode(&[-1.5f64]);
        let (back, rest) = Done::decode(&message).unwrap();
        assert_eq!((back, items::<f64>(rest, 1).unwrap()), (done, vec![-1.5]));
        assert_eq!(Done::ITEMS_AT, message.len() - 8);
    }

    #[test]
    fn dense_items_are_copied_as_they_are_and_a_count_is_checked_first() {
        assert!(dense::<[u32; 3]>() && dense::<f64>());
        let xs = [0x0102_0304u32, u32::MAX];
        let mut out = vec![0xAA; 3];
        Task {
            job: 1,
            entry: 0,
            tag: 0,
            first: 0,
            count: 2,
        }
        .encode_into(&xs, &mut out);
        assert_eq!(out.len(), 40 + 8, "emptied first");
        assert_eq!(&out[40..], [4, 3, 2, 1, 255, 255, 255, 255]);
        let mut back = [0u32; 2];
        assert_eq!(copy_items(&out[40..], &mut back), Some(()));
        assert_eq!(back, xs);
        assert_eq!(copy_items(&out[41..], &mut back), None);
        // A count no message could hold is refused before anything is allocated for it.
        assert_eq!(items::<u64>(&out[40..], u64::MAX / 2), None);
    }
}
