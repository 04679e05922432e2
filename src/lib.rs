//! Python's `multiprocessing.sharedctypes`, rebuilt in Rust: typed values, arrays and
//! `#[repr(C)]` structs in shared memory, optionally behind process-shared robust locks,
//! shared with the processes you start.
//!
//! # A first program
//!
//! ```
//! use sharedctypes::{Process, RawArray, Value};
//!
//! let counter = Value::new(0i64)?; // Python's Value('q', 0): behind an RLock of its own
//! let samples = RawArray::<f64>::zeroed(4)?; // Python's RawArray('d', 4): no lock
//! let child = Process::start(|| -> sharedctypes::Result<()> {
//!     for i in 0..4 {
//!         samples.set(i, i as f64 / 2.0)?;
//!         counter.update(|c| c + 1)?; // one acquisition of the lock
//!     }
//!     Ok(())
//! })?;
//! assert_eq!(child.join()?, 0); // CPython's exitcode
//! assert_eq!(counter.get()?, 4);
//! assert_eq!(samples.to_vec(), [0.0, 0.5, 1.0, 1.5]);
//! # Ok::<(), sharedctypes::Error>(())
//! ```
//!
//! # The pieces
//!
//! | Python | Rust | |
//! |---|---|---|
//! | `RawValue`, `RawArray` | [`RawValue`], [`RawArray`] | shared memory, no lock; access by copy |
//! | `Value`, `Array` | [`Value`], [`Array`] | the same behind a lock ([`Synchronized`]) |
//! | `Lock`, `RLock` | [`Lock`], [`RLock`] | process-shared, robust: a dead holder is reported, never a deadlock |
//! | `ctypes.Structure` | `#[derive(SharedLayout)]` | the C layout, proven at compile time, with field accessors |
//! | `c_double`, `'d'`, … | [`ctypes`], [`tc!`] | type names and typecodes |
//! | `Process(target=f)` | [`Process`] | a child process: forked, spawned, or any program |
//! | `Condition`, `Event`, `Semaphore`, `Barrier` | [`Condition`], [`Event`], [`Semaphore`], [`Barrier`] | waiting, robust to dying processes |
//! | `SharedMemory(name)` | `create_named`, `open_named` | objects found by name ([`named`]) |
//! | `copy(obj)`, `synchronized(obj)` | [`copy()`], [`synchronized()`] | |
//!
//! Every fallible call returns [`Result`], with one [`Error`] enum whose messages name the
//! values involved.
//!
//! # Access is by copy
//!
//! Another process may write shared memory at any moment, so no safe API hands out `&T` or
//! `&mut T` into it. Values are copied in and out (`get`, `set`, `update`), one scalar at a
//! time with atomic loads and stores: a racing writer makes a multi-field value *torn*, never
//! undefined behaviour. Take the lock when several accesses must be atomic together:
//!
//! ```
//! use sharedctypes::Array;
//!
//! let balances = Array::from_slice(&[100i64, 0])?;
//! {
//!     let g = balances.lock()?; // one acquisition for the whole transfer
//!     g.set(0, g.get(0).unwrap() - 30)?;
//!     g.set(1, g.get(1).unwrap() + 30)?;
//! }
//! assert_eq!(balances.to_vec()?, [70, 30]);
//! # Ok::<(), sharedctypes::Error>(())
//! ```
//!
//! Integers can also be used as lock-free atomics ([`RawValue::as_atomic`]).
//!
//! # Structs
//!
//! `#[derive(SharedLayout)]` accepts `#[repr(C)]` structs of shared types and refuses
//! anything meaningless in another process (pointers, references, `Box`, `Vec`, `String`,
//! `bool`, `char`, …) with a compile error that says why. It generates field accessors,
//! reached from wherever the struct lives:
//!
//! ```
//! use sharedctypes::{Array, SharedLayout, Value};
//!
//! #[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
//! #[repr(C)]
//! struct Point {
//!     x: f64,
//!     y: f64,
//! }
//!
//! let a = Array::from_slice(&[Point { x: 1.5, y: -2.0 }])?;
//! a.at(0).set_x(a.at(0).x().powi(2)); // A[0].x **= 2, one field, no lock (as in CPython)
//! let p = Value::new(Point { x: 0.0, y: 0.0 })?;
//! p.update_y(|y| y + 1.0)?; // under p's lock
//! assert_eq!((a.get(0)?.x, p.get()?.y), (2.25, 1.0));
//! assert_eq!(Point::LAYOUT.size, 16);
//! # Ok::<(), sharedctypes::Error>(())
//! ```
//!
//! A struct array's guard iterates over views (`for p in &guard`), a byte array holds records
//! at run-time offsets ([`RawArray::view_at`], [`read_at`](RawArray::read_at),
//! [`write_at`](RawArray::write_at)), every object converts to and from bytes (`to_bytes`,
//! `set_bytes`), and every shared type has [`zeroed()`](SharedLayout::zeroed):
//!
//! ```
//! use sharedctypes::{Array, RawArray, SharedLayout};
//!
//! #[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
//! #[repr(C)]
//! struct Record {
//!     id: u32,
//!     body: [u8; 1000], // no `Default` for this array size: `zeroed()` instead
//! }
//!
//! let records = Array::from_slice(&[Record { id: 1, ..Record::zeroed() }; 3])?;
//! let guard = records.lock()?;
//! for (i, r) in guard.views().enumerate() {
//!     r.set_id(10 + i as u32);
//! }
//! drop(guard);
//! assert_eq!(records.get_obj().iter().map(|r| r.id).collect::<Vec<_>>(), [10, 11, 12]);
//!
//! let mut slots = RawArray::<u8>::zeroed(4096)?;
//! slots.write_at(1004 * 2, records.get(2)?)?;
//! assert_eq!(slots.view_at::<Record>(2008)?.id(), 12);
//! # Ok::<(), sharedctypes::Error>(())
//! ```
//!
//! # Locks and dead holders
//!
//! [`Lock`] and [`RLock`] are pthread mutexes in shared memory, process-shared and robust:
//! when a holder dies, the next acquirer gets the lock with
//! [`owner_died()`](LockGuard::owner_died) set, repairs the data, and calls
//! [`clear_owner_died()`](LockGuard::clear_owner_died). Until then every acquirer is told,
//! and operations that hand out no guard fail with [`Error::OwnerDied`]. See
//! [`RobustLock`](lock::RobustLock#when-a-holder-dies).
//!
//! # Waiting for each other
//!
//! [`Condition`], [`Event`], [`Semaphore`], [`BoundedSemaphore`] and [`Barrier`] live in
//! shared memory and work between threads and processes; a process that dies at any point
//! never leaves the others blocked for ever. See [`sync`].
//!
//! ```
//! use sharedctypes::{Barrier, Process};
//!
//! let barrier = Barrier::new(2)?;
//! let other = Process::start(|| barrier.wait().map(drop))?;
//! let index = barrier.wait()?; // 0 or 1: the arrival order
//! assert!(index < 2);
//! assert_eq!(other.join()?, 0);
//! # Ok::<(), sharedctypes::Error>(())
//! ```
//!
//! # Processes
//!
//! Three ways to start a child, one [`Process`] to join it (it joins on drop, so an object
//! cannot be freed while a child uses it):
//!
//! - [`Process::start`] forks this process and runs a closure that borrows the objects: the
//!   fastest, but a forked child of a multi-threaded program may find other threads' locks
//!   held for ever;
//! - [`Process::spawn`] runs a plain function in a *fresh* process of this executable (from a
//!   clean fork server, never a fork of this one), the objects arriving as its arguments:
//!
//! ```
//! use sharedctypes::{Process, Value};
//!
//! fn square(n: Value<i32>) -> sharedctypes::Result<()> {
//!     n.update(|n| n * n).map(drop)
//! }
//!
//! let n = Value::new(7)?;
//! assert_eq!(Process::spawn(square, (&n,))?.join()?, 0);
//! assert_eq!(n.get()?, 49);
//! # Ok::<(), sharedctypes::Error>(())
//! ```
//!
//! - [`Process::command`] starts any program, which finds the objects by name with
//!   [`inherited`] (or, in another language, in its environment: the format is in [`share`]).
//!
//! A child's closure returns `()`, an [`Exit`] code or any `Result`; when it panics or
//! returns `Err`, [`Process::failure`] gives the parent the message. To start children in a
//! loop with `move` closures, move a reference: `let n = &n;` before the loop (see
//! [`Process::start`]).
//!
//! # Objects by name, and Python
//!
//! Unrelated processes find objects by name: every kind has `create_named` and
//! `open_named` ([`Value::create_named`](Synchronized), [`Event::create_named`],
//! [`Barrier::open_named`], …); see [`named`], which also states who is trusted. The
//! pure-Python package in `python/` (`pip install ./python`) opens the same objects, with the
//! same lock.
//!
//! # Modules
//!
//! The crate root holds what programs use every day; the modules hold the plumbing:
//! [`access`] (how bytes are read and written: `Place`, `SharedSlice`, atomics),
//! [`layout`] (layout metadata and its renderings as C and Python `ctypes`), [`heap`] (the
//! shared-memory allocator, and [`heap::isolated`] for objects handed to other programs),
//! [`lock`] (the lock kinds and their guard), [`synchronized`](mod@synchronized) (an object
//! behind a lock), [`sync`] (waiting: condition, event, semaphores, barrier), [`process`]
//! (children: started, spawned, or other programs), [`share`] (sending objects to other
//! processes), [`named`] (objects found by name, and the trust model), [`ctypes`]. The
//! format other languages read is specified in `docs/format.md`.

