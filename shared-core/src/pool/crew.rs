//! A pool's crew: its workers, the queues and status array they share with the pool, and the
//! pool's side of a job — sending chunks, collecting outputs, noticing deaths, replacing the
//! dead.

use core::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

use super::wire::{self, Done, RESULT_WORDS, TASK_WORDS, Task};
use super::worker::STATUS_WORDS;
use crate::access::SharedLayout;
use crate::error::{Error, Result};
use crate::process::Process;
use crate::{BytesQueue, RawArray};

/// Bytes of each of a crew's queues.
const QUEUE_BYTES: usize = 1 << 20;

/// How long the pool waits for an output before it looks for dead workers.
const LOOK: Duration = Duration::from_millis(20);

/// Starts the worker of a slot.
pub(crate) type Starter<'a> = dyn Fn(&Crew<'a>, u64) -> Result<Process<'static>> + 'a;

/// Workers and what they share with the pool.
pub(crate) struct Crew<'a> {
    pub(crate) tasks: BytesQueue,
    pub(crate) results: BytesQueue,
    pub(crate) status: RawArray<u64>,
    workers: RefCell<Vec<Process<'static>>>,
    start: Box<Starter<'a>>,
    /// Workers that died since the crew started, for `Debug` and tests.
    replaced: core::cell::Cell<usize>,
}

