//! [`SyncGuard`]: the lock of a [`Synchronized`](super::Synchronized) object, held.

use core::fmt;
use core::ops::Deref;

use crate::access::{SharedLayout, Views};
use crate::array::RawArray;
use crate::lock::LockGuard;

/// The lock of a [`Synchronized`](super::Synchronized) object, held; dereferences to the
/// object.
///
/// ```
/// use sharedctypes::Array;
/// let arr = Array::from_slice(&[1, 2, 3])?;
/// let g = arr.lock()?;
/// g.set(0, g.get(1).unwrap() + g.get(2).unwrap())?; // both reads and the write in one hold
/// assert_eq!(g.to_vec(), [5, 2, 3]);
/// # Ok::<(), sharedctypes::Error>(())
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct SyncGuard<'a, O> {
    obj: &'a O,
    guard: LockGuard<'a>,
}

impl<'a, O> SyncGuard<'a, O> {
    pub(super) fn new(obj: &'a O, guard: LockGuard<'a>) -> Self {
        SyncGuard { obj, guard }
    }

    /// True if a holder of the lock died holding it and nobody has cleared the report; see
    /// [`LockGuard::owner_died`].
    ///
    /// ```
    /// use sharedctypes::Value;
    /// let balance = Value::new(100i64)?;
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let g = balance.lock().unwrap();
    ///         g.set(-1); // half-way through an update…
    ///         std::mem::forget(g); // …and the thread ends holding the lock
    ///     });
    /// });
    /// let g = balance.lock()?;
    /// assert_eq!(g.owner_died(), true);
    /// g.set(100); // repair while holding the lock
    /// g.clear_owner_died();
    /// drop(g);
    /// assert_eq!(balance.lock()?.owner_died(), false);
    /// assert_eq!(balance.get()?, 100);
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn owner_died(&self) -> bool {
        self.guard.owner_died()
    }

    /// The pid of the holder that died, if [`owner_died`](Self::owner_died).
    ///
    /// ```
    /// use sharedctypes::{Process, Value};
    /// let v = Value::new(0u8)?;
    /// assert_eq!(v.lock()?.dead_owner_pid(), None);
    /// let child = Process::start(|| std::mem::forget(v.lock().unwrap()))?;
    /// child.join()?; // the child ended holding the lock
    /// assert_eq!(v.lock()?.dead_owner_pid(), Some(child.pid()));
    /// # Ok::<(), sharedctypes::Error>(())
    /// ```
    #[must_use]
    pub fn dead_owner_pid(&self) -> Option<i32> {
        self.guard.dead_owner_pid()
    }

    /// Ends the owner-died report once the data is repaired; see
    /// [`LockGuard::clear_owner_died`].
    pub fn clear_owner_died(&self) {
        self.guard.clear_owner_died()
    }
}

impl<O> Deref for SyncGuard<'_, O> {
    type Target = O;
    fn deref(&self) -> &O {
        self.obj
    }
}

/// `for p in &guard` over a locked array: the elements' accessor views, all under the one
/// acquisition the guard holds (Python's `with arr.get_lock(): for p in arr: ...`). For the
/// elements' values, `guard.iter()`; both are [`RawArray`]'s, through `Deref`.
///
/// ```
/// use sharedctypes::{Array, SharedLayout};
///
/// #[derive(Clone, Copy, Debug, PartialEq, SharedLayout)]
/// #[repr(C)]
/// struct Point {
///     x: f64,
///     y: f64,
/// }
///
/// let points = Array::from_slice(&[Point { x: 1.5, y: 0.5 }, Point { x: -2.0, y: 3.0 }])?;
/// let guard = points.lock()?;
/// for p in &guard {
///     p.update_x(|x| x * x); // a.x **= 2
///     p.update_y(|y| y * y);
/// }
/// assert_eq!(guard.iter().map(|p| p.x + p.y).collect::<Vec<_>>(), [2.5, 13.0]);
/// drop(guard);
/// assert_eq!(points.get(1)?, Point { x: 4.0, y: 9.0 });
/// # Ok::<(), sharedctypes::Error>(())
/// ```
impl<'g, T: SharedLayout> IntoIterator for &'g SyncGuard<'_, RawArray<T>> {
    type Item = T::View<'g>;
    type IntoIter = Views<'g, T>;
    fn into_iter(self) -> Views<'g, T> {
        self.obj.views()
    }
}

impl<O: fmt::Debug> fmt::Debug for SyncGuard<'_, O> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SyncGuard")
            .field("obj", self.obj)
            .field("owner_died", &self.owner_died())
            .finish()
    }
}
