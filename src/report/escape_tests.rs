use super::*;

#[test]
fn text_escapes_markup_and_double_quotes() {
    assert_eq!(
        escape("a<b> & \"c\" 'd'", Escape::Text),
        "a&lt;b&gt; &amp; &quot;c&quot; 'd'"
    );
    assert_eq!(escape("x\ty\nz\rw", Escape::Text), "x\ty\nz&#13;w");
    assert_eq!(escape("résumé · α ≤ 2", Escape::Text), "résumé · α ≤ 2");
}

#[test]
fn attr_escapes_quotes_and_keeps_whitespace() {
    assert_eq!(
        escape("a<b> & \"c\" 'd'", Escape::Attr),
        "a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;"
    );
    assert_eq!(escape("x\ty\nz\rw", Escape::Attr), "x&#9;y&#10;z&#13;w");
}

#[test]
fn characters_xml_forbids_become_replacement() {
    for mode in [Escape::Text, Escape::Attr] {
        assert_eq!(
            escape("\u{0}\u{1}\u{7}\u{1b}\u{1f}\u{FFFE}\u{FFFF}", mode),
            "\u{FFFD}".repeat(7)
        );
        // U+007F and U+FFFD itself are allowed and kept.
        assert_eq!(escape("\u{7f}\u{FFFD}", mode), "\u{7f}\u{FFFD}");
    }
}

#[test]
fn already_escaped_text_is_escaped_again() {
    assert_eq!(escape("&amp;", Escape::Text), "&amp;amp;");
}

#[test]
fn markdown_shows_names_as_text() {
    assert_eq!(
        markdown("<img src=\"x\"> a|b *c* `d`\n[e](f) #1 \u{1}"),
        "&lt;img src=\"x\"&gt; a\\|b \\*c\\* \\`d\\` \\[e\\](f) \\#1 \u{FFFD}"
    );
    assert_eq!(markdown("conv1_weights & co"), "conv1\\_weights &amp; co");
}
