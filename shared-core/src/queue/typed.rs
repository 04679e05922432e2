//! [`Queue`]: a bounded FIFO of records in shared memory (Python's `multiprocessing.Queue`).

use core::fmt;
use core::marker::PhantomData;
use core::ptr::NonNull;
use core::time::Duration;

use super::ring::{At, Ring, TAG_QUEUE, Wait};
use crate::access::{Place, SharedLayout};
use crate::description::{Description, ElemType, Kind};
use crate::error::{Error, Result};
use crate::lock::Lock;
use crate::named::{self, Named, Plan};
use crate::share::sealed::Object;
use crate::share::{Exporter, Importer};

/// A bounded multi-producer, multi-consumer FIFO of `T` records in shared memory (Python's
/// `multiprocessing.Queue(maxsize)`), for threads, forked, spawned and commanded processes,
/// and processes that open it by name.
///
/// Items are copied into `capacity` slots under the putters' robust lock and out under the
/// getters' (a producer and a consumer never wait for each other); a full queue makes
/// `put` wait, an empty one makes `get` wait (spinning briefly, then sleeping on a futex),
/// each with `_timeout` and `try_` forms. After [`close`](Self::close), `put` fails with
/// [`Error::Closed`] and `get` drains what is left, then fails with [`Error::Closed`]:
/// [`iter`](Self::iter) yields until then. [`put_many`](Self::put_many) and
/// [`get_many`](Self::get_many) move records in batches, one lock acquisition and one
/// wake-up per batch: the fastest way through (see the README's benchmarks).
///
/// A process killed at any instruction of an operation loses at most the item (or batch) it
/// was moving; no item is ever received twice or half-written, nobody is left blocked, and the
/// next operation on its side (a put after a putter's death, a get after a getter's) reports
/// the death with [`Error::ParticipantDied`] (doing nothing; the one after works as usual).
///
/// ```
/// use sharedctypes::{Process, Queue, SharedLayout};
///
/// #[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
/// #[repr(C)]
/// struct Job {
///     id: u32,
///     weight: f32,
/// }
///
/// let jobs = Queue::<Job>::new(16)?;
/// let producer = Process::start(|| -> sharedctypes::Result<()> {
///     for id in 0..100 {
///         jobs.put(Job { id, weight: 0.5 })?;
///     }
///     jobs.close();
///     Ok(())
/// })?;
/// let total: u32 = jobs.iter().map(|j| j.id).sum();
/// assert_eq!(total, 4950);
/// assert_eq!(producer.join()?, 0);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub struct Queue<T> {
    ring: Ring,
    _items: PhantomData<T>,
}

