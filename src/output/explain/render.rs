//! An explanation as text (wrapped at 100 columns) or Markdown.

use super::Explanation;

/// Words of `text` in lines of at most `width` characters, the first prefixed by `first`, the
/// others by `rest`.
fn wrap(text: &str, width: usize, first: &str, rest: &str) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for w in text.split_whitespace() {
        if !empty && line.chars().count() + 1 + w.chars().count() > width {
            out += line.trim_end();
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line += w;
        empty = false;
    }
    out += line.trim_end();
    out.push('\n');
    out
}

/// Plain text, wrapped at 100 columns.
pub fn to_text(header: &str, all: &[Explanation]) -> String {
    let mut out = wrap(header, 100, "", "");
    for e in all {
        out += &format!("\n{}\n{}\n", e.title, "=".repeat(e.title.chars().count()));
        for s in &e.sections {
            out += &format!("\n{}\n{}\n", s.heading, "-".repeat(s.heading.chars().count()));
            for (i, p) in s.paragraphs.iter().enumerate() {
                if i > 0 {
                    out.push('\n');
                }
                out += &wrap(p, 100, "", "");
            }
            if !s.paragraphs.is_empty() && !s.items.is_empty() {
                out.push('\n');
            }
            for i in &s.items {
                out += &wrap(i, 100, "- ", "  ");
            }
        }
    }
    out
}

/// Markdown: a heading per migration and per section, items as a list.
pub fn to_markdown(header: &str, all: &[Explanation]) -> String {
    let mut out = format!("{header}\n");
    for e in all {
        out += &format!("\n## {}\n", e.title);
        for s in &e.sections {
            out += &format!("\n### {}\n\n", s.heading);
            for p in &s.paragraphs {
                out += &format!("{p}\n\n");
            }
            for i in &s.items {
                out += &format!("- {i}\n");
            }
        }
    }
    out.trim_end().to_string() + "\n"
}
