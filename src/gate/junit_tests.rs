use super::*;

#[test]
fn escaping() {
    assert_eq!(
        esc("a<b & \"c\"\u{1}"),
        "a&lt;b &amp; &quot;c&quot;\u{FFFD}"
    );
}
