//! For tests that observe something process-wide (descriptors, `/dev/shm`, the heap's
//! mappings): such a test runs [`alone`], the other tests of its file [`beside_others`], so
//! that no test of the same binary changes what it counts while it counts.

use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

static QUIET: RwLock<()> = RwLock::new(());

/// Held by a test that may run beside the other tests of its file.
pub fn beside_others() -> RwLockReadGuard<'static, ()> {
    QUIET.read().unwrap_or_else(|e| e.into_inner())
}

/// Held by a test that must run while no other test of its file does.
pub fn alone() -> RwLockWriteGuard<'static, ()> {
    QUIET.write().unwrap_or_else(|e| e.into_inner())
}
