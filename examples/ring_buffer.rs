//! A bounded ring buffer between processes: one writer and three readers, each reader
//! reading every record in order, coordinated by two `Condition`s over one `Lock` (the shape
//! of the classic Python ring buffers built on `multiprocessing.Condition`). The writer and
//! the readers are spawned processes that receive the ring's parts as arguments.
//!
//! ```console
//! $ cargo run --example ring_buffer
//! 10000 records through 16 slots to 3 readers
//! reader 0: checksum 0x95d3a5dff961e450
//! reader 1: checksum 0x95d3a5dff961e450
//! reader 2: checksum 0x95d3a5dff961e450
//! ```

use sharedctypes::{
    CChar, Condition, Lock, Process, RawArray, RawValue, Result, SharedLayout, Value,
};

const CAPACITY: u64 = 16;
const READERS: usize = 3;
const RECORDS: u64 = 10_000;

/// One record of the ring (a ctypes `Structure` in the Python original).
#[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
#[repr(C)]
struct Record {
    seq: u64,
    value: f64,
    tag: [CChar; 8],
}

fn record(i: u64) -> Record {
    let mut tag = [CChar(b' '); 8];
    for (t, b) in tag.iter_mut().zip(format!("rec{:05}", i % 100_000).bytes()) {
        *t = CChar(b);
    }
    Record {
        seq: i,
        value: i as f64 * 0.5,
        tag,
    }
}

/// What every reader computes over the records it read, in order.
fn checksum(sum: u64, r: &Record) -> u64 {
    let mut h = sum ^ r.seq;
    h = h.wrapping_mul(0x0000_0100_0000_01b3) ^ r.value.to_bits();
    for c in r.tag {
        h = h.wrapping_mul(0x0000_0100_0000_01b3) ^ u64::from(c.0);
    }
    h
}

/// The writer: the ring's parts arrive as arguments (the slots, how many records were
/// written, how many each reader has read, and the two conditions over the ring's lock).
fn writer(
    slots: RawArray<Record>,
    written: Value<u64, Lock>,
    read: RawArray<u64>,
    filled: Condition<Lock>,
    freed: Condition<Lock>,
) -> Result<()> {
    for i in 0..RECORDS {
        let guard = freed.acquire()?;
        // Wait for a free slot: the slowest reader is less than a ring behind.
        let (guard, _) = freed.wait_for(
            guard,
            || i - read.iter().min().unwrap_or(i) < CAPACITY,
            None,
        )?;
        slots.set((i % CAPACITY) as usize, record(i))?;
        written.get_obj().set(i + 1);
        filled.notify_all();
        drop(guard);
    }
    Ok(())
}

fn reader(
    id: u32,
    slots: RawArray<Record>,
    written: Value<u64, Lock>,
    read: RawArray<u64>,
    filled: Condition<Lock>,
    freed: Condition<Lock>,
    sum: RawValue<u64>,
) -> Result<()> {
    let id = id as usize;
    let mut checks = 0;
    for i in 0..RECORDS {
        let guard = filled.acquire()?;
        let (guard, _) = filled.wait_for(guard, || written.get_obj().get() > i, None)?;
        let r = slots.get((i % CAPACITY) as usize).expect("in the ring");
        read.set(id, i + 1)?;
        freed.notify(1);
        drop(guard);
        assert_eq!(r.seq, i, "reader {id} read out of order");
        checks = checksum(checks, &r);
    }
    sum.set(checks);
    Ok(())
}

fn main() -> Result<()> {
    let lock = Lock::new()?;
    let slots = RawArray::<Record>::zeroed(CAPACITY as usize)?;
    let written = Value::with_lock(0u64, lock.clone())?;
    let read = RawArray::<u64>::zeroed(READERS)?;
    let filled = Condition::new(lock.clone())?;
    let freed = Condition::new(lock)?;
    let sums = (0..READERS)
        .map(|_| RawValue::new(0u64))
        .collect::<Result<Vec<_>>>()?;
    let ids: Vec<u32> = (0..READERS as u32).collect(); // copied into the readers

    let readers = (0..READERS)
        .map(|id| {
            Process::spawn(
                reader,
                (
                    &ids[id], &slots, &written, &read, &filled, &freed, &sums[id],
                ),
            )
        })
        .collect::<Result<Vec<_>>>()?;
    let w = Process::spawn(writer, (&slots, &written, &read, &filled, &freed))?;
    assert_eq!(w.join()?, 0, "the writer failed");
    for r in &readers {
        assert_eq!(r.join()?, 0, "a reader failed");
    }

    println!("{RECORDS} records through {CAPACITY} slots to {READERS} readers");
    for (id, sum) in sums.iter().enumerate() {
        println!("reader {id}: checksum {:#018x}", sum.get());
    }
    Ok(())
}