impl<'a> Crew<'a> {
    /// A crew of `n` workers, each started by `start` with its slot.
    pub(crate) fn new(n: usize, start: Box<Starter<'a>>) -> Result<Crew<'a>> {
        let crew = Crew {
            tasks: BytesQueue::new(QUEUE_BYTES)?,
            results: BytesQueue::new(QUEUE_BYTES)?,
            status: RawArray::zeroed(n * STATUS_WORDS)?,
            workers: RefCell::new(Vec::with_capacity(n)),
            start,
            replaced: core::cell::Cell::new(0),
        };
        for slot in 0..n {
            let worker = (crew.start)(&crew, slot as u64)?;
            crew.workers.borrow_mut().push(worker);
        }
        Ok(crew)
    }

    pub(crate) fn size(&self) -> usize {
        self.workers.borrow().len()
    }

    pub(crate) fn pids(&self) -> Vec<i32> {
        self.workers.borrow().iter().map(Process::pid).collect()
    }

    pub(crate) fn replaced(&self) -> usize {
        self.replaced.get()
    }

    /// The most items of `in_size` and `out_size` bytes a chunk may hold, so that both its
    /// messages fit the queues; an error if not even one does.
    pub(crate) fn max_chunk(&self, in_size: usize, out_size: usize) -> Result<usize> {
        let room = self.tasks.max_message();
        let fits = |header: usize, size: usize| {
            (room - header * 8).checked_div(size).unwrap_or(usize::MAX)
        };
        let most = fits(TASK_WORDS, in_size).min(fits(RESULT_WORDS, out_size));
        if most == 0 {
            return Err(Error::InvalidArgument {
                reason: format!(
                    "items of {in_size} bytes (results of {out_size}) do not fit the pool's queues of {QUEUE_BYTES} bytes"
                ),
            });
        }
        Ok(most)
    }

    /// Looks for dead workers: for each, what it was running (the job and item, if it died
    /// inside an item) and its pid and exit code; each is replaced.
    fn reap(&self) -> Result<Vec<Death>> {
        let mut deaths = Vec::new();
        let mut workers = self.workers.borrow_mut();
        for (slot, worker) in workers.iter_mut().enumerate() {
            let Some(exitcode) = worker.exitcode() else {
                continue;
            };
            let at = slot * STATUS_WORDS;
            let job = self.status.get(at).unwrap_or(0);
            let item = self.status.get(at + 1).unwrap_or(0);
            deaths.push(Death {
                pid: worker.pid(),
                exitcode,
                job,
                item: item.checked_sub(1),
            });
            let _ = self.status.set(at, 0);
            let _ = self.status.set(at + 1, 0);
            *worker = (self.start)(self, slot as u64)?;
            self.replaced.set(self.replaced.get() + 1);
        }
        Ok(deaths)
    }

    /// Closes the tasks queue and waits for the workers to end (killing any that does not
    /// within a few seconds).
    pub(crate) fn stop(&self) {
        self.tasks.close();
        for worker in self.workers.borrow().iter() {
            if !matches!(worker.join_timeout(Duration::from_secs(5)), Ok(Some(_))) {
                let _ = worker.kill();
                let _ = worker.join();
            }
        }
    }
}

impl Drop for Crew<'_> {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A worker found dead.
#[derive(Debug, Clone, Copy)]
struct Death {
    pid: i32,
    exitcode: i32,
    job: u64,
    /// The item it was running, if it died inside one.
    item: Option<u64>,
}

/// One `map` on a crew: its chunks to send, those sent and not answered, and its outputs as
/// they come.
pub(crate) struct Job<'j, 'a, T, R> {
    crew: &'j Crew<'a>,
    id: u64,
    entry: i64,
    tag: u64,
    inputs: &'j [T],
    to_send: VecDeque<(u64, u64)>,
    /// Sent and not answered: first item → count.
    waiting: BTreeMap<u64, u64>,
    /// Deaths in a row with nothing learnt (no output, no item to blame).
    fruitless: usize,
    /// The message of the chunk being sent, kept from one chunk to the next.
    message: Vec<u8>,
    _out: core::marker::PhantomData<R>,
}

/// What a job of outputs `R` yields next.
#[derive(Debug)]
pub(crate) enum Batch<R> {
    /// The outputs of items `first..first + count`: the bytes of their C layout in
    /// `message` from [`Done::ITEMS_AT`], checked to be exactly `count` `R`s.
    Outputs {
        first: usize,
        count: usize,
        message: Vec<u8>,
        out: core::marker::PhantomData<R>,
    },
    /// Items that failed, by input index.
    Failed(Vec<(usize, Error)>),
}

impl<R: SharedLayout> Batch<R> {
    /// The outputs, as `R`s, and failures, by input index.
    pub(crate) fn into_items(self) -> Vec<(usize, Result<R>)> {
        match self {
            Batch::Outputs {
                first,
                count,
                message,
                ..
            } => wire::items::<R>(&message[Done::ITEMS_AT..], count as u64)
                .expect("checked on receipt")
                .into_iter()
                .enumerate()
                .map(|(i, r)| (first + i, Ok(r)))
                .collect(),
            Batch::Failed(failed) => failed.into_iter().map(|(i, e)| (i, Err(e))).collect(),
        }
    }
}

impl<'j, 'a, T: SharedLayout, R: SharedLayout> Job<'j, 'a, T, R> {
    /// A job `id` running the function (`entry`, `tag`) on `inputs`, in chunks of `chunk`.
    pub(crate) fn new(
        crew: &'j Crew<'a>,
        id: u64,
        entry: i64,
        tag: u64,
        inputs: &'j [T],
        chunk: usize,
    ) -> Self {
        let chunk = chunk.max(1) as u64;
        let len = inputs.len() as u64;
        let to_send = (0..len.div_ceil(chunk))
            .map(|i| (i * chunk, chunk.min(len - i * chunk)))
            .collect();
        Job {
            crew,
            id,
            entry,
            tag,
            inputs,
            to_send,
            waiting: BTreeMap::new(),
            fruitless: 0,
            message: Vec::new(),
            _out: core::marker::PhantomData,
        }
    }

