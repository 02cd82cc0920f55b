//! External tensor data, loaded safely (onnx-weights.md §7.2, §8.1).
//!
//! Rules, each from a published attack: `location` is relative with only normal components
//! (CVE-2022-25882, CVE-2024-27318); no symlink anywhere on the path and containment after
//! canonicalising (CVE-2026-27489, CVE-2026-34447); a FIFO, socket, device or directory is refused
//! before any open, and the open does not block (a FIFO would wait for a writer forever); the
//! opened descriptor must be the regular file that was checked (GHSA-q56x-g2fj-4rj6) and have a
//! single link (CVE-2026-34446); only known keys,
//! unsigned decimal offset/length, offset + length within the file and equal to the payload size,
//! all before allocating (CVE-2026-34445).

use std::fs::File;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use tract_onnx::pb::TensorProto;

use super::regular;
use super::source::Bytes;
use super::tensor::{TensorError, rejected};
use crate::error::{ModelErrorKind as K, display_name};

/// A parsed `external_data` reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalRef {
    pub location: String,
    pub offset: u64,
    pub length: Option<u64>,
    pub checksum: Option<String>,
}

fn key(m: String) -> TensorError {
    rejected(K::BadExternalKey, m)
}
fn file(m: String) -> TensorError {
    rejected(K::ExternalFile, m)
}

fn parse_u64(key: &str, v: &str) -> Result<u64, TensorError> {
    // Non-negative decimal without sign: "-1" (to EOF in some loaders) and "+5" are refused.
    if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(self::key(format!(
            "external data {key} {:?} is not an unsigned decimal",
            display_name(v)
        )));
    }
    v.parse()
        .map_err(|_| self::key(format!("external data {key} {v} is out of range")))
}

pub fn parse(t: &TensorProto) -> Result<ExternalRef, TensorError> {
    if !t.raw_data.is_empty() {
        return Err(rejected(K::BadPayload, "external tensor also has raw_data"));
    }
    let (mut location, mut offset, mut length, mut checksum) = (None, 0, None, None);
    for kv in &t.external_data {
        match kv.key.as_str() {
            "location" => location = Some(kv.value.clone()),
            "offset" => offset = parse_u64("offset", &kv.value)?,
            "length" => length = Some(parse_u64("length", &kv.value)?),
            "checksum" => checksum = Some(kv.value.clone()),
            // Written by some exporters; never used to resolve paths.
            "basepath" => {}
            other => {
                return Err(key(format!(
                    "unknown external_data key {:?}",
                    display_name(other)
                )));
            }
        }
    }
    let location = location.ok_or_else(|| key("external data without a location".into()))?;
    Ok(ExternalRef {
        location,
        offset,
        length,
        checksum,
    })
}

/// Lexical check: relative, normal components only. Never sanitise, only refuse.
pub fn relative_path(location: &str) -> Result<PathBuf, TensorError> {
    let refuse = |why: &str| {
        Err(rejected(
            K::PathTraversal,
            format!("external data location {:?} {why}", display_name(location)),
        ))
    };
    if location.is_empty() {
        return refuse("is empty");
    }
    if location.contains('\0') {
        return refuse("contains NUL");
    }
    // Drive letters, UNC prefixes and backslash separators are treated as absolute (Windows).
    if location.contains('\\') || location.contains(':') {
        return refuse("contains a drive or backslash");
    }
    if location.starts_with('/') {
        return refuse("is absolute");
    }
    let mut p = PathBuf::new();
    for part in location.split('/') {
        match part {
            "" => return refuse("has an empty component"),
            "." | ".." => return refuse("leaves or refers to the model directory"),
            _ => p.push(part),
        }
    }
    Ok(p)
}

