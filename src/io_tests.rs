use super::*;

#[test]
fn writes_only_plain_names_inside_the_directory() {
    let dir = tempfile::tempdir().unwrap();
    let out = OutDir::create(&dir.path().join("a/b")).unwrap();
    out.write("x.txt", b"hi").unwrap();
    assert_eq!(fs::read(dir.path().join("a/b/x.txt")).unwrap(), b"hi");
    assert!(out.write("../escape.txt", b"no").is_err());
    assert!(out.write("/abs.txt", b"no").is_err());
    assert!(!dir.path().join("a/escape.txt").exists());
    assert!(!dir.path().join("a/b/x.partial").exists());
}

#[test]
fn refuses_large_and_non_utf8_files() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("a.yaml");
    std::fs::write(&p, b"name: x\n").unwrap();
    assert_eq!(read_config_text(&p).unwrap(), "name: x\n");
    assert!(read_bounded(&p, 3).is_err());
    std::fs::write(&p, [0xffu8, 0xfe]).unwrap();
    assert!(
        read_config_text(&p)
            .unwrap_err()
            .to_string()
            .contains("UTF-8")
    );
    assert!(read_config_text(&dir.path().join("missing.yaml")).is_err());
}
