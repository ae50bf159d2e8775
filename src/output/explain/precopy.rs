//! The pre-copy part of the story: each round (what it sent, what was left, what the stop rule
//! compared), why pre-copy ended (converged, a limit, cancelled, or hybrid's switch), and the
//! pause with its final copy.

use super::words::{at, clock, dur, int, pages, pct, rate, size, span_of, two_sizes};
use super::{ROUNDS_SHOWN, Section, Setting};
use crate::model::mechanism::{HybridSwitch, RateLimit};
use crate::model::result::{MigrationResult, RoundRecord};
use crate::units;

/// The threshold in pages (what fits under it), rounded down.
pub(super) fn threshold_pages(t: f64, s: &Setting) -> u64 {
    (t / s.page_size as f64).floor().max(0.0) as u64
}

/// What the stop rule compared at the end of round `t`, in one sentence (`full`: with what the
/// threshold is made of), and whether it said stop. `sent` is the bytes sent up to the round's end.
pub(super) fn comparison(t: &RoundRecord, s: &Setting, sent: u64, full: bool) -> (String, bool) {
    let left = (t.dirty_pages_at_end * s.page_size) as f64;
    let limit = dur(s.downtime_limit_s);
    let Some(th) = t.stop_threshold_bytes else {
        let stop = t.round + 1 >= s.max_rounds;
        let then = if stop { "the plan is done, so pre-copy stops" } else { "pre-copy went on" };
        return (
            format!("The `{}` rule has no threshold: it counts rounds, {} of {}: {then}.", s.stop_policy, t.round + 1, s.max_rounds),
            stop,
        );
    };
    match s.stop_policy {
        "qemu" => {
            let stop = left == 0.0 || left < th;
            let verdict = if stop { "below, so pre-copy could stop" } else { "not below, so pre-copy went on" };
            let what = if full {
                format!(
                    " (the bandwidth QEMU measured, {}, × the {limit} downtime limit; it is worth {}: what could be sent within the limit)",
                    rate(th / s.downtime_limit_s.max(1e-12)),
                    pages(threshold_pages(th, s))
                )
            } else {
                String::new()
            };
            (format!("The stop rule compared the {} left with the threshold {}{what}: {verdict}.", size(left), size(th)), stop)
        }
        "xen" => {
            let cap = 3 * s.memory_bytes;
            let (stop, verdict) = if t.dirty_pages_at_end < 50 {
                (true, "fewer than 50, so pre-copy could stop".to_string())
            } else if t.round + 1 >= s.max_rounds {
                (true, format!("not fewer than 50, but this was round {} of at most {}, so pre-copy stopped", t.round + 1, s.max_rounds))
            } else if sent > cap {
                (
                    true,
                    format!(
                        "not fewer than 50, but {} had been sent, more than 3 × memory ({}), so pre-copy stopped",
                        size(sent as f64),
                        size(cap as f64)
                    ),
                )
            } else {
                (
                    false,
                    format!(
                        "not fewer than 50, with {} of {} rounds done and {} of the {} data limit sent, so pre-copy went on",
                        t.round + 1,
                        s.max_rounds,
                        size(sent as f64),
                        size(cap as f64)
                    ),
                )
            };
            (format!("Xen's rule counted {} dirty: {verdict}.", pages(t.dirty_pages_at_end)), stop)
        }
        _ => {
            let stop = left <= th;
            let verdict = if stop { "they fit, so pre-copy could stop" } else { "they do not fit, so pre-copy went on" };
            let what = if full { format!(" ({} × the {limit} downtime limit)", rate(t.bandwidth_bps / 8.0)) } else { String::new() };
            (
                format!(
                    "The stop rule compared the {} left with what this round's rate sends within the limit, {}{what}: {verdict}.",
                    size(left),
                    size(th)
                ),
                stop,
            )
        }
    }
}

