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
    let mut info = MaybeUninit::<libc::Dl_info>::zeroed();
    // SAFETY: dladdr only reads the loader's tables and writes `info`, which is valid for
    // writes; `addr` is only compared against those tables, never dereferenced.
    let found = unsafe { libc::dladdr(addr as *const c_void, info.as_mut_ptr()) };
    if found == 0 {
        return None;
    }
    // SAFETY: dladdr succeeded, so it filled `info` (which was zeroed before).
    let info = unsafe { info.assume_init() };
    Some(info.dli_fbase as usize)
}
