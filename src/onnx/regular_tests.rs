use super::*;
use std::time::{Duration, Instant};

use tailwatch_testkit::mkfifo;

#[test]
fn kinds_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let sock = dir.path().join("sock");
    let _l = std::os::unix::net::UnixListener::bind(&sock).unwrap();
    let file = dir.path().join("f");
    std::fs::write(&file, b"x").unwrap();
    std::os::unix::fs::symlink(&file, dir.path().join("link")).unwrap();
    let lkind = |p: &Path| kind(&std::fs::symlink_metadata(p).unwrap().file_type());
    assert_eq!(lkind(&fifo), "a FIFO (named pipe)");
    assert_eq!(lkind(&sock), "a socket");
    assert_eq!(lkind(dir.path()), "a directory");
    assert_eq!(lkind(&file), "a regular file");
    assert_eq!(lkind(&dir.path().join("link")), "a symbolic link");
    assert_eq!(lkind(Path::new("/dev/null")), "a character device");
    let ft = std::fs::metadata(&file).unwrap().file_type();
    assert_eq!(not_regular(&ft), None);
    let ft = std::fs::metadata(&fifo).unwrap().file_type();
    assert_eq!(not_regular(&ft), Some("a FIFO (named pipe)"));
}

#[test]
fn a_fifo_without_a_writer_opens_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    mkfifo(&fifo);
    let t = Instant::now();
    let f = open_nonblocking(&fifo, 0).unwrap();
    assert!(t.elapsed() < Duration::from_secs(1));
    assert!(f.metadata().unwrap().file_type().is_fifo());
}
