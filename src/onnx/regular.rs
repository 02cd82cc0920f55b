//! Opening files that must be regular files (models, external data) without ever blocking.
//!
//! Opening a FIFO for reading waits for a writer, so a model path or an external-data location
//! naming one used to hang `describe` and `analyze` forever; a character device streams without
//! end. The type is checked before the open (stat), and the open itself is non-blocking, so that
//! a path swapped for a FIFO between the check and the open still returns at once; the caller
//! then checks the opened descriptor (fstat), which is what gets read.

use std::fs::{File, FileType};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// What kind of file `ft` is, for messages ("a FIFO (named pipe)", "a directory", …).
pub fn kind(ft: &FileType) -> &'static str {
    if ft.is_file() {
        "a regular file"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_symlink() {
        "a symbolic link"
    } else if ft.is_fifo() {
        "a FIFO (named pipe)"
    } else if ft.is_socket() {
        "a socket"
    } else if ft.is_char_device() {
        "a character device"
    } else if ft.is_block_device() {
        "a block device"
    } else {
        "not a file of a known kind"
    }
}

/// None for a regular file, else what it is.
pub fn not_regular(ft: &FileType) -> Option<&'static str> {
    (!ft.is_file()).then(|| kind(ft))
}

/// `O_NONBLOCK` (a FIFO does not wait for a writer; regular files ignore it), `O_NOCTTY` (a
/// terminal never becomes the controlling one) and `O_CLOEXEC`.
pub const OPEN_FLAGS: i32 = libc::O_NONBLOCK | libc::O_NOCTTY | libc::O_CLOEXEC;

/// Open `path` read-only with `OPEN_FLAGS` and `extra` (e.g. `O_NOFOLLOW`). The caller checks
/// the descriptor's type before reading.
pub fn open_nonblocking(path: &Path, extra: i32) -> std::io::Result<File> {
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(OPEN_FLAGS | extra)
        .open(path)
}

#[cfg(test)]
#[path = "regular_tests.rs"]
mod tests;
