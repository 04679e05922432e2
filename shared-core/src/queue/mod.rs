//! Queues between processes: [`Queue`] of records and [`BytesQueue`] of byte messages
//! (Python's `multiprocessing.Queue`).
//!
//! Both are bounded rings in shared memory behind two robust locks, one for putters and one
//! for getters (see `ring` for the protocol, and `docs/format.md` §6 for the bytes), shared
//! like every other object: by fork, as [`Process::spawn`](crate::Process::spawn)
//! arguments, to programs with [`Process::command`](crate::Process::command), and by name.
//! Unlike CPython's `Queue`, which pickles every item and sends it through a pipe under
//! locks, an item is copied once into the ring and once out; and a process killed in the
//! middle of an operation costs at most its own item
//! ([`Error::ParticipantDied`](crate::Error::ParticipantDied) reports it).
//!
//! Every operation with a timeout keeps it, even against a participant that is alive but
//! stopped (`SIGSTOP`, a debugger) while it holds a side's lock: `try_*` waits for the lock a
//! millisecond at most, `*_timeout` until its deadline. Only the blocking forms wait for such
//! a holder for as long as it is stopped. A side's lock is held for the copy of one item:
//! nanoseconds for a record, longer for a large message of a [`BytesQueue`] or a holder the
//! scheduler set aside; so a `try_*` also answers "not now" (`false`, `None`) when another
//! participant of its side keeps the lock longer than that millisecond, though there was room
//! or an item (as CPython's `get(block=False)` raises `Empty` while another getter holds the
//! read lock), and a `*_timeout` counts that wait in its timeout.
//!
//! ```
//! use sharedctypes::{Process, Queue};
//! let results = Queue::<u64>::new(8)?;
//! let results = &results;
//! let workers: Vec<_> = (1..=4u64)
//!     .map(|w| Process::start(move || results.put(w * w)))
//!     .collect::<Result<_, _>>()?;
//! let mut got: Vec<u64> = (0..4).map(|_| results.get()).collect::<Result<_, _>>()?;
//! got.sort();
//! assert_eq!(got, [1, 4, 9, 16]);
//! for w in workers {
//!     assert_eq!(w.join()?, 0);
//! }
//! # Ok::<(), sharedctypes::Error>(())
//! ```

mod bytes;
mod ring;
mod typed;

pub use bytes::{BytesIter, BytesQueue};
pub use typed::{Iter, Queue};
