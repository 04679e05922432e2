//! [`BytesQueue`]: a bounded FIFO of byte messages of any length (Python's `Queue` of
//! pickled objects).

use core::fmt;
use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;

use super::ring::{At, Ring, TAG_BYTES_QUEUE, Wait};
use crate::description::{Description, Kind};
use crate::error::{Error, Result};
use crate::lock::Lock;
use crate::named::{self, Named, Plan};
use crate::share::sealed::Object;
use crate::share::{Exporter, Importer};

/// Bytes of a message's length prefix.
const PREFIX: u64 = 8;

/// The ring bytes a message of `len` bytes takes: its prefix, and itself rounded up to 8.
fn footprint(len: usize) -> Option<u64> {
    (len as u64)
        .checked_next_multiple_of(8)?
        .checked_add(PREFIX)
}

/// The error for a state another process left inconsistent.
fn corrupt(what: String) -> Error {
    Error::InvalidHandle {
        reason: format!("the BytesQueue's state is corrupt: {what}"),
    }
}

/// Refuses a message position (`tail` for a put, `head` for a get) that is not a multiple
/// of 8: only a writer of the state that is not a queue's puts one there, and a message
/// written at it would overwrite the last word of the one before.
fn check_position(pos: u64) -> Result<()> {
    if pos % 8 != 0 {
        return Err(corrupt(format!(
            "its next message is at byte {pos}, not a multiple of 8"
        )));
    }
    Ok(())
}

/// A bounded multi-producer, multi-consumer FIFO of byte messages in shared memory, each of
/// any length up to what the queue holds (Python's `multiprocessing.Queue`, whose items are
/// pickled to bytes). Messages are copied into a ring of `capacity_bytes`, each behind an
/// 8-byte length and padded to a multiple of 8; zero-length messages are messages too.
///
/// Everything else is as for [`Queue`](crate::Queue): blocking, `_timeout` and `try_`
/// forms, [`close`](Self::close), sharing every way, and robustness to a process killed at
/// any instruction ([`Error::ParticipantDied`]).
///
/// To send structured messages, serialise them: with serde and a format such as
/// `serde_json`, `postcard` or `bincode`, `q.put(&serde_json::to_vec(&msg)?)?` and
/// `serde_json::from_slice(&q.get()?)?`; the `bytes_queue_serde` example shows it.
///
/// ```
/// use sharedctypes::{BytesQueue, Process};
/// let q = BytesQueue::new(4096)?;
/// let child = Process::start(|| -> sharedctypes::Result<()> {
///     q.put(b"hello")?;
///     q.put(b"")?;
///     q.put("wörld".as_bytes())
/// })?;
/// assert_eq!(q.get()?, b"hello");
/// assert_eq!(q.get()?, b"");
/// assert_eq!(String::from_utf8(q.get()?).unwrap(), "wörld");
/// assert_eq!(child.join()?, 0);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub struct BytesQueue {
    ring: Ring,
}

