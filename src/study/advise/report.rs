//! The advice as people read it: the text report (the recommendation with its figures and
//! intervals, or the closest miss; the verdict on each strategy with its why; the Pareto front; how
//! to apply it), the rows of candidates.csv and front.csv, and the points of the front chart.

use super::advice::{Advice, Choice};
use super::figures::Summary;
use super::knob::Knob;
use super::objective::Metric;
use super::search::Search;
use crate::output::advise::Dot;

/// Text lines of the printed report hold at most this many front rows.
const FRONT_ROWS: usize = 12;

fn fig(c: &Choice, m: Metric) -> String {
    c.figures.get(m.name()).and_then(|f| f.mean).map_or("-".into(), |v| m.format(v))
}

fn interval(c: &Choice, m: Metric) -> String {
    let f = &c.figures[m.name()];
    let mut s = fig(c, m);
    if let (Some(lo), Some(hi)) = (f.ci95_lo, f.ci95_hi) {
        s += &format!("  [{} .. {}]", m.format(lo.max(0.0)), m.format(hi));
    }
    if let Some(w) = f.worst.filter(|_| c.runs > 1) {
        s += &format!("  worst {}", m.format(w));
    }
    s
}

fn figures_line(c: &Choice) -> String {
    format!(
        "total {}, downtime {}, {} sent, slowdown {}",
        fig(c, Metric::TotalTime),
        fig(c, Metric::Downtime),
        fig(c, Metric::Bytes),
        fig(c, Metric::AppSlowdown)
    )
}

