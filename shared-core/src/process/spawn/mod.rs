//! [`Process::spawn`]: run a function in a fresh process of the same executable, with shared
//! objects as its arguments (Python's `spawn` and `forkserver` start methods).
//!
//! How the child finds the function: `f` is a plain function (a zero-sized, `Copy` function
//! item or capture-free closure), so the only thing to send is *which* function. The parent
//! instantiates [`entry`]`::<F, A, R>` — which imports the arguments, conjures `F` (its only
//! value) and calls it — and sends that entry point's distance from [`anchor`], a function of
//! this crate. The child is a fork of the fork server, which is an exec of the very same
//! executable file (checked by device, inode, size and modification time), so the same code
//! lies at the same distance from `anchor` in it, whatever address the loader chose; the
//! parent checks that the entry point and the anchor lie in one loaded object (not, say, in
//! a shared library loaded at its own address), and the child checks that the address it
//! computes lies in its executable's code again before calling it. The entry point then
//! checks a hash of the type names of `F` and `A` before it reads anything.

mod child;
pub(crate) mod client;
mod server;
mod wire;

use core::mem::size_of;
use std::os::fd::{AsFd, BorrowedFd};

use super::{Process, ProcessResult};
use crate::description::Description;
use crate::error::{Error, Result};
use crate::heap;
use crate::os;
use crate::share::{Exporter, Importer, Numbering, Share, receive};

/// The arguments a spawned function can receive: a tuple of references to shared objects
/// and plain [`SharedLayout`](crate::SharedLayout) values (up to 12), which arrive in the child
/// as owned values (`(&Value<i32>, &f64)` arrives as `(Value<i32>, f64)`). Implemented for
/// tuples of [`Share`] types; sealed.
///
/// ```
/// use sharedctypes::{RawValue, process::SpawnArgs};
/// fn arguments<A: SpawnArgs>(_: A) {}
/// let x = RawValue::new(1.5f64)?;
/// arguments((&x, &7i32));
/// arguments(()); // none
/// # Ok::<(), sharedctypes::Error>(())
/// ```
pub trait SpawnArgs: sealed::Args {
    /// What the function receives.
    type Owned: 'static;
    /// The arguments' descriptions, their files added to `out`. Not a public API (its
    /// types cannot be named outside this crate).
    #[doc(hidden)]
    fn export(&self, out: &mut Exporter) -> Result<Vec<Description>>;
    /// The arguments rebuilt in the child. Not a public API.
    #[doc(hidden)]
    fn import(args: &[Description], from: &Importer<'_>) -> Result<Self::Owned>;
}

/// Functions [`Process::spawn`] can run: `fn(A1, A2, …) -> R` for the owned arguments of a
/// [`SpawnArgs`] tuple. Sealed.
pub trait SpawnFn<Args, R>: sealed::Func<Args, R> {}

impl<F: sealed::Func<Args, R>, Args, R> SpawnFn<Args, R> for F {}

mod sealed {
    pub trait Args {}
    /// Implemented only for `FnOnce` types, which only the compiler makes.
    pub trait Func<Args, R> {
        fn call(self, args: Args) -> R;
    }
}

macro_rules! tuples {
    ($(($($a:ident $i:tt),*))*) => {$(
        impl<'a, $($a: Share + 'static),*> sealed::Args for ($(&'a $a,)*) {}

        impl<'a, $($a: Share + 'static),*> SpawnArgs for ($(&'a $a,)*) {
            type Owned = ($($a,)*);

            #[allow(unused_variables)]
            fn export(&self, out: &mut Exporter) -> Result<Vec<Description>> {
                Ok(vec![$(self.$i.export(out)?),*])
            }

            #[allow(unused_variables)]
            fn import(args: &[Description], from: &Importer<'_>) -> Result<Self::Owned> {
                const COUNT: usize = 0 $(+ { let _ = $i; 1 })*;
                if args.len() != COUNT {
                    return Err(Error::InvalidHandle {
                        reason: format!("{} arguments for a function of {COUNT}", args.len()),
                    });
                }
                Ok(($(receive::<$a>(&args[$i], from, None)?,)*))
            }
        }

        impl<Func: FnOnce($($a),*) -> R, R, $($a),*> sealed::Func<($($a,)*), R> for Func {
            #[allow(non_snake_case)]
            fn call(self, args: ($($a,)*)) -> R {
                let ($($a,)*) = args;
                self($($a),*)
            }
        }
    )*};
}

tuples! {
    ()
    (A0 0)
    (A0 0, A1 1)
    (A0 0, A1 1, A2 2)
    (A0 0, A1 1, A2 2, A3 3)
    (A0 0, A1 1, A2 2, A3 3, A4 4)
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5)
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6)
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7)
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8)
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9)
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9, A10 10)
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7, A8 8, A9 9, A10 10, A11 11)
}

/// What a spawned child's entry point receives.
pub(crate) struct Call<'a> {
    tag: u64,
    args: Vec<Description>,
    from: Importer<'a>,
}

