//! The self-contained HTML report of `migsim report`: one file a student opens in any browser, with
//! no network, no script and a print style sheet. This file owns the page's frame (style, title,
//! contents), the pieces a page is made of (escaped text, tables, inline SVG charts, explanations)
//! and the report of one run. The report of a sweep's folder is assembled from the same pieces by
//! `study::sweep::report`, which reads the sweep's CSVs.
//!
//! It reads results, charts and explanations; it neither runs the model nor reads files, and the
//! caller writes the page (atomically, through `crate::files`).

use crate::model::RunReport;
use crate::output::explain::Explanation;
use crate::output::plot::{self, Chart};
use crate::output::report;

/// Text made safe for HTML content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A paragraph of plain text.
pub fn para(text: &str) -> String {
    format!("<p>{}</p>\n", escape(text))
}

/// Preformatted text (a scenario file).
pub fn pre(text: &str) -> String {
    format!("<pre>{}</pre>\n", escape(text))
}

/// A list of plain-text items.
pub fn list(items: &[String]) -> String {
    if items.is_empty() {
        return String::new();
    }
    let mut s = String::from("<ul>\n");
    for i in items {
        s += &format!("<li>{}</li>\n", escape(i));
    }
    s + "</ul>\n"
}

/// A table of plain-text cells. A column of figures (every cell a number with its unit, or "-") is
/// right-aligned.
pub fn table(caption: &str, head: &[String], rows: &[Vec<String>]) -> String {
    let figure = |v: &str| v == "-" || (v.starts_with(|ch: char| ch.is_ascii_digit() || ch == '>') && !v.contains(", "));
    let numeric: Vec<bool> =
        (0..head.len()).map(|c| !rows.is_empty() && rows.iter().all(|r| r.get(c).is_some_and(|v| figure(v)))).collect();
    let mut s = String::from("<div class=\"table\"><table>\n");
    if !caption.is_empty() {
        s += &format!("<caption>{}</caption>\n", escape(caption));
    }
    s += "<thead><tr>";
    for h in head {
        s += &format!("<th scope=\"col\">{}</th>", escape(h));
    }
    s += "</tr></thead>\n<tbody>\n";
    for r in rows {
        s += "<tr>";
        for (c, v) in r.iter().enumerate() {
            let class = if numeric.get(c).copied().unwrap_or(false) { " class=\"num\"" } else { "" };
            s += &format!("<td{class}>{}</td>", escape(v));
        }
        s += "</tr>\n";
    }
    s + "</tbody>\n</table></div>\n"
}

/// A chart as an inline SVG figure with a caption. The SVG is plotters' own document: its text is
/// escaped by plotters; the namespace attribute goes (HTML puts an inline `<svg>` in it anyway),
/// and a role and label make it an image for screen readers.
pub fn figure(panels: &[Chart], caption: &str) -> anyhow::Result<String> {
    let svg = plot::render_svg(panels)?;
    let label = panels.iter().map(|c| c.title.as_str()).collect::<Vec<_>>().join("; ");
    let svg = svg.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1).replacen(
        "<svg ",
        &format!("<svg role=\"img\" aria-label=\"{}\" ", escape(&label)),
        1,
    );
    Ok(format!("<figure>\n{}\n<figcaption>{}</figcaption>\n</figure>\n", svg.trim_end(), escape(caption)))
}

/// An explanation's sections, as headings of level 3, paragraphs and lists.
pub fn explanation(e: &Explanation) -> String {
    let mut s = String::new();
    for sec in &e.sections {
        s += &format!("<h3>{}</h3>\n", escape(&sec.heading));
        for p in &sec.paragraphs {
            s += &para(p);
        }
        s += &list(&sec.items);
    }
    s
}

/// A section of a page: its anchor, its heading (level 2) and its HTML body.
pub struct Part {
    pub id: String,
    pub heading: String,
    pub body: String,
}

/// An anchor name from a heading: letters, digits and dashes.
pub fn anchor(text: &str) -> String {
    let s: String = text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let s = s.split('-').filter(|p| !p.is_empty()).collect::<Vec<_>>().join("-");
    if s.is_empty() { "part".into() } else { s }
}

