//! What the mechanisms did (auto-converge, the dirty limit, XBZRLE, compression, multifd, the host
//! CPU's pace and the cores it shares, zero pages, free pages, Xen's rate limit, max_bandwidth),
//! and the run in sum.

use super::words::{dur, int, pages, pct, rate, size};
use super::{Section, Setting};
use crate::model::mechanism::RateLimit;
use crate::model::mechanism::cpu::HostCpu;
use crate::model::result::{MigrationResult, RoundRecord};
use crate::units;

pub(super) fn mechanisms(m: &MigrationResult, s: &Setting, pre: &[&RoundRecord]) -> Section {
    let mut items = Vec::new();
    let mech = &s.mech;
    if let Some(ac) = &mech.auto_converge {
        let trigger = pct(ac.trigger * 100.0);
        if m.throttle_schedule.is_empty() {
            items.push(format!(
                "Auto-converge was on but never throttled: no two periods had the guest dirty more than {trigger} of what was sent in them."
            ));
        } else {
            let steps: Vec<String> = m.throttle_schedule.iter().map(|s| format!("{} at {}", pct(s[1]), dur(s[0]))).collect();
            let shown = if steps.len() > 10 {
                format!("{}, ... , {}", steps[..5].join(", "), steps[steps.len() - 3..].join(", "))
            } else {
                steps.join(", ")
            };
            items.push(format!(
                "Auto-converge: every second period (at least 1 s, judged at a sync) in which the guest dirtied more than {trigger} of what was sent raised the vCPU throttle, first to {}, then by {} a step. It stepped {} times: {shown} (time since the start). The vCPU lost {} of its time over the live migration, and the application {} of its writes; with fewer pages dirtied per round, pre-copy could converge.",
                pct(ac.initial_pct),
                pct(ac.increment_pct),
                steps.len(),
                pct(m.throttle_share * 100.0),
                pct(m.app_slowdown * 100.0)
            ));
        }
    }
    if let Some(limit) = mech.dirty_limit {
        items.push(format!(
            "The dirty limit capped the guest's writes at {} pages/s while it ran at the source; the application lost {} of its writes.",
            int(limit.pages_per_sec(s.page_size).round() as u64),
            pct(m.app_slowdown * 100.0)
        ));
    }
    if let Some(x) = &mech.xbzrle {
        if m.xbzrle_pages + m.xbzrle_cache_miss == 0 {
            items.push(format!("XBZRLE was on with a {} cache but sent no delta: it starts after the first full pass, and no page was sent again after it.", size(x.cache_bytes as f64)));
        } else {
            let avg = if m.xbzrle_pages > 0 { m.xbzrle_bytes as f64 / m.xbzrle_pages as f64 } else { 0.0 };
            items.push(format!(
                "XBZRLE kept the last copy of sent pages in a {} cache ({} slots). After the first full pass, {} re-sent pages went as deltas of {} bytes on average instead of {}, saving {}; {} sends missed the cache (the page was not in its slot) and went whole, and {} deltas were too big to be worth it.",
                size(x.cache_bytes as f64),
                int(x.cache_bytes / s.page_size.max(1)),
                int(m.xbzrle_pages),
                int(avg.round() as u64),
                size(s.page_size as f64),
                size(m.xbzrle_bytes_saved as f64),
                int(m.xbzrle_cache_miss),
                int(m.xbzrle_overflow)
            ));
        }
    }
    if let Some(c) = &mech.compression {
        items.push(format!(
            "Compression shrank each non-zero page sent whole to {} of its size, at {} of page per channel: it saved {}, {} of what would have been sent without it.",
            pct(c.ratio * 100.0),
            rate(c.cpu_rate),
            size(m.compression_bytes_saved as f64),
            pct(100.0 * m.compression_bytes_saved as f64 / (m.bytes_sent + m.compression_bytes_saved).max(1) as f64)
        ));
    }
    if mech.multifd_channels > 1 {
        let (lo, hi) = pre
            .iter()
            .filter(|t| t.phase == "precopy")
            .map(|t| t.bandwidth_bps / 8.0)
            .fold((f64::INFINITY, 0.0f64), |(a, b), x| (a.min(x), b.max(x)));
        let cores = mech.cpu_cores.map_or("a core for each".to_string(), |c| format!("{} cores", units::trim_zeros(format!("{c:.2}"))));
        let ran = if lo.is_finite() { format!("; the rounds ran at {} to {}", rate(lo), rate(hi)) } else { String::new() };
        items.push(format!(
            "{} multifd channels ({cores}) share the one link: they do the per-page CPU work {} times as fast as one stream, but get no more of the link{ran}.",
            mech.multifd_channels,
            units::trim_zeros(format!("{:.2}", mech.parallel()))
        ));
    }
    if let Some(new) = s.cpu_rate_new {
        let link = s.link.map(|l| l.0);
        let below = pre.first().filter(|t| link.is_some_and(|l| t.bandwidth_bps / 8.0 < 0.9 * l)).map_or(String::new(), |t| {
            format!(
                "; round 0 ran at {}, below the link's {}: the CPU set the pace",
                rate(t.bandwidth_bps / 8.0),
                rate(link.unwrap_or(0.0))
            )
        });
        let paused = s.cpu_rate_resent_paused.map_or(String::new(), |p| format!(" ({} while the guest is paused)", rate(p)));
        items.push(format!(
            "The host CPU moves {} of pages new to the destination and {} of re-sent pages{paused} per stream{below}.",
            rate(new),
            s.cpu_rate_resent.map_or("as much".into(), rate)
        ));
    }
    if let Some(h) = mech.host_cpu {
        items.push(host_cpu(&h, mech.multifd_channels));
    }
    if m.zero_pages_sent > 0 {
        items.push(if mech.zero_page_detection {
            format!(
                "Zero pages: {} sends were of all-zero pages, which went as a header of {} bytes instead of {}, saving {}.",
                int(m.zero_pages_sent),
                s.page_header,
                size(s.page_size as f64),
                size(m.zero_page_bytes_saved as f64)
            )
        } else {
            format!("Zero pages: zero_page_detection = false, so the {} zero pages went whole.", int(m.zero_pages_sent))
        });
    }
    if m.free_pages_skipped > 0 {
        items.push(format!(
            "Free pages: {} the guest had free (free_fraction) were never sent, saving {}.",
            pages(m.free_pages_skipped),
            size(m.free_bytes_saved as f64)
        ));
    }
    if mech.rate_limit == RateLimit::Xen {
        let rates: Vec<String> = pre.iter().filter(|t| t.phase == "precopy").take(6).map(|t| rate(t.bandwidth_bps / 8.0)).collect();
        items.push(format!(
            "Xen's rate limit starts at 100 Mbit/s and, after a round that dirtied faster than the limit, rises to that dirty rate + 50 Mbit/s (at most 500 Mbit/s); the first rounds ran at {}.",
            rates.join(", ")
        ));
    } else if let Some(cap) = s.max_bandwidth
        && !pre.is_empty()
    {
        items.push(format!("max_bandwidth capped pre-copy at {}, paced in 100 ms windows; the final copy is not capped.", rate(cap)));
    }
    Section { heading: "What the mechanisms did".into(), paragraphs: Vec::new(), items }
}