pub(super) fn round_item(t: &RoundRecord, s: &Setting, sent: u64, first: bool) -> String {
    let span = t.end_s - t.start_s;
    let what = if t.round == 0 { ", the first pass over memory" } else { "" };
    let throttle = if t.throttle_pct > 0.0 { format!(", with the vCPU throttled to {}", pct(t.throttle_pct)) } else { String::new() };
    let mut line = format!(
        "Round {} ({} to {}, {}){what}: sent {} ({}) at {}{throttle}.",
        t.round,
        clock(t.start_s),
        clock(t.end_s),
        dur(span),
        pages(t.pages_sent),
        size(t.bytes_sent as f64),
        rate(t.bandwidth_bps / 8.0)
    );
    let d = t.dirty_pages_at_end;
    let share =
        if t.pages_sent > 0 { format!(", {} of what the round sent", pct(100.0 * d as f64 / t.pages_sent as f64)) } else { String::new() };
    if t.phase == "precopy (cancelled)" {
        line += &format!(" The migration was cancelled during this round, with {} still marked to send.", pages(d));
        return line;
    }
    let marked = format!("{} ({})", pages(d), size((d * s.page_size) as f64));
    if s.stop_policy == "qemu" {
        let left = match t.stop_threshold_bytes {
            Some(th) if first => format!(
                ": pages the guest wrote during the round, plus fewer than {} not yet reached when QEMU synced",
                pages(threshold_pages(th, s).max(1))
            ),
            _ => String::new(),
        };
        line += &format!(" After the sync that closed it, {marked} were marked to send{share}{left}.");
    } else {
        let per_s = if span > 0.0 { format!(", {} pages/s", int((d as f64 / span).round() as u64)) } else { String::new() };
        line += &format!(" Meanwhile the guest dirtied {marked}{per_s}{share}.");
    }
    line.push(' ');
    line += &comparison(t, s, sent, first).0;
    line
}

/// Rounds `rows` told together: ranges of what they sent, left and compared. `sent` holds the
/// bytes sent up to each round's end.
pub(super) fn rounds_together(rows: &[&RoundRecord], sent: &[u64], s: &Setting) -> String {
    let (first, last) = (rows[0], rows[rows.len() - 1]);
    let range = |f: &dyn Fn(&RoundRecord) -> f64| {
        let lo = rows.iter().map(|t| f(t)).fold(f64::INFINITY, f64::min);
        let hi = rows.iter().map(|t| f(t)).fold(f64::NEG_INFINITY, f64::max);
        (lo, hi)
    };
    let (sent_lo, sent_hi) = range(&|t| t.pages_sent as f64);
    let (left_lo, left_hi) = range(&|t| t.dirty_pages_at_end as f64);
    let (bw_lo, bw_hi) = range(&|t| t.bandwidth_bps / 8.0);
    let total: u64 = rows.iter().map(|t| t.pages_sent).sum();
    let mut line = format!(
        "Rounds {} to {} ({} rounds, {} to {}): each sent {} pages ({} in all) at {}, and left {} pages marked to send.",
        first.round,
        last.round,
        rows.len(),
        clock(first.start_s),
        clock(last.end_s),
        span_of(int(sent_lo as u64), int(sent_hi as u64)),
        int(total),
        span_of(rate(bw_lo), rate(bw_hi)),
        span_of(int(left_lo as u64), int(left_hi as u64))
    );
    let ths: Vec<f64> = rows.iter().filter_map(|t| t.stop_threshold_bytes).collect();
    if !ths.is_empty() {
        let (lo, hi) = (ths.iter().copied().fold(f64::INFINITY, f64::min), ths.iter().copied().fold(f64::NEG_INFINITY, f64::max));
        let stops = rows.iter().zip(sent).filter(|(t, b)| comparison(t, s, **b, false).1).count();
        let said = match stops {
            0 => "the rule never said stop".to_string(),
            n => format!("the rule said stop after {n} of them"),
        };
        line += &format!(
            " The threshold was {}; the fewest pages left, {}, make {}, and {said}.",
            span_of(size(lo), size(hi)),
            int(left_lo as u64),
            size(left_lo * s.page_size as f64)
        );
    }
    let (th_lo, th_hi) = range(&|t| t.throttle_pct);
    if th_hi > 0.0 {
        line += &format!(" The throttle went from {} to {}.", pct(th_lo), pct(th_hi));
    }
    line
}

