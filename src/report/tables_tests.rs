use super::*;

#[test]
fn renders_and_escapes() {
    let t = Table {
        headers: vec!["a".into(), "b".into()],
        rows: vec![vec!["x|<y>".into(), "1.0".into()]],
        text_columns: 1,
    };
    assert_eq!(
        t.to_markdown(),
        "| a | b |\n|---|---:|\n| x\\|&lt;y&gt; | 1.0 |\n"
    );
    let html = t.to_html();
    assert!(
        html.contains("<td class=\"t\">x|&lt;y&gt;</td><td>1.0</td>"),
        "{html}"
    );
    assert!(html.starts_with("<div class=\"scroll\"><table>"));
    assert_eq!(fmt_num(Some(0.00012)), "1.200e-4");
    assert_eq!(fmt_num(None), "–");
}
