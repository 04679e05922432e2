//! [`Pool`]: worker processes that map a function over many items (Python's
//! `multiprocessing.Pool`).
//!
//! A pool spawns its workers once ([`Process::spawn`](crate::Process::spawn)'s fresh
//! processes of this executable: no code in `main`, safe from a threaded program). A
//! [`map`](Pool::map) cuts its inputs into chunks and sends them, with *which* function to
//! run, through a shared-memory [`BytesQueue`](crate::BytesQueue); workers send the chunks'
//! outputs back through another. The function is a plain `fn` item, found in the worker by
//! its place in the executable's code, as `Process::spawn` finds its function; inputs and
//! outputs are [`SharedLayout`] values, copied as the bytes of their C layout (CPython
//! pickles each item and sends it through a pipe).
//!
//! A worker that dies — killed, or because the function panicked — fails only the item it
//! was running, with [`Error::WorkerDied`]; it is replaced, the rest of its chunk runs
//! again elsewhere, and the pool goes on. Dropping the pool ends its workers.
//!
//! ```
//! use sharedctypes::Pool;
//!
//! fn square(x: u64) -> u64 {
//!     x * x
//! }
//!
//! let pool = Pool::new(2)?;
//! let xs: Vec<u64> = (0..1000).collect();
//! let squares = pool.map(square, &xs)?;
//! assert_eq!(squares[999], 998_001);
//! assert_eq!(squares.iter().sum::<u64>(), 332_833_500);
//! # Ok::<(), sharedctypes::Error>(())
//! ```

mod crew;
mod wire;
mod worker;

use core::cell::Cell;
use core::fmt;
use std::collections::VecDeque;

use crate::access::SharedLayout;
use crate::error::{Error, Result};
use crate::os;
use crate::process::SpawnArgs;
use crate::process::spawn;
use crate::share::{Exporter, Numbering};
use crew::{Batch, Crew, Job};
use wire::Done;
use worker::Channels;

pub use worker::MapWithFn;

/// Worker processes that run a function over many items (Python's `multiprocessing.Pool`).
/// See [the module](self).
///
/// A `Pool` is used from one thread at a time (it is `Send`, not `Sync`).
pub struct Pool {
    crew: Crew<'static>,
    jobs: Cell<u64>,
}

/// Refuses a closure: only a plain `fn` item can be found again in a worker.
fn plain_fn<F>() -> Result<()> {
    const {
        assert!(
            core::mem::size_of::<F>() == 0,
            "a Pool runs a plain `fn` item in its workers, where the values a closure captures do not exist: write a `fn`, and pass shared objects with `map_with`"
        )
    };
    if core::any::type_name::<F>().contains('{') {
        return Err(Error::spawn(
            "pool",
            format!(
                "`{}` is a closure: a Pool runs a plain `fn` item (whatever a closure captures exists only in this process); pass shared objects with `map_with`",
                core::any::type_name::<F>()
            ),
        ));
    }
    Ok(())
}

/// Python's default chunk size: the items over four chunks per worker, rounded up.
fn default_chunk(len: usize, workers: usize, item_bytes: usize) -> usize {
    // A quarter of each worker's share, but no more than 32 KiB of items: bigger chunks
    // cost fresh pages in every copy and leave workers idle at the end (measured: 12,500
    // items of 8 bytes took 27 ns an item, 4,096 took 13-15).
    let most = (32 << 10) / item_bytes.max(1);
    len.div_ceil(4 * workers.max(1)).min(most).max(1)
}

