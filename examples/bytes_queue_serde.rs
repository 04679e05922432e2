//! Structured messages through a [`BytesQueue`]: serde turns each into bytes (JSON here;
//! `postcard` or `bincode` are smaller and faster), the queue moves the bytes. Three spawned
//! workers report their progress to the parent as an enum with fields of any shape, strings
//! included, which no fixed `#[repr(C)]` record could hold.
//!
//! ```console
//! $ cargo run --example bytes_queue_serde
//! worker 0 started: "primes below 10000"
//! ...
//! 3 workers, 8 progress reports, results: [1229, 2262, 3245]
//! ```
//!
//! serde and serde_json are dev-dependencies of this example only: sharedctypes itself
//! depends on neither.

use serde::{Deserialize, Serialize};
use sharedctypes::{BytesQueue, Error, Process, Result};

/// What a worker says.
#[derive(Debug, Serialize, Deserialize)]
enum Report {
    Started { worker: u32, task: String },
    Progress { worker: u32, percent: u8 },
    Finished { worker: u32, primes: u64 },
}

fn is_prime(n: u64) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

/// A spawned worker: counts the primes below `(worker + 1) * 10000`, reporting as it goes.
fn worker(worker: u32, reports: BytesQueue) -> Result<()> {
    let send = |report: &Report| -> Result<()> {
        reports.put(&serde_json::to_vec(report).expect("a report serialises"))
    };
    let limit = u64::from(worker + 1) * 10_000;
    send(&Report::Started {
        worker,
        task: format!("primes below {limit}"),
    })?;
    let mut primes = 0;
    for n in 0..limit {
        primes += u64::from(is_prime(n));
        if n > 0 && n % (limit / 3) == 0 {
            let percent = (n * 100 / limit) as u8;
            send(&Report::Progress { worker, percent })?;
        }
    }
    send(&Report::Finished { worker, primes })
}

fn main() -> Result<()> {
    let reports = BytesQueue::new(4096)?;
    let ids = [0u32, 1, 2];
    let workers = ids
        .iter()
        .map(|id| Process::spawn(worker, (id, &reports)))
        .collect::<Result<Vec<_>>>()?;

    let (mut progress, mut results) = (0, [0u64; 3]);
    let mut finished = 0;
    while finished < workers.len() {
        let bytes = match reports.get() {
            Ok(bytes) => bytes,
            Err(Error::ParticipantDied { .. }) => continue, // a worker died mid-put
            Err(e) => return Err(e),
        };
        match serde_json::from_slice(&bytes).expect("a report deserialises") {
            Report::Started { worker, task } => println!("worker {worker} started: {task:?}"),
            Report::Progress { .. } => progress += 1,
            Report::Finished { worker, primes } => {
                results[worker as usize] = primes;
                finished += 1;
            }
        }
    }
    for w in &workers {
        assert_eq!(w.join()?, 0, "a worker failed");
    }
    println!(
        "{} workers, {progress} progress reports, results: {results:?}",
        workers.len()
    );
    Ok(())
}