pub(super) fn summary(m: &MigrationResult, s: &Setting) -> Section {
    let mut p = Vec::new();
    let down = m.downtime_s.map_or("the guest never paused".to_string(), |d| format!("downtime {}", dur(d)));
    let unfinished = m.timeline.iter().any(|t| t.phase.contains("unfinished"));
    let total = if !m.completed {
        format!("Cancelled after {}", dur(m.total_time_s))
    } else if unfinished {
        format!("Unfinished after {}", dur(m.total_time_s))
    } else {
        format!("Total time {}", dur(m.total_time_s))
    };
    let mut parts = Vec::new();
    for (b, what) in [(m.precopy_bytes, "in pre-copy"), (m.stop_copy_bytes, "in the final copy"), (m.postcopy_bytes, "in post-copy")] {
        if b > 0 {
            parts.push(format!("{} {what}", size(b as f64)));
        }
    }
    let parts = if parts.len() > 1 { format!(" ({})", parts.join(", ")) } else { String::new() };
    p.push(format!(
        "{total}, {down}. {} crossed the link{parts} for {} of memory: {:.2} times the memory.",
        size(m.bytes_sent as f64),
        size(s.memory_bytes as f64),
        m.bytes_sent as f64 / s.memory_bytes.max(1) as f64
    ));
    let once = s.pages().saturating_sub(m.free_pages_skipped);
    if m.completed && m.pages_sent >= once && once > 0 {
        let again = m.pages_sent - once;
        p.push(if again == 0 {
            format!("{} page sends for {}: every page crossed the link once.", int(m.pages_sent), pages(once))
        } else {
            format!(
                "{} page sends for {}: {} of them ({} of the pages) were re-sends of pages the guest wrote after they had gone.",
                int(m.pages_sent),
                pages(once),
                int(again),
                pct(100.0 * again as f64 / once as f64)
            )
        });
    }
    Section { heading: "In sum".into(), paragraphs: p, items: Vec::new() }
}

/// The host CPU model (docs/model.md 15.11) in one sentence: who shares the cores, and the paces
/// that follow while the guest runs unthrottled and while it is paused.
fn host_cpu(h: &HostCpu, channels: u32) -> String {
    let n = |x: f64| units::trim_zeros(format!("{x:.2}"));
    let cores = |x: f64| format!("{} core{}", n(x), if n(x) == "1" { "" } else { "s" });
    let (live, vcpu) = h.shares(channels, h.guest_cpu, 1.0);
    let (paused, _) = h.shares(channels, 0.0, 1.0);
    let threads = if channels > 1 {
        format!("{channels} multifd channels and the main migration thread")
    } else {
        "the migration stream".to_string()
    };
    let others = if h.busy_threads > 0.0 { format!(" and {} other busy threads", n(h.busy_threads)) } else { String::new() };
    let interference = if h.interference > 0.0 && h.guest_cpu > 0.0 {
        format!(" (slowed by the running vCPUs' interference, {} per core)", n(h.interference))
    } else {
        String::new()
    };
    let slowed = if h.guest_interference > 0.0 && h.guest_cpu > 0.0 {
        format!(", and go up to {} slower while the stream works flat out (its interference on them)", pct(h.guest_interference * 100.0))
    } else {
        String::new()
    };
    format!(
        "The host's {} are shared by {threads}, the guest's vCPUs (wanting {}){others}: while the guest runs unthrottled, the stream does its CPU work {}x as fast as one thread with a core of its own{interference} and the vCPUs get {} of the time they want{slowed}; with the guest paused, {}x.",
        cores(h.cores),
        cores(h.guest_cpu),
        n(live),
        pct(vcpu * 100.0),
        n(paused)
    )
}
