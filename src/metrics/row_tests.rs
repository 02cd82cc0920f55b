use super::*;

#[test]
fn rows_keep_one_cell_per_column_and_union_in_canonical_order() {
    let mut a = Row::default();
    a.set("alpha", 3.5);
    a.set("layer_id", 2usize);
    a.set("alpha", 4.0);
    let mut b = Row::default();
    b.set("sigma_mp", Some(1.0));
    b.set("name", "fc1");
    assert_eq!(a.num("alpha"), Some(4.0));
    assert_eq!(
        union_columns([&a, &b]),
        vec!["layer_id", "name", "alpha", "sigma_mp"]
    );
}

#[test]
fn csv_and_json_rendering() {
    assert_eq!(Value::from(0.1).to_csv(), "0.1");
    assert_eq!(
        Value::from(253.88942032352176).to_csv(),
        "253.88942032352176"
    );
    assert_eq!(Value::from(1e-20).to_csv(), "1e-20");
    assert_eq!(Value::from(f64::NAN).to_csv(), "");
    assert_eq!(Value::from(true).to_csv(), "True");
    assert_eq!(
        serde_json::to_string(&Value::from(f64::INFINITY)).unwrap(),
        "null"
    );
    let mut r = Row::default();
    r.set("layer_id", 3usize);
    r.set("alpha", 2.5);
    r.set("warning", "");
    r.set("sigma_mp", None::<f64>);
    let back: Row = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    let s: f64 = Value::from(0.058527250613340964).to_csv().parse().unwrap();
    assert_eq!(s, 0.058527250613340964);
}
