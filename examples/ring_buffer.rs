//! A bounded ring buffer between processes: one writer and three readers, each reader
//! reading every record in order (the shape of the classic Python ring buffers built on
//! `multiprocessing.Condition`, and of a `multiprocessing.Queue` per reader). Each reader has
//! a 16-slot [`Queue`] of its own; the writer puts every record on each, waiting whenever a
//! reader is a ring behind, and closes them when done; a reader takes records until its queue
//! is closed and drained. The writer and the readers are spawned processes that receive the
//! queues as arguments.
//!
//! ```console
//! $ cargo run --example ring_buffer
//! 10000 records through 16 slots to 3 readers
//! reader 0: checksum 0x95d3a5dff961e450
//! reader 1: checksum 0x95d3a5dff961e450
//! reader 2: checksum 0x95d3a5dff961e450
//! ```

use sharedctypes::{CChar, Process, Queue, RawValue, Result, SharedLayout};

const CAPACITY: usize = 16;
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

/// The writer: every record to every reader's queue, in order, then closes them.
fn writer(a: Queue<Record>, b: Queue<Record>, c: Queue<Record>) -> Result<()> {
    for i in 0..RECORDS {
        let r = record(i);
        for q in [&a, &b, &c] {
            q.put(r)?; // waits while that reader is a ring behind
        }
    }
    for q in [&a, &b, &c] {
        q.close(); // the readers drain what is left, then stop
    }
    Ok(())
}

fn reader(queue: Queue<Record>, sum: RawValue<u64>) -> Result<()> {
    let mut checks = 0;
    let mut expected = 0;
    for r in queue.iter() {
        assert_eq!(r.seq, expected, "a reader read out of order");
        checks = checksum(checks, &r);
        expected += 1;
    }
    assert_eq!(expected, RECORDS, "a reader missed records");
    sum.set(checks);
    Ok(())
}

fn main() -> Result<()> {
    let queues = (0..READERS)
        .map(|_| Queue::<Record>::new(CAPACITY))
        .collect::<Result<Vec<_>>>()?;
    let sums = (0..READERS)
        .map(|_| RawValue::new(0u64))
        .collect::<Result<Vec<_>>>()?;

    let readers = (0..READERS)
        .map(|id| Process::spawn(reader, (&queues[id], &sums[id])))
        .collect::<Result<Vec<_>>>()?;
    let w = Process::spawn(writer, (&queues[0], &queues[1], &queues[2]))?;
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
