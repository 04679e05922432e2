//! Why a child failed, told to its parent: the child writes its panic message or its `Err`'s
//! `Debug` text into a pipe before it exits, and the parent reads it once the child has
//! ended ([`Process::failure`](super::Process::failure)); a child killed by a signal is
//! reported as such.

use core::any::Any;
use core::cell::{Cell, RefCell};
use core::sync::atomic::{AtomicI32, AtomicPtr, AtomicU64, Ordering};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, IntoRawFd, OwnedFd};

use crate::os;

/// The most bytes of a failure's text the parent receives (one whole pipe write); a longer
/// text is cut at a character boundary and ends with `…`.
pub const MAX_FAILURE_LEN: usize = os::fd::PIPE_BUF;

/// In a child, the write end of its report pipe (-1: none, or already used).
static REPORT_FD: AtomicI32 = AtomicI32::new(-1);

/// Which pipe `REPORT_FD` is (device and inode). A child may close descriptors it does not
/// own (a daemon closing everything above 2) and open files that get the same number: the
/// report is then neither written into them nor are they closed.
static REPORT_DEV: AtomicU64 = AtomicU64::new(0);
static REPORT_INO: AtomicU64 = AtomicU64::new(0);

/// Whether the descriptor number `fd` is still the report pipe that was installed.
fn still_ours(fd: i32) -> bool {
    os::fd::identity(fd)
        == Some((
            REPORT_DEV.load(Ordering::Acquire),
            REPORT_INO.load(Ordering::Acquire),
        ))
}

/// In a child, the latest failure text it reported (a leaked `Box<String>`, or null): sent
/// to the parent when the child ends with a non-zero code, so an `exit_code()` the closure
/// computed on the way (and recovered from) neither uses up nor stands in for the real one.
/// An atomic pointer, not a lock: nothing a forked child inherits can be held for ever.
static PENDING: AtomicPtr<String> = AtomicPtr::new(core::ptr::null_mut());

static HOOKS: crate::fork::Hooks = crate::fork::Hooks {
    prepare: crate::fork::nothing,
    parent: crate::fork::nothing,
    child: forget_after_fork,
};

/// In a forked child (a fork hook): the report pipe it inherited belongs to its parent's
/// report, and the parent's pending text is not this child's.
fn forget_after_fork() {
    install(None);
}

/// In a child, before it runs anything of the caller's: its own report pipe. The one it
/// inherited from its parent (if its parent is itself a child) belongs to the parent's report
/// and is closed here, and the parent's pending text is not this child's.
pub(crate) fn install(write: Option<OwnedFd>) {
    if write.is_some() {
        crate::fork::on_fork(&HOOKS);
    }
    let old = REPORT_FD.swap(-1, Ordering::AcqRel);
    if old >= 0 && still_ours(old) {
        // SAFETY: `old` was installed here by this function (taken from an `OwnedFd`), in
        // this process or the one it was forked from (then this is the copy fork made), the
        // swap took it out of REPORT_FD, and the number still names that pipe (not a file
        // the process opened after closing it), so it is closed exactly once.
        drop(unsafe { OwnedFd::from_raw_fd(old) });
    }
    take_pending();
    let Some(write) = write else { return };
    let Some((dev, ino)) = os::fd::identity(write.as_raw_fd()) else {
        return; // cannot happen for an open pipe; the child then reports nothing
    };
    REPORT_DEV.store(dev, Ordering::Release);
    REPORT_INO.store(ino, Ordering::Release);
    REPORT_FD.store(write.into_raw_fd(), Ordering::Release);
}

/// Keeps `text` as why this child fails, replacing an earlier one (nothing outside a child).
pub(crate) fn report(text: String) {
    if REPORT_FD.load(Ordering::Acquire) < 0 {
        return;
    }
    let old = PENDING.swap(Box::into_raw(Box::new(text)), Ordering::AcqRel);
    if !old.is_null() {
        // SAFETY: non-null values of PENDING come only from `Box::into_raw` just above, and
        // the swap took this one out, so it is turned back into its box exactly once.
        drop(unsafe { Box::from_raw(old) });
    }
}

fn take_pending() -> Option<String> {
    let text = PENDING.swap(core::ptr::null_mut(), Ordering::AcqRel);
    if text.is_null() {
        return None;
    }
    // SAFETY: as in `report`: a pointer from `Box::into_raw`, taken out of PENDING by the swap.
    Some(*unsafe { Box::from_raw(text) })
}

