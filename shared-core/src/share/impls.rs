//! `Share` for every kind of shared object.

use core::mem::{align_of, size_of};
use std::sync::Arc;

use super::handle::invalid;
use super::{Exporter, Handle, Importer, Kind, LockRef, Sent, Share, TypeInfo, sealed};
use crate::access::SharedLayout;
use crate::array::RawArray;
use crate::error::{Error, Result};
use crate::lock::{LockKind, RawMutex, RobustLock};
use crate::sync::{
    Barrier, BarrierState, Condition, ConditionState, CountingSemaphore, Event, EventState,
    SemaphoreKind, SemaphoreState, Shared,
};
use crate::synchronized::{Synchronized, synchronized_with};
use crate::value::RawValue;

fn type_info<T: SharedLayout>() -> TypeInfo {
    TypeInfo {
        name: T::LAYOUT.type_name(),
        size: size_of::<T>(),
        align: align_of::<T>(),
        fingerprint: T::LAYOUT.fingerprint,
        layout: T::LAYOUT.describe(),
    }
}

/// Checks that the handle's element type is `T`: same fingerprint, size and alignment.
fn check_type<T: SharedLayout>(handle: &Handle) -> Result<()> {
    let ty = handle
        .ty
        .as_ref()
        .ok_or_else(|| invalid("it names no type".into()))?;
    if ty.fingerprint == T::LAYOUT.fingerprint
        && ty.size == size_of::<T>()
        && ty.align == align_of::<T>()
    {
        return Ok(());
    }
    Err(Error::LayoutMismatch {
        expected: T::LAYOUT.type_name(),
        expected_layout: format!("{} ({})", T::LAYOUT.summary(), T::LAYOUT.describe()),
        found: ty.name.clone(),
        found_layout: format!(
            "{} bytes, align {}, fingerprint {:#018x} ({})",
            ty.size, ty.align, ty.fingerprint, ty.layout
        ),
    })
}

fn check_kind(handle: &Handle, kind: Kind, what: &str) -> Result<()> {
    if handle.kind == kind {
        Ok(())
    } else {
        Err(invalid(format!(
            "it describes a {:?}, not {what}",
            handle.kind
        )))
    }
}

impl<T: SharedLayout> sealed::Sealed for RawValue<T> {}

impl<T: SharedLayout> Share for RawValue<T> {
    fn export(&self, out: &mut Exporter) -> Result<Sent> {
        Ok(Sent(Handle {
            kind: Kind::Value,
            ty: Some(type_info::<T>()),
            count: 1,
            data: Some(out.region(self.block())?),
            lock: None,
            bytes: None,
        }))
    }

    fn import(sent: &Sent, fds: &Importer) -> Result<Self> {
        let handle = &sent.0;
        check_kind(handle, Kind::Value, "a value")?;
        check_type::<T>(handle)?;
        let at = handle
            .data
            .ok_or_else(|| invalid("a value without data=".into()))?;
        Ok(RawValue::from_block(fds.block(
            at,
            size_of::<T>(),
            align_of::<T>(),
        )?))
    }
}

impl<T: SharedLayout> sealed::Sealed for RawArray<T> {}

impl<T: SharedLayout> Share for RawArray<T> {
    fn export(&self, out: &mut Exporter) -> Result<Sent> {
        Ok(Sent(Handle {
            kind: Kind::Array,
            ty: Some(type_info::<T>()),
            count: self.len(),
            data: Some(out.region(self.block())?),
            lock: None,
            bytes: None,
        }))
    }

    fn import(sent: &Sent, fds: &Importer) -> Result<Self> {
        let handle = &sent.0;
        check_kind(handle, Kind::Array, "an array")?;
        check_type::<T>(handle)?;
        let at = handle
            .data
            .ok_or_else(|| invalid("an array without data=".into()))?;
        let len = handle.count;
        let bytes = len.checked_mul(size_of::<T>()).ok_or_else(|| {
            invalid(format!(
                "{len} elements of {} bytes overflow the address space",
                size_of::<T>()
            ))
        })?;
        Ok(RawArray::from_block(
            fds.block(at, bytes, align_of::<T>())?,
            len,
        ))
    }
}

fn export_lock<K: LockKind>(lock: &RobustLock<K>, out: &mut Exporter) -> Result<LockRef> {
    if out.for_program() {
        // Another program may write the cell from now on.
        lock.raw().expose();
    }
    Ok(LockRef {
        recursive: RobustLock::<K>::is_recursive(),
        at: out.region(lock.raw().block())?,
    })
}

fn import_lock<K: LockKind>(lock: Option<LockRef>, fds: &Importer) -> Result<RobustLock<K>> {
    let lock = lock.ok_or_else(|| invalid("it names no lock".into()))?;
    let recursive = RobustLock::<K>::is_recursive();
    if lock.recursive != recursive {
        let name = |r: bool| if r { "an RLock" } else { "a Lock" };
        return Err(invalid(format!(
            "it names {} where {} is expected",
            name(lock.recursive),
            name(recursive)
        )));
    }
    let block = fds.block(lock.at, 56, 8)?;
    Ok(RobustLock::from_raw(Arc::new(RawMutex::from_received(
        block, recursive,
    )?)))
}

impl<K: LockKind> sealed::Sealed for RobustLock<K> {}