impl Pool {
    /// Starts `n` worker processes (Python's `Pool(n)`).
    ///
    /// # Errors
    /// [`Error::InvalidArgument`] for 0 workers; [`Error::SpawnFailed`] as for
    /// [`Process::spawn`](crate::Process::spawn) (a shared-library build of sharedctypes
    /// cannot spawn); [`Error::Os`] and the heap's errors.
    ///
    /// ```
    /// use sharedctypes::Pool;
    /// let pool = Pool::new(3)?;
    /// assert_eq!(pool.size(), 3);
    /// assert!(Pool::new(0).is_err());
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn new(n: usize) -> Result<Pool> {
        if n == 0 {
            return Err(Error::InvalidArgument {
                reason: "a pool needs at least one worker".into(),
            });
        }
        let crew = Crew::new(
            n,
            Box::new(|crew: &Crew<'static>, slot: u64| {
                let mut out = Exporter::new(Numbering::Slots);
                let sent = channels(
                    crew,
                    &[slot, u64::from(os::process::getpid().unsigned_abs())],
                )
                .export(&mut out)?;
                let (pid, report) =
                    spawn::start(worker::any_function, worker::any_function_tag(), out, sent)?;
                Ok(spawn::process(pid, report))
            }),
        )?;
        Ok(Pool {
            crew,
            jobs: Cell::new(0),
        })
    }

    /// The number of workers.
    ///
    /// ```
    /// use sharedctypes::Pool;
    /// assert_eq!(Pool::new(1)?.size(), 1);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn size(&self) -> usize {
        self.crew.size()
    }

    /// The workers' process ids, by slot (a replaced worker's slot holds its successor).
    ///
    /// ```
    /// use sharedctypes::Pool;
    /// let pool = Pool::new(2)?;
    /// assert_eq!(pool.pids().len(), 2);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn pids(&self) -> Vec<i32> {
        self.crew.pids()
    }

    /// How many workers died and were replaced since the pool started.
    ///
    /// ```
    /// use sharedctypes::Pool;
    /// assert_eq!(Pool::new(1)?.replaced(), 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn replaced(&self) -> usize {
        self.crew.replaced()
    }

    fn next_job(&self) -> u64 {
        self.jobs.set(self.jobs.get() + 1);
        self.jobs.get()
    }

    fn job<'j, F, T, R>(
        &'j self,
        xs: &'j [T],
        chunk: Option<usize>,
    ) -> Result<Job<'j, 'static, T, R>>
    where
        F: Fn(T) -> R + Copy + Send + 'static,
        T: SharedLayout,
        R: SharedLayout,
    {
        plain_fn::<F>()?;
        let most = self
            .crew
            .max_chunk(core::mem::size_of::<T>(), core::mem::size_of::<R>())?;
        let chunk = chunk
            .unwrap_or_else(|| {
                default_chunk(xs.len(), self.size(), size_of::<T>().max(size_of::<R>()))
            })
            .clamp(1, most);
        Ok(Job::new(
            &self.crew,
            self.next_job(),
            worker::chunk_entry::<F, T, R>()?,
            worker::tag_of::<(F, T, R)>(),
            xs,
            chunk,
        ))
    }

    /// `f(x)` for every `x` of `xs`, run by the workers; the results in input order
    /// (Python's `pool.map(f, xs)`). `f` is a plain `fn` item (a closure is refused: what it
    /// captures would not exist in the workers), taking and returning `SharedLayout`
    /// values. Items go in chunks, as in Python: about four per worker.
    ///
    /// # Errors
    /// [`Error::WorkerDied`] for the first item whose worker died running it (killed, or
    /// because `f` panicked: exit code 1); every other item still ran, and the pool is
    /// usable again. [`Error::SpawnFailed`] for a closure, or if workers keep dying before
    /// they run anything; [`Error::InvalidArgument`] for items too big for the pool's
    /// queues (1 MiB).
    ///
    /// ```
    /// use sharedctypes::{Pool, SharedLayout};
    ///
    /// #[derive(Clone, Copy, SharedLayout)]
    /// #[repr(C)]
    /// struct Segment {
    ///     start: f64,
    ///     end: f64,
    /// }
    ///
    /// fn length(s: Segment) -> f64 {
    ///     (s.end - s.start).abs()
    /// }
    ///
    /// let pool = Pool::new(2)?;
    /// let segments = [Segment { start: 1.0, end: 4.0 }, Segment { start: 2.0, end: -1.0 }];
    /// assert_eq!(pool.map(length, &segments)?, [3.0, 3.0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn map<F, T, R>(&self, f: F, xs: &[T]) -> Result<Vec<R>>
    where
        F: Fn(T) -> R + Copy + Send + 'static,
        T: SharedLayout,
        R: SharedLayout,
    {
        let _ = f;
        collect(self.job::<F, T, R>(xs, None)?, xs.len())
    }

    /// [`map`](Self::map) in chunks of `chunksize` items (Python's `map(f, xs, chunksize)`):
    /// bigger chunks for cheap items, 1 for items that take long.
    ///
    /// # Errors
    /// As for [`map`](Self::map).
    ///
    /// ```
    /// use sharedctypes::Pool;
    /// fn double(x: i32) -> i32 {
    ///     2 * x
    /// }
    /// let pool = Pool::new(2)?;
    /// assert_eq!(pool.map_chunked(double, &[1, 2, 3], 1)?, [2, 4, 6]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn map_chunked<F, T, R>(&self, f: F, xs: &[T], chunksize: usize) -> Result<Vec<R>>
    where
        F: Fn(T) -> R + Copy + Send + 'static,
        T: SharedLayout,
        R: SharedLayout,
    {
        let _ = f;
        collect(self.job::<F, T, R>(xs, Some(chunksize))?, xs.len())
    }

    /// `f(x)` for every `x` of `xs`, yielded as each chunk is done, in no particular order,
    /// each with its input's index (Python's `imap_unordered`, with the index). A worker's
    /// death fails only its item: that item is an `Err`, the others come as usual.
    ///
    /// # Errors
    /// As for [`map`](Self::map), before anything runs; then per item.
    ///
    /// ```
    /// use sharedctypes::Pool;
    /// fn cube(x: u32) -> u32 {
    ///     x * x * x
    /// }
    /// let pool = Pool::new(2)?;
    /// let mut got = pool
    ///     .map_unordered(cube, &[1, 2, 3, 4])?
    ///     .collect::<Result<Vec<_>, _>>()?;
    /// got.sort();
    /// assert_eq!(got, [(0, 1), (1, 8), (2, 27), (3, 64)]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn map_unordered<'p, F, T, R>(&'p self, f: F, xs: &'p [T]) -> Result<Unordered<'p, T, R>>
    where
        F: Fn(T) -> R + Copy + Send + 'static,
        T: SharedLayout,
        R: SharedLayout,
    {
        let _ = f;
        Ok(Unordered {
            job: self.job::<F, T, R>(xs, None)?,
            ready: VecDeque::new(),
            ended: false,
        })
    }

    /// `f(&args…, x)` for every `x` of `xs`, with `args` a tuple of shared objects (and plain
    /// values) passed as [`Process::spawn`](crate::Process::spawn)'s are; the results in
    /// input order (Python's `Pool(n, initializer, initargs)` then `map`). It runs on
    /// workers of its own, started for the call with the arguments (as many as the pool
    /// has) and ended after it.
    ///
    /// # Errors
    /// As for [`map`](Self::map), and as for `Process::spawn` while starting the workers.
    ///
    /// ```
    /// use sharedctypes::{Pool, RawArray};
    ///
    /// fn row_sum(data: &RawArray<f64>, row: usize) -> f64 {
    ///     (0..4).map(|c| data.get(row * 4 + c).unwrap_or(0.0)).sum()
    /// }
    ///
    /// let data = RawArray::from_slice(&[1.0, 2.0, 3.0, 4.0, 10.0, 20.0, 30.0, 40.0])?;
    /// let pool = Pool::new(2)?;
    /// assert_eq!(pool.map_with(row_sum, (&data,), &[0, 1])?, [10.0, 100.0]);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn map_with<F, A, T, R>(&self, f: F, args: A, xs: &[T]) -> Result<Vec<R>>
    where
        F: MapWithFn<A::Owned, T, R> + Copy + Send + 'static,
        A: SpawnArgs + Copy,
        T: SharedLayout,
        R: SharedLayout,
    {
        let _ = f;
        plain_fn::<F>()?;
        let tag = worker::tag_of::<(F, A::Owned, T, R)>();
        let crew = Crew::new(
            self.size(),
            Box::new(move |crew: &Crew<'_>, slot: u64| {
                let mut out = Exporter::new(Numbering::Slots);
                let mut sent = channels(
                    crew,
                    &[slot, u64::from(os::process::getpid().unsigned_abs())],
                )
                .export(&mut out)?;
                sent.extend(args.export(&mut out)?);
                let (pid, report) = spawn::start(worker::with_args::<F, A, T, R>, tag, out, sent)?;
                Ok(spawn::process(pid, report))
            }),
        )?;
        let most = crew.max_chunk(core::mem::size_of::<T>(), core::mem::size_of::<R>())?;
        let chunk =
            default_chunk(xs.len(), self.size(), size_of::<T>().max(size_of::<R>())).clamp(1, most);
        collect(Job::new(&crew, 1, 0, tag, xs, chunk), xs.len())
    }
}

