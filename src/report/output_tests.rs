use super::*;
use crate::schema::Column;

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
fn csv_has_union_columns() {
    let mut a = Row::default();
    a.set(Column::LayerId, 0usize);
    a.set(Column::Alpha, 2.5);
    let mut b = Row::default();
    b.set(Column::LayerId, 1usize);
    b.set(Column::Name, "x,y");
    let csv = rows_to_csv([&a, &b]).unwrap();
    assert_eq!(csv, "layer_id,name,alpha\n0,,2.5\n1,\"x,y\",\n");
}