pub use shared_core::*;

/// Derives [`SharedLayout`](trait@SharedLayout): proves at compile time that a struct has the
/// C layout and holds nothing process-local, and generates its field accessors.
///
/// ```
/// use sharedctypes::{Array, RawValue, SharedLayout};
///
/// #[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
/// #[repr(C)]
/// #[shared(size = 16, align = 8)] // optional: pin the layout to a C header
/// struct Point {
///     #[shared(offset = 0)]
///     x: f64,
///     y: f64,
/// }
///
/// let a = Array::from_slice(&[Point { x: 1.5, y: -2.0 }, Point { x: 3.0, y: 0.5 }])?;
/// a.at(1).set_x(a.at(1).x() * 2.0); // A[1].x *= 2, one field at a time
/// assert_eq!(a.get(1)?, Point { x: 6.0, y: 0.5 });
///
/// let v = RawValue::new(Point { x: 0.0, y: 0.0 })?;
/// v.view().update_y(|y| y + 1.0);
/// assert_eq!(v.get().y, 1.0);
///
/// assert_eq!(Point::LAYOUT.fields()[1].offset, 8);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
///
/// # What is accepted
///
/// `#[repr(C)]` structs — named, tuple or unit, optionally `#[repr(C, align(N))]` — whose
/// fields are integers, `f32`/`f64`, [`CChar`], [`WChar`], [`CBool`], arrays `[T; N]` of
/// those, or other `SharedLayout` structs (nested to any depth).
///
/// # What is refused, and why
///
/// Every refusal is a compile error with a span on the offending item or field, and all
/// problems of one struct are reported together:
///
/// - a struct without `#[repr(C)]`: Rust's own layout is unspecified and may differ between
///   builds, so another process (or C, or Python) could see other offsets;
/// - enums (invalid discriminants), unions (no process knows the active field),
///   `#[repr(packed)]` (misaligned fields cannot be accessed atomically), generic structs
///   (the layout is proven once, at compile time);
/// - raw pointers, references, `fn` pointers, `Box`, `Vec`, `String`, `Rc`, `Arc`, … : a
///   pointer is only valid in the process that wrote it;
/// - `bool` and `char`: another process may write bytes that are not a valid `bool`/`char`
///   (use `CBool`, `WChar`);
/// - any other field type that does not implement `SharedLayout`.
///
/// ```compile_fail
/// #[derive(Clone, Copy, sharedctypes::SharedLayout)]
/// #[repr(C)]
/// struct Node {
///     value: i32,
///     next: *const Node, // error: a pointer is only valid in the process that wrote it
/// }
/// ```
///
/// # Attributes
///
/// - `#[shared(size = N, align = N)]` on the struct and `#[shared(offset = N)]` on a field
///   declare numbers from an external C definition; a mismatch is a compile error naming the
///   struct or field and both numbers (``expected `offset_of_y<8>`, found `offset_of_y<16>` ``).
/// - `#[shared(crate = "path")]` names the `sharedctypes` crate when it is re-exported under
///   another path.
///
/// # What is generated
///
/// - `unsafe impl SharedLayout`, with [`LAYOUT`](SharedLayout::LAYOUT): name, size,
///   alignment, fields (name, offset, size, type) and a fingerprint. Its `Display` is a
///   pahole-style table; [`Layout::to_c`](layout::Layout::to_c) and [`Layout::to_ctypes`](layout::Layout::to_ctypes) render the C struct and the
///   Python `ctypes.Structure`.
/// - Compile-time assertions that size, alignment and every offset follow the C rules (and
///   the declared numbers).
/// - `{Name}View<'a>`, reached from any shared location of the struct — `RawValue::view()`,
///   `RawArray::at(i)`, `Array::at(i)`, a guard's `view()`/`at(i)` — with `x()`, `set_x(v)`,
///   `update_x(f)` per field (`_0()`, `set_0(v)` for tuple fields), nested views for struct
///   fields, and a [`SharedSlice`](access::SharedSlice) for array fields (with `value()`/`raw()` for `CChar`
///   arrays). Accessors have the visibility of their field.
/// - `{Name}Synced<L>`, what `Value<Name, L>` dereferences to: `x()?`, `set_x(v)?`,
///   `update_x(f)?` each under one acquisition of the lock.
pub use shared_derive::SharedLayout;

/// The README's examples, compiled and run as doc tests (not rendered).
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
