//! The running executable: which file it is, and where code is loaded (for sending a
//! function to a fresh copy of the same executable).

use core::ffi::c_void;
use core::mem::MaybeUninit;

use super::err;
use crate::error::Result;

/// What identifies the executable file this process runs: device, inode, size and
/// modification time of `/proc/self/exe`. Two processes that agree on it run the same file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ExeId {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
    pub(crate) size: i64,
    pub(crate) mtime: i64,
    pub(crate) mtime_nsec: i64,
}

/// The identity of this process's executable file.
pub(crate) fn exe_id() -> Result<ExeId> {
    let st = nix::sys::stat::stat("/proc/self/exe").map_err(err("stat /proc/self/exe"))?;
    Ok(ExeId {
        dev: st.st_dev,
        ino: st.st_ino,
        size: st.st_size,
        mtime: st.st_mtime,
        mtime_nsec: st.st_mtime_nsec,
    })
}

/// The load address of the object (executable or shared library) that contains the code
/// at `addr`, if the dynamic loader knows it (`dladdr`; `nix` has no wrapper).
pub(crate) fn object_base(addr: usize) -> Option<usize> {
    object_of(addr).map(|(base, _)| base)
}

/// `Ok` if the code at `addr` lies in the running executable itself (not in a shared library
/// loaded into it); else the path of the object it lies in and the executable's, for a
/// message.
pub(crate) fn in_main_executable(addr: usize) -> core::result::Result<(), (String, String)> {
    // SAFETY: getauxval only reads the auxiliary vector the kernel gave this process.
    let entry = unsafe { libc::getauxval(libc::AT_ENTRY) } as usize;
    let (Some(here), Some(exe)) = (object_of(addr), object_of(entry)) else {
        return Err(("unknown code".into(), "unknown".into()));
    };
    if here.0 == exe.0 {
        Ok(())
    } else {
        Err((here.1, exe.1))
    }
}

/// The load address and path of the object that holds the code at `addr`.
fn object_of(addr: usize) -> Option<(usize, String)> {
    let mut info = MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: dladdr only reads the loader's tables and writes `info`, which is valid for
    // writes; `addr` is only compared against those tables, never dereferenced.
    let found = unsafe { libc::dladdr(addr as *const c_void, info.as_mut_ptr()) };
    if found == 0 {
        return None;
    }
    // SAFETY: dladdr succeeded, so it filled `info` (which was zeroed before).
    let info = unsafe { info.assume_init() };
    let name = if info.dli_fname.is_null() {
        String::from("an unnamed object")
    } else {
        // SAFETY: a non-null dli_fname is a NUL-terminated path owned by the loader, valid
        // while the object stays loaded (it holds the code we were called from).
        let path = unsafe { core::ffi::CStr::from_ptr(info.dli_fname) };
        format!("`{}`", path.to_string_lossy())
    };
    Some((info.dli_fbase as usize, name))
}
