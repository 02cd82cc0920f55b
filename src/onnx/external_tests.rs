use super::*;

#[test]
fn locations_are_refused_lexically() {
    assert_eq!(relative_path("a/b.bin").unwrap(), PathBuf::from("a/b.bin"));
    for bad in [
        "",
        "../x",
        "a/../../x",
        "/etc/passwd",
        "a//b",
        "./a",
        "C:\\x",
        "\\\\srv\\x",
        "a\0b",
        "a/",
    ] {
        assert!(relative_path(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn offsets_are_unsigned_decimals() {
    assert_eq!(parse_u64("offset", "4096").unwrap(), 4096);
    for bad in ["-1", "+5", "0x10", "", "1e3", "99999999999999999999999"] {
        assert!(parse_u64("offset", bad).is_err(), "{bad:?}");
    }
}