/// At the end of a child that exits with `code`: tells the parent the reported text, if the
/// child fails (a zero code reports nothing, whatever was kept on the way).
pub(crate) fn send(code: i32) {
    let text = take_pending();
    let fd = REPORT_FD.swap(-1, Ordering::AcqRel);
    if fd < 0 || !still_ours(fd) {
        return;
    }
    // SAFETY: `fd` is the installed report pipe (see `install`; the number still names that
    // pipe), taken out of REPORT_FD by the swap, so nothing else closes it; it is closed
    // here once written.
    let pipe = unsafe { OwnedFd::from_raw_fd(fd) };
    if let (true, Some(text)) = (code != 0, text) {
        os::fd::write_once(pipe.as_fd(), bounded(&text).as_bytes());
    }
}

/// Runs a child's work (the closure, or the spawned function, and its `exit_code`): its exit
/// code, or 1 if it panicked, after keeping the panic message for the parent. The panic hook
/// has printed the message already; the payload is leaked, since dropping it could run user
/// code that panics again, and the process is about to end.
pub(crate) fn run_reporting(work: impl FnOnce() -> i32) -> i32 {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(code) => code,
        Err(payload) => {
            report(panic_text(&*payload));
            std::mem::forget(payload);
            1
        }
    }
}

/// Ends a child's work with a failure of sharedctypes' own (the spawned function is not in
/// this executable, its arguments cannot be received): says so on stderr and to the parent;
/// the exit code, 1.
pub(crate) fn fail(text: &str) -> i32 {
    os::fd::write_stderr_unlocked(format!("sharedctypes: {text}\n").as_bytes());
    report(text.to_owned());
    1
}

/// `text`, cut to at most [`MAX_FAILURE_LEN`] bytes.
fn bounded(text: &str) -> std::borrow::Cow<'_, str> {
    if text.len() <= MAX_FAILURE_LEN {
        return text.into();
    }
    let mut end = MAX_FAILURE_LEN - '…'.len_utf8();
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end]).into()
}

/// The message of a panic, from its payload (`panic!("...")` gives a `&str` or a `String`).
pub(crate) fn panic_text(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "a panic whose payload is not text (`std::panic::panic_any`)".to_owned()
    }
}

/// The parent's side: the read end of the child's report pipe until the child has ended,
/// then what it said.
pub(crate) struct Failure {
    pipe: Cell<Option<OwnedFd>>,
    text: RefCell<Option<String>>,
}

impl Failure {
    /// For a child that reports through the write end of `pipe` (none: it cannot report, and
    /// only a death by signal is told).
    pub(crate) fn new(pipe: Option<OwnedFd>) -> Failure {
        Failure {
            pipe: Cell::new(pipe),
            text: RefCell::new(None),
        }
    }

    /// Once the child has ended with `code`: reads its report, or says which signal killed it.
    pub(crate) fn collect(&self, code: i32) {
        let said = self
            .pipe
            .take()
            .map(|pipe| os::fd::read_available(pipe.as_fd(), MAX_FAILURE_LEN))
            .unwrap_or_default();
        let text = if !said.is_empty() {
            Some(String::from_utf8_lossy(&said).into_owned())
        } else if code < 0 {
            Some(match os::process::signal_name(-code) {
                Some(name) => format!("killed by signal {} ({name})", -code),
                None => format!("killed by signal {}", -code),
            })
        } else {
            None
        };
        *self.text.borrow_mut() = text;
    }

    /// What [`collect`](Self::collect) found.
    pub(crate) fn text(&self) -> Option<String> {
        self.text.borrow().clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_at_a_character_boundary() {
        assert_eq!(bounded("short"), "short");
        let long = "é".repeat(MAX_FAILURE_LEN);
        let cut = bounded(&long);
        assert!(cut.len() <= MAX_FAILURE_LEN, "{}", cut.len());
        assert!(cut.ends_with('…'));
        assert_eq!(cut.len(), MAX_FAILURE_LEN - 3 - 1 + 3); // 2046 'é' = 4092 bytes, then '…'
    }

    #[test]
    fn panic_payloads_become_their_text() {
        assert_eq!(panic_text(&"boom"), "boom");
        assert_eq!(panic_text(&String::from("at 3")), "at 3");
        assert!(panic_text(&7u8).contains("panic_any"));
    }
}
