//! The post-copy part of the story (the switch, the push, the faults and what they cost, the window
//! in which a host failure loses the VM) and cold migration's one copy.

use super::words::{at, dur, int, pages, pct, rate, size};
use super::{Section, Setting};
use crate::model::result::{MigrationResult, RoundRecord};

pub(super) fn cold(m: &MigrationResult, s: &Setting, t: &RoundRecord) -> Section {
    let span = t.end_s - t.start_s;
    let p = vec![format!(
        "At {} the guest was paused. All {} ({} of them zero pages, sent as a header) and the device state ({}) went in one copy of {} at {}; the guest resumed at {}. Downtime = total time = {}.",
        at(t.start_s),
        pages(t.pages_sent),
        int(m.zero_pages_sent),
        size(s.device_state_bytes as f64),
        size(t.bytes_sent as f64),
        rate(t.bandwidth_bps / 8.0),
        at(t.end_s),
        dur(m.downtime_s.unwrap_or(span))
    )];
    Section { heading: "The one copy".into(), paragraphs: p, items: Vec::new() }
}

pub(super) fn postcopy(m: &MigrationResult, s: &Setting, t: &RoundRecord) -> Section {
    let mut p = Vec::new();
    let switch = m.postcopy_start_s.map_or(t.start_s, |x| m.start_s + x);
    if let Some(d) = m.downtime_s {
        p.push(format!(
            "At {} the guest was paused at the source, its dirty bitmap synced, and its device state ({}) sent without a rate limit; it resumed at the destination {} later. That is the whole downtime: sending the device state, the latency{}.",
            at(switch),
            size(s.device_state_bytes as f64),
            dur(d),
            if s.resume_time_s > 0.0 { format!(" and the {} resume time", dur(s.resume_time_s)) } else { " and nothing else".to_string() }
        ));
    }
    let unfinished = t.phase.contains("unfinished");
    let of_memory = |n: u64| pct(100.0 * n as f64 / s.pages().max(1) as f64);
    let push = if !s.mech.postcopy_push {
        "With postcopy_push = false the source pushed nothing: only the pages the guest touched moved".to_string()
    } else {
        let cap = s.max_postcopy_bandwidth.map_or(String::new(), |b| format!(", capped at {} (max_postcopy_bandwidth)", rate(b)));
        let pre = match s.mech.prepaging() {
            0 => "; the push kept to address order whatever the guest touched".to_string(),
            n => format!("; after each fault the push jumped to the page after the faulting one (prepaging = {n}), to follow the guest"),
        };
        format!("The source pushed them in address order from page 0 at {}{cap}{pre}", rate(t.bandwidth_bps / 8.0))
    };
    if unfinished {
        // Every page was missing at a pure post-copy's switch (but the free ones).
        let missing = if m.rounds == 0 { format!("{} ", int(s.pages().saturating_sub(m.free_pages_skipped))) } else { String::new() };
        p.push(format!(
            "{push}. By max_time = {} ({}), the guest had touched {} ({} of memory) and so fetched them; the rest of the {missing}missing pages stay at the source, and the migration never finished.",
            dur(s.max_time_s),
            at(t.end_s),
            pages(t.pages_sent),
            of_memory(t.pages_sent)
        ));
    } else {
        p.push(format!(
            "The destination then lacked {} ({} of memory). {push}. The last of them arrived at {}, {} after the switch.",
            pages(t.pages_sent),
            of_memory(t.pages_sent),
            at(t.end_s),
            dur(m.postcopy_window_s)
        ));
    }
    if m.remote_faults == 0 {
        p.push(format!(
            "The guest never touched a page that had not arrived: no remote faults, and it ran at full speed through the {} window.",
            dur(m.postcopy_window_s)
        ));
    } else {
        let avg = m.fault_stall_s / m.remote_faults as f64;
        let share = if m.postcopy_window_s > 0.0 {
            format!(", {} of the {} post-copy window", pct(100.0 * m.fault_stall_s / m.postcopy_window_s), dur(m.postcopy_window_s))
        } else {
            String::new()
        };
        p.push(format!(
            "The faults: {} times the guest touched a page of its {} working set that the push had not delivered yet. Each time its vCPU stalled until the page came: {} of stalls in all{share}, {} per fault on average.",
            int(m.remote_faults),
            size(s.working_set_bytes as f64),
            dur(m.fault_stall_s),
            dur(avg)
        ));
        let mut cost = Vec::new();
        if let Some((bw, lat)) = s.link {
            cost.push(format!(
                "a request and its page take at least a round trip ({}) plus the page's own {} on the link",
                dur(2.0 * lat),
                dur(s.page_size as f64 / bw)
            ));
            if s.mech.postcopy_push && !s.mech.postcopy_preempt && t.bandwidth_bps > 0.0 {
                let r = t.bandwidth_bps / 8.0;
                cost.push(format!(
                    "without postcopy_preempt the requested page also queues behind up to {} of push data already in the sockets (socket_buffer), {} at {}",
                    size(s.mech.socket_buffer_bytes as f64),
                    dur(s.mech.socket_buffer_bytes as f64 / r),
                    rate(r)
                ));
            }
            if s.mech.postcopy_preempt {
                cost.push(
                    "postcopy_preempt sends requested pages on a channel of their own, so they do not wait behind the push".to_string(),
                );
            }
            if let Some(b) = s.max_postcopy_bandwidth {
                cost.push(format!(
                    "under the {} cap a request that finds the 100 ms window's quota ({}) spent waits for the next window",
                    rate(b),
                    size(b * 0.1)
                ));
            }
        }
        if !cost.is_empty() {
            p.push(format!("Why a fault costs what it does: {}.", cost.join("; ")));
        }
    }
    if m.postcopy_window_s > 0.0 {
        p.push(format!(
            "For those {} the guest's memory was split between the two hosts: had either failed, the VM would have been lost.",
            dur(m.postcopy_window_s)
        ));
    }
    Section { heading: "Post-copy".into(), paragraphs: p, items: Vec::new() }
}
