//! [`Process::command`]: start any program with shared objects it can find by name.

use core::cell::Cell;
use core::marker::PhantomData;
use std::os::fd::AsRawFd;
use std::process::{ChildStderr, ChildStdin, ChildStdout};

use super::{Kind, Process};
use crate::error::{Error, Result};
use crate::os;
use crate::share::{self, Exporter, Numbering, Share};

/// The longest string `execve` takes as one argument or environment variable.
const MAX_ARG_STRLEN: usize = 32 * 4096;

/// A program to start with shared objects: [`Process::command`] makes one,
/// [`share`](Self::share) adds an object under a name, [`spawn`](Self::spawn) starts it.
///
/// The program finds each object with [`inherited`](crate::share::inherited) (a Rust
/// program), or by reading the environment variable `SHAREDCTYPES_SHARED_<name>` and the
/// descriptors it names (any program; the format is described in [`share`]). The program
/// gets the files the objects lie in and no other descriptor of this process. It can read
/// and write all of such a file, so every object handed to it must lie in a file of its own:
/// create it inside [`heap::isolated`](crate::heap::isolated), or by name.
///
/// The command borrows the objects, and the [`Process`] it starts joins on drop, so an object
/// cannot be freed while the program may use it.
///
/// ```
/// use std::process::Command;
/// use sharedctypes::{Process, Value, heap};
///
/// let n = heap::isolated(|| Value::new(41i32))?;
/// let mut cmd = Command::new("sh");
/// cmd.args(["-c", "echo \"$SHAREDCTYPES_SHARED_n\" | cut -d' ' -f1-2"]);
/// cmd.stdout(std::process::Stdio::piped());
/// let child = Process::command(cmd).share("n", &n)?.spawn()?;
/// let mut out = String::new();
/// std::io::Read::read_to_string(&mut child.take_stdout().unwrap(), &mut out).unwrap();
/// assert_eq!(child.join()?, 0);
/// assert_eq!(out, "sharedctypes/2 kind=value\n");
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[must_use = "a command does nothing until spawned"]
pub struct Command<'scope> {
    cmd: std::process::Command,
    out: Exporter,
    names: Vec<String>,
    _borrows: PhantomData<&'scope ()>,
}

impl<'scope> Process<'scope> {
    /// A program to start with shared objects (see [`Command`]): add them with
    /// [`share`](Command::share), start it with [`spawn`](Command::spawn).
    ///
    /// ```
    /// use sharedctypes::Process;
    /// let child = Process::command(std::process::Command::new("true")).spawn()?;
    /// assert_eq!(child.join()?, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn command(cmd: std::process::Command) -> Command<'scope> {
        Command {
            cmd,
            out: Exporter::new(Numbering::Inherited),
            names: Vec::new(),
            _borrows: PhantomData,
        }
    }
}

impl<'scope> Command<'scope> {
    /// Shares `obj` with the program under `name` (1 to 200 ASCII letters, digits, `_`, `-`
    /// and `.`, not starting with `.`: the names of named objects).
    ///
    /// # Errors
    /// [`Error::InvalidName`] for a bad or repeated name; [`Error::NotIsolated`] for an
    /// object that lies beside other objects (the program could reach them);
    /// [`Error::InvalidArgument`] for one whose description does not fit in an environment
    /// variable (a layout of more than about 128 KiB); [`Error::Os`]
    /// if the object's memory cannot be prepared for sending.
    ///
    /// ```
    /// use sharedctypes::{Error, Process, RawArray, heap};
    /// let a = heap::isolated(|| RawArray::<u8>::zeroed(4))?;
    /// let cmd = Process::command(std::process::Command::new("true")).share("bytes", &a)?;
    /// assert!(matches!(cmd.share("bytes", &a), Err(Error::InvalidName { .. })));
    /// let common = RawArray::<u8>::zeroed(4)?; // among other objects
    /// let cmd = Process::command(std::process::Command::new("true"));
    /// assert_eq!(
    ///     cmd.share("common", &common).unwrap_err(),
    ///     Error::NotIsolated { name: "common".into() }
    /// );
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn share<T: Share>(mut self, name: &str, obj: &'scope T) -> Result<Self> {
        crate::description::check_name(name)?;
        if self.names.iter().any(|n| n == name) {
            return Err(Error::InvalidName {
                name: name.to_string(),
                reason: "an object is already shared under this name",
            });
        }
        self.out.require_isolation(name);
        let text = obj.export(&mut self.out)?.to_string();
        let var = share::env_var(name);
        // `NAME=value` and its NUL must fit in one argument string of `execve`.
        if var.len() + text.len() + 2 > MAX_ARG_STRLEN {
            return Err(Error::InvalidArgument {
                reason: format!(
                    "the description of `{name}` is {} bytes, and an environment variable holds at most {MAX_ARG_STRLEN} bytes (Linux's MAX_ARG_STRLEN, with its name): hand the program an object of a type with a shorter layout, or one it opens by name",
                    text.len()
                ),
            });
        }
        self.cmd.env(var, text);
        self.names.push(name.to_string());
        Ok(self)
    }

