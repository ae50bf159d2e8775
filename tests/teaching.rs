//! `migsim explain` and `migsim report` through the real binary on shipped scenarios: the sentences
//! quote the run's own figures (checked against `migsim run --format json`), bad arguments are
//! refused with status 2, and the HTML reports are well-formed, self-contained (inline SVG, no
//! script, no URL) and hold the results table, the charts, the explanations and the scenario.

mod common;
use common::*;
use migsim::output::explain::int;
use serde_json::Value;
use std::path::Path;

fn ok(args: &[&str]) -> String {
    let o = migsim(args);
    assert!(o.status.success(), "migsim {args:?} failed ({:?}):\n{}", o.status, stderr(&o));
    stdout(&o)
}

fn run_json(file: &str, extra: &[&str]) -> Value {
    let mut args = vec!["run", file, "--format", "json", "--no-write"];
    args.extend(extra);
    serde_json::from_str(&ok(&args)).expect("JSON")
}

/// The explanation of one migration: from its title line to the next title (text format).
fn part<'a>(text: &'a str, title: &str) -> &'a str {
    let start = text.find(&format!("\n{title}\n")).unwrap_or_else(|| panic!("no part {title:?} in:\n{text}"));
    let rest = &text[start + 1..];
    let end = rest[title.len() + 1..].find("\n=====").and_then(|e| rest[..title.len() + 1 + e].rfind("\n\n")).unwrap_or(rest.len());
    &rest[..end]
}