    /// The next outputs or failures, waiting for them; `None` once every item is accounted
    /// for.
    pub(crate) fn next_batch(&mut self) -> Result<Option<Batch<R>>> {
        loop {
            self.send()?;
            if self.to_send.is_empty() && self.waiting.is_empty() {
                return Ok(None);
            }
            match self.crew.results.get_timeout(LOOK) {
                Ok(Some(message)) => {
                    if let Some(out) = self.received(message) {
                        self.fruitless = 0;
                        return Ok(Some(out));
                    }
                }
                Ok(None) => {
                    let failed = self.look_for_deaths()?;
                    if !failed.is_empty() {
                        return Ok(Some(Batch::Failed(failed)));
                    }
                }
                Err(Error::ParticipantDied { .. }) => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Sends chunks while the tasks queue has room.
    fn send(&mut self) -> Result<()> {
        while let Some(&(first, count)) = self.to_send.front() {
            let task = Task {
                job: self.id,
                entry: self.entry,
                tag: self.tag,
                first,
                count,
            };
            let items = &self.inputs[first as usize..(first + count) as usize];
            if !self
                .crew
                .tasks
                .has_room_for(TASK_WORDS * 8 + size_of_val(items))
            {
                // Not now: encoding it would be wasted (it is encoded when there is room).
                return Ok(());
            }
            task.encode_into(items, &mut self.message);
            match self.crew.tasks.try_put(&self.message) {
                Ok(true) => {
                    self.waiting.insert(first, count);
                    self.to_send.pop_front();
                }
                Ok(false) => return Ok(()),
                Err(Error::ParticipantDied { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// The outputs a result message carries, if it answers a chunk of this job still waited
    /// for (a chunk sent twice is answered once) with exactly as many outputs as it has items.
    fn received(&mut self, message: Vec<u8>) -> Option<Batch<R>> {
        let (done, bytes) = Done::decode(&message)?;
        if done.job != self.id || self.waiting.get(&done.first) != Some(&done.count) {
            return None;
        }
        let count = usize::try_from(done.count).ok()?;
        if bytes.len() != count.checked_mul(size_of::<R>())? {
            return None;
        }
        self.waiting.remove(&done.first);
        Some(Batch::Outputs {
            first: done.first as usize,
            count,
            message,
            out: core::marker::PhantomData,
        })
    }

    /// Takes `item` out of the chunk that holds it, waited for or still to send: the rest of
    /// that chunk is to be sent (again), the item itself never;
    /// `false` if no chunk holds it: it was answered already (by a copy of its chunk that a
    /// worker ran after the chunk was sent again).
    fn take_out(&mut self, item: u64) -> bool {
        let holds = |&(first, count): &(u64, u64)| first <= item && item < first + count;
        let chunk = match self.waiting.range(..=item).next_back() {
            Some((&first, &count)) if holds(&(first, count)) => {
                self.waiting.remove(&first);
                Some((first, count))
            }
            _ => self
                .to_send
                .iter()
                .position(holds)
                .and_then(|i| self.to_send.remove(i)),
        };
        if let Some((first, count)) = chunk {
            if item > first {
                self.to_send.push_back((first, item - first));
            }
            if item + 1 < first + count {
                self.to_send.push_back((item + 1, first + count - item - 1));
            }
        }
        chunk.is_some()
    }

    /// Replaces dead workers. A worker that died inside an item of this job fails that item
    /// (the rest of its chunk is sent again); one that died between items may have taken a
    /// chunk with it, so every chunk not answered is sent again.
    fn look_for_deaths(&mut self) -> Result<Vec<(usize, Error)>> {
        let deaths = self.crew.reap()?;
        let mut failed = Vec::new();
        for death in deaths {
            match death.item {
                // An item no chunk holds any more was answered by another copy of its chunk:
                // the death cost nothing of this job.
                Some(item) if death.job == self.id => {
                    if !self.take_out(item) {
                        continue;
                    }
                    failed.push((
                        item as usize,
                        Error::WorkerDied {
                            pid: death.pid,
                            item: item as usize,
                            exitcode: death.exitcode,
                        },
                    ));
                    self.fruitless = 0;
                }
                _ => {
                    self.fruitless += 1;
                    if self.fruitless > 2 * self.crew.size() + 2 {
                        return Err(Error::spawn(
                            "pool",
                            format!(
                                "workers keep dying before they run anything (the last, pid {}, with exit code {})",
                                death.pid, death.exitcode
                            ),
                        ));
                    }
                    let again: Vec<(u64, u64)> =
                        self.waiting.iter().map(|(&f, &c)| (f, c)).collect();
                    for chunk in again {
                        if !self.to_send.contains(&chunk) {
                            self.to_send.push_back(chunk);
                        }
                    }
                    self.waiting.clear();
                }
            }
        }
        Ok(failed)
    }
}
