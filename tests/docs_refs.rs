//! Every `§` reference in the repository resolves to a section heading of the document it cites,
//! and every quirk label `Qn` cited in the sources is one the documents define.
//!
//! Which document a reference means:
//! - the document named last before it on the same line: `methods.md §5.3`, `onnx-weights.md`
//!   §8.2, `(methods.md §14, reference README §6)`, "README" being the reference README
//!   (`tests/data/ww-0.7.7/README.md`);
//! - otherwise, in a Rust comment, the document named last in the lines above it of the same
//!   comment block (`//! … (methods.md §2), the reported N/M (§2.5, …) and the size` /
//!   `//! filters (§3).`);
//! - otherwise the file's own default: `onnx-weights.md` for `src/onnx/`, `src/weights/` and
//!   `docs/onnx-weights.md` itself, `methods.md` everywhere else.
//!
//! A range `§5.2–5.3` checks both ends. Section numbers are read from the documents' Markdown
//! headings (`## 5. …`, `### 5.3 …`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use common::data::repo;

const METHODS: &str = "docs/methods.md";
const ONNX_WEIGHTS: &str = "docs/onnx-weights.md";
const REFERENCE_README: &str = "tests/data/ww-0.7.7/README.md";

/// How a document is named in the text, and where it is.
const NAMES: [(&str, &str); 3] = [
    ("methods.md", METHODS),
    ("onnx-weights.md", ONNX_WEIGHTS),
    ("README", REFERENCE_README),
];

/// The section numbers of a Markdown document: `## 5. Title` gives "5", `### 5.3 Title` "5.3".
fn sections(doc: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(repo().join(doc)).unwrap_or_else(|e| panic!("{doc}: {e}"));
    text.lines()
        .filter_map(|l| {
            let rest = l.strip_prefix('#')?.trim_start_matches('#');
            let number: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let number = number.trim_end_matches('.');
            (!number.is_empty()).then(|| number.to_string())
        })
        .collect()
}

/// The document named last in `text`, as a path.
fn last_named(text: &str) -> Option<&'static str> {
    NAMES
        .iter()
        .filter_map(|(name, path)| text.rfind(name).map(|at| (at, *path)))
        .max_by_key(|(at, _)| *at)
        .map(|(_, path)| path)
}

fn default_doc(file: &str) -> &'static str {
    if file.starts_with("src/onnx/") || file.starts_with("src/weights/") || file == ONNX_WEIGHTS {
        ONNX_WEIGHTS
    } else {
        METHODS
    }
}

/// A section number at the start of `s` ("5.3" of "5.3 and"), without a trailing dot.
fn number_at(s: &str) -> Option<String> {
    let n: String = s
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    let n = n.trim_end_matches('.');
    (n.starts_with(|c: char| c.is_ascii_digit())).then(|| n.to_string())
}

/// One reference: the file and line it is on, the document it means and the section number.
#[derive(Debug)]
struct Ref {
    at: String,
    doc: &'static str,
    section: String,
}

fn refs_in(file: &str, text: &str, out: &mut Vec<Ref>) {
    let rust = file.ends_with(".rs");
    let mut carried: Option<&'static str> = None;
    for (i, line) in text.lines().enumerate() {
        let comment = rust && line.trim_start().starts_with("//");
        if !comment {
            carried = None;
        }
        for (pos, _) in line.match_indices('§') {
            let doc = last_named(&line[..pos])
                .or(carried)
                .unwrap_or_else(|| default_doc(file));
            let after = &line[pos + '§'.len_utf8()..];
            let Some(first) = number_at(after) else {
                continue; // "the `§` references": no number
            };
            let mut numbers = vec![first.clone()];
            // A range "§5.2–5.3" (or "5.2-5.3"): the second number has no § of its own.
            let rest = &after[first.len()..];
            if let Some(second) = rest
                .strip_prefix('–')
                .or_else(|| rest.strip_prefix('-'))
                .and_then(number_at)
            {
                numbers.push(second);
            }
            for section in numbers {
                out.push(Ref {
                    at: format!("{file}:{}", i + 1),
                    doc,
                    section,
                });
            }
        }
        if comment && let Some(doc) = last_named(line) {
            carried = Some(doc);
        }
    }
}

