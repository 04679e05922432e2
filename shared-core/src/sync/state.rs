//! The shared state of a synchronization primitive: a small `#[repr(C)]` struct of atomics
//! in a block of the shared heap (or received from another process).

use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::sync::atomic::{AtomicU32, Ordering};

use crate::error::{Error, Result};
use crate::heap::Block;

/// A `#[repr(C)]` struct made only of atomics, whose first field is an `AtomicU32` tag
/// naming what it is.
///
/// # Safety
/// The type must be `#[repr(C)]`, made only of `core::sync::atomic` integers (so every bit
/// pattern is valid and a shared reference to it may be used while other processes change
/// it), with an `AtomicU32` tag as its first field.
pub(crate) unsafe trait AtomicState: Sized {
    /// The tag of this kind of state.
    const TAG: u32;
    /// What it is, for messages.
    const WHAT: &'static str;
}

/// A state of type `S` in shared memory.
#[derive(Debug)]
pub(crate) struct Shared<S> {
    block: Block,
    _state: PhantomData<S>,
}

impl<S: AtomicState> Shared<S> {
    /// A new, zeroed state with its tag, for `init` to fill before anyone else sees it.
    pub(crate) fn new(init: impl FnOnce(&S)) -> Result<Self> {
        Ok(Self::init_in(
            Block::alloc_own_lines(size_of::<S>(), align_of::<S>())?,
            init,
        ))
    }

    /// A new state in `block` — fresh (zeroed), big enough and aligned for an `S`, not yet
    /// seen by any other process (the data part of a named object being created) — with
    /// its tag, for `init` to fill.
    pub(crate) fn init_in(block: Block, init: impl FnOnce(&S)) -> Self {
        assert!(
            block.len() >= size_of::<S>() && block.as_ptr() as usize % align_of::<S>() == 0,
            "a state needs {} bytes aligned to {}",
            size_of::<S>(),
            align_of::<S>()
        );
        let shared = Shared {
            block,
            _state: PhantomData,
        };
        shared.tag().store(S::TAG, Ordering::Relaxed);
        init(shared.get());
        shared
    }

    /// The state another process placed in `block`, checked by its tag.
    pub(crate) fn from_received(block: Block) -> Result<Self> {
        Self::from_received_as(block, S::TAG, S::WHAT)
    }

    /// [`from_received`](Self::from_received) for a state type that serves several kinds,
    /// told apart by their tags: `tag` is the one expected, `what` names it.
    pub(crate) fn from_received_as(block: Block, tag: u32, what: &str) -> Result<Self> {
        if block.len() < size_of::<S>() || block.as_ptr() as usize % align_of::<S>() != 0 {
            return Err(Error::InvalidHandle {
                reason: format!(
                    "{what} needs {} bytes aligned to {}",
                    size_of::<S>(),
                    align_of::<S>()
                ),
            });
        }
        let shared = Shared {
            block,
            _state: PhantomData,
        };
        let found = shared.tag().load(Ordering::Relaxed);
        if found != tag {
            return Err(Error::InvalidHandle {
                reason: format!("the handle names not {what} (tag {found:#010x})"),
            });
        }
        Ok(shared)
    }

    /// The state a description's data part holds.
    pub(crate) fn received(
        d: &crate::description::Description,
        from: &crate::share::Importer<'_>,
    ) -> Result<Self> {
        Self::from_received(crate::share::data(
            d,
            from,
            size_of::<S>() as u64,
            align_of::<S>() as u64,
        )?)
    }

    fn tag(&self) -> &AtomicU32 {
        // SAFETY: the block holds at least an `S` (allocated so, or checked), aligned for it,
        // whose first field is an `AtomicU32` (the `AtomicState` contract); it lives as long
        // as `self`.
        unsafe { &*self.block.as_ptr().cast::<AtomicU32>() }
    }

    /// The state.
    #[inline]
    pub(crate) fn get(&self) -> &S {
        // SAFETY: the block holds an `S`, aligned (allocated so, or checked on receipt), live
        // as long as `self`; `S` is made only of atomics (the `AtomicState` contract), so a
        // shared reference to bytes other processes change concurrently is sound, and every
        // bit pattern is a valid `S`.
        unsafe { &*self.block.as_ptr().cast::<S>() }
    }

    /// The block, to send the state to another process.
    pub(crate) fn block(&self) -> &Block {
        &self.block
    }
}
