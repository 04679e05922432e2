//! The one error type of the crate.

/// Everything that can go wrong in sharedctypes.
///
/// Every message names the offending values (index and length, capacity and length, typecode,
/// OS error), so that a failure in a worker process can be understood from its log line alone.
/// `Error` is `Clone + PartialEq`, so tests can compare against an exact expected error.
///
/// ```
/// use sharedctypes::{Error, RawArray};
///
/// let arr = RawArray::<i32>::from_slice(&[1, 2, 3])?;
/// let err = arr.set(7, 0).unwrap_err();
/// assert_eq!(err, Error::IndexOutOfRange { index: 7, len: 3 });
/// assert_eq!(err.to_string(), "index 7 is out of range for an array of length 3");
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An element index past the end of an array (Python's `IndexError`).
    #[error("index {index} is out of range for an array of length {len}")]
    IndexOutOfRange {
        /// The index that was asked for.
        index: usize,
        /// The length of the array.
        len: usize,
    },

    /// A range that does not lie inside an array, or whose start is past its end.
    #[error("range {start}..{end} is out of bounds for an array of length {len}")]
    RangeOutOfBounds {
        /// First index of the range.
        start: usize,
        /// One past the last index of the range.
        end: usize,
        /// The length of the array.
        len: usize,
    },

    /// A bulk assignment whose source and destination lengths differ (CPython: "Can only
    /// assign sequence of same size").
    #[error(
        "can only assign a sequence of the same size: the destination holds {expected} elements but {actual} were given"
    )]
    LengthMismatch {
        /// Number of elements in the destination.
        expected: usize,
        /// Number of elements supplied.
        actual: usize,
    },

    /// A string value longer than the character array it is written to (CPython: "byte string
    /// too long").
    #[error("{what} too long: {len} characters do not fit in an array of {capacity}")]
    TooLong {
        /// `"byte string"` for `CChar` arrays, `"string"` for `WChar` arrays.
        what: &'static str,
        /// Length of the value, in characters.
        len: usize,
        /// Length of the array, in characters.
        capacity: usize,
    },

    /// A typecode that is not one of `c u b B h H i I l L q Q f d`.
    #[error("unknown typecode {code:?}: valid typecodes are c u b B h H i I l L q Q f d")]
    UnknownTypeCode {
        /// The character that was given.
        code: char,
    },

    /// `len * size_of::<T>()` does not fit in the address space.
    #[error("{len} elements of {elem_size} bytes overflow the address space")]
    SizeOverflow {
        /// Requested number of elements.
        len: usize,
        /// Size of one element in bytes.
        elem_size: usize,
    },

    /// A request for more shared memory than could ever be backed: each process may map at
    /// most the machine's memory plus swap, all its shared mappings together.
    #[error(
        "cannot allocate {requested} bytes of shared memory: this process may map only {available} more bytes (the machine's memory and swap, minus the shared memory it has mapped already)"
    )]
    OutOfMemory {
        /// Bytes asked for.
        requested: usize,
        /// What this process may still map: the machine's memory plus swap, minus the
        /// shared memory this process has mapped already, in bytes.
        available: u64,
    },

    /// An alignment the shared heap cannot provide.
    #[error(
        "alignment {align} is not supported: shared objects can be aligned to at most {max} bytes"
    )]
    UnsupportedAlignment {
        /// Alignment that was asked for.
        align: usize,
        /// Largest supported alignment (the page size).
        max: usize,
    },

    /// A holder of the lock died while holding it, and nobody has repaired the data since.
    /// Operations that take the lock internally and hand out no guard (`Value::get`,
    /// `Value::update`, the array methods of `Synchronized`…) fail with this without touching
    /// the data, and release the lock again; take a guard
    /// ([`Synchronized::lock`](crate::Synchronized::lock)), repair, and call
    /// [`LockGuard::clear_owner_died`](crate::LockGuard::clear_owner_died) to end it (see
    /// [`RobustLock`](crate::lock::RobustLock#when-a-holder-dies)).
    #[error(
        "a holder of the lock ({}) died while holding it: the data it guards may be half-updated until a holder repairs it and calls clear_owner_died()",
        holder(*pid)
    )]
    OwnerDied {
        /// Process id of the holder that died; 0 if it died before recording itself.
        pid: i32,
    },

    /// This thread already holds as many robust locks as can be recovered if it dies (see
    /// [`lock::MAX_HELD_PER_THREAD`](crate::lock::MAX_HELD_PER_THREAD)).
    #[error(
        "this thread already holds {held} robust locks, the most one thread may hold ({max}): the kernel recovers only so many from a thread that dies; release some before acquiring another"
    )]
    TooManyLocksHeld {
        /// Locks this thread holds.
        held: usize,
        /// The most it may hold.
        max: usize,
    },

    /// The lock's holder died and the lock was released without being marked consistent; no
    /// one can acquire it any more. sharedctypes never does this itself.
    #[error(
        "the lock is not recoverable: a holder died and the lock was released without being made consistent"
    )]
    NotRecoverable,

    /// Acquiring a non-recursive [`Lock`](crate::Lock) that this thread already holds.
    #[error(
        "this thread already holds the lock: acquiring a non-recursive Lock again would deadlock (use RLock to re-enter)"
    )]
    WouldDeadlock,

    /// [`Process::join`](crate::Process::join) called on a process that was already joined.
    #[error("process {pid} was already joined (exit code {exitcode})")]
    AlreadyJoined {
        /// Process id of the child.
        pid: i32,
        /// Its exit code, as `join` returned it the first time.
        exitcode: i32,
    },

    /// A wide character that is not a Unicode scalar value.
    #[error("invalid wide character {value:#x} at index {index}: not a Unicode scalar value")]
    InvalidWideChar {
        /// Position in the array.
        index: usize,
        /// The raw `wchar_t` value.
        value: u32,
    },

    /// A shared object received from another process (or opened by name) has another layout
    /// than the type it is received as: the two programs disagree on the type.
    #[error(
        "layout mismatch: this process expects `{expected}` ({expected_layout}), but the shared object is `{found}` ({found_layout})"
    )]
    LayoutMismatch {
        /// The type this process asked for.
        expected: String,
        /// Its layout: fingerprint, size, alignment, fields.
        expected_layout: String,
        /// The type the object was created as.
        found: String,
        /// That type's layout.
        found_layout: String,
    },

    /// A handle of a shared object (from `Process::spawn`, `Process::command`, or a named
    /// object's header) that is malformed, truncated, forged, or names memory outside what it
    /// may: refused before any access.
    #[error("invalid handle of a shared object: {reason}")]
    InvalidHandle {
        /// What is wrong with it, with the values.
        reason: String,
    },

    /// [`inherited`](crate::share::inherited) asked for a name the parent did not share.
    #[error(
        "no shared object named `{name}` was passed to this process: the environment variable {var} is not set"
    )]
    NotShared {
        /// The name asked for.
        name: String,
        /// The environment variable that would hold its handle.
        var: String,
    },

    /// A name given to a shared object (to share it with a program, or to create or open it
    /// by name) that is not allowed.
    #[error("invalid name {name:?}: {reason}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A child could not be started (`Process::spawn`, `Process::command`) for a reason that
    /// is not a single failed system call.
    #[error("could not {op}: {reason}")]
    SpawnFailed {
        /// What was being done.
        op: &'static str,
        /// Why it failed.
        reason: String,
    },

    /// `create_named` of a name that exists already.
    #[error("a shared object named {name:?} exists already")]
    AlreadyExists {
        /// The name.
        name: String,
    },

    /// `open_named` (or `unlink_named`) of a name that does not exist.
    #[error("no shared object is named {name:?}")]
    NotFound {
        /// The name.
        name: String,
    },

    /// A named object this user may not open (its mode does not allow it).
    #[error(
        "permission denied to open the shared object {name:?} (created by another user, or with a narrower mode)"
    )]
    PermissionDenied {
        /// The name.
        name: String,
    },

    /// An object handed to another program lies in shared memory that also holds other
    /// objects, which that program could then read and write.
    #[error(
        "`{name}` lies in shared memory beside other objects, which the program would be able to read and write: create the objects you hand to another program inside sharedctypes::heap::isolated(|| ...), or by name (create_named)"
    )]
    NotIsolated {
        /// The name the object was to be shared under.
        name: String,
    },

    /// A named object's file belongs to another user, and the caller did not opt in to
    /// opening it (`OpenOptions::allow_other_owner`): whoever can write an object is trusted
    /// as much as its creator.
    #[error(
        "the shared object {name:?} belongs to user {owner}, not to this process's user {user}: a process that can write an object can make this one's lock code write where it chooses, so it is opened only with OpenOptions {{ allow_other_owner: true }}, if you trust that user"
    )]
    OtherOwner {
        /// The name.
        name: String,
        /// The user id that owns the file.
        owner: u32,
        /// This process's effective user id.
        user: u32,
    },

    /// A name that exists but is not a sharedctypes object of this format version (another
    /// program's shared memory, an object still being created, a later format).
    #[error("{name:?} is not a sharedctypes object this version can open: {reason}")]
    NotNamedObject {
        /// The name.
        name: String,
        /// What was found instead.
        reason: String,
    },

    /// A [`Barrier`](crate::Barrier) that is broken (by `abort`, a timeout, or a party that
    /// died inside it), until `reset` (Python's `BrokenBarrierError`).
    #[error("the barrier is broken: a party timed out or aborted it (reset it to use it again)")]
    BrokenBarrier,

    /// A semaphore released past what it may hold: a
    /// [`BoundedSemaphore`](crate::BoundedSemaphore) past its initial value (Python's
    /// `ValueError: Semaphore released too many times`).
    #[error(
        "semaphore released too many times: it holds {value} permits, the most it may hold is {max}"
    )]
    TooManyReleases {
        /// Permits it held.
        value: u32,
        /// The most it may hold.
        max: u32,
    },

    /// A guard given to [`Condition::wait`](crate::Condition::wait) that is not of the
    /// condition's lock.
    #[error("the guard given to a Condition is not of the condition's lock")]
    NotTheLock,

    /// A [`Queue`](crate::Queue) or [`BytesQueue`](crate::BytesQueue) that was closed: `put`
    /// after `close()`, or `get` once it is closed and drained (Python's `ValueError: Queue
    /// is closed`, and the end of a stream).
    #[error("the queue is closed")]
    Closed,

    /// A message longer than a [`BytesQueue`](crate::BytesQueue) could ever hold.
    #[error(
        "a message of {len} bytes can never fit a queue of {capacity} bytes (each message takes its length rounded up to 8, plus 8)"
    )]
    MessageTooLarge {
        /// Bytes in the message.
        len: usize,
        /// The queue's capacity in bytes.
        capacity: usize,
    },

    /// A process died in the middle of an operation on a [`Queue`](crate::Queue) or
    /// [`BytesQueue`](crate::BytesQueue) (killed while it held the queue's putters' or
    /// getters' lock). The queue is consistent: at most the one item (or batch) that process was
    /// putting or getting is lost, none is received twice or half-written. The next
    /// operation on that side (a put, or a get) reports it, once, and did nothing; the one
    /// after works as usual.
    #[error(
        "a process using the queue ({}) died in the middle of an operation: at most what it was moving is lost; nothing was done, try again",
        holder(*pid)
    )]
    ParticipantDied {
        /// Process id of the process that died; 0 if unknown.
        pid: i32,
    },

    /// A [`Pool`](crate::Pool) worker died (killed, or crashed) while running an item: that
    /// item failed; the worker was replaced and the other items ran.
    #[error("worker process {pid} died while running item {item} (exit code {exitcode})")]
    WorkerDied {
        /// Process id of the worker.
        pid: i32,
        /// Index of the item it was running, in the input.
        item: usize,
        /// Its exit code as `Process::join` gives it: `-N` if killed by signal `N`.
        exitcode: i32,
    },

    /// An argument outside what the call accepts.
    #[error("invalid argument: {reason}")]
    InvalidArgument {
        /// What is wrong.
        reason: String,
    },

    /// A byte offset at which a value of some type cannot lie, because the type needs a
    /// stricter alignment (Python's `from_buffer`: "buffer ... misaligned").
    #[error(
        "offset {offset} is not aligned to {align} bytes, the alignment of the type read or written there (the address is checked; an array's first byte is aligned to 8)"
    )]
    Misaligned {
        /// The offset given.
        offset: usize,
        /// The alignment the type needs.
        align: usize,
    },

    /// A system call failed. The message gives the call and the operating system's own text
    /// for the error number (`"memfd_create failed: Too many open files (os error 24)"`).
    #[error("{op} failed: {}", std::io::Error::from_raw_os_error(*errno))]
    Os {
        /// The call that failed, e.g. `"memfd_create"`.
        op: &'static str,
        /// The error number (`errno`), as the C library defines it (`libc::EMFILE`, ...).
        errno: i32,
    },
}