pub(super) fn rounds(m: &MigrationResult, s: &Setting, pre: &[&RoundRecord], all: bool) -> Section {
    let mut p = Vec::new();
    let syncs = if s.stop_policy == "qemu" {
        format!(
            "Under QEMU's rule a round ends at each sync QEMU makes when what is left falls below the threshold, and the scan goes on from where it was, wrapping past the end: this run made {} such syncs, besides the one at the start{}.",
            int(pre.iter().filter(|t| t.phase == "precopy").count() as u64),
            if m.syncs as usize > pre.len() + 1 { " and the final one" } else { "" }
        )
    } else {
        format!(
            "Each round is one pass over the pages marked to send; a sync of the dirty bitmap closes it, and the next pass starts again from page 0 ({} rounds here).",
            pre.len()
        )
    };
    p.push(format!(
        "A round sends the pages marked in the dirty bitmap while the guest keeps writing; the pages it writes meanwhile are marked for the next round. Rounds count from 0. {syncs}"
    ));
    // Bytes sent up to each round's end (Xen's data limit looks at them).
    let sent: Vec<u64> = pre
        .iter()
        .scan(0u64, |acc, t| {
            *acc += t.bytes_sent;
            Some(*acc)
        })
        .collect();
    let item = |i: usize| round_item(pre[i], s, sent[i], i == 0);
    let mut items = Vec::new();
    let n = pre.len();
    if all || n <= ROUNDS_SHOWN {
        items.extend((0..n).map(item));
    } else {
        let head = ROUNDS_SHOWN / 2;
        let tail = ROUNDS_SHOWN - head;
        items.extend((0..head).map(item));
        items.push(rounds_together(&pre[head..n - tail], &sent[head..n - tail], s));
        items.extend((n - tail..n).map(item));
        p.push(format!(
            "The {} rounds are told one by one at the start and the end; the {} in between together (`--all-rounds` tells each).",
            int(n as u64),
            int((n - ROUNDS_SHOWN) as u64)
        ));
    }
    Section { heading: "Pre-copy, round by round".into(), paragraphs: p, items }
}

/// Why pre-copy ended: converged, a limit, cancelled, or the switch to post-copy.
pub(super) fn end_of_precopy(m: &MigrationResult, s: &Setting, pre: &[&RoundRecord]) -> Section {
    let last = pre[pre.len() - 1];
    let left = (last.dirty_pages_at_end * s.page_size) as f64;
    let when = at(last.end_s);
    let mut p = Vec::new();
    let heading = match m.stop_reason.as_str() {
        "converged" => {
            let mut text = format!("After round {} ({when}), {} ({}) were left.", last.round, pages(last.dirty_pages_at_end), size(left));
            if let (Some(th), "qemu") = (last.stop_threshold_bytes, s.stop_policy) {
                let bw = th / s.downtime_limit_s.max(1e-12);
                text += &format!(
                    " That is below the threshold of {}. At the measured {} those {} take {}, within the {} limit, so QEMU paused the guest.",
                    size(th),
                    rate(bw),
                    size(left),
                    dur(left / bw.max(1e-12)),
                    dur(s.downtime_limit_s)
                );
            } else {
                let sent = pre.iter().map(|t| t.bytes_sent).sum();
                text += &format!(" {} The guest was paused.", comparison(last, s, sent, true).0);
            }
            p.push(text);
            "Why pre-copy stopped"
        }
        "max_rounds" => {
            let planned = if m.converged { "as planned" } else { "Xen's round limit" };
            p.push(format!(
                "Pre-copy ran {} rounds, {planned} (max_rounds = {}), and stopped at {when} with {} ({}) still dirty.",
                m.rounds,
                s.max_rounds,
                pages(last.dirty_pages_at_end),
                size(left)
            ));
            "Why pre-copy stopped"
        }
        "max_data" => {
            let (sent, cap) = two_sizes(m.precopy_bytes as f64, 3.0 * s.memory_bytes as f64);
            p.push(format!(
                "By the end of round {} ({when}) pre-copy had sent {sent}, more than 3 times the {} of memory ({cap}): Xen stops trying to converge and pauses the guest, here with {} ({}) still dirty.",
                last.round,
                size(s.memory_bytes as f64),
                pages(last.dirty_pages_at_end),
                size(left)
            ));
            not_converging(&mut p, pre, s);
            "Why pre-copy stopped"
        }
        "max_time" => {
            let what = if m.completed {
                "on_max_time = stop forces the stop-and-copy, whatever the downtime".to_string()
            } else {
                format!(
                    "on_max_time = {} gives up: the migration is cancelled and the guest keeps running at the source; the {} sent were for nothing",
                    if s.cancel_at_max_time { "cancel" } else { "stop" },
                    size(m.bytes_sent as f64)
                )
            };
            p.push(format!("Pre-copy had not finished when max_time = {} ran out, at {when}: {what}.", dur(s.max_time_s)));
            not_converging(&mut p, pre, s);
            if m.completed { "Why pre-copy stopped" } else { "Why the migration was cancelled" }
        }
        "postcopy_switch" => {
            p.push(switch_reason(m, s, pre));
            "The switch to post-copy"
        }
        other => {
            p.push(format!("Pre-copy ended with stop_reason {other}."));
            "How pre-copy ended"
        }
    };
    Section { heading: heading.into(), paragraphs: p, items: Vec::new() }
}