impl BytesQueue {
    /// An empty queue of `capacity_bytes` bytes of ring (rounded up to a multiple of 8):
    /// a message of `n` bytes takes `n` rounded up to 8, plus 8.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a capacity under 8 bytes; [`Error::SizeOverflow`];
    /// [`Error::OutOfMemory`] and the errors of the heap.
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(100)?;
    /// assert_eq!(q.capacity(), 104);
    /// assert_eq!(q.max_message(), 96);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn new(capacity_bytes: usize) -> Result<Self> {
        let capacity = Self::capacity_of(capacity_bytes)?;
        Ok(BytesQueue {
            ring: Ring::new(TAG_BYTES_QUEUE, None, capacity)?,
        })
    }

    fn capacity_of(capacity_bytes: usize) -> Result<u64> {
        if capacity_bytes < PREFIX as usize {
            return Err(Error::InvalidArgument {
                reason: format!(
                    "a BytesQueue of {capacity_bytes} bytes cannot hold even an empty message (8 bytes)"
                ),
            });
        }
        (capacity_bytes as u64)
            .checked_next_multiple_of(8)
            .ok_or(Error::SizeOverflow {
                len: capacity_bytes,
                elem_size: 1,
            })
    }

    /// The ring's `n` 64-bit words from word `first` (taken modulo the ring's length in
    /// words), wrapping around its end at most once (`n` is at most that length).
    fn words(&self, first: u64, n: usize) -> impl Iterator<Item = &AtomicU64> {
        let total = (self.ring.capacity() / 8) as usize;
        let ptr = self.ring.ring_ptr().cast::<AtomicU64>();
        // SAFETY: the ring holds `capacity` bytes (a multiple of 8; its data part was laid
        // out, and checked on receipt, for them) from an offset of 256 in a block aligned to
        // 64, so `total` words from `ptr` lie in the block, aligned; the block lives as long
        // as `self`, and every access to it is atomic (`AtomicU64` has `u64`'s layout).
        let ring = unsafe { core::slice::from_raw_parts(ptr.cast_const(), total) };
        let start = Ring::index(first, total as u64) as usize;
        ring[start..].iter().chain(&ring[..start]).take(n)
    }

    /// The ring, for the ring's tests.
    #[cfg(test)]
    pub(super) fn ring(&self) -> &Ring {
        &self.ring
    }

    fn put_wait(&self, message: &[u8], wait: Wait) -> Result<bool> {
        let need = self.need(message)?;
        self.ring
            .put(need, wait, |_, at: At| self.write_message(at.pos, message))
    }

    /// The units `message` takes, if it can ever fit; else the error that says so.
    fn need(&self, message: &[u8]) -> Result<u64> {
        footprint(message.len())
            .filter(|&n| n <= self.ring.capacity())
            .ok_or(Error::MessageTooLarge {
                len: message.len(),
                capacity: self.ring.capacity() as usize,
            })
    }

    /// Writes `message` (its length, then its bytes padded to 8) at byte `pos` of the ring,
    /// which has room for it; checks the position.
    fn write_message(&self, pos: u64, message: &[u8]) -> Result<()> {
        check_position(pos)?;
        let mut words = self.words(pos / 8, 1 + message.len().div_ceil(8));
        if let Some(length) = words.next() {
            length.store(message.len() as u64, Ordering::Relaxed);
        }
        let mut chunks = message.chunks_exact(8);
        // `chunks` first: `zip` asks it first, so the word after the last whole chunk
        // is not taken (and lost) when the chunks run out.
        for (chunk, word) in (&mut chunks).zip(&mut words) {
            let bytes: [u8; 8] = chunk.try_into().unwrap_or_default();
            word.store(u64::from_le_bytes(bytes), Ordering::Relaxed);
        }
        if let Some(word) = words.next() {
            let tail = chunks.remainder();
            let mut bytes = [0u8; 8];
            bytes[..tail.len()].copy_from_slice(tail);
            word.store(u64::from_le_bytes(bytes), Ordering::Relaxed);
        }
        Ok(())
    }

    /// Puts as many of `messages` as there is room for, in order and at once, waiting while
    /// there is not room for the first: how many were put, at least one (`Ok(0)` for no
    /// messages, without a look at the queue). One acquisition of the putters' lock and one
    /// wake-up per getter for the batch; getters see it all at once, and a process killed in
    /// the middle of one puts none of it. A later message that could never fit ends the
    /// batch before it (the call that starts with it reports it).
    ///
    /// # Errors
    /// As for [`put`](Self::put) (for the first message): nothing was put.
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(48)?;
    /// assert_eq!(q.put_many(&["ab", "cde", "fghij"].map(str::as_bytes))?, 3); // 16 bytes each
    /// assert_eq!(q.try_put_many(&[b"x"])?, 0); // full
    /// assert_eq!(q.get_many(8)?, [&b"ab"[..], b"cde", b"fghij"]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn put_many<M: AsRef<[u8]>>(&self, messages: &[M]) -> Result<usize> {
        self.put_many_wait(messages, Wait::Until(None))
    }

    /// [`put_many`](Self::put_many), waiting at most `timeout` for room for the first
    /// message: `Ok(0)` if there was none.
    ///
    /// # Errors
    /// As for [`put_many`](Self::put_many).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(32)?;
    /// let ms = Duration::from_millis(10);
    /// assert_eq!(q.put_many_timeout(&[b"1", b"2", b"3"], ms)?, 2); // room for two
    /// assert_eq!(q.put_many_timeout(&[b"3"], ms)?, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn put_many_timeout<M: AsRef<[u8]>>(
        &self,
        messages: &[M],
        timeout: Duration,
    ) -> Result<usize> {
        self.put_many_wait(messages, Wait::timeout(timeout))
    }

    /// [`put_many`](Self::put_many) only if there is room for the first message now: `Ok(0)`
    /// if not (also if another putter keeps the putters' lock more than a millisecond).
    ///
    /// # Errors
    /// As for [`put_many`](Self::put_many).
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(32)?;
    /// assert_eq!(q.try_put_many(&[b"a", b"b"])?, 2); // 16 bytes each
    /// assert_eq!(q.try_put_many(&[b""])?, 0); // full
    /// assert_eq!(q.try_get_many(8)?, [b"a", b"b"]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_put_many<M: AsRef<[u8]>>(&self, messages: &[M]) -> Result<usize> {
        self.put_many_wait(messages, Wait::No)
    }

    fn put_many_wait<M: AsRef<[u8]>>(&self, messages: &[M], wait: Wait) -> Result<usize> {
        // Each message's bytes asked for once, as far as a ring's worth goes (what fits at
        // most; each call looks at no more, so a loop over a long slice stays linear).
        let capacity = self.ring.capacity();
        let mut total = 0u64;
        let slices: Vec<&[u8]> = messages
            .iter()
            .map(AsRef::as_ref)
            .take_while(|m| {
                let go = total < capacity;
                total = total.saturating_add(footprint(m.len()).unwrap_or(u64::MAX));
                go
            })
            .collect();
        let Some(first) = slices.first() else {
            return Ok(0);
        };
        let need = self.need(first)?;
        // As far as the messages that could ever fit go (the first call to reach one that
        // cannot reports it).
        let want = slices
            .iter()
            .map_while(|m| footprint(m.len()).filter(|&n| n <= capacity))
            .fold(0u64, u64::saturating_add);
        let put = self.ring.put_some(need, want, wait, |ring, at: At| {
            let room = ring.capacity() - at.used;
            let (mut units, mut n) = (0, 0);
            for &message in &slices {
                match footprint(message.len()) {
                    Some(f) if f <= room - units => {
                        self.write_message(at.pos.wrapping_add(units), message)?;
                        units += f;
                        n += 1;
                    }
                    _ => break,
                }
            }
            Ok((units, n))
        })?;
        Ok(put.map_or(0, |(_, n)| n as usize))
    }

    fn get_wait(&self, wait: Wait) -> Result<Option<Vec<u8>>> {
        self.ring
            .get(wait, |_, at: At| self.read_message(at.pos, at.used))
    }

    /// The message at byte `pos` of a ring with `used` bytes in use from there, and the bytes
    /// it takes; checked (its position, and its length against `used`).
    fn read_message(&self, pos: u64, used: u64) -> Result<(Vec<u8>, u64)> {
        check_position(pos)?;
        let first = pos / 8;
        let len = self
            .words(first, 1)
            .next()
            .map_or(0, |w| w.load(Ordering::Relaxed));
        let took = usize::try_from(len)
            .ok()
            .and_then(footprint)
            .filter(|&n| n <= used)
            .ok_or_else(|| {
                corrupt(format!(
                    "a message of {len} bytes where {used} bytes are in use"
                ))
            })?;
        let len = len as usize;
        let mut out = vec![0u8; len];
        let mut words = self.words(first + 1, len.div_ceil(8));
        // Whole words first (a fixed-size copy each, no call), then the partial one;
        // `chunks` is asked first, so no word is taken (and lost) past the last chunk.
        let mut chunks = out.chunks_exact_mut(8);
        for (chunk, word) in (&mut chunks).zip(&mut words) {
            chunk.copy_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
        }
        let rest = chunks.into_remainder();
        if let (false, Some(word)) = (rest.is_empty(), words.next()) {
            let bytes = word.load(Ordering::Relaxed).to_le_bytes();
            rest.copy_from_slice(&bytes[..rest.len()]);
        }
        Ok((out, took))
    }

    /// Puts `message` at the back, waiting while there is not room for it.
    ///
    /// # Errors
    /// [`Error::MessageTooLarge`] for a message longer than [`max_message`](Self::max_message);
    /// [`Error::Closed`] once closed; [`Error::ParticipantDied`] (once) after a process died
    /// in the middle of an operation: the message was not put.
    ///
    /// ```
    /// use sharedctypes::{BytesQueue, Error};
    /// let q = BytesQueue::new(64)?;
    /// q.put(&[1, 2, 3])?;
    /// assert_eq!(
    ///     q.put(&[0; 100]),
    ///     Err(Error::MessageTooLarge { len: 100, capacity: 64 })
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn put(&self, message: &[u8]) -> Result<()> {
        self.put_wait(message, Wait::Until(None)).map(drop)
    }

    /// [`put`](Self::put), waiting at most `timeout` for room: `false` if there was none.
    ///
    /// # Errors
    /// As for [`put`](Self::put).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(16)?;
    /// assert!(q.put_timeout(b"12345678", Duration::from_millis(10))?);
    /// assert!(!q.put_timeout(b"x", Duration::from_millis(10))?); // 16 bytes in use
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn put_timeout(&self, message: &[u8], timeout: Duration) -> Result<bool> {
        self.put_wait(message, Wait::timeout(timeout))
    }

    /// [`put`](Self::put) only if there is room now; `false` also if another putter keeps
    /// the putters' lock more than a millisecond (see the [module docs](crate::queue)).
    ///
    /// # Errors
    /// As for [`put`](Self::put).
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(8)?;
    /// assert!(q.try_put(b"")?);
    /// assert!(!q.try_put(b"")?);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_put(&self, message: &[u8]) -> Result<bool> {
        self.put_wait(message, Wait::No)
    }

    /// Takes the message at the front, waiting while there is none.
    ///
    /// # Errors
    /// [`Error::Closed`] once closed and empty; [`Error::ParticipantDied`] (once) after a
    /// process died in the middle of an operation: nothing was taken.
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(64)?;
    /// q.put(b"abc")?;
    /// assert_eq!(q.get()?, b"abc");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn get(&self) -> Result<Vec<u8>> {
        Ok(self
            .get_wait(Wait::Until(None))?
            .expect("a wait without deadline ends with a message"))
    }

    /// [`get`](Self::get), waiting at most `timeout`: `None` if nothing came.
    ///
    /// # Errors
    /// As for [`get`](Self::get).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(64)?;
    /// assert_eq!(q.get_timeout(Duration::from_millis(5))?, None);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<Option<Vec<u8>>> {
        self.get_wait(Wait::timeout(timeout))
    }

    /// [`get`](Self::get) only if a message is there now; `None` also if another getter
    /// keeps the getters' lock more than a millisecond (see the [module docs](crate::queue)).
    ///
    /// # Errors
    /// As for [`get`](Self::get).
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(64)?;
    /// assert_eq!(q.try_get()?, None);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_get(&self) -> Result<Option<Vec<u8>>> {
        self.get_wait(Wait::No)
    }

    /// Takes up to `max` messages at once, in order, waiting while there is none: every
    /// message there is, up to `max`, at least one (the Python module's `get_many(n)`). One
    /// acquisition of the getters' lock for the batch.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a `max` of 0; otherwise as for [`get`](Self::get):
    /// nothing was taken. (Messages before one that another process left corrupt are taken;
    /// the next get reports the corruption.)
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(64)?;
    /// for m in [&b"ab"[..], b"", b"cde"] {
    ///     q.put(m)?;
    /// }
    /// assert_eq!(q.get_many(2)?, [&b"ab"[..], b""]);
    /// assert_eq!(q.get_many(10)?, [b"cde"]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn get_many(&self, max: usize) -> Result<Vec<Vec<u8>>> {
        self.get_many_wait(max, Wait::Until(None))
    }

    /// [`get_many`](Self::get_many), waiting at most `timeout` for a message: empty if none
    /// came.
    ///
    /// # Errors
    /// As for [`get_many`](Self::get_many).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(64)?;
    /// assert!(q.get_many_timeout(4, Duration::from_millis(10))?.is_empty());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn get_many_timeout(&self, max: usize, timeout: Duration) -> Result<Vec<Vec<u8>>> {
        self.get_many_wait(max, Wait::timeout(timeout))
    }

    /// [`get_many`](Self::get_many) only of what is there now: empty if nothing is (also if
    /// another getter keeps the getters' lock more than a millisecond).
    ///
    /// # Errors
    /// As for [`get_many`](Self::get_many).
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(64)?;
    /// assert!(q.try_get_many(4)?.is_empty());
    /// q.put(b"x")?;
    /// assert_eq!(q.try_get_many(4)?, [b"x"]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_get_many(&self, max: usize) -> Result<Vec<Vec<u8>>> {
        self.get_many_wait(max, Wait::No)
    }

    fn get_many_wait(&self, max: usize, wait: Wait) -> Result<Vec<Vec<u8>>> {
        if max == 0 {
            return Err(Error::InvalidArgument {
                reason: "get_many needs a max of at least 1".into(),
            });
        }
        // A fresh look at `tail` (wanting the whole ring): every message there is.
        let got = self.ring.get_some(u64::MAX, wait, |_, at: At| {
            let mut out = Vec::new();
            let mut took = 0;
            while took < at.used && out.len() < max {
                match self.read_message(at.pos.wrapping_add(took), at.used - took) {
                    Ok((message, t)) => {
                        out.push(message);
                        took += t;
                    }
                    // What came before is whole: taken; the next get reports the rest.
                    Err(_) if !out.is_empty() => break,
                    Err(e) => return Err(e),
                }
            }
            Ok((out, took))
        })?;
        Ok(got.unwrap_or_default())
    }

    /// Bytes of ring in use now (messages with their prefixes and padding).
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(64)?;
    /// q.put(b"abc")?;
    /// assert_eq!(q.used_bytes(), 16);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn used_bytes(&self) -> usize {
        self.ring.used() as usize
    }

    /// True if a message of `len` bytes would fit now, next to what is in the queue (a hint:
    /// others may put or get meanwhile).
    pub(crate) fn has_room_for(&self, len: usize) -> bool {
        footprint(len).is_some_and(|need| self.ring.capacity() - self.ring.used() >= need)
    }

    /// True if no message is in the queue now.
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// assert!(BytesQueue::new(8)?.is_empty());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.ring.used() == 0
    }

    /// The ring's size in bytes.
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// assert_eq!(BytesQueue::new(4096)?.capacity(), 4096);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.ring.capacity() as usize
    }

    /// The longest message the queue can hold: its capacity less 8.
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(64)?;
    /// assert!(q.try_put(&[7; 56])?); // fills it
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn max_message(&self) -> usize {
        (self.ring.capacity() - PREFIX) as usize
    }

    /// Closes the queue for every process (see [`Queue::close`](crate::Queue::close)).
    ///
    /// ```
    /// use sharedctypes::{BytesQueue, Error};
    /// let q = BytesQueue::new(64)?;
    /// q.put(b"last")?;
    /// q.close();
    /// assert_eq!(q.get()?, b"last");
    /// assert_eq!(q.get(), Err(Error::Closed));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn close(&self) {
        self.ring.close();
    }

    /// True once closed (by any process).
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// assert!(!BytesQueue::new(8)?.is_closed());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.ring.is_closed()
    }

    /// An iterator that [`get`](Self::get)s until the queue is closed and drained (see
    /// [`Queue::iter`](crate::Queue::iter)).
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// let q = BytesQueue::new(64)?;
    /// q.put(b"a")?;
    /// q.put(b"bc")?;
    /// q.close();
    /// assert_eq!(q.iter().map(|m| m.len()).sum::<usize>(), 3);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn iter(&self) -> BytesIter<'_> {
        BytesIter { queue: self }
    }

    /// Creates the named queue `name` of `capacity_bytes` (see [`named`](crate::named)).
    ///
    /// # Errors
    /// As for [`new`](Self::new), and [`Error::AlreadyExists`], [`Error::InvalidName`],
    /// [`Error::PermissionDenied`].
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// # let name = format!("sharedctypes-doc-bytes-queue-{}", std::process::id());
    /// let q = BytesQueue::create_named(&name, 1024)?;
    /// BytesQueue::open_named(&name)?.put(b"by name")?;
    /// assert_eq!(q.get()?, b"by name");
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str, capacity_bytes: usize) -> Result<Named<Self>> {
        Self::create_named_with_mode(name, capacity_bytes, named::DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode`.
    ///
    /// # Errors
    /// As for [`create_named`](Self::create_named).
    ///
    /// ```
    /// use sharedctypes::BytesQueue;
    /// # let name = format!("sharedctypes-doc-bytes-queue-mode-{}", std::process::id());
    /// let q = BytesQueue::create_named_with_mode(&name, 64, 0o600)?;
    /// assert_eq!(q.capacity(), 64);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(
        name: &str,
        capacity_bytes: usize,
        mode: u32,
    ) -> Result<Named<Self>> {
        let capacity = Self::capacity_of(capacity_bytes)?;
        let (_, len, align) = Ring::layout(None, capacity)?;
        let plan = Plan::queue(Kind::BytesQueue, None, capacity, len, align);
        named::create(name, mode, plan, |p| {
            let lock = Lock::create_in(p.lock())?;
            Ok(BytesQueue {
                ring: Ring::create_in(p.data(), lock, TAG_BYTES_QUEUE, None, capacity)?,
            })
        })
    }

    crate::named::open_named_methods!(
        r#"```
use sharedctypes::{BytesQueue, Error, Queue};
# let name = format!("sharedctypes-doc-bytes-queue-open-{}", std::process::id());
let _q = BytesQueue::create_named(&name, 256)?;
assert_eq!(BytesQueue::open_named(&name)?.capacity(), 256);
assert!(matches!(Queue::<u8>::open_named(&name), Err(Error::NotNamedObject { .. })));
# Ok::<(), sharedctypes::Error>(())
```"#,
        r#"```
use sharedctypes::{BytesQueue, named::OpenOptions};
# let name = format!("sharedctypes-doc-bytes-queue-open-with-{}", std::process::id());
let _q = BytesQueue::create_named(&name, 64)?;
assert!(BytesQueue::open_named_with(&name, OpenOptions::default())?.is_empty());
# Ok::<(), sharedctypes::Error>(())
```"#
    );
}

/// The iterator of [`BytesQueue::iter`].
#[derive(Debug)]
pub struct BytesIter<'a> {
    queue: &'a BytesQueue,
}

impl Iterator for BytesIter<'_> {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        loop {
            match self.queue.get() {
                Ok(message) => return Some(message),
                Err(Error::ParticipantDied { .. }) => continue,
                Err(_) => return None,
            }
        }
    }
}

impl fmt::Debug for BytesQueue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BytesQueue")
            .field("used_bytes", &self.ring.used())
            .field("capacity", &self.ring.capacity())
            .field("closed", &self.ring.is_closed())
            .finish()
    }
}

impl Object for BytesQueue {
    fn export(&self, out: &mut Exporter) -> Result<Description> {
        self.ring.export(Kind::BytesQueue, None, out)
    }

    fn import(d: &Description, from: &Importer<'_>) -> Result<Self> {
        Ok(BytesQueue {
            ring: Ring::receive(d, from, Kind::BytesQueue, TAG_BYTES_QUEUE)?,
        })
    }
}
