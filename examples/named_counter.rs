//! Two runs of one program count into one named `Value`: run it twice at once,
//!
//! ```console
//! $ cargo build --example named_counter
//! $ target/debug/examples/named_counter 2 & target/debug/examples/named_counter 2; wait
//! ```
//!
//! Each run creates the object `sharedctypes-example-counter` (or the name given as second
//! argument), or opens it if the other run was first, waits until the number of runs given
//! as first argument (1 by default) have joined,
//! adds 1,000,000 under the object's lock, and prints the total once every run is done: both
//! print `total: 2000000`.

use std::time::{Duration, Instant};

use sharedctypes::{Error, SharedLayout, Value, named::Named};

const NAME: &str = "sharedctypes-example-counter";

#[derive(Clone, Copy, Debug, SharedLayout)]
#[repr(C)]
struct Tally {
    count: u64,
    joined: u32,
    finished: u32,
}

fn main() -> sharedctypes::Result<()> {
    let runs: u32 = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("the number of runs"))
        .unwrap_or(1);
    let name = std::env::args().nth(2).unwrap_or_else(|| NAME.to_owned());
    let start = Tally {
        count: 0,
        joined: 0,
        finished: 0,
    };
    // The first run creates the object (and removes its name when it ends); the others open it.
    let tally: Named<Value<Tally>> = match Value::<Tally>::create_named(&name, start) {
        Err(Error::AlreadyExists { .. }) => Value::<Tally>::open_named(&name)?,
        other => other?,
    };
    tally.update_joined(|j| j + 1)?;
    wait_until(|| Ok(tally.joined()? >= runs))?;

    for _ in 0..1_000_000 {
        tally.update_count(|c| c + 1)?;
    }

    tally.update_finished(|f| f + 1)?;
    wait_until(|| Ok(tally.finished()? >= runs))?;
    println!("total: {}", tally.count()?);
    Ok(())
}

fn wait_until(done: impl Fn() -> sharedctypes::Result<bool>) -> sharedctypes::Result<()> {
    let start = Instant::now();
    while !done()? {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the other runs did not come"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    Ok(())
}