const STYLE: &str = "
:root { color-scheme: light; }
body { font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; font-size: 16px; line-height: 1.5; color: #111;
  background: #fff; max-width: 64rem; margin: 0 auto; padding: 1rem 1.5rem 3rem; }
h1 { font-size: 1.7rem; margin: 0.5rem 0 0.2rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid #0072B2; padding-bottom: 0.2rem; margin-top: 2.5rem; }
h3 { font-size: 1.1rem; margin: 1.4rem 0 0.4rem; }
p.sub { color: #444; margin-top: 0; }
nav ol { columns: 2; padding-left: 1.2rem; }
a { color: #0057a0; }
div.table { overflow-x: auto; }
table { border-collapse: collapse; margin: 0.8rem 0; font-size: 0.9rem; }
caption { text-align: left; font-weight: bold; padding-bottom: 0.3rem; }
th, td { border: 1px solid #bbb; padding: 0.25rem 0.55rem; text-align: left; vertical-align: top; }
th { background: #eef3f8; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #f7f7f7; }
figure { margin: 1rem 0; }
figure svg { display: block; width: 100%; max-width: 960px; height: auto; border: 1px solid #ddd; }
figcaption { font-size: 0.9rem; color: #333; margin-top: 0.3rem; }
pre { background: #f6f6f6; border: 1px solid #ddd; padding: 0.7rem; overflow-x: auto; font-size: 0.85rem; line-height: 1.35; }
li { margin: 0.3rem 0; }
footer { margin-top: 3rem; font-size: 0.85rem; color: #555; border-top: 1px solid #ccc; padding-top: 0.5rem; }
@media print {
  @page { size: A4; margin: 15mm; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav { display: none; }
  h2 { break-before: page; border-bottom-color: #000; }
  h2.first { break-before: auto; }
  h2, h3 { break-after: avoid; }
  figure, table, pre, li { break-inside: avoid; }
  figure svg { border: none; max-width: 100%; }
  pre { white-space: pre-wrap; }
  a { color: inherit; text-decoration: none; }
  tbody tr:nth-child(even) { background: none; }
}
";

/// A whole page: the title, a line under it, a table of contents and the parts.
pub fn page(title: &str, sub: &str, parts: &[Part], footer: &str) -> String {
    let mut s = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<meta name=\"generator\" content=\"migsim {}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<header>\n<h1>{}</h1>\n<p class=\"sub\">{}</p>\n</header>\n",
        env!("CARGO_PKG_VERSION"),
        escape(title),
        escape(title),
        escape(sub)
    );
    s += "<nav aria-label=\"Contents\">\n<ol>\n";
    for p in parts {
        s += &format!("<li><a href=\"#{}\">{}</a></li>\n", escape(&p.id), escape(&p.heading));
    }
    s += "</ol>\n</nav>\n<main>\n";
    for (i, p) in parts.iter().enumerate() {
        let class = if i == 0 { " class=\"first\"" } else { "" };
        s += &format!("<section id=\"{}\">\n<h2{class}>{}</h2>\n{}</section>\n", escape(&p.id), escape(&p.heading), p.body);
    }
    s += &format!("</main>\n<footer>{}</footer>\n</body>\n</html>\n", escape(footer));
    s
}

/// The report of one run: the results table, each migration's timeline chart and explanation, and
/// the resolved scenario (`scenario_toml`, as `migsim check` prints it). `charts[i]` (the panels
/// of its timeline) and `explained[i]` belong to `r.migrations[i]`.
pub fn run_page(
    r: &RunReport,
    scenario_toml: &str,
    charts: &[Vec<Chart>],
    explained: &[Explanation],
    command: &str,
) -> anyhow::Result<String> {
    let mut parts = Vec::new();
    let (head, rows) = report::table_rows(r);
    let mut body = para(&format!(
        "One row per migration: total time, downtime, bytes sent, pre-copy rounds and dirty-bitmap syncs, how pre-copy ended, and post-copy's remote faults, their stall and the window in which a host failure would lose the VM. The scenario's seed is {}.",
        r.seed
    ));
    body += &table("", &head, &rows);
    let notes: Vec<String> = r
        .migrations
        .iter()
        .filter_map(|m| {
            Some(format!("{} by {}: {}", m.vm, m.strategy, report::mechanism_notes(m).join("; ")))
                .filter(|_| !report::mechanism_notes(m).is_empty())
        })
        .collect();
    body += &list(&notes);
    parts.push(Part { id: "results".into(), heading: "Results".into(), body });
    for (i, (m, e)) in r.migrations.iter().zip(explained).enumerate() {
        let mut body = String::new();
        if let Some(c) = charts.get(i).filter(|c| !c.is_empty()) {
            let throttle = if c.len() > 1 { " The second panel is the vCPU throttle auto-converge set." } else { "" };
            body += &figure(
                c,
                &format!(
                    "The timeline of {} by {}: each bar is one round (or the final copy, or post-copy) spanning its time, as high as the pages it sent; the solid line is the pages left to send after each pre-copy round, the dashed one the stop rule's threshold in pages; the grey span is the downtime.{throttle}",
                    m.vm, m.strategy
                ),
            )?;
        }
        body += &explanation(e);
        parts.push(Part { id: anchor(&format!("m{i} {} {}", m.vm, m.strategy)), heading: e.title.clone(), body });
    }
    parts.push(Part {
        id: "scenario".into(),
        heading: "The scenario, resolved".into(),
        body: para(
            "Every value the run used, defaults included, as `migsim check` prints it; run it again with `migsim run` on this text.",
        ) + &pre(scenario_toml),
    });
    let sub = if r.description.is_empty() { format!("seed {}", r.seed) } else { format!("{} (seed {})", r.description, r.seed) };
    Ok(page(&format!("migsim report: {}", r.scenario), &sub, &parts, &format!("Made by migsim {} with `{command}`.", r.migsim_version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_everywhere() {
        assert_eq!(escape("<a href=\"x\">&'</a>"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
        let t = table("c<", &["h&".into()], &[vec!["<b>".into()]]);
        assert!(
            t.contains("<caption>c&lt;</caption>") && t.contains("<th scope=\"col\">h&amp;</th>") && t.contains("<td>&lt;b&gt;</td>"),
            "{t}"
        );
        let p = page("<t>", "s\"", &[Part { id: "x\"y".into(), heading: "<h>".into(), body: String::new() }], "f&");
        assert!(p.contains("<title>&lt;t&gt;</title>") && p.contains("href=\"#x&quot;y\"") && p.contains("f&amp;"), "{p}");
        assert!(!p.contains("<t>") && !p.contains("<h>"));
    }

    #[test]
    fn numbers_are_right_aligned_and_anchors_are_plain() {
        let t = table("", &["vm".into(), "total".into()], &[vec!["a".into(), "6.24 s".into()], vec!["b".into(), ">300 s".into()]]);
        assert!(t.contains("<td>a</td><td class=\"num\">6.24 s</td>"), "{t}");
        let t = table(
            "",
            &["down".into(), "values".into()],
            &[vec!["-".into(), "1 Gbit/s, 10 Gbit/s".into()], vec!["2.2 ms".into(), "5".into()]],
        );
        assert!(t.contains("<td class=\"num\">-</td><td>1 Gbit/s, 10 Gbit/s</td>"), "{t}");
        assert_eq!(anchor("m0 vm precopy"), "m0-vm-precopy");
        assert_eq!(anchor("  "), "part");
    }

    #[test]
    fn a_figure_is_inline_svg_without_a_namespace_url() {
        let c = Chart { title: "t <1>".into(), x_label: "x (s)".into(), y_label: "y".into(), ..Chart::default() };
        let f = figure(&[c], "cap").unwrap();
        assert!(f.starts_with("<figure>\n<svg role=\"img\" aria-label=\"t &lt;1&gt;\" width="), "{}", &f[..120]);
        assert!(!f.contains("http"), "no URL in the figure");
        assert!(f.contains("<figcaption>cap</figcaption>"));
    }
}