    /// Starts the program.
    ///
    /// From a process of one thread (or with nothing shared), the program starts the way std
    /// starts any program (`posix_spawn`), the shared descriptors made inheritable for that
    /// moment only. From a process of several threads it is forked, and the descriptors are
    /// made inheritable in the child alone: a program another thread started meanwhile would
    /// inherit them too (std offers no other way to hand descriptors over).
    ///
    /// # Errors
    /// [`Error::Os`] if it cannot be started (not found, not executable, …).
    pub fn spawn(mut self) -> Result<Process<'scope>> {
        // Handles this process inherited from its own parent name descriptors that the
        // program will not have: do not pass them on.
        for (key, _) in std::env::vars_os() {
            let shared = key
                .to_str()
                .is_some_and(|k| k.starts_with("SHAREDCTYPES_SHARED_"));
            let ours = key
                .to_str()
                .and_then(|k| k.strip_prefix("SHAREDCTYPES_SHARED_"))
                .is_some_and(|n| self.names.iter().any(|m| m == n));
            if shared && !ours {
                self.cmd.env_remove(&key);
            }
        }
        let keep: Vec<i32> = self.out.fds().iter().map(AsRawFd::as_raw_fd).collect();
        let mut child = os::exec::spawn_keeping(&mut self.cmd, &keep, false)?;
        // No lifeline: the program can map only the files of the objects it was handed, each
        // of its own (never reused), not the common arenas.
        let pid = child.id() as i32;
        Ok(Process::new(
            pid,
            Kind::Program(Stdio {
                stdin: Cell::new(child.stdin.take()),
                stdout: Cell::new(child.stdout.take()),
                stderr: Cell::new(child.stderr.take()),
            }),
            None,
        ))
    }
}

/// `Command { program: "worker", shared: ["inputs", "done"] }`.
///
/// ```
/// use sharedctypes::{Process, RawValue, heap};
/// let v = heap::isolated(|| RawValue::new(1u8))?;
/// let cmd = Process::command(std::process::Command::new("true")).share("v", &v)?;
/// assert_eq!(format!("{cmd:?}"), r#"Command { program: "true", shared: ["v"] }"#);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
impl core::fmt::Debug for Command<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Command")
            .field("program", &self.cmd.get_program())
            .field("shared", &self.names)
            .finish()
    }
}

/// The pipes to a program's standard streams, when the command asked for them
/// (`Stdio::piped()`).
pub(super) struct Stdio {
    pub(super) stdin: Cell<Option<ChildStdin>>,
    pub(super) stdout: Cell<Option<ChildStdout>>,
    pub(super) stderr: Cell<Option<ChildStderr>>,
}

impl Process<'_> {
    /// The pipes to a program's standard streams.
    fn stdio(&self) -> Option<&Stdio> {
        match &self.kind {
            Kind::Program(stdio) => Some(stdio),
            _ => None,
        }
    }

    /// The pipe to the program's standard input, if its command asked for one
    /// (`Stdio::piped()`); `None` after the first call, and for other kinds of children.
    ///
    /// ```
    /// use std::io::Write;
    /// use std::process::{Command, Stdio};
    /// use sharedctypes::Process;
    /// let mut cmd = Command::new("cat");
    /// cmd.stdin(Stdio::piped()).stdout(Stdio::null());
    /// let child = Process::command(cmd).spawn()?;
    /// child.take_stdin().unwrap().write_all(b"hello").unwrap(); // dropped: end of input
    /// assert_eq!(child.join()?, 0);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn take_stdin(&self) -> Option<ChildStdin> {
        self.stdio()?.stdin.take()
    }

    /// The pipe from the program's standard output, if its command asked for one.
    ///
    /// ```
    /// use std::io::Read;
    /// use std::process::{Command, Stdio};
    /// use sharedctypes::Process;
    /// let mut cmd = Command::new("echo");
    /// cmd.arg("hi").stdout(Stdio::piped());
    /// let child = Process::command(cmd).spawn()?;
    /// let mut out = String::new();
    /// child.take_stdout().unwrap().read_to_string(&mut out).unwrap();
    /// assert_eq!((child.join()?, out.as_str()), (0, "hi\n"));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn take_stdout(&self) -> Option<ChildStdout> {
        self.stdio()?.stdout.take()
    }

    /// The pipe from the program's standard error, if its command asked for one.
    ///
    /// ```
    /// use std::io::Read;
    /// use std::process::{Command, Stdio};
    /// use sharedctypes::Process;
    /// let mut cmd = Command::new("sh");
    /// cmd.args(["-c", "echo oops >&2"]).stderr(Stdio::piped());
    /// let child = Process::command(cmd).spawn()?;
    /// let mut err = String::new();
    /// child.take_stderr().unwrap().read_to_string(&mut err).unwrap();
    /// assert_eq!((child.join()?, err.as_str()), (0, "oops\n"));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    pub fn take_stderr(&self) -> Option<ChildStderr> {
        self.stdio()?.stderr.take()
    }
}
