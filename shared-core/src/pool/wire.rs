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
    pub(crate) fn encode<T: SharedLayout>(&self, items: &[T]) -> Vec<u8> {
        let mut out = Vec::with_capacity(TASK_WORDS * 8 + size_of_val(items));
        words(
            &mut out,
            &[
                self.job,
                self.entry as u64,
                self.tag,
                self.first,
                self.count,
            ],
        );
        append(&mut out, items);
        out
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

pub(crate) fn items<T: SharedLayout>(bytes: &[u8], count: u64) -> Option<Vec<T>> {
    let size = size_of::<T>();
    let count = usize::try_from(count).ok()?;
    if bytes.len() != count.checked_mul(size)? {
        return None;
    }
    let mut out: Vec<T> = vec![zeroed::<T>(); count];
    // SAFETY: `out` holds `count` `T`s, `count * size == bytes.len()` bytes, which do not
    // overlap `bytes`; every bit pattern is a valid `T` (the `SharedLayout` contract).
    unsafe {
        core::ptr::copy_nonoverlapping(bytes.as_ptr(), out.as_mut_ptr().cast::<u8>(), bytes.len());
    }
    Some(out)
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
    }
}