/// Why a run did not converge: the fewest pages any round left against the largest threshold.
pub(super) fn not_converging(p: &mut Vec<String>, pre: &[&RoundRecord], s: &Setting) {
    let rows: Vec<&&RoundRecord> = pre.iter().filter(|t| t.phase == "precopy").collect();
    let Some(fewest) = rows.iter().min_by_key(|t| t.dirty_pages_at_end) else { return };
    let biggest = rows.iter().filter_map(|t| t.stop_threshold_bytes).fold(f64::NEG_INFINITY, f64::max);
    let mut text = format!(
        "It never converged: the fewest pages any round left was {} ({}, after round {})",
        int(fewest.dirty_pages_at_end),
        size((fewest.dirty_pages_at_end * s.page_size) as f64),
        fewest.round
    );
    if biggest.is_finite() {
        text += &format!(", against a threshold of at most {}", size(biggest));
    }
    let dirtied: u64 = rows.iter().skip(1).map(|t| t.dirty_pages_at_end).sum();
    let sent: u64 = rows.iter().skip(1).map(|t| t.pages_sent).sum();
    if rows.len() > 1 && sent > 0 {
        text += &format!(
            ". After the first pass, the rounds left {:.0} pages marked for every 100 they sent",
            100.0 * dirtied as f64 / sent as f64
        );
        let ws = s.working_set_bytes / s.page_size.max(1);
        let full = rows.iter().skip(1).filter(|t| t.dirty_pages_at_end as f64 >= 0.95 * ws as f64).count();
        if ws > 0 && 2 * full >= rows.len() - 1 {
            text += &format!(
                ": {} of those {} rounds ended with nearly all of the {} working set ({}) dirty again, so the rounds could not shrink",
                full,
                rows.len() - 1,
                size(s.working_set_bytes as f64),
                pages(ws)
            );
        }
    }
    p.push(text + ".");
}

pub(super) fn switch_reason(m: &MigrationResult, s: &Setting, pre: &[&RoundRecord]) -> String {
    let last = pre[pre.len() - 1];
    let when = m.postcopy_start_s.map_or_else(|| at(last.end_s), |t| at(m.start_s + t));
    let rule = s.mech.hybrid_switch;
    let by_time = s.mech.hybrid_switch_after_time.map(|ns| ns as f64 / 1e9).filter(|&t| m.postcopy_start_s.is_some_and(|p| p + 1e-9 >= t));
    let rounds_rule = matches!(rule, HybridSwitch::Rounds | HybridSwitch::Either) && m.rounds >= s.hybrid_switch_after;
    let stalled = pre.len() >= 2 && {
        let (a, b) = (pre[pre.len() - 2].dirty_pages_at_end as f64, last.dirty_pages_at_end as f64);
        b > a * 0.95
    };
    let why = if rounds_rule {
        format!("it had run {} rounds (hybrid_switch_after = {})", m.rounds, s.hybrid_switch_after)
    } else if stalled && matches!(rule, HybridSwitch::Stall | HybridSwitch::Either) {
        let a = pre[pre.len() - 2];
        format!(
            "round {} left {}, not 5 % fewer than the {} round {} left: pre-copy had stopped making progress",
            last.round,
            pages(last.dirty_pages_at_end),
            int(a.dirty_pages_at_end),
            a.round
        )
    } else if let Some(t) = by_time {
        format!("hybrid_switch_after_time = {} had passed", dur(t))
    } else {
        format!("its switch rule ({}) fired", crate::names::name_of(&HybridSwitch::NAMES, rule))
    };
    format!(
        "After round {} hybrid switched to post-copy at {when}, because {why}. At that moment {} ({}) were still to send; they go by post-copy instead of more rounds.",
        last.round,
        pages(last.dirty_pages_at_end),
        size((last.dirty_pages_at_end * s.page_size) as f64)
    )
}