/// Quirk labels cited in Rust comments: "Q6", "Q1a" (as Q1), "Q3/Q11".
fn quirks_in(file: &str, text: &str, out: &mut Vec<(String, String)>) {
    for (i, line) in text.lines().enumerate() {
        if !line.trim_start().starts_with("//") {
            continue;
        }
        let b = line.as_bytes();
        for (pos, _) in line.match_indices('Q') {
            let before_ok = pos == 0 || !(b[pos - 1].is_ascii_alphanumeric() || b[pos - 1] == b'_');
            let digits: String = line[pos + 1..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            let after = line[pos + 1 + digits.len()..].chars().next();
            let after_ok = after.is_none_or(|c| !(c.is_alphanumeric() || c == '_') || c == 'a');
            if before_ok && !digits.is_empty() && after_ok {
                out.push((format!("{file}:{}", i + 1), format!("Q{digits}")));
            }
        }
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for e in entries {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if p.is_dir() {
            // Reference data and build output are not sources.
            if !["data", "target", "corpus", "artifacts"].contains(&name.as_str()) {
                files_under(&p, out);
            }
        } else if [".rs", ".md", ".yaml"].iter().any(|x| name.ends_with(x)) {
            out.push(p);
        }
    }
}

/// The files scanned, relative to the repository root.
fn scanned() -> Vec<String> {
    let root = repo();
    let mut files = Vec::new();
    for dir in [
        "src", "tests", "benches", "examples", "fuzz", "configs", "docs",
    ] {
        files_under(&root.join(dir), &mut files);
    }
    files.push(root.join("README.md"));
    let mut rel: Vec<String> = files
        .iter()
        .map(|p| {
            p.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    rel.sort();
    rel
}

#[test]
fn every_section_reference_resolves() {
    let headings: BTreeMap<&str, BTreeSet<String>> = NAMES
        .iter()
        .map(|(_, path)| (*path, sections(path)))
        .collect();
    for (doc, s) in &headings {
        assert!(s.len() >= 7, "{doc}: only {} numbered headings", s.len());
    }
    let mut refs = Vec::new();
    for file in scanned() {
        let text = std::fs::read_to_string(repo().join(&file)).unwrap();
        refs_in(&file, &text, &mut refs);
    }
    let from_src = refs.iter().filter(|r| r.at.starts_with("src/")).count();
    // 149 lines of src/ cite sections; most cite one, some several.
    assert!(from_src >= 149, "only {from_src} references found in src/");
    let unresolved: Vec<String> = refs
        .iter()
        .filter(|r| !headings[r.doc].contains(&r.section))
        .map(|r| format!("{}: §{} is not a section of {}", r.at, r.section, r.doc))
        .collect();
    let mut per_doc: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &refs {
        *per_doc.entry(r.doc).or_default() += 1;
    }
    eprintln!("{} § references checked: {per_doc:?}", refs.len());
    assert!(
        unresolved.is_empty(),
        "unresolved references:\n{}",
        unresolved.join("\n")
    );
}

#[test]
fn every_quirk_label_is_documented() {
    // Defined: the rows of the reference README's quirk table (§6), each of which methods.md §14
    // must mention as well.
    let readme = std::fs::read_to_string(repo().join(REFERENCE_README)).unwrap();
    let defined: BTreeSet<String> = readme
        .lines()
        .filter_map(|l| l.strip_prefix("| Q"))
        .map(|l| {
            let d: String = l.chars().take_while(char::is_ascii_digit).collect();
            format!("Q{d}")
        })
        .collect();
    assert_eq!(defined.len(), 17, "{defined:?}");
    let methods = std::fs::read_to_string(repo().join(METHODS)).unwrap();
    let fourteen = methods
        .split("\n## 14.")
        .nth(1)
        .and_then(|s| s.split("\n## 15.").next())
        .expect("methods.md has a §14");
    for q in &defined {
        // "Q1" must not be satisfied by "Q12".
        let mentioned = fourteen
            .match_indices(q.as_str())
            .any(|(at, _)| !fourteen[at + q.len()..].starts_with(|c: char| c.is_ascii_digit()));
        assert!(mentioned, "methods.md §14 does not mention {q}");
    }
    let mut cited = Vec::new();
    for file in scanned().into_iter().filter(|f| f.ends_with(".rs")) {
        let text = std::fs::read_to_string(repo().join(&file)).unwrap();
        quirks_in(&file, &text, &mut cited);
    }
    assert!(
        cited
            .iter()
            .filter(|(at, _)| at.starts_with("src/"))
            .count()
            >= 40,
        "{cited:?}"
    );
    let unknown: Vec<String> = cited
        .iter()
        .filter(|(_, q)| !defined.contains(q))
        .map(|(at, q)| format!("{at}: {q}"))
        .collect();
    assert!(
        unknown.is_empty(),
        "undocumented quirk labels:\n{}",
        unknown.join("\n")
    );
}