impl<K: LockKind> Share for RobustLock<K> {
    fn export(&self, out: &mut Exporter) -> Result<Sent> {
        Ok(Sent(Handle {
            kind: Kind::Lock,
            ty: None,
            count: 1,
            data: None,
            lock: Some(export_lock(self, out)?),
            bytes: None,
        }))
    }

    fn import(sent: &Sent, fds: &Importer) -> Result<Self> {
        check_kind(&sent.0, Kind::Lock, "a lock")?;
        import_lock(sent.0.lock, fds)
    }
}

impl<O: Share, K: LockKind> sealed::Sealed for Synchronized<O, RobustLock<K>> {}

impl<O: Share, K: LockKind> Share for Synchronized<O, RobustLock<K>> {
    fn export(&self, out: &mut Exporter) -> Result<Sent> {
        let mut sent = self.get_obj().export(out)?;
        sent.0.lock = Some(export_lock(self.get_lock(), out)?);
        Ok(sent)
    }

    fn import(sent: &Sent, fds: &Importer) -> Result<Self> {
        let lock = import_lock(sent.0.lock, fds)?;
        Ok(synchronized_with(O::import(sent, fds)?, lock))
    }
}

impl<T: SharedLayout> sealed::Sealed for T {}

/// A plain value travels inside its handle: its fields' bytes (padding zero), copied.
impl<T: SharedLayout> Share for T {
    fn export(&self, _: &mut Exporter) -> Result<Sent> {
        let mut bytes = Vec::with_capacity(size_of::<T>());
        crate::access::value_bytes(*self, &mut bytes);
        Ok(Sent(Handle {
            kind: Kind::Copy,
            ty: Some(type_info::<T>()),
            count: 1,
            data: None,
            lock: None,
            bytes: Some(bytes),
        }))
    }

    fn import(sent: &Sent, _: &Importer) -> Result<Self> {
        let handle = &sent.0;
        check_kind(handle, Kind::Copy, "a copied value")?;
        check_type::<T>(handle)?;
        let bytes = handle
            .bytes
            .as_deref()
            .ok_or_else(|| invalid("a copied value without bytes=".into()))?;
        if bytes.len() != size_of::<T>() {
            return Err(invalid(format!(
                "{} bytes for a value of {} bytes",
                bytes.len(),
                size_of::<T>()
            )));
        }
        Ok(crate::access::value_from_bytes(bytes))
    }
}

/// A handle of a synchronization primitive's state (and lock).
fn primitive(kind: Kind, data: super::Region, lock: Option<LockRef>) -> Sent {
    Sent(Handle {
        kind,
        ty: None,
        count: 1,
        data: Some(data),
        lock,
        bytes: None,
    })
}

/// The state a primitive's handle names.
fn state_of<S: crate::sync::State>(sent: &Sent, kind: Kind, fds: &Importer) -> Result<Shared<S>> {
    check_kind(&sent.0, kind, S::WHAT)?;
    let at = sent
        .0
        .data
        .ok_or_else(|| invalid(format!("{} without data=", S::WHAT)))?;
    Shared::from_received(fds.block(at, size_of::<S>(), align_of::<S>())?)
}

impl<K: LockKind> sealed::Sealed for Condition<RobustLock<K>> {}

impl<K: LockKind> Share for Condition<RobustLock<K>> {
    fn export(&self, out: &mut Exporter) -> Result<Sent> {
        let lock = export_lock(self.get_lock(), out)?;
        Ok(primitive(
            Kind::Condition,
            out.region(self.state().block())?,
            Some(lock),
        ))
    }

    fn import(sent: &Sent, fds: &Importer) -> Result<Self> {
        let state = state_of::<ConditionState>(sent, Kind::Condition, fds)?;
        Ok(Condition::from_parts(import_lock(sent.0.lock, fds)?, state))
    }
}

impl sealed::Sealed for Event {}

impl Share for Event {
    fn export(&self, out: &mut Exporter) -> Result<Sent> {
        Ok(primitive(
            Kind::Event,
            out.region(self.state().block())?,
            None,
        ))
    }

    fn import(sent: &Sent, fds: &Importer) -> Result<Self> {
        Ok(Event::from_state(state_of::<EventState>(
            sent,
            Kind::Event,
            fds,
        )?))
    }
}

impl<K: SemaphoreKind> sealed::Sealed for CountingSemaphore<K> {}

impl<K: SemaphoreKind> Share for CountingSemaphore<K> {
    fn export(&self, out: &mut Exporter) -> Result<Sent> {
        Ok(primitive(
            Kind::Semaphore,
            out.region(self.state().block())?,
            None,
        ))
    }

    fn import(sent: &Sent, fds: &Importer) -> Result<Self> {
        CountingSemaphore::from_state(state_of::<SemaphoreState>(sent, Kind::Semaphore, fds)?)
    }
}

impl sealed::Sealed for Barrier {}

impl Share for Barrier {
    fn export(&self, out: &mut Exporter) -> Result<Sent> {
        let (lock, state) = self.parts();
        let lock = export_lock(lock, out)?;
        Ok(primitive(
            Kind::Barrier,
            out.region(state.block())?,
            Some(lock),
        ))
    }

    fn import(sent: &Sent, fds: &Importer) -> Result<Self> {
        let state = state_of::<BarrierState>(sent, Kind::Barrier, fds)?;
        Barrier::from_parts(import_lock(sent.0.lock, fds)?, state)
    }
}