/// The pause and the final copy of pre-copy.
pub(super) fn pause(m: &MigrationResult, s: &Setting, t: &RoundRecord, pre: &[&RoundRecord]) -> Section {
    let mut p = Vec::new();
    let dev = s.device_state_bytes;
    let pages_bytes = t.bytes_sent.saturating_sub(dev);
    let capped = match (s.mech.rate_limit, s.switchover_bandwidth) {
        (RateLimit::Xen, _) => "capped at 500 Mbit/s by Xen's rate limit".to_string(),
        (_, Some(b)) => format!("at the switchover bandwidth of {}", rate(b)),
        _ => "not rate-limited (QEMU lifts max_bandwidth for it)".to_string(),
    };
    p.push(format!(
        "At {} the guest was paused and a final sync found {} to send. The final copy carried them ({}) and the device state ({}), {} in all, {capped}.",
        at(t.start_s),
        pages(t.pages_sent),
        size(pages_bytes as f64),
        size(dev as f64),
        size(t.bytes_sent as f64)
    ));
    let Some(down) = m.downtime_s else {
        return Section { heading: "The pause and the final copy".into(), paragraphs: p, items: Vec::new() };
    };
    let lat = s.link.map(|l| l.1);
    let copy = down - s.resume_time_s - lat.unwrap_or(0.0);
    let mut text = format!("The guest resumed at the destination at {}: a downtime of {}", at(t.end_s), dur(down));
    match lat {
        Some(l) if copy > 0.0 => {
            text += &format!(
                " = {} to send the final copy ({}){}{}{}.",
                dur(copy),
                rate(t.bytes_sent as f64 / copy),
                if m.socket_wait_s > 0.0 {
                    format!(", {} of it waiting for the new pages still in the sockets at the pause (drain_at_stop)", dur(m.socket_wait_s))
                } else {
                    String::new()
                },
                if l > 0.0 { format!(" + {} of latency", dur(l)) } else { String::new() },
                if s.resume_time_s > 0.0 { format!(" + {} to resume (resume_time)", dur(s.resume_time_s)) } else { String::new() }
            )
        }
        _ => text += &format!(", the final copy plus the latency and the {} resume time.", dur(s.resume_time_s)),
    }
    p.push(text);
    let limit = s.downtime_limit_s;
    if m.converged && pre.last().is_some_and(|l| l.stop_threshold_bytes.is_some()) && limit > 0.0 {
        let diff = down - limit;
        p.push(if diff <= 0.0 {
            format!("That is {} under the {} downtime limit.", dur(-diff), dur(limit))
        } else {
            format!(
                "That is {} over the {} downtime limit: the stop rule counts only the pages, not the {} of device state, the latency or the resume time, and it assumes the final copy goes at the rate it measured.",
                dur(diff),
                dur(limit),
                size(dev as f64)
            )
        });
    } else if !m.converged {
        p.push(format!(
            "The downtime limit was {}; a forced stop does not honour it, so the downtime is {} times the limit.",
            dur(limit),
            units::trim_zeros(format!("{:.1}", down / limit.max(1e-12)))
        ));
    }
    Section { heading: "The pause and the final copy".into(), paragraphs: p, items: Vec::new() }
}