impl<'a> Call<'a> {
    /// The type tag the parent sent, for the entry point to check against its own.
    pub(crate) fn tag(&self) -> u64 {
        self.tag
    }

    /// The arguments' descriptions.
    pub(crate) fn args(&self) -> &[Description] {
        &self.args
    }

    /// The files the descriptions refer to.
    pub(crate) fn from(&self) -> &Importer<'a> {
        &self.from
    }
}

/// The entry point of a spawned child, by address.
pub(crate) type Entry = fn(&Call<'_>) -> i32;

/// The fixed point that entry points are sent relative to.
#[inline(never)]
fn anchor() {}

/// What identifies the entry point's types: a hash of the `TypeId` of the function, of what
/// it receives and of what it returns (the parent and the child run the same executable, so
/// they agree on type ids; a type name, as std says, may not be unique).
fn type_tag<F: 'static, A: SpawnArgs, R: 'static>() -> u64 {
    use core::hash::{Hash, Hasher};
    let mut hasher = crate::layout::Fnv::new();
    core::any::TypeId::of::<(F, A::Owned, R)>().hash(&mut hasher);
    hasher.finish()
}

/// The entry point for `F` with the arguments `A`: runs in the child.
fn entry<F, A, R>(call: &Call<'_>) -> i32
where
    F: SpawnFn<A::Owned, R> + Copy + 'static,
    A: SpawnArgs,
    R: ProcessResult + 'static,
{
    if call.tag != type_tag::<F, A, R>() {
        return super::failure::fail("the spawned function does not match");
    }
    let args = match A::import(&call.args, &call.from) {
        Ok(args) => args,
        Err(e) => {
            return super::failure::fail(&format!(
                "the spawned child could not receive its arguments: {e}"
            ));
        }
    };
    const { assert!(size_of::<F>() == 0) };
    // SAFETY: `F` is a function item: zero-sized (asserted at compile time) and `Copy`, and
    // not a closure (`Process::spawn` refused closures before sending this entry point). A
    // function item's type has a single value that stands for nothing but its code, which
    // this process has too, so producing it from no bytes produces the `f` the parent passed.
    let f: F = unsafe { core::mem::zeroed() };
    sealed::Func::call(f, args).exit_code()
}

/// `addr`'s distance from [`anchor`], if both lie in the same loaded object.
fn distance_from_anchor(addr: usize) -> Option<i64> {
    let anchor = anchor as fn() as usize;
    let base = os::image::object_base(anchor)?;
    (os::image::object_base(addr)? == base).then(|| addr as i64 - anchor as i64)
}

/// The distance from [`anchor`] of the code at `addr` (a function's address), to send to a
/// fresh process of this executable; an error saying why if it does not lie in the
/// executable's own code.
pub(crate) fn distance_of(addr: usize) -> Result<i64> {
    os::image::in_main_executable(addr).map_err(|(object, exe)| {
        Error::spawn(
            "spawn",
            format!(
                "the function lies in {object}, which is not the running executable ({exe}): sharedctypes is part of a shared library loaded into another program, whose fresh copy would not hold the function (start such children with Process::command)"
            ),
        )
    })?;
    distance_from_anchor(addr).ok_or_else(|| {
        Error::spawn(
            "spawn",
            "the function is not in the executable's own code (is sharedctypes linked as a shared library?)".into(),
        )
    })
}

/// The address at `distance` from [`anchor`] in this process, if it lies in the same loaded
/// object as the anchor (this executable's own code) and is not null.
pub(crate) fn code_at(distance: i64) -> Option<usize> {
    let anchor = anchor as fn() as usize;
    let addr = (anchor as i64).checked_add(distance)? as usize;
    if os::image::object_base(addr)? != os::image::object_base(anchor)? || addr == 0 {
        return None;
    }
    Some(addr)
}

/// The entry point at `distance` from [`anchor`] in this process, if that lies in the same
/// loaded object as the anchor.
fn entry_point(distance: i64) -> Option<Entry> {
    let addr = code_at(distance)?;
    // SAFETY: this process runs the same executable file as the parent (the fork server
    // checked it), so the code at the same distance from `anchor` in the same loaded object
    // is the entry point the parent took the distance of: an `Entry` (a non-null `fn`).
    Some(unsafe { core::mem::transmute::<usize, Entry>(addr) })
}

/// The `Process` of a child [`start`] started: it holds no borrow (the child received its
/// own copies of the objects' descriptions), so it may outlive any of them.
pub(crate) fn process(pid: i32, report: std::os::fd::OwnedFd) -> Process<'static> {
    Process::new(pid, super::Kind::Spawned, Some(report))
}

/// Starts a fresh process of this executable that runs `entry` (whose type tag is `tag`)
/// with the arguments `sent`, whose files are in `out`; its pid and the read end of its
/// failure report.
pub(crate) fn start(
    entry: Entry,
    tag: u64,
    out: Exporter,
    sent: Vec<Description>,
) -> Result<(i32, std::os::fd::OwnedFd)> {
    // Keeps the fork server's entry in the executable: this function refers to it.
    core::hint::black_box(&server::ENTER_IF_SERVER);
    let distance = distance_of(entry as usize)?;
    let held = heap::held_lifelines();
    let request = wire::Request {
        entry: distance,
        tag,
        held: held.len() as u32,
        args: sent.iter().map(|d| d.to_header(0)).collect(),
    };
    let cwd = os::fd::working_directory()?;
    let (status, theirs) = os::socket::seqpacket_pair()?;
    // Blocks allocated until now are not reused while the child may map them.
    let lifeline = heap::new_lifeline()
        .ok_or_else(|| Error::spawn("spawn", "no descriptor left for a lifeline".into()))?;
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let (report, report_theirs) = os::fd::report_pipe()?;
    let mut fds: Vec<BorrowedFd<'_>> = vec![
        theirs.as_fd(),
        lifeline.as_fd(),
        stdin.as_fd(),
        stdout.as_fd(),
        stderr.as_fd(),
        report_theirs.as_fd(),
        cwd.as_fd(),
    ];
    fds.extend(held.iter().map(AsFd::as_fd));
    fds.extend(out.fds().iter().map(AsFd::as_fd));
    let pid = client::submit(&request.encode(), &fds, status.as_fd())?;
    Ok((pid, report))
}

