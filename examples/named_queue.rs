//! A producer and a consumer that are two unrelated programs, meeting at a named [`Queue`]:
//!
//! ```console
//! $ cargo build --example named_queue
//! $ target/debug/examples/named_queue consume & target/debug/examples/named_queue produce 100000; wait
//! produced 100000 jobs
//! consumed 100000 jobs in order, sum of sizes 4999950000
//! ```
//!
//! The consumer (a long-lived service, say) creates the queue `sharedctypes-example-jobs`
//! (or the name given after the command) and takes jobs until the queue is closed and
//! drained; the producer opens the queue by name (waiting up to a minute for it to appear),
//! puts its jobs, waiting whenever the queue is full, and closes it. A consumer started
//! while an old run's queue is still there opens that one instead.

use std::time::{Duration, Instant};

use sharedctypes::{Error, Queue, Result, SharedLayout, named::Named};

const NAME: &str = "sharedctypes-example-jobs";

/// One unit of work, as both programs see it: the name's header carries its layout, so a
/// program built with a different `Job` is refused at open.
#[derive(Clone, Copy, Debug, SharedLayout)]
#[repr(C)]
struct Job {
    id: u64,
    size: u64,
}

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    match command.as_str() {
        "consume" => consume(&args.next().unwrap_or_else(|| NAME.into())),
        "produce" => {
            let n = args
                .next()
                .map(|a| a.parse().expect("the number of jobs"))
                .unwrap_or(1000);
            produce(&args.next().unwrap_or_else(|| NAME.into()), n)
        }
        _ => {
            eprintln!("usage: named_queue consume [NAME] | named_queue produce [N] [NAME]");
            std::process::exit(2);
        }
    }
}

fn consume(name: &str) -> Result<()> {
    let jobs: Named<Queue<Job>> = match Queue::<Job>::create_named(name, 256) {
        Err(Error::AlreadyExists { .. }) => Queue::<Job>::open_named(name)?,
        other => other?,
    };
    let (mut count, mut sum, mut in_order) = (0u64, 0u64, true);
    for job in jobs.iter() {
        in_order &= job.id == count;
        count += 1;
        sum += job.size;
    }
    let order = if in_order { "in order" } else { "OUT OF ORDER" };
    println!("consumed {count} jobs {order}, sum of sizes {sum}");
    Ok(()) // the queue drops: the consumer created it, so its name is removed
}

fn produce(name: &str, n: u64) -> Result<()> {
    let start = Instant::now();
    let jobs = loop {
        match Queue::<Job>::open_named(name) {
            Err(Error::NotFound { .. }) if start.elapsed() < Duration::from_secs(60) => {
                std::thread::sleep(Duration::from_millis(10));
            }
            other => break other?,
        }
    };
    for id in 0..n {
        jobs.put(Job { id, size: id })?; // waits while the queue is full
    }
    jobs.close(); // the consumer drains what is left, then stops
    println!("produced {n} jobs");
    Ok(())
}
