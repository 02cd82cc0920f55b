use super::*;
use crate::schema::Column;

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
