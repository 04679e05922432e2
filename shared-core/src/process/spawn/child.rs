//! A spawned child, just forked by the fork server: it takes its parent's stdio and working
//! directory, keeps its lifelines, receives its objects, and runs the function.

use std::ffi::OsStr;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::panic::{self, AssertUnwindSafe};

use super::wire::Request;
use super::{Call, entry_point};
use crate::os;
use crate::share::{Handle, Importer, Sent};

/// Runs the request's function and ends the process with its exit code.
pub(super) fn run(request: Request, fds: Vec<OwnedFd>) -> ! {
    os::process::reset_signals();
    let mut fds = fds.into_iter();
    let (Some(lifeline), Some(stdin), Some(stdout), Some(stderr)) =
        (fds.next(), fds.next(), fds.next(), fds.next())
    else {
        os::process::exit_now(104);
    };
    os::fd::install_stdio(stdin.as_fd(), stdout.as_fd(), stderr.as_fd());
    drop((stdin, stdout, stderr));
    if !request.cwd.is_empty() {
        os::fd::chdir(OsStr::from_bytes(&request.cwd).as_ref());
    }
    // Held for as long as this process runs, and handed on to what it spawns: the parent
    // (and its ancestors) reuse no block this process may map until they are all closed.
    let held: Vec<OwnedFd> = fds.by_ref().take(request.held as usize).collect();
    crate::heap::hold_lifelines(std::iter::once(lifeline).chain(held).collect());
    let arenas: Vec<OwnedFd> = fds.collect();

    let code = match entry_point(request.entry) {
        None => {
            os::fd::write_stderr_unlocked(
                b"sharedctypes: the spawned function is not in this executable's code\n",
            );
            1
        }
        Some(entry) => {
            let handles: Result<Vec<Sent>, _> = request
                .handles
                .iter()
                .map(|h| Handle::parse(h).map(Sent))
                .collect();
            match handles {
                Err(e) => {
                    os::fd::write_stderr_unlocked(
                        format!(
                            "sharedctypes: the spawned child could not read its arguments: {e}\n"
                        )
                        .as_bytes(),
                    );
                    1
                }
                Ok(handles) => {
                    let call = Call {
                        tag: request.tag,
                        handles,
                        fds: Importer::Slots(arenas),
                    };
                    match panic::catch_unwind(AssertUnwindSafe(|| entry(&call))) {
                        Ok(code) => code,
                        Err(payload) => {
                            // The panic hook has printed the message; dropping the payload
                            // could run user code that panics again.
                            std::mem::forget(payload);
                            1
                        }
                    }
                }
            }
        }
    };
    let _ = std::io::stdout().flush();
    os::process::exit_now(code)
}
