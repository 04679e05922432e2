//! A pool's worker: a spawned process that takes chunks of inputs from the tasks queue, runs
//! the function on each item, and puts the chunk's outputs on the results queue, until the
//! tasks queue is closed.
//!
//! Before each item it writes, in its slot of the status array, the job and the item's
//! index (plus one); it clears the index once the chunk is computed, before sending it. So
//! when a worker dies, the pool knows the item that killed it (or that it died between
//! items, when its chunk is simply sent again).

use core::any::TypeId;
use core::hash::{Hash, Hasher};
use core::time::Duration;

use super::wire::{self, Done, Task};
use crate::access::SharedLayout;
use crate::error::{Error, Result};
use crate::os;
use crate::process::spawn::{self, Call};
use crate::process::{SpawnArgs, failure};
use crate::{BytesQueue, RawArray};

/// Words of a worker's slot in the status array: the job, and the item it runs plus one, in
/// its first two; the rest keeps the next worker's slot off the cache lines of this one
/// (each worker writes its slot once per item: two slots on one line would bounce it
/// between their CPUs on every item).
pub(crate) const STATUS_WORDS: usize = 16;

/// What every worker receives first: the tasks and results queues, the status array, and
/// its slot with the pool's process's id.
pub(crate) type Channels<'a> = (
    &'a BytesQueue,
    &'a BytesQueue,
    &'a RawArray<u64>,
    &'a [u64; 2],
);
/// The same, received.
type Received = (BytesQueue, BytesQueue, RawArray<u64>, [u64; 2]);

/// The hash of `X`'s type id: tags what a message or a spawned worker is for.
pub(crate) fn tag_of<X: 'static>() -> u64 {
    let mut hasher = crate::layout::Fnv::new();
    TypeId::of::<X>().hash(&mut hasher);
    hasher.finish()
}

/// A chunk of a job, as a worker runs it.
pub(crate) struct Chunk<'a> {
    task: Task,
    inputs: &'a [u8],
    status: &'a RawArray<u64>,
    slot: usize,
}

impl Chunk<'_> {
    /// Runs `f` on each input (a `T`), recording progress; the result message, or why the
    /// chunk cannot be run.
    fn run<T: SharedLayout, R: SharedLayout>(
        &self,
        f: impl Fn(T) -> R,
    ) -> core::result::Result<Vec<u8>, String> {
        let inputs = wire::items::<T>(self.inputs, self.task.count).ok_or_else(|| {
            format!(
                "a chunk of {} bytes is not {} inputs of {} bytes",
                self.inputs.len(),
                self.task.count,
                core::mem::size_of::<T>()
            )
        })?;
        let at = self.slot * STATUS_WORDS;
        let (Some(job), Some(item)) = (self.status.place(at), self.status.place(at + 1)) else {
            return Err(format!(
                "worker slot {} outside the status array",
                self.slot
            ));
        };
        job.store(self.task.job);
        let mut outputs = Vec::with_capacity(inputs.len());
        for (i, x) in inputs.into_iter().enumerate() {
            // The item this worker is in (+ 1), for the pool to fail only it if we die.
            item.store(self.task.first + i as u64 + 1);
            outputs.push(f(x));
        }
        item.store(0);
        Ok(Done {
            job: self.task.job,
            first: self.task.first,
            count: self.task.count,
        }
        .encode(&outputs))
    }
}

