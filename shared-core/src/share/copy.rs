//! A plain [`SharedLayout`] value travels inside its description: its fields' bytes
//! (padding zero), copied.

use core::mem::size_of;

use super::sealed::Object;
use super::{Exporter, Importer, invalid};
use crate::access::SharedLayout;
use crate::description::{Description, ElemType, Kind};
use crate::error::Result;

impl<T: SharedLayout> Object for T {
    fn export(&self, _: &mut Exporter) -> Result<Description> {
        let mut bytes = Vec::with_capacity(size_of::<T>());
        crate::access::value_bytes(*self, &mut bytes);
        let mut d = Description::new(Kind::Copy);
        d.elem = Some(ElemType::of::<T>());
        d.bytes = Some(bytes);
        Ok(d)
    }

    fn import(d: &Description, _: &Importer<'_>) -> Result<Self> {
        d.expect(Kind::Copy, None).map_err(invalid)?;
        d.expect_elem::<T>()?;
        match d.bytes.as_deref() {
            Some(bytes) if bytes.len() == size_of::<T>() => {
                Ok(crate::access::value_from_bytes(bytes))
            }
            _ => Err(invalid(format!(
                "a copied value without its {} bytes",
                size_of::<T>()
            ))),
        }
    }
}