/// Lines joined back into one (the text output is wrapped at 100 columns).
fn unwrap(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn explain_tells_each_round_of_db_with_the_runs_own_figures() {
    let json = run_json("scenarios/db.toml", &[]);
    let text = ok(&["explain", "scenarios/db.toml"]);
    assert!(text.starts_with("Scenario db (seed 42): "), "{}", &text[..80]);
    assert!(text.lines().all(|l| l.chars().count() <= 100), "a line over 100 columns");
    for m in json["migrations"].as_array().unwrap() {
        let title = format!("vm by {}, from source to destination", m["strategy"].as_str().unwrap());
        let p = unwrap(part(&text, &title));
        for t in m["timeline"].as_array().unwrap().iter().filter(|t| t["phase"] == "precopy") {
            let (round, sent, left) =
                (t["round"].as_u64().unwrap(), t["pages_sent"].as_u64().unwrap(), t["dirty_pages_at_end"].as_u64().unwrap());
            assert!(p.contains(&format!("Round {round} (")), "{title}: round {round} missing");
            assert!(p.contains(&format!("sent {} pages", int(sent))), "{title}: round {round} does not say it sent {sent} pages");
            assert!(p.contains(&format!("{} pages (", int(left))), "{title}: round {round} does not say {left} pages were left");
        }
        match m["strategy"].as_str().unwrap() {
            "precopy" => {
                let last = m["timeline"].as_array().unwrap().iter().rfind(|t| t["phase"] == "precopy").unwrap();
                // The threshold in pages: 10 Gbit/s x 50 ms = 62.5 MB = 15,258 pages of 4 KiB.
                let pages = (last["stop_threshold_bytes"].as_f64().unwrap() / 4096.0).floor() as u64;
                assert_eq!(pages, 15_258);
                assert!(p.contains(&format!("worth {} pages", int(pages))), "{p}");
                assert!(p.contains("Why pre-copy stopped") && p.contains("so QEMU paused the guest"), "{p}");
                assert!(p.contains(&format!("After round {}", last["round"])), "{p}");
                let downtime = migsim::units::format_duration((m["downtime_s"].as_f64().unwrap() * 1e9).round() as u64);
                assert!(p.contains(&format!("a downtime of {downtime}")) && p.contains("under the 50 ms downtime limit"), "{p}");
            }
            "postcopy" => {
                assert!(p.contains(&format!("{} times the guest touched a page", int(m["remote_faults"].as_u64().unwrap()))), "{p}");
                assert!(p.contains("post-copy window") && p.contains("socket_buffer"), "{p}");
            }
            "hybrid" => {
                assert!(p.contains("hybrid switched to post-copy") && p.contains("hybrid_switch_after = 2"), "{p}");
            }
            s => panic!("unexpected strategy {s}"),
        }
    }
}

#[test]
fn explain_picks_a_vm_writes_markdown_and_refuses_unknown_names() {
    let md = ok(&["explain", "scenarios/xbzrle.toml", "--vm", "cache-512m", "--format", "markdown"]);
    assert!(md.starts_with("# Scenario xbzrle (seed 42)"), "{}", &md[..60]);
    assert_eq!(md.matches("\n## ").count(), 1, "one migration");
    assert!(md.contains("\n## cache-512m by precopy, from a3 to b3\n") && md.contains("\n### What the mechanisms did\n"), "{md}");
    assert!(md.contains("XBZRLE kept the last copy of sent pages in a 512 MiB cache"), "{md}");
    let o = migsim(["explain", "scenarios/xbzrle.toml", "--vm", "cache-521m"]);
    assert_eq!(o.status.code(), Some(2));
    let e = stderr(&o);
    assert!(e.contains("--vm cache-521m") && e.contains("did you mean `cache-512m`?") && e.contains("plain, cache-64m, cache-512m"), "{e}");
    assert!(!e.contains("panicked"));
    let o = migsim(["explain", "scenarios/db.toml", "--format", "html"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn explain_follows_set_strategy_and_seed() {
    // At 400,000 page writes/s the db VM's pre-copy no longer converges: cancelled at max_time.
    let text = ok(&[
        "explain",
        "scenarios/db.toml",
        "--strategy",
        "precopy",
        "--set",
        "workload.write_rate=400000 pages/s",
        "--set",
        "migration.max_time=20 s",
    ]);
    let t = unwrap(&text);
    assert!(
        t.contains("400,000 page writes/s") && t.contains("Why the migration was cancelled") && t.contains("It never converged"),
        "{text}"
    );
    assert!(!t.contains("by postcopy"));
    let a = ok(&["explain", "scenarios/zipf.toml", "--seed", "7"]);
    assert!(a.starts_with("Scenario zipf (seed 7)"));
}

#[test]
fn explain_runs_on_every_shipped_scenario() {
    for f in std::fs::read_dir("scenarios").unwrap().map(|e| e.unwrap().path()) {
        if f.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let name = f.display().to_string();
        let text = ok(&["explain", &name]);
        let json = run_json(&name, &[]);
        let n = json["migrations"].as_array().unwrap().len();
        assert_eq!(text.matches("\nIn sum\n------\n").count(), n, "{name}: one explanation per migration");
        assert!(text.lines().all(|l| l.chars().count() <= 100), "{name}: a line over 100 columns");
        assert!(!text.contains("NaN") && !text.contains("inf "), "{name}: a figure is not a number");
    }
}

/// Checks that `html` nests its elements properly: every opened element is closed in order (void
/// elements and self-closed SVG elements aside), and no `<` or `>` stands in text unescaped.
fn assert_well_formed(html: &str) {
    const VOID: [&str; 4] = ["meta", "br", "img", "hr"];
    let mut stack: Vec<String> = Vec::new();
    let mut rest = html.strip_prefix("<!DOCTYPE html>\n").expect("a doctype");
    while let Some(open) = rest.find('<') {
        assert!(!rest[..open].contains('>'), "a stray > in text near {:?}", &rest[..open.min(80)]);
        let close = rest[open..].find('>').expect("an unclosed tag") + open;
        let tag = &rest[open + 1..close];
        assert!(!tag.contains('<'), "a < inside a tag: {tag:?}");
        let name: String = tag.trim_start_matches('/').chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
        if let Some(closing) = tag.strip_prefix('/') {
            let top = stack.pop().unwrap_or_else(|| panic!("</{closing}> closes nothing"));
            assert_eq!(top, name, "</{name}> closes <{top}>");
        } else if !tag.ends_with('/') && !VOID.contains(&name.as_str()) {
            stack.push(name);
        }
        rest = &rest[close + 1..];
    }
    assert!(stack.is_empty(), "left open: {stack:?}");
}

/// The report is one file that needs nothing else: no script, no URL in any attribute or text.
fn assert_self_contained(html: &str) {
    for bad in ["<script", "http://", "https://", " src=", "<link", "<iframe", "@import", "url("] {
        assert!(!html.contains(bad), "the report contains {bad:?}");
    }
    assert!(html.contains("@media print"), "a print style sheet");
}

#[test]
fn report_of_a_scenario_holds_its_table_charts_explanations_and_scenario() {
    let dir = TempDir::new("report");
    let out = dir.path().join("db.html");
    let o = migsim(["report", "scenarios/db.toml", "-o", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).starts_with(&format!("wrote {} (", out.display())));
    let html = std::fs::read_to_string(&out).unwrap();
    assert_well_formed(&html);
    assert_self_contained(&html);
    assert_eq!(html.matches("<svg ").count(), 3, "one timeline chart per migration");
    assert_eq!(html.matches("<figure>").count(), 3);
    assert!(html.contains("<title>migsim report: db</title>"));
    // The table of `migsim run`: its rows, cell by cell.
    let json = run_json("scenarios/db.toml", &[]);
    for m in json["migrations"].as_array().unwrap() {
        assert!(html.contains(&format!("<td>vm</td><td>{}</td>", m["strategy"].as_str().unwrap())), "{html}");
    }
    let pre = json["migrations"].as_array().unwrap().iter().find(|m| m["strategy"] == "precopy").unwrap();
    let downtime = migsim::units::format_duration((pre["downtime_s"].as_f64().unwrap() * 1e9).round() as u64);
    assert!(html.contains(&format!("<td class=\"num\">{downtime}</td>")), "{downtime}");
    // The explanation of `migsim explain`, sentence for sentence (escaped as HTML).
    let text = ok(&["explain", "scenarios/db.toml", "--format", "markdown"]);
    let sentence = text.lines().find(|l| l.starts_with("After round 2 (")).expect("the stop sentence");
    assert!(html.contains(&sentence.replace('\'', "&#39;")), "{sentence}");
    // The resolved scenario of `migsim check`.
    let toml = ok(&["check", "scenarios/db.toml"]);
    let escaped = toml.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;");
    assert!(html.contains(&escaped), "the resolved scenario");
    // Atomic: nothing but the report in the folder.
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn report_escapes_what_the_scenario_says_and_goes_to_results_by_default() {
    let dir = TempDir::new("report-esc");
    let f = dir.write(
        "x.toml",
        "name = \"a<b>&c\"\ndescription = \"<script>alert('x')</script>\"\n[vm]\nmemory = \"64 MiB\"\n[network]\nbandwidth = \"1 Gbit/s\"\n[workload]\nkind = \"uniform\"\nwrite_rate = \"1 MiB/s\"\nworking_set = \"8 MiB\"\n[migration]\nstrategy = [\"precopy\", \"cold\"]\n",
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_migsim"))
        .args(["report", f.to_str().unwrap()])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(dir.path().join("results/a_b__c/report.html")).unwrap();
    assert_well_formed(&html);
    assert_self_contained(&html);
    assert!(html.contains("migsim report: a&lt;b&gt;&amp;c") && html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    assert_eq!(html.matches("<svg ").count(), 2);
}

#[test]
fn report_of_a_sweep_folder_holds_its_summary_and_every_chart() {
    let dir = TempDir::new("report-sweep");
    let f = dir.write(
        "s.toml",
        "name = \"small\"\nseed = 9\n[vm]\nmemory = \"32 MiB\"\n[network]\nbandwidth = \"1 Gbit/s\"\n[workload]\nkind = \"uniform\"\nwrite_rate = \"5 MiB/s\"\nworking_set = \"16 MiB\"\n[migration]\nstrategy = [\"precopy\", \"postcopy\"]\n[sweep]\nreplications = 2\n\"network.bandwidth\" = [\"1 Gbit/s\", \"10 Gbit/s\"]\n\"workload.write_rate\" = { from = \"1 MiB/s\", to = \"100 MiB/s\", steps = 3, scale = \"log\" }\n",
    );
    let out = dir.path().join("out");
    // Run from the temporary folder so that sweep.json's file name resolves there.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_migsim"))
        .args(["sweep", "s.toml", "--out", "out", "--quiet", "--no-charts"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let folder = out.join("small");
    let o =
        std::process::Command::new(env!("CARGO_BIN_EXE_migsim")).args(["report", "out/small"]).current_dir(dir.path()).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let html = std::fs::read_to_string(folder.join("report.html")).unwrap();
    assert_well_formed(&html);
    assert_self_contained(&html);
    // 2 axes x 3 figures (total time, downtime, bytes sent), drawn though the sweep drew none.
    assert_eq!(html.matches("<svg ").count(), 6);
    assert!(html.contains("small: downtime vs workload.write_rate, mean per point"));
    // One summary row per line of summary.csv; the axes shown as people write them.
    let summary = std::fs::read_to_string(folder.join("summary.csv")).unwrap();
    let table = &html[html.find("<caption>Summary").unwrap()..];
    let table = &table[..table.find("</table>").unwrap()];
    assert_eq!(table.matches("<tr>").count(), summary.lines().count(), "a header row and a row per point, strategy and VM");
    assert!(table.contains("<td class=\"num\">10 Gbit/s</td>") && table.contains("<td>precopy</td>"), "{table}");
    assert!(html.contains("<td>network.bandwidth</td><td>linear</td><td>1 Gbit/s, 10 Gbit/s</td>"), "the axes");
    assert!(html.contains("name = &quot;small&quot;"), "the scenario, resolved");
    let _ = f;
    // Scenario arguments make no sense for a folder; a folder without sweep.csv is not a sweep.
    let o = migsim(["report", folder.to_str().unwrap(), "--set", "vm.memory=1 GiB"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--set applies to a scenario file"), "{}", stderr(&o));
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let o = migsim(["report", empty.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a sweep's output: it has no sweep.csv"), "{}", stderr(&o));
    let o = migsim(["report", "scenarios/no-such.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!Path::new("results/no-such").exists());
}