/// A chunk's runner in a worker that serves any function: the code a task names.
type ChunkFn = fn(&Chunk<'_>) -> core::result::Result<Vec<u8>, String>;

/// The chunk runner for `F: Fn(T) -> R` (a plain function, checked by the pool).
pub(crate) fn run_chunk<F, T, R>(chunk: &Chunk<'_>) -> core::result::Result<Vec<u8>, String>
where
    F: Fn(T) -> R + Copy + 'static,
    T: SharedLayout,
    R: SharedLayout,
{
    if chunk.task.tag != tag_of::<(F, T, R)>() {
        return Err("the task's function does not match its code".into());
    }
    const { assert!(core::mem::size_of::<F>() == 0) };
    // SAFETY: `F` is a function item (the pool refused anything else before sending this
    // runner): zero-sized (asserted at compile time), `Copy`, with a single value that
    // stands for code this process has too (the same executable: see `process::spawn`).
    let f: F = unsafe { core::mem::zeroed() };
    chunk.run::<T, R>(f)
}

/// The distance of `run_chunk::<F, T, R>` for a task.
pub(crate) fn chunk_entry<F, T, R>() -> Result<i64>
where
    F: Fn(T) -> R + Copy + 'static,
    T: SharedLayout,
    R: SharedLayout,
{
    let runner: ChunkFn = run_chunk::<F, T, R>;
    spawn::distance_of(runner as usize)
}

/// How often a waiting worker checks that its pool's process still lives.
const OWNER_CHECK: Duration = Duration::from_millis(500);

/// Takes tasks until the tasks queue is closed, running each with `run`; the exit code.
///
/// A worker is its pool's process's child; if that process dies without closing the queues
/// (killed, or aborted), the worker is re-parented and sees it within [`OWNER_CHECK`], and
/// exits instead of waiting for ever.
fn serve(
    (tasks, results, status, [slot, owner]): &Received,
    run: impl Fn(&Chunk<'_>) -> core::result::Result<Vec<u8>, String>,
) -> i32 {
    let Ok(slot) = usize::try_from(*slot) else {
        return failure::fail("a worker slot out of range");
    };
    // The pool's process, as it said when it started this worker: the worker's parent
    // until it dies (a worker that reads its parent only now could find it already gone).
    let orphaned = || u64::from(os::process::getppid().unsigned_abs()) != *owner;
    loop {
        let message = match tasks.get_timeout(OWNER_CHECK) {
            Ok(Some(message)) => message,
            Ok(None) if orphaned() => return 0,
            Ok(None) | Err(Error::ParticipantDied { .. }) => continue,
            Err(Error::Closed) => return 0,
            Err(e) => return failure::fail(&format!("a pool worker could not take a task: {e}")),
        };
        let Some((task, inputs)) = Task::decode(&message) else {
            return failure::fail("a pool worker received a task too short to read");
        };
        let chunk = Chunk {
            task,
            inputs,
            status,
            slot,
        };
        let done = match run(&chunk) {
            Ok(done) => done,
            Err(e) => return failure::fail(&format!("a pool worker could not run a task: {e}")),
        };
        loop {
            match results.put_timeout(&done, OWNER_CHECK) {
                Ok(true) => break,
                Ok(false) if orphaned() => return 0,
                Ok(false) | Err(Error::ParticipantDied { .. }) => continue,
                Err(Error::Closed) => return 0,
                Err(e) => {
                    return failure::fail(&format!("a pool worker could not send a result: {e}"));
                }
            }
        }
    }
}

/// The channels a worker receives first, and the rest of its arguments' descriptions.
fn receive_channels<'c>(
    call: &'c Call<'_>,
) -> core::result::Result<(Received, &'c [crate::description::Description]), String> {
    let args = call.args();
    if args.len() < 4 {
        return Err(format!("{} arguments for a pool worker", args.len()));
    }
    let (mine, rest) = args.split_at(4);
    let channels = <Channels<'_> as SpawnArgs>::import(mine, call.from())
        .map_err(|e| format!("a pool worker could not receive its queues: {e}"))?;
    Ok((channels, rest))
}

/// The entry point of a worker that serves any function: each task names its runner.
pub(crate) fn any_function(call: &Call<'_>) -> i32 {
    if call.tag() != tag_of::<ChunkFn>() {
        return failure::fail("the spawned pool worker does not match");
    }
    let (channels, _) = match receive_channels(call) {
        Ok(received) => received,
        Err(e) => return failure::fail(&e),
    };
    serve(&channels, |chunk| {
        let addr =
            spawn::code_at(chunk.task.entry).ok_or("a task names code outside this executable")?;
        // SAFETY: the pool sent the distance of a `run_chunk::<F, T, R>` (a `ChunkFn`) from
        // the spawn anchor, in this same executable (see `process::spawn`), so the code at
        // that distance here is that function; it checks the task's type tag before it
        // reads anything. (The tasks queue is written only by the pool and its workers,
        // which are trusted as every process with write access to an object is.)
        let runner = unsafe { core::mem::transmute::<usize, ChunkFn>(addr) };
        runner(chunk)
    })
}

/// Functions a pool's [`map_with`](crate::Pool::map_with) can run: `fn(&A1, &A2, …, T) -> R`
/// for the owned arguments `(A1, A2, …)` of a [`SpawnArgs`] tuple. Sealed.
pub trait MapWithFn<Args, T, R>: sealed::WithArgs<Args, T, R> {}

impl<F: sealed::WithArgs<Args, T, R>, Args, T, R> MapWithFn<Args, T, R> for F {}

pub(crate) mod sealed {
    /// Implemented only for `Fn` types, which only the compiler makes.
    pub trait WithArgs<Args, T, R> {
        fn call_with(&self, args: &Args, x: T) -> R;
    }
}

macro_rules! with_args {
    ($(($($a:ident $i:tt),*))*) => {$(
        impl<Func, T, R, $($a),*> sealed::WithArgs<($($a,)*), T, R> for Func
        where
            Func: Fn($(&$a,)* T) -> R,
        {
            #[allow(unused_variables)]
            fn call_with(&self, args: &($($a,)*), x: T) -> R {
                self($(&args.$i,)* x)
            }
        }
    )*};
}

with_args! {
    ()
    (A0 0)
    (A0 0, A1 1)
    (A0 0, A1 1, A2 2)
    (A0 0, A1 1, A2 2, A3 3)
    (A0 0, A1 1, A2 2, A3 3, A4 4)
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5)
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6)
    (A0 0, A1 1, A2 2, A3 3, A4 4, A5 5, A6 6, A7 7)
}

/// The entry point of a worker of [`map_with`](crate::Pool::map_with): `f(&args…, x)`, with
/// the arguments received after the channels.
pub(crate) fn with_args<F, A, T, R>(call: &Call<'_>) -> i32
where
    F: MapWithFn<A::Owned, T, R> + Copy + 'static,
    A: SpawnArgs,
    T: SharedLayout,
    R: SharedLayout,
{
    if call.tag() != tag_of::<(F, A::Owned, T, R)>() {
        return failure::fail("the spawned pool worker does not match");
    }
    let (channels, rest) = match receive_channels(call) {
        Ok(received) => received,
        Err(e) => return failure::fail(&e),
    };
    let args = match A::import(rest, call.from()) {
        Ok(args) => args,
        Err(e) => {
            return failure::fail(&format!(
                "a pool worker could not receive its arguments: {e}"
            ));
        }
    };
    const { assert!(core::mem::size_of::<F>() == 0) };
    // SAFETY: as in `run_chunk`: `F` is a zero-sized function item the pool checked.
    let f: F = unsafe { core::mem::zeroed() };
    serve(&channels, |chunk| {
        if chunk.task.tag != tag_of::<(F, A::Owned, T, R)>() {
            return Err("the task's function does not match the worker's".into());
        }
        chunk.run::<T, R>(|x| f.call_with(&args, x))
    })
}

/// The type tag of a worker that serves any function.
pub(crate) fn any_function_tag() -> u64 {
    tag_of::<ChunkFn>()
}
