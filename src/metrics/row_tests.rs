use super::*;

#[test]
fn rows_keep_one_cell_per_column_and_union_in_canonical_order() {
    let mut a = Row::default();
    a.set(Column::Alpha, 3.5);
    a.set(Column::LayerId, 2usize);
    a.set(Column::Alpha, 4.0);
    let mut b = Row::default();
    b.set(Column::SigmaMp, Some(1.0));
    b.set(Column::Name, "fc1");
    assert_eq!(a.num(Column::Alpha), Some(4.0));
    assert_eq!(
        union_columns([&a, &b]),
        vec![
            Column::LayerId,
            Column::Name,
            Column::Alpha,
            Column::SigmaMp
        ]
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
    r.set(Column::LayerId, 3usize);
    r.set(Column::Alpha, 2.5);
    r.set(Column::Warning, Warning::None);
    r.set(Column::SigmaMp, None::<f64>);
    r.set(Column::Status, RowStatus::Success);
    let text = serde_json::to_string(&r).unwrap();
    assert_eq!(
        text,
        r#"{"layer_id":3,"alpha":2.5,"warning":"","sigma_mp":null,"status":"success"}"#
    );
    let back: Row = serde_json::from_str(&text).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.status(), Some(RowStatus::Success));
    let s: f64 = Value::from(0.058527250613340964).to_csv().parse().unwrap();
    assert_eq!(s, 0.058527250613340964);
}

#[test]
fn reading_refuses_what_this_version_does_not_write() {
    let err = |json: &str| serde_json::from_str::<Row>(json).unwrap_err().to_string();
    assert!(err(r#"{"alpha":2.5,"alpah":1.0}"#).contains(r#"unknown column "alpah""#));
    assert!(err(r#"{"status":"sucess"}"#).contains(r#"column "status""#));
    assert!(err(r#"{"warning":"overtrained"}"#).contains(r#"column "warning""#));
    assert!(err(r#"{"alpha":"2.5"}"#).contains(r#"column "alpha""#));
    assert!(err(r#"{"num_evals":2.5}"#).contains(r#"column "num_evals""#));
    assert!(err(r#"{"has_esd":1}"#).contains(r#"column "has_esd""#));
    // A whole float read back as an integer is still a float.
    let r: Row = serde_json::from_str(r#"{"alpha":3,"num_evals":3}"#).unwrap();
    assert_eq!(r.get(Column::Alpha), Some(&Value::Float(3.0)));
    assert_eq!(r.get(Column::NumEvals), Some(&Value::Int(3)));
}