impl<'scope> Process<'scope> {
    /// Runs `f(args…)` in a fresh process of this executable, never a fork of this one
    /// (Python's `spawn` and `forkserver` start methods): safe from any program, however
    /// many threads it runs, and with no code added to `main`.
    ///
    /// `f` is a plain `fn` item (a closure is refused, even one that captures nothing); `args` is
    /// a tuple of references to shared objects ([`RawValue`](crate::RawValue),
    /// [`RawArray`](crate::RawArray), [`Value`](crate::Value), [`Array`](crate::Array),
    /// [`Lock`](crate::Lock), [`RLock`](crate::RLock)) and plain `SharedLayout` values, which
    /// `f` receives by value: the same shared objects (the child maps their memory), and
    /// copies of the plain values. The child never runs `main` (nor a test harness): a clean
    /// fork server, started once by exec of this executable, forks it, and it runs `f` and
    /// exits. Its stdio and working directory are this process's at the call.
    ///
    /// Exit codes, panics (1), signals (`-N`), [`join`](Self::join) and the borrowing of the
    /// objects (the `Process` joins on drop) are exactly as for [`start`](Self::start).
    ///
    /// # Errors
    /// [`Error::SpawnFailed`] if the fork server cannot be started (or this executable
    /// changed on disk since it started) or `f` is not in the executable's own code (a
    /// shared-library build of sharedctypes); [`Error::Os`] if a system call fails.
    ///
    /// ```
    /// use sharedctypes::{Array, CChar, Process, RawValue, Value};
    ///
    /// fn modify(n: Value<i32>, x: RawValue<f64>, s: Array<CChar>, scale: f64) -> sharedctypes::Result<()> {
    ///     n.update(|n| n * n)?;
    ///     x.update(|x| x * scale);
    ///     s.set_value(&s.value()?.to_ascii_uppercase())
    /// }
    ///
    /// let n = Value::new(7)?;
    /// let x = RawValue::new(1.5)?;
    /// let s = Array::from_slice(&b"hello".map(CChar))?;
    /// let child = Process::spawn(modify, (&n, &x, &s, &2.0))?;
    /// assert_eq!(child.join()?, 0);
    /// assert_eq!((n.get()?, x.get(), s.value()?), (49, 3.0, b"HELLO".to_vec()));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn spawn<F, A, R>(f: F, args: A) -> Result<Process<'scope>>
    where
        F: SpawnFn<A::Owned, R> + Copy + Send + 'static,
        A: SpawnArgs + 'scope,
        R: ProcessResult + 'static,
    {
        const {
            assert!(
                size_of::<F>() == 0,
                "Process::spawn runs a plain `fn` item in a fresh process, where the values a closure captures do not exist: write a `fn` that takes them as arguments"
            )
        };
        let _ = f;
        // A closure is refused, even one that captures only zero-sized values: such a value
        // (a token that proves some set-up ran) would be made out of nothing in a process
        // where that set-up never ran. A plain `fn` item has no such state.
        if core::any::type_name::<F>().contains('{') {
            return Err(Error::spawn(
                "spawn",
                format!(
                    "`{}` is a closure: Process::spawn runs a plain `fn` item (whatever a closure captures, even a zero-sized value, exists only in this process)",
                    core::any::type_name::<F>()
                ),
            ));
        }
        let mut out = Exporter::new(Numbering::Slots);
        let sent = args.export(&mut out)?;
        let (pid, report) = start(entry::<F, A, R>, type_tag::<F, A, R>(), out, sent)?;
        Ok(Process::new(pid, super::Kind::Spawned, Some(report)))
    }
}
