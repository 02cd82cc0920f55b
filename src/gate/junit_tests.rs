use super::*;
use crate::gate::verdict::Verdict;

#[test]
fn names_and_messages_are_escaped() {
    let v = Verdict::failed_to_evaluate(
        "g",
        "p",
        "a<b & \"c\"\u{1}.onnx",
        "line 1 <x>\nline 2 'y'".to_string(),
    );
    let xml = to_xml(&v);
    // The model name in the suite name and in the `model` property.
    assert!(xml.contains("a&lt;b &amp; &quot;c&quot;\u{FFFD}.onnx"));
    assert!(!xml.contains('\u{1}'));
    // The message attribute keeps its newline as a character reference, and so does the body.
    assert!(xml.contains(
        "<error message=\"line 1 &lt;x&gt;&#10;line 2 &apos;y&apos;\" type=\"evaluation\">"
    ));
    assert!(!xml.contains("line 1 <x>"));
}
