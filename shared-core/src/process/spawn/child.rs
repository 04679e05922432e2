//! A spawned child, just forked by the fork server (as a child of the server's parent): it
//! takes its parent's stdio and working directory, keeps its lifelines, receives its objects,
//! and runs the function.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};

use super::super::failure;
use super::wire::Request;
use super::{Call, entry_point};
use crate::description::Description;
use crate::os;
use crate::share::Importer;

/// Runs the request's function and ends the process with its exit code.
pub(super) fn run(request: Request, fds: Vec<OwnedFd>) -> ! {
    os::process::reset_signals();
    let mut fds = fds.into_iter();
    let (Some(lifeline), Some(stdin), Some(stdout), Some(stderr), Some(report), Some(cwd)) = (
        fds.next(),
        fds.next(),
        fds.next(),
        fds.next(),
        fds.next(),
        fds.next(),
    ) else {
        os::process::exit_now(104);
    };
    os::fd::install_stdio(stdin.as_fd(), stdout.as_fd(), stderr.as_fd());
    drop((stdin, stdout, stderr));
    failure::install(Some(report));
    // The parent's working directory, by descriptor: the same directory even if it was
    // renamed or removed meanwhile.
    let entered = os::fd::fchdir(cwd.as_fd());
    drop(cwd);
    // Held for as long as this process runs, and handed on to what it spawns: the parent
    // (and its ancestors) reuse no block this process may map until they are all closed.
    let held: Vec<OwnedFd> = fds.by_ref().take(request.held as usize).collect();
    crate::heap::hold_lifelines(std::iter::once(lifeline).chain(held).collect());
    let arenas: Vec<OwnedFd> = fds.collect();

    let code = match (entered, entry_point(request.entry)) {
        (Err(e), _) => failure::fail(&format!(
            "the spawned child could not enter its parent's working directory: {e}"
        )),
        (_, None) => failure::fail("the spawned function is not in this executable's code"),
        (Ok(()), Some(entry)) => {
            let args: Result<Vec<Description>, String> = request
                .args
                .iter()
                .map(|a| Description::from_header(a).map(|(d, _)| d))
                .collect();
            match args {
                Err(e) => failure::fail(&format!(
                    "the spawned child could not read its arguments: {e}"
                )),
                Ok(args) => {
                    let call = Call {
                        tag: request.tag,
                        args,
                        from: Importer::Slots(arenas),
                    };
                    failure::run_reporting(|| entry(&call))
                }
            }
        }
    };
    let _ = std::io::stdout().flush();
    failure::send(code);
    os::process::exit_now(code)
}