fn choice_block(out: &mut String, c: &Choice, objectives: &[String]) {
    out.push_str(&format!(
        "  expected figures (mean of {} replication{}, 95 % interval, worst):\n",
        c.runs,
        if c.runs == 1 { "" } else { "s" }
    ));
    for m in [Metric::Downtime, Metric::TotalTime, Metric::Bytes, Metric::AppSlowdown, Metric::PostcopyWindow, Metric::FaultStall] {
        let bound: Vec<&String> = objectives.iter().filter(|o| o.starts_with(&format!("{} ", m.name()))).collect();
        let goal = if bound.is_empty() {
            String::new()
        } else {
            format!("    (objective {})", bound.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
        };
        out.push_str(&format!("    {:<22}{}{goal}\n", m.words(), interval(c, m)));
    }
    out.push_str(&format!("  reproduce: {}\n", c.run_command));
}

/// The printed report.
pub fn text(a: &Advice) -> String {
    let s = &a.search;
    let mut out = format!("advise {} ({})\n", a.scenario, a.file);
    let goals = if a.objectives.is_empty() { "none".to_string() } else { a.objectives.join("; ") };
    out.push_str(&format!("objectives: {goals}; minimize {}\n", a.minimize.replace('_', " ")));
    let how = if s.mode == "exhaustive" {
        "every setting".to_string()
    } else {
        format!(
            "a screen of {} settings, then a coordinate search of {} sweep{}, {} value{} added between neighbours, {} setting{} around the front",
            s.screened,
            s.sweeps,
            if s.sweeps == 1 { "" } else { "s" },
            s.values_refined,
            if s.values_refined == 1 { "" } else { "s" },
            s.front_refined,
            if s.front_refined == 1 { "" } else { "s" }
        )
    };
    let reps = if s.final_replications > s.replications {
        format!(
            "{} replications each, {} for {} finalist{}",
            s.replications,
            s.final_replications,
            s.confirmed,
            if s.confirmed == 1 { "" } else { "s" }
        )
    } else {
        format!("{} replication{} each", s.replications, if s.replications == 1 { "" } else { "s" })
    };
    out.push_str(&format!(
        "searched {} settings of {} ({how}; {reps}): {} runs{} in {}\n",
        s.settings,
        s.strategies.join(", "),
        s.runs,
        if s.resumed > 0 { format!(" ({} from --resume)", s.runs - s.simulated) } else { String::new() },
        crate::units::format_duration((s.seconds * 1e9) as u64)
    ));
    if s.exhausted {
        out.push_str(&format!("  the budget of {} runs ran out before the search was done; --budget gives it more\n", s.budget));
    }
    if let Some(cap) = &s.cap {
        out.push_str(&format!("  {cap}\n"));
    }
    // Knobs kept as the scenario says, grouped by the reason.
    let mut reasons: Vec<(&String, Vec<&str>)> = Vec::new();
    for k in &s.knobs {
        if let Some(w) = &k.fixed {
            match reasons.iter_mut().find(|(r, _)| *r == w) {
                Some((_, names)) => names.push(k.name),
                None => reasons.push((w, vec![k.name])),
            }
        }
    }
    for (why, names) in reasons {
        out.push_str(&format!("  kept as the scenario says: {}: {why}\n", names.join(", ")));
    }
    out.push('\n');
    match (&a.recommendation, &a.closest_miss) {
        (Some(r), _) => {
            out.push_str(&format!("recommended: {}\n", r.label));
            choice_block(&mut out, r, &a.objectives);
            if let Some(w) = &a.reason {
                out.push_str(&format!("  why: {w}.\n"));
            }
            if !a.front.iter().any(|c| c.candidate == r.candidate) {
                out.push_str(
                    "  (it is not on the Pareto front below: settings there match it within 3 % and beat it on a figure the objectives leave free; advise prefers the one that changes less)\n",
                );
            }
        }
        (None, Some(m)) => {
            out.push_str(&format!("no setting meets {}.\nclosest miss: {} ({})\n", a.objectives.join(" and "), m.label, m.verdict));
            choice_block(&mut out, m, &a.objectives);
            out.push_str(&format!("  why: {}.\n", m.why));
        }
        _ => out.push_str("no setting completed a migration.\n"),
    }
    out.push_str("\nverdicts, the best setting of each strategy:\n");
    for v in &a.verdicts {
        out.push_str(&format!("  {:<9} {}: {}\n", v.strategy, v.verdict, figures_line(v)));
        out.push_str(&format!("            {}\n            why: {}.\n", v.label, v.why));
    }
    let feasible_front = a.front.iter().all(|c| c.feasible) && !a.front.is_empty() && a.recommendation.is_some();
    out.push_str(&format!(
        "\nPareto front on downtime, total time, bytes and slowdown ({} of the {} settings{}):\n",
        a.front.len(),
        if feasible_front { "feasible" } else { "completed" },
        if a.front.len() > FRONT_ROWS { format!("; the first {FRONT_ROWS} by total time, all in front.csv") } else { String::new() }
    ));
    out.push_str(&format!("  {:<10}{:<10}{:<11}{:<10}setting\n", "total", "downtime", "sent", "slowdown"));
    for c in a.front.iter().take(FRONT_ROWS) {
        out.push_str(&format!(
            "  {:<10}{:<10}{:<11}{:<10}{}\n",
            fig(c, Metric::TotalTime),
            fig(c, Metric::Downtime),
            fig(c, Metric::Bytes),
            fig(c, Metric::AppSlowdown),
            c.label
        ));
    }
    if let Some(ap) = &a.apply {
        let whose = if a.recommendation.is_some() { "the recommendation" } else { "the closest miss" };
        out.push_str(&format!("\nhow to apply {whose} (QEMU 7.x QMP and libvirt; DESTINATION and DOMAIN are yours):\n"));
        if !ap.qmp_both.is_empty() {
            out.push_str("  QMP, on both hosts:\n");
            ap.qmp_both.iter().for_each(|l| out.push_str(&format!("    {l}\n")));
        }
        out.push_str("  QMP, on the source:\n");
        ap.qmp_source.iter().for_each(|l| out.push_str(&format!("    {l}\n")));
        out.push_str("  libvirt:\n");
        ap.virsh.iter().for_each(|l| out.push_str(&format!("    {l}\n")));
        if !ap.notes.is_empty() {
            out.push_str("  where the model and QEMU differ:\n");
            ap.notes.iter().for_each(|l| out.push_str(&format!("    - {l}\n")));
        }
    }
    out
}

/// The header of candidates.csv and front.csv.
pub fn table_header() -> Vec<String> {
    let mut h: Vec<String> = ["candidate", "strategy", "label", "changes"].map(String::from).to_vec();
    h.extend(Knob::ALL.iter().flat_map(|k| k.columns().iter().map(|c| c.to_string())));
    h.extend(["runs", "completed", "converged", "stop_reason", "feasible", "on_front", "recommended"].map(String::from));
    for m in Metric::ALL {
        for part in ["mean", "ci95_lo", "ci95_hi", "worst"] {
            h.push(format!("{}_{part}", m.column()));
        }
    }
    h.push("sets".into());
    h
}

/// One row of candidates.csv.
pub fn table_row(search: &Search, i: usize, feasible: bool, on_front: bool, recommended: bool) -> Vec<String> {
    let e = &search.evals[i];
    let s: &Summary = &e.summary;
    let c = &e.candidate;
    let num = |x: f64| if x.is_finite() { x.to_string() } else { String::new() };
    let mut row = vec![i.to_string(), c.strategy.name().to_string(), c.label(&search.space), c.changed(&search.space).len().to_string()];
    row.extend(c.settings.iter().flat_map(|v| v.cells()));
    row.extend([
        s.runs.to_string(),
        s.completed.to_string(),
        s.converged.to_string(),
        s.stop_reason.clone(),
        feasible.to_string(),
        on_front.to_string(),
        recommended.to_string(),
    ]);
    for m in Metric::ALL {
        let ci = s.ci(m);
        row.extend([num(s.mean(m)), num(ci.map_or(f64::NAN, |c| c.0)), num(ci.map_or(f64::NAN, |c| c.1)), num(s.worst(m))]);
    }
    row.push(e.key.clone());
    row
}

/// The chart's points: the recommendation, the front by strategy, then every other setting that
/// completed.
pub fn dots(search: &Search, front: &[usize], recommended: Option<usize>) -> Vec<Dot> {
    let value = |s: &Summary, m: Metric| (s.mean(m), s.ci(m));
    let dot = |i: usize, group: String| {
        let s = &search.evals[i].summary;
        Dot {
            group,
            total_time_s: value(s, Metric::TotalTime),
            downtime_s: value(s, Metric::Downtime),
            bytes_sent: value(s, Metric::Bytes),
            app_slowdown: value(s, Metric::AppSlowdown),
        }
    };
    use crate::output::advise::{OTHERS, RECOMMENDED};
    let mut out: Vec<Dot> = recommended.map(|r| dot(r, RECOMMENDED.into())).into_iter().collect();
    for &i in front.iter().filter(|i| Some(**i) != recommended) {
        out.push(dot(i, format!("front: {}", search.evals[i].candidate.strategy.name())));
    }
    for i in (0..search.evals.len()).filter(|i| Some(*i) != recommended && !front.contains(i) && search.evals[*i].summary.completed) {
        out.push(dot(i, OTHERS.into()));
    }
    out
}