impl<T: SharedLayout> Queue<T> {
    /// An empty queue with room for `capacity` items (Python's `Queue(maxsize)`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a capacity of 0; [`Error::SizeOverflow`];
    /// [`Error::OutOfMemory`] and the errors of the heap.
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// let q = Queue::<f64>::new(4)?;
    /// assert_eq!((q.capacity(), q.len(), q.is_empty()), (4, 0, true));
    /// assert!(Queue::<f64>::new(0).is_err());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn new(capacity: usize) -> Result<Self> {
        Self::check_capacity(capacity)?;
        Ok(Queue {
            ring: Ring::new(TAG_QUEUE, Some(&ElemType::of::<T>()), capacity as u64)?,
            _items: PhantomData,
        })
    }

    fn check_capacity(capacity: usize) -> Result<()> {
        if capacity == 0 {
            return Err(Error::InvalidArgument {
                reason: "a queue needs a capacity of at least 1".into(),
            });
        }
        Ok(())
    }

    /// The slot of unit `pos`.
    fn slot(&self, pos: u64) -> Place<'_, T> {
        let index = Ring::index(pos, self.ring.capacity()) as usize;
        let ptr = self
            .ring
            .ring_ptr()
            .wrapping_add(index * core::mem::size_of::<T>())
            .cast::<T>();
        // SAFETY: `index < capacity`, and the ring holds `capacity` slots of `T` (its data
        // part was laid out, and checked on receipt, for `capacity` elements of `T`'s
        // size), starting at a multiple of `T`'s alignment in a block aligned to it; the
        // block lives as long as `self`, and places are only accessed by atomic copies.
        unsafe { Place::new(NonNull::new(ptr).expect("inside a block")) }
    }

    /// The ring, for the ring's tests.
    #[cfg(test)]
    pub(super) fn ring(&self) -> &Ring {
        &self.ring
    }

    fn put_wait(&self, value: T, wait: Wait) -> Result<bool> {
        self.ring.put(1, wait, |_, at: At| {
            self.slot(at.pos).store(value);
            Ok(())
        })
    }

    fn get_wait(&self, wait: Wait) -> Result<Option<T>> {
        self.ring
            .get(wait, |_, at: At| Ok((self.slot(at.pos).load(), 1)))
    }

    /// Puts `value` at the back, waiting while the queue is full (Python's `put(x)`).
    ///
    /// # Errors
    /// [`Error::Closed`] once [`close`](Self::close)d; [`Error::ParticipantDied`] (once) after
    /// a process died in the middle of an operation: `value` was not put.
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// let q = Queue::new(2)?;
    /// q.put(7u16)?;
    /// assert_eq!(q.get()?, 7);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn put(&self, value: T) -> Result<()> {
        self.put_wait(value, Wait::Until(None)).map(drop)
    }

    /// [`put`](Self::put), waiting at most `timeout` for room: `false` if there was none
    /// (Python's `put(x, timeout=t)`, without the exception).
    ///
    /// # Errors
    /// As for [`put`](Self::put).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::Queue;
    /// let q = Queue::new(1)?;
    /// assert!(q.put_timeout(1i32, Duration::from_millis(10))?);
    /// assert!(!q.put_timeout(2i32, Duration::from_millis(10))?); // full
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn put_timeout(&self, value: T, timeout: Duration) -> Result<bool> {
        self.put_wait(value, Wait::timeout(timeout))
    }

    /// [`put`](Self::put) only if there is room now (Python's `put_nowait`); `false` also
    /// if another putter keeps the putters' lock more than a millisecond (see the
    /// [module docs](crate::queue)).
    ///
    /// # Errors
    /// As for [`put`](Self::put).
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// let q = Queue::new(1)?;
    /// assert!(q.try_put(1u8)?);
    /// assert!(!q.try_put(2u8)?);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_put(&self, value: T) -> Result<bool> {
        self.put_wait(value, Wait::No)
    }

    /// Takes the item at the front, waiting while the queue is empty (Python's `get()`).
    ///
    /// # Errors
    /// [`Error::Closed`] once closed and empty; [`Error::ParticipantDied`] (once) after a
    /// process died in the middle of an operation: nothing was taken.
    ///
    /// ```
    /// use sharedctypes::{Error, Queue};
    /// let q = Queue::new(4)?;
    /// q.put(1.5f64)?;
    /// q.close();
    /// assert_eq!(q.get()?, 1.5); // drained after close ...
    /// assert_eq!(q.get(), Err(Error::Closed)); // ... then closed
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn get(&self) -> Result<T> {
        Ok(self
            .get_wait(Wait::Until(None))?
            .expect("a wait without deadline ends with an item"))
    }

    /// [`get`](Self::get), waiting at most `timeout`: `None` if nothing came.
    ///
    /// # Errors
    /// As for [`get`](Self::get).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::Queue;
    /// let q = Queue::<u64>::new(1)?;
    /// assert_eq!(q.get_timeout(Duration::from_millis(10))?, None);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn get_timeout(&self, timeout: Duration) -> Result<Option<T>> {
        self.get_wait(Wait::timeout(timeout))
    }

    /// [`get`](Self::get) only if an item is there now (Python's `get_nowait`); `None` also
    /// if another getter keeps the getters' lock more than a millisecond (see the
    /// [module docs](crate::queue)).
    ///
    /// # Errors
    /// As for [`get`](Self::get).
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// let q = Queue::new(1)?;
    /// assert_eq!(q.try_get()?, None::<i8>);
    /// q.put(-3i8)?;
    /// assert_eq!(q.try_get()?, Some(-3));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_get(&self) -> Result<Option<T>> {
        self.get_wait(Wait::No)
    }

    /// Puts as many of `items` as there is room for, in order and at once, waiting while the
    /// queue is full: how many were put, at least one (`Ok(0)` for no items, without a look
    /// at the queue, closed or not). A batch costs
    /// one acquisition of the putters' lock and one wake-up, so moving records in batches
    /// costs a fraction of a [`put`](Self::put) each. Getters see the whole batch at once,
    /// and a process killed in the middle of one puts none of it.
    ///
    /// # Errors
    /// As for [`put`](Self::put): nothing was put.
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// let q = Queue::new(4)?;
    /// assert_eq!(q.put_many(&[1u8, 2, 3, 4, 5, 6])?, 4); // room for four
    /// assert_eq!(q.get_many(3)?, [1, 2, 3]);
    /// // Everything, waiting for room as it goes:
    /// let items = [5u8, 6];
    /// let mut sent = 0;
    /// while sent < items.len() {
    ///     sent += q.put_many(&items[sent..])?;
    /// }
    /// assert_eq!(q.get_many(8)?, [4, 5, 6]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn put_many(&self, items: &[T]) -> Result<usize> {
        self.put_many_wait(items, Wait::Until(None))
    }

    /// [`put_many`](Self::put_many), waiting at most `timeout` for room: `Ok(0)` if there was
    /// none.
    ///
    /// # Errors
    /// As for [`put`](Self::put).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::Queue;
    /// let q = Queue::new(2)?;
    /// assert_eq!(q.put_many_timeout(&[1u8, 2, 3], Duration::from_millis(10))?, 2);
    /// assert_eq!(q.put_many_timeout(&[3u8], Duration::from_millis(10))?, 0); // full
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn put_many_timeout(&self, items: &[T], timeout: Duration) -> Result<usize> {
        self.put_many_wait(items, Wait::timeout(timeout))
    }

    /// [`put_many`](Self::put_many) only if there is room now: `Ok(0)` if there is none (also
    /// if another putter keeps the putters' lock more than a millisecond).
    ///
    /// # Errors
    /// As for [`put`](Self::put).
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// let q = Queue::new(2)?;
    /// assert_eq!(q.try_put_many(&[1u8, 2, 3])?, 2);
    /// assert_eq!(q.try_put_many(&[3u8])?, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_put_many(&self, items: &[T]) -> Result<usize> {
        self.put_many_wait(items, Wait::No)
    }

    fn put_many_wait(&self, items: &[T], wait: Wait) -> Result<usize> {
        if items.is_empty() {
            return Ok(0);
        }
        let want = items.len() as u64;
        let put = self.ring.put_some(1, want, wait, |ring, at: At| {
            let n = (ring.capacity() - at.used).min(want);
            for (i, item) in items[..n as usize].iter().enumerate() {
                self.slot(at.pos.wrapping_add(i as u64)).store(*item);
            }
            Ok((n, n))
        })?;
        Ok(put.map_or(0, |(_, items)| items as usize))
    }

    /// Takes up to `max` items at once, in order, waiting while the queue is empty: every
    /// item there is, up to `max`, at least one (Python's `get_many(n)` of this crate's
    /// Python module). One acquisition of the getters' lock for the batch.
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for a `max` of 0; otherwise as for [`get`](Self::get):
    /// nothing was taken.
    ///
    /// ```
    /// use sharedctypes::{Error, Queue};
    /// let q = Queue::new(8)?;
    /// q.put_many(&[10i32, 20, 30])?;
    /// assert_eq!(q.get_many(2)?, [10, 20]);
    /// assert_eq!(q.get_many(100)?, [30]);
    /// q.close();
    /// assert_eq!(q.get_many(100), Err(Error::Closed));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn get_many(&self, max: usize) -> Result<Vec<T>> {
        self.get_many_wait(max, Wait::Until(None))
    }

    /// [`get_many`](Self::get_many), waiting at most `timeout` for an item: empty if none
    /// came.
    ///
    /// # Errors
    /// As for [`get_many`](Self::get_many).
    ///
    /// ```
    /// use std::time::Duration;
    /// use sharedctypes::Queue;
    /// let q = Queue::<u64>::new(4)?;
    /// assert_eq!(q.get_many_timeout(8, Duration::from_millis(10))?, []);
    /// q.put(7)?;
    /// assert_eq!(q.get_many_timeout(8, Duration::from_millis(10))?, [7]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn get_many_timeout(&self, max: usize, timeout: Duration) -> Result<Vec<T>> {
        self.get_many_wait(max, Wait::timeout(timeout))
    }

    /// [`get_many`](Self::get_many) only of what is there now: empty if nothing is (also if
    /// another getter keeps the getters' lock more than a millisecond).
    ///
    /// # Errors
    /// As for [`get_many`](Self::get_many).
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// let q = Queue::new(4)?;
    /// assert_eq!(q.try_get_many(8)?, []);
    /// q.put_many(&[1i8, 2])?;
    /// assert_eq!(q.try_get_many(8)?, [1, 2]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn try_get_many(&self, max: usize) -> Result<Vec<T>> {
        self.get_many_wait(max, Wait::No)
    }

    fn get_many_wait(&self, max: usize, wait: Wait) -> Result<Vec<T>> {
        if max == 0 {
            return Err(Error::InvalidArgument {
                reason: "get_many needs a max of at least 1".into(),
            });
        }
        let want = max as u64;
        let items = self.ring.get_some(want, wait, |_, at: At| {
            let n = at.used.min(want);
            let mut out = Vec::with_capacity(n as usize);
            out.extend((0..n).map(|i| self.slot(at.pos.wrapping_add(i)).load()));
            Ok((out, n))
        })?;
        Ok(items.unwrap_or_default())
    }

    /// Items in the queue now (Python's `qsize()`): another process may change it at once.
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// let q = Queue::new(3)?;
    /// q.put(1u32)?;
    /// q.put(2u32)?;
    /// assert_eq!(q.len(), 2);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> usize {
        self.ring.used() as usize
    }

    /// True if the queue holds no item now (Python's `empty()`).
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// assert!(Queue::<u8>::new(1)?.is_empty());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// True if the queue is full now (Python's `full()`).
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// let q = Queue::new(1)?;
    /// q.put(0u8)?;
    /// assert!(q.is_full());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn is_full(&self) -> bool {
        self.len() as u64 >= self.ring.capacity()
    }

    /// The most items the queue holds.
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// assert_eq!(Queue::<[u8; 64]>::new(1000)?.capacity(), 1000);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.ring.capacity() as usize
    }

    /// Closes the queue, for every process: later puts fail with [`Error::Closed`], gets
    /// drain what is left and then fail with it, and everyone waiting is woken to see it
    /// (Python's `close()`, which also ends the stream for consumers here).
    ///
    /// ```
    /// use sharedctypes::{Error, Queue};
    /// let q = Queue::<u8>::new(1)?;
    /// q.close();
    /// assert!(q.is_closed());
    /// assert_eq!(q.put(1), Err(Error::Closed));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn close(&self) {
        self.ring.close();
    }

    /// True once [`close`](Self::close)d (by any process).
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// assert!(!Queue::<u8>::new(1)?.is_closed());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn is_closed(&self) -> bool {
        self.ring.is_closed()
    }

    /// An iterator that [`get`](Self::get)s until the queue is closed and drained. It goes
    /// on past a death report ([`Error::ParticipantDied`]), and ends at any other error
    /// (use `get` to see those).
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// let q = Queue::new(8)?;
    /// for x in [3u8, 1, 4] {
    ///     q.put(x)?;
    /// }
    /// q.close();
    /// assert_eq!(q.iter().collect::<Vec<_>>(), [3, 1, 4]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { queue: self }
    }

    /// Creates the named queue `name` (see [`named`](crate::named)), with room for
    /// `capacity` items, for other processes to [`open_named`](Self::open_named).
    ///
    /// # Errors
    /// As for [`new`](Self::new), and [`Error::AlreadyExists`], [`Error::InvalidName`],
    /// [`Error::PermissionDenied`].
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// # let name = format!("sharedctypes-doc-queue-{}", std::process::id());
    /// let q = Queue::<u32>::create_named(&name, 64)?;
    /// Queue::<u32>::open_named(&name)?.put(5)?; // in this or any other process
    /// assert_eq!(q.get()?, 5);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named(name: &str, capacity: usize) -> Result<Named<Self>> {
        Self::create_named_with_mode(name, capacity, named::DEFAULT_MODE)
    }

    /// [`create_named`](Self::create_named) with the permission bits `mode`.
    ///
    /// # Errors
    /// As for [`create_named`](Self::create_named).
    ///
    /// ```
    /// use sharedctypes::Queue;
    /// # let name = format!("sharedctypes-doc-queue-mode-{}", std::process::id());
    /// let q = Queue::<u8>::create_named_with_mode(&name, 4, 0o660)?;
    /// assert_eq!(q.capacity(), 4);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn create_named_with_mode(name: &str, capacity: usize, mode: u32) -> Result<Named<Self>> {
        Self::check_capacity(capacity)?;
        let elem = ElemType::of::<T>();
        let (_, len, align) = Ring::layout(Some(&elem), capacity as u64)?;
        let plan = Plan::queue(Kind::Queue, Some(elem.clone()), capacity as u64, len, align);
        named::create(name, mode, plan, |p| {
            let lock = Lock::create_in(p.lock())?;
            Ok(Queue {
                ring: Ring::create_in(p.data(), lock, TAG_QUEUE, Some(&elem), capacity as u64)?,
                _items: PhantomData,
            })
        })
    }

    crate::named::open_named_methods!(
        r#"```
use sharedctypes::{Error, Queue};
# let name = format!("sharedctypes-doc-queue-open-{}", std::process::id());
let _q = Queue::<i64>::create_named(&name, 8)?;
assert_eq!(Queue::<i64>::open_named(&name)?.capacity(), 8);
assert!(matches!(Queue::<i32>::open_named(&name), Err(Error::LayoutMismatch { .. })));
# Ok::<(), sharedctypes::Error>(())
```"#,
        r#"```
use sharedctypes::{Queue, named::OpenOptions};
# let name = format!("sharedctypes-doc-queue-open-with-{}", std::process::id());
let _q = Queue::<u8>::create_named(&name, 2)?;
assert!(Queue::<u8>::open_named_with(&name, OpenOptions::default())?.is_empty());
# Ok::<(), sharedctypes::Error>(())
```"#
    );
}

/// The iterator of [`Queue::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    queue: &'a Queue<T>,
}

impl<T: SharedLayout> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        loop {
            match self.queue.get() {
                Ok(item) => return Some(item),
                Err(Error::ParticipantDied { .. }) => continue,
                Err(_) => return None,
            }
        }
    }
}

impl<T> fmt::Debug for Queue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("len", &self.ring.used())
            .field("capacity", &self.ring.capacity())
            .field("closed", &self.ring.is_closed())
            .finish()
    }
}

impl<T: SharedLayout> Object for Queue<T> {
    fn export(&self, out: &mut Exporter) -> Result<Description> {
        self.ring
            .export(Kind::Queue, Some(ElemType::of::<T>()), out)
    }

    fn import(d: &Description, from: &Importer<'_>) -> Result<Self> {
        d.expect(Kind::Queue, None).map_err(crate::share::invalid)?;
        d.expect_elem::<T>()?;
        Ok(Queue {
            ring: Ring::receive(d, from, Kind::Queue, TAG_QUEUE)?,
            _items: PhantomData,
        })
    }
}