/// How an owner-died message names the dead holder.
fn holder(pid: i32) -> String {
    if pid > 0 {
        format!("pid {pid}")
    } else {
        "pid unknown".to_string()
    }
}

impl Error {
    /// An [`Error::Os`] for `op` with the given error number.
    pub(crate) fn os(op: &'static str, errno: i32) -> Self {
        Error::Os { op, errno }
    }

    /// An [`Error::SpawnFailed`].
    pub(crate) fn spawn(op: &'static str, reason: String) -> Self {
        Error::SpawnFailed { op, reason }
    }

    /// The [`std::io::ErrorKind`] of an [`Error::Os`]; `Other` for every other error.
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use sharedctypes::Error;
    /// let err = Error::IndexOutOfRange { index: 3, len: 2 };
    /// assert_eq!(err.io_kind(), ErrorKind::Other);
    /// ```
    #[must_use]
    pub fn io_kind(&self) -> std::io::ErrorKind {
        match self {
            Error::Os { errno, .. } => std::io::Error::from_raw_os_error(*errno).kind(),
            _ => std::io::ErrorKind::Other,
        }
    }
}

/// Converts to an `io::Error` of the matching kind, keeping the whole message.
///
/// ```
/// use sharedctypes::{Error, RawArray};
/// let err = RawArray::from_slice(&[1u8])?.set(5, 0).unwrap_err();
/// let io: std::io::Error = err.into();
/// assert_eq!(io.to_string(), "index 5 is out of range for an array of length 1");
/// # Ok::<(), sharedctypes::Error>(())
/// ```
impl From<Error> for std::io::Error {
    fn from(err: Error) -> Self {
        std::io::Error::new(err.io_kind(), err)
    }
}

/// `Result` with [`Error`] as its default error type.
///
/// ```
/// use sharedctypes::{Error, RawArray, Result};
///
/// fn first_two(arr: &RawArray<u8>) -> Result<Vec<u8>> {
///     arr.get_range(..2)
/// }
///
/// assert_eq!(first_two(&RawArray::from_slice(&[1, 2, 3])?)?, [1, 2]);
/// assert_eq!(
///     first_two(&RawArray::from_slice(&[1])?),
///     Err(Error::RangeOutOfBounds { start: 0, end: 2, len: 1 })
/// );
/// let other: Result<u8, String> = Err("any error type".into()); // E can still be given
/// assert_eq!(other.unwrap_err(), "any error type");
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// `Ok` if `actual` bytes are the `expected` ones, else [`Error::LengthMismatch`].
pub(crate) fn check_len(expected: usize, actual: usize) -> Result<()> {
    if expected == actual {
        Ok(())
    } else {
        Err(Error::LengthMismatch { expected, actual })
    }
}
