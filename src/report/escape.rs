//! The one XML/HTML escaper: every string tailwatch writes into SVG, HTML or JUnit XML goes
//! through `escape`, so names from configs and untrusted model files cannot open markup.
//!
//! Both modes make the output well-formed XML 1.0 and safe HTML, and a parser reads back the
//! input exactly, except for characters XML 1.0 forbids (C0 controls other than tab, newline and
//! carriage return; U+FFFE, U+FFFF), which become U+FFFD.

/// Where the escaped text goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Escape {
    /// Element content: `&`, `<`, `>`, and `"` as the HTML reports always have (so their
    /// bytes stay as they were); `'`, tab and newline stay.
    Text,
    /// A quoted attribute value (either quote): also `'`, and tab, newline and carriage
    /// return as character references, which attribute-value normalisation would otherwise turn
    /// into spaces. Also valid as element content.
    Attr,
}

/// The entity of a character that would open or close markup (`&`, `<`, `>`).
fn markup(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        _ => None,
    }
}

/// `s` escaped for `mode`.
pub fn escape(s: &str, mode: Escape) -> String {
    let attr = mode == Escape::Attr;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if let Some(entity) = markup(c) {
            out.push_str(entity);
            continue;
        }
        match c {
            '"' => out.push_str("&quot;"),
            '\'' if attr => out.push_str("&apos;"),
            '\t' if attr => out.push_str("&#9;"),
            '\n' if attr => out.push_str("&#10;"),
            // A literal CR is read back as LF (line-end normalisation), in content too.
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// Text safe in Markdown, inside a table cell too: `&`, `<` and `>` as entities (no tag can
/// open), Markdown punctuation backslashed, on one line; quotes stay as they are, so that a
/// terminal shows them plainly. Names come from model and config files, so a layer called
/// `<img src=x>` or `a|b` is shown as text and cannot break a table.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if let Some(entity) = markup(c) {
            out.push_str(entity);
            continue;
        }
        match c {
            '\\' | '|' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '$' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c if (c as u32) < 0x20 => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
#[path = "escape_tests.rs"]
mod tests;
