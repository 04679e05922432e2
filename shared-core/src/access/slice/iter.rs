//! Iteration over copies of shared elements.

use core::iter::FusedIterator;

use super::SharedSlice;
use crate::access::SharedLayout;

/// Iterator over copies of the elements of a [`SharedSlice`] (or array), front to back.
///
/// ```
/// use sharedctypes::RawArray;
/// let arr = RawArray::from_slice(&[1u8, 2, 3])?;
/// assert_eq!(arr.iter().rev().collect::<Vec<_>>(), vec![3, 2, 1]);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[derive(Clone)]
pub struct Iter<'a, T> {
    slice: SharedSlice<'a, T>,
    front: usize,
    back: usize,
}

impl<'a, T: SharedLayout> Iter<'a, T> {
    pub(super) fn new(slice: SharedSlice<'a, T>) -> Self {
        Iter {
            front: 0,
            back: slice.len(),
            slice,
        }
    }
}

impl<T: SharedLayout> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.front == self.back {
            return None;
        }
        let value = self.slice.nth(self.front).load();
        self.front += 1;
        Some(value)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl<T: SharedLayout> DoubleEndedIterator for Iter<'_, T> {
    fn next_back(&mut self) -> Option<T> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        Some(self.slice.nth(self.back).load())
    }
}

impl<T> core::fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Iter")
            .field("remaining", &(self.back - self.front))
            .finish()
    }
}

impl<T: SharedLayout> ExactSizeIterator for Iter<'_, T> {}

impl<T: SharedLayout> FusedIterator for Iter<'_, T> {}