/// Open the external file for `t` and check everything before reading. Returns the open file and
/// the byte range of the payload.
pub fn check(
    model_dir: &Path,
    t: &TensorProto,
    payload: u64,
) -> Result<(File, u64, u64), TensorError> {
    let r = parse(t)?;
    let rel = relative_path(&r.location)?;
    let shown = display_name(&r.location);
    // Walk every component with lstat: no symlinks, directories then a regular file.
    let mut cur = model_dir.to_path_buf();
    let comps: Vec<_> = rel.components().collect();
    for (i, c) in comps.iter().enumerate() {
        cur.push(c);
        let md = std::fs::symlink_metadata(&cur)
            .map_err(|e| file(format!("external data file {shown:?}: {e}")))?;
        if md.file_type().is_symlink() {
            return Err(rejected(
                K::Symlink,
                format!("external data path {shown:?} goes through a symlink"),
            ));
        }
        let last = i + 1 == comps.len();
        if !last && !md.is_dir() {
            return Err(file(format!(
                "external data path {shown:?} is not a directory path"
            )));
        }
    }
    let canon = cur
        .canonicalize()
        .map_err(|e| file(format!("external data file {shown:?}: {e}")))?;
    if !canon.starts_with(model_dir) {
        return Err(rejected(
            K::PathTraversal,
            format!("external data file {shown:?} is outside the model directory"),
        ));
    }
    let before = std::fs::symlink_metadata(&cur)
        .map_err(|e| file(format!("external data file {shown:?}: {e}")))?;
    // Before any open: opening a FIFO waits for a writer, a device reads without end.
    if let Some(what) = regular::not_regular(&before.file_type()) {
        return Err(file(format!(
            "external data file {shown:?} is not a regular file: it is {what}"
        )));
    }
    let f = open_beneath(model_dir, &rel, &cur).map_err(|e| {
        // ELOOP/EXDEV: openat2 saw a symlink or an escape that appeared after the lstat walk.
        let kind = match e.raw_os_error() {
            Some(libc::ELOOP) => K::Symlink,
            Some(libc::EXDEV) => K::PathTraversal,
            _ => K::ExternalFile,
        };
        rejected(
            kind,
            format!("external data file {shown:?}: cannot open: {e}"),
        )
    })?;
    let md = f
        .metadata()
        .map_err(|e| file(format!("external data file {shown:?}: {e}")))?;
    if let Some(what) = regular::not_regular(&md.file_type()) {
        return Err(file(format!(
            "external data file {shown:?} is not a regular file: it is {what}"
        )));
    }
    if (md.dev(), md.ino()) != (before.dev(), before.ino()) {
        return Err(file(format!(
            "external data file {shown:?} changed while opening"
        )));
    }
    if md.nlink() > 1 {
        return Err(rejected(
            K::Hardlink,
            format!(
                "external data file {shown:?} has {} hard links (refused: it may alias a file outside the model directory)",
                md.nlink()
            ),
        ));
    }
    let size = md.len();
    if let Some(len) = r.length
        && len != payload
    {
        return Err(rejected(
            K::LengthMismatch,
            format!("external data length {len} differs from the payload size {payload}"),
        ));
    }
    let end = r.offset.checked_add(payload).filter(|&e| e <= size).ok_or_else(|| {
        rejected(K::OutOfBounds, format!(
            "external data {shown:?}: offset {} + length {payload} is past the end of the file ({size} bytes)",
            r.offset
        ))
    })?;
    Ok((f, r.offset, end - r.offset))
}

/// Open `rel` beneath `dir` without following any symlink: `openat2(RESOLVE_BENEATH |
/// RESOLVE_NO_SYMLINKS)` on Linux ≥ 5.6, else `O_NOFOLLOW` on the final component (the lstat walk
/// above covers parents, and the dev/ino check covers a swap in between). Non-blocking
/// (`regular::OPEN_FLAGS`): a FIFO swapped in after the lstat does not make the open wait.
fn open_beneath(dir: &Path, rel: &Path, full: &Path) -> std::io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        if let Some(f) = openat2(dir, rel)? {
            return Ok(f);
        }
    }
    let _ = (dir, rel);
    regular::open_nonblocking(full, libc::O_NOFOLLOW)
}

/// `Ok(None)` when the kernel has no openat2.
#[cfg(target_os = "linux")]
fn openat2(dir: &Path, rel: &Path) -> std::io::Result<Option<File>> {
    use std::ffi::CString;
    use std::os::fd::{AsRawFd, FromRawFd};
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::OpenOptionsExt;
    let dirf = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | regular::OPEN_FLAGS)
        .open(dir)?;
    let c = CString::new(rel.as_os_str().as_bytes())
        .map_err(|_| std::io::Error::other("path contains NUL"))?;
    // SAFETY: open_how is plain data; all-zero is its documented default.
    let mut how: libc::open_how = unsafe { std::mem::zeroed() };
    how.flags = (libc::O_RDONLY | libc::O_NOFOLLOW | regular::OPEN_FLAGS) as u64;
    how.resolve = libc::RESOLVE_BENEATH | libc::RESOLVE_NO_SYMLINKS;
    // SAFETY: valid fd, NUL-terminated path and a properly sized open_how that outlive the call.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat2,
            dirf.as_raw_fd(),
            c.as_ptr(),
            &how as *const libc::open_how,
            std::mem::size_of::<libc::open_how>(),
        )
    };
    if fd < 0 {
        let e = std::io::Error::last_os_error();
        return match e.raw_os_error() {
            Some(libc::ENOSYS) | Some(libc::EPERM) => Ok(None),
            _ => Err(e),
        };
    }
    // SAFETY: the syscall returned a fresh descriptor that nothing else owns.
    Ok(Some(unsafe { File::from_raw_fd(fd as i32) }))
}

/// A read-only mapping of one tensor's bytes (unmapped when dropped).
pub struct Mapped(Option<memmap2::Mmap>);

impl Mapped {
    /// The payload; its pages can be released while it is decoded.
    pub fn bytes(&self) -> Bytes<'_> {
        match &self.0 {
            Some(m) => Bytes::mapped(m, 0, m),
            None => Bytes::plain(&[]),
        }
    }
}

/// Check, then map the payload read-only (§7.2: one tensor at a time).
pub fn map(model_dir: &Path, t: &TensorProto, payload: u64) -> Result<Mapped, TensorError> {
    let (file, offset, len) = check(model_dir, t, payload)?;
    if len == 0 {
        return Ok(Mapped(None));
    }
    let len = usize::try_from(len)
        .map_err(|_| TensorError::Malformed("external payload too large".into()))?;
    // SAFETY: read-only private mapping; the file was validated above. Concurrent truncation by
    // another process could fault, which is the documented limit of mmap-based loading.
    let m = unsafe {
        memmap2::MmapOptions::new()
            .offset(offset)
            .len(len)
            .map(&file)
    }
    .map_err(|e| TensorError::Malformed(format!("cannot map external data: {e}")))?;
    Ok(Mapped(Some(m)))
}

#[cfg(test)]
#[path = "external_tests.rs"]
mod tests;
