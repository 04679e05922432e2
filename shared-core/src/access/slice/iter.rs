//! Iteration over copies of shared elements.

use core::iter::FusedIterator;

use super::SharedSlice;
use crate::access::{Place, SharedLayout};

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
    slice: &'a SharedSlice<T>,
    front: usize,
    back: usize,
}

impl<'a, T: SharedLayout> Iter<'a, T> {
    pub(super) fn new(slice: &'a SharedSlice<T>) -> Self {
        Iter {
            front: 0,
            back: slice.len(),
            slice,
        }
    }
}

impl<'a, T: SharedLayout> Iter<'a, T> {
    /// The place of the next element from the front.
    fn next_place(&mut self) -> Option<Place<'a, T>> {
        if self.front == self.back {
            return None;
        }
        let place = self.slice.nth(self.front);
        self.front += 1;
        Some(place)
    }

    /// The place of the next element from the back.
    fn next_back_place(&mut self) -> Option<Place<'a, T>> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        Some(self.slice.nth(self.back))
    }
}

impl<T: SharedLayout> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        self.next_place().map(Place::load)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.back - self.front;
        (n, Some(n))
    }
}

impl<T: SharedLayout> DoubleEndedIterator for Iter<'_, T> {
    fn next_back(&mut self) -> Option<T> {
        self.next_back_place().map(Place::load)
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

/// Iterator over the accessor views of the elements of a [`SharedSlice`] (or array), front to
/// back: for a derived struct, the view with its field accessors (Python's `for p in arr:`,
/// whose `p` writes through to the array); for a scalar, the value itself.
///
/// ```
/// use sharedctypes::{RawArray, SharedLayout};
///
/// #[derive(Clone, Copy, SharedLayout)]
/// #[repr(C)]
/// struct Point {
///     x: f64,
///     y: f64,
/// }
///
/// let points = RawArray::from_slice(&[Point { x: 1.0, y: 2.0 }, Point { x: 3.0, y: 4.0 }])?;
/// for p in points.views() {
///     p.update_x(|x| x * x); // p.x **= 2
/// }
/// assert_eq!(points.iter().map(|p| p.x).collect::<Vec<_>>(), [1.0, 9.0]);
/// assert_eq!(RawArray::from_slice(&[7u8, 8])?.views().rev().collect::<Vec<_>>(), [8, 7]);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[derive(Clone)]
pub struct Views<'a, T> {
    inner: Iter<'a, T>,
}

impl<'a, T: SharedLayout> Views<'a, T> {
    pub(super) fn new(slice: &'a SharedSlice<T>) -> Self {
        Views {
            inner: Iter::new(slice),
        }
    }
}

impl<'a, T: SharedLayout> Iterator for Views<'a, T> {
    type Item = T::View<'a>;

    fn next(&mut self) -> Option<T::View<'a>> {
        self.inner.next_place().map(Place::view)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<T: SharedLayout> DoubleEndedIterator for Views<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back_place().map(Place::view)
    }
}

impl<T> core::fmt::Debug for Views<'_, T> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Views")
            .field("remaining", &(self.inner.back - self.inner.front))
            .finish()
    }
}

impl<T: SharedLayout> ExactSizeIterator for Views<'_, T> {}

impl<T: SharedLayout> FusedIterator for Views<'_, T> {}
