//! Helpers shared by the integration tests.

use std::time::{Duration, Instant};

use sharedctypes::RawValue;

/// Waits until `flag` (written by another process) reads `want`; fails the test after 20 s.
pub fn wait_for(flag: &RawValue<u32>, want: u32) {
    let start = Instant::now();
    while flag.get() != want {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out waiting for the flag to become {want}"
        );
        std::thread::sleep(Duration::from_micros(100));
    }
}