/// A crew's channels, as a worker receives them first.
/// What a worker receives first; `who` is its slot and the pool's process's id.
fn channels<'c>(crew: &'c Crew<'_>, who: &'c [u64; 2]) -> Channels<'c> {
    (&crew.tasks, &crew.results, &crew.status, who)
}

/// Runs `job` to its end; the outputs in input order, or the first item's failure.
fn collect<T: SharedLayout, R: SharedLayout>(
    mut job: Job<'_, '_, T, R>,
    len: usize,
) -> Result<Vec<R>> {
    // Outputs are copied from each result message straight into place.
    let mut out: Vec<R> = vec![R::zeroed(); len];
    let mut answered = 0;
    let mut failure: Option<(usize, Error)> = None;
    while let Some(batch) = job.next_batch()? {
        match batch {
            Batch::Outputs {
                first,
                count,
                message,
                ..
            } => {
                let into = &mut out[first..first + count];
                wire::copy_items(&message[Done::ITEMS_AT..], into).expect("checked on receipt");
                answered += count;
            }
            Batch::Failed(failed) => {
                for (i, e) in failed {
                    answered += 1;
                    if failure.as_ref().is_none_or(|(j, _)| i < *j) {
                        failure = Some((i, e));
                    }
                }
            }
        }
    }
    if let Some((_, e)) = failure {
        return Err(e);
    }
    // Every chunk is answered once, and chunks do not overlap: all items, or a bug.
    debug_assert!(answered <= len, "{answered} answers to {len} items");
    if answered != len {
        return Err(Error::spawn(
            "pool",
            format!("{answered} answers to {len} items"),
        ));
    }
    Ok(out)
}

/// The iterator of [`Pool::map_unordered`]: `(index, f(xs[index]))` as chunks are done.
pub struct Unordered<'p, T, R> {
    job: Job<'p, 'static, T, R>,
    ready: VecDeque<(usize, Result<R>)>,
    ended: bool,
}

impl<T: SharedLayout, R: SharedLayout> Iterator for Unordered<'_, T, R> {
    type Item = Result<(usize, R)>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some((i, r)) = self.ready.pop_front() {
                return Some(r.map(|v| (i, v)));
            }
            if self.ended {
                return None;
            }
            match self.job.next_batch() {
                Ok(Some(batch)) => self.ready.extend(batch.into_items()),
                Ok(None) => self.ended = true,
                Err(e) => {
                    self.ended = true;
                    return Some(Err(e));
                }
            }
        }
    }
}

impl<T, R> fmt::Debug for Unordered<'_, T, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Unordered")
            .field("ready", &self.ready.len())
            .field("ended", &self.ended)
            .finish()
    }
}

impl fmt::Debug for Pool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pool")
            .field("workers", &self.pids())
            .field("replaced", &self.replaced())
            .finish()
    }
}
