//! Unit tests of `output::explain`: on constructed results, the sentences quote the figures they
//! were given (thresholds, pages, times) and draw the right conclusion from them.

use super::tests_support::{result, setting};
use super::words::clock;
use super::*;
use crate::model::mechanism::Mechanisms;

const PS: u64 = 4096;

fn row(round: u32, phase: &'static str, start: f64, end: f64, pages: u64, dirty: u64, th: Option<f64>) -> RoundRecord {
    let mut r = RoundRecord::new(
        round,
        phase,
        (start * 1e9) as u64,
        (end * 1e9) as u64,
        pages,
        pages * (PS + 8),
        dirty,
        ((end - start) * 1e9) as u64,
    );
    r.stop_threshold_bytes = th;
    r
}

fn all_text(e: &Explanation) -> String {
    to_text("", std::slice::from_ref(e))
}

fn section<'a>(e: &'a Explanation, heading: &str) -> &'a Section {
    e.sections
        .iter()
        .find(|s| s.heading == heading)
        .unwrap_or_else(|| panic!("no section {heading:?} in {:?}", e.sections.iter().map(|s| &s.heading).collect::<Vec<_>>()))
}

/// A QEMU pre-copy of a 1 GiB VM that converges after round 2: threshold 37.5 MB (1 Gbit/s x 300 ms).
fn converged() -> MigrationResult {
    let th = Some(37_500_000.0);
    MigrationResult {
        timeline: vec![
            row(0, "precopy", 0.0, 8.6, 262_144, 40_000, th),
            row(1, "precopy", 8.6, 9.9, 39_000, 12_000, th),
            row(2, "precopy", 9.9, 10.3, 11_500, 5_000, th),
            row(3, "stop-and-copy", 10.3, 10.47, 5_000, 0, None),
        ],
        rounds: 3,
        syncs: 5,
        downtime_s: Some(0.17),
        total_time_s: 10.47,
        pages_sent: 317_644,
        bytes_sent: 317_644 * (PS + 8) + (256 << 10),
        precopy_bytes: 312_644 * (PS + 8),
        stop_copy_bytes: 5_000 * (PS + 8) + (256 << 10),
        ..result()
    }
}

#[test]
fn a_converged_qemu_precopy_says_why_it_stopped_with_its_threshold_and_pages() {
    let s = Setting { link: Some((125e6, 1e-4)), ..setting() };
    let e = explain(&converged(), &s, false);
    let why = &section(&e, "Why pre-copy stopped").paragraphs[0];
    // 5000 pages x 4 KiB = 19.5 MiB left, under 37.5 MB = 35.8 MiB; at 125 MB/s they take 164 ms.
    assert!(why.contains("After round 2 (t = 10.3 s), 5,000 pages (19.5 MiB) were left."), "{why}");
    assert!(why.contains("below the threshold of 35.8 MiB"), "{why}");
    assert!(
        why.contains("At the measured 1 Gbit/s those 19.5 MiB take 164 ms, within the 300 ms limit, so QEMU paused the guest."),
        "{why}"
    );
    let rounds = &section(&e, "Pre-copy, round by round").items;
    assert_eq!(rounds.len(), 3, "one item per pre-copy round");
    // Round 0 says what the threshold is made of and what it is worth in pages: 37.5 MB / 4 KiB.
    assert!(
        rounds[0].contains("the bandwidth QEMU measured, 1 Gbit/s, × the 300 ms downtime limit; it is worth 9,155 pages"),
        "{}",
        rounds[0]
    );
    assert!(rounds[0].contains("40,000 pages (156 MiB) were marked to send"), "{}", rounds[0]);
    assert!(rounds[1].contains("compared the 46.9 MiB left with the threshold 35.8 MiB: not below, so pre-copy went on"), "{}", rounds[1]);
    assert!(rounds[2].contains("below, so pre-copy could stop"), "{}", rounds[2]);
    let pause = &section(&e, "The pause and the final copy").paragraphs;
    assert!(pause[0].contains("a final sync found 5,000 pages to send"), "{pause:?}");
    assert!(pause[1].contains("a downtime of 170 ms"), "{pause:?}");
    assert!(pause[2].contains("130 ms under the 300 ms downtime limit"), "{pause:?}");
    let sum = &section(&e, "In sum").paragraphs;
    // 317,644 sends for 262,144 pages: 55,500 re-sends.
    assert!(sum[1].contains("317,644 page sends for 262,144 pages: 55,500 of them (21 % of the pages) were re-sends"), "{sum:?}");
}

#[test]
fn the_textbook_rule_compares_with_the_rounds_own_rate() {
    let mut m = converged();
    for r in &mut m.timeline {
        if r.phase == "precopy" {
            r.stop_threshold_bytes = Some(r.bandwidth_bps / 8.0 * 0.3);
        }
    }
    let e = explain(&m, &Setting { stop_policy: "threshold", ..setting() }, false);
    let rounds = &section(&e, "Pre-copy, round by round").items;
    assert!(rounds[0].contains("Meanwhile the guest dirtied 40,000 pages (156 MiB), 4,651 pages/s"), "{}", rounds[0]);
    assert!(rounds[0].contains("what this round's rate sends within the limit"), "{}", rounds[0]);
    assert!(rounds[2].contains("they fit, so pre-copy could stop"), "{}", rounds[2]);
}

#[test]
fn a_downtime_over_the_limit_is_called_so() {
    let m = MigrationResult { downtime_s: Some(0.42), ..converged() };
    let e = explain(&m, &setting(), false);
    let p = &section(&e, "The pause and the final copy").paragraphs[2];
    assert!(p.starts_with("That is 120 ms over the 300 ms downtime limit"), "{p}");
}

#[test]
fn a_cancelled_precopy_says_it_never_converged_and_what_was_lost() {
    let th = Some(37_500_000.0);
    let mut timeline = vec![row(0, "precopy", 0.0, 8.6, 262_144, 60_000, th)];
    for i in 1..5 {
        timeline.push(row(i, "precopy", 8.6 + i as f64, 9.6 + i as f64, 30_000, 31_000 + i as u64, th));
    }
    timeline.push(row(5, "precopy (cancelled)", 13.6, 14.0, 3_000, 30_000, None));
    let m = MigrationResult {
        timeline,
        completed: false,
        converged: false,
        stop_reason: "max_time".into(),
        rounds: 5,
        total_time_s: 14.0,
        bytes_sent: 1 << 31,
        ..result()
    };
    let e = explain(&m, &Setting { max_time_s: 14.0, ..setting() }, false);
    let p = &section(&e, "Why the migration was cancelled").paragraphs;
    assert!(
        p[0].contains("max_time = 14 s ran out") && p[0].contains("the guest keeps running at the source; the 2 GiB sent were for nothing"),
        "{p:?}"
    );
    assert!(
        p[1].contains("the fewest pages any round left was 31,001 (121 MiB, after round 1), against a threshold of at most 35.8 MiB"),
        "{p:?}"
    );
    assert!(all_text(&e).contains("Cancelled after 14 s, the guest never paused."));
    assert!(!e.sections.iter().any(|s| s.heading == "The pause and the final copy"));
}

#[test]
fn xens_data_limit_is_told_with_the_figures() {
    let th = Some(50.0 * PS as f64);
    let m = MigrationResult {
        timeline: vec![
            row(0, "precopy", 0.0, 4.3, 131_072, 65_536, th),
            row(1, "precopy", 4.3, 6.5, 65_536, 65_450, th),
            row(2, "stop-and-copy", 6.5, 8.6, 65_450, 0, None),
        ],
        stop_reason: "max_data".into(),
        converged: false,
        precopy_bytes: 1_700_000_000,
        downtime_s: Some(2.15),
        ..result()
    };
    let s = Setting { stop_policy: "xen", memory_bytes: 512 << 20, working_set_bytes: 256 << 20, ..setting() };
    let e = explain(&m, &s, false);
    let rounds = &section(&e, "Pre-copy, round by round").items;
    assert!(rounds[0].contains("Xen's rule counted 65,536 pages dirty: not fewer than 50, with 1 of 30 rounds done"), "{}", rounds[0]);
    let p = &section(&e, "Why pre-copy stopped").paragraphs;
    assert!(p[0].contains("had sent 1.58 GiB, more than 3 times the 512 MiB of memory (1.5 GiB)"), "{p:?}");
    assert!(p[1].contains("1 of those 1 rounds ended with nearly all of the 256 MiB working set (65,536 pages) dirty again"), "{p:?}");
    let pause = &section(&e, "The pause and the final copy").paragraphs;
    assert!(pause[2].contains("a forced stop does not honour it, so the downtime is 7.2 times the limit"), "{pause:?}");
}

#[test]
fn post_copy_faults_and_their_cost_are_told() {
    let m = MigrationResult {
        strategy: "postcopy".into(),
        timeline: vec![RoundRecord { bandwidth_bps: 1e10, ..row(0, "postcopy", 0.0, 2.0, 262_144, 0, None) }],
        stop_reason: "postcopy".into(),
        remote_faults: 100,
        pages_sent: 262_144,
        fault_stall_s: 0.5,
        postcopy_window_s: 2.0,
        postcopy_start_s: Some(0.0),
        downtime_s: Some(0.0003),
        ..result()
    };
    let e = explain(&m, &setting(), false);
    assert!(!e.sections.iter().any(|s| s.heading.starts_with("Pre-copy")));
    let p = &section(&e, "Post-copy").paragraphs;
    assert!(p[1].starts_with("The destination then lacked 262,144 pages (100 % of memory)."), "{p:?}");
    assert!(p[2].contains("100 times the guest touched a page of its 256 MiB working set"), "{p:?}");
    assert!(p[2].contains("500 ms of stalls in all, 25 % of the 2 s post-copy window, 5 ms per fault on average"), "{p:?}");
    // 10 MiB of socket queue at 10 Gbit/s: 8.39 ms; a round trip of 2 x 0.1 ms.
    assert!(
        p[3].contains("at least a round trip (200 us)")
            && p[3].contains("up to 10 MiB of push data already in the sockets (socket_buffer), 8.39 ms at 10 Gbit/s"),
        "{p:?}"
    );
    let preempt = Setting { mech: Mechanisms { postcopy_preempt: true, ..Mechanisms::default() }, ..setting() };
    let e2 = explain(&m, &preempt, false);
    let p = &section(&e2, "Post-copy").paragraphs[3];
    assert!(p.contains("postcopy_preempt sends requested pages on a channel of their own") && !p.contains("socket_buffer"), "{p}");
    assert!(all_text(&e).contains("262,144 page sends for 262,144 pages: every page crossed the link once."));
}

#[test]
fn a_hybrid_switch_names_the_rule_that_fired() {
    let th = Some(37_500_000.0);
    let base = MigrationResult {
        strategy: "hybrid".into(),
        stop_reason: "postcopy_switch".into(),
        postcopy_start_s: Some(9.9),
        timeline: vec![
            row(0, "precopy", 0.0, 8.6, 262_144, 40_000, th),
            row(1, "precopy", 8.6, 9.9, 39_000, 39_500, th),
            row(2, "postcopy", 9.9, 10.5, 39_500, 0, None),
        ],
        ..result()
    };
    let by_rounds = explain(&MigrationResult { rounds: 2, ..base.clone() }, &setting(), false);
    let p = &section(&by_rounds, "The switch to post-copy").paragraphs[0];
    assert!(
        p.contains("because it had run 2 rounds (hybrid_switch_after = 2)") && p.contains("39,500 pages (154 MiB) were still to send"),
        "{p}"
    );
    // With a round limit of 5, the switch after round 1 came from the stall rule: 39,500 is not 5 % below 40,000.
    let stalled = explain(&MigrationResult { rounds: 2, ..base }, &Setting { hybrid_switch_after: 5, ..setting() }, false);
    let p = &section(&stalled, "The switch to post-copy").paragraphs[0];
    assert!(p.contains("round 1 left 39,500 pages, not 5 % fewer than the 40,000 round 0 left"), "{p}");
}

#[test]
fn auto_converge_steps_are_listed_with_their_times() {
    let m = MigrationResult {
        throttle_schedule: vec![[2.0, 20.0], [4.0, 30.0]],
        throttle_max_pct: 30.0,
        throttle_share: 0.12,
        app_slowdown: 0.05,
        ..converged()
    };
    let s =
        Setting { mech: Mechanisms { auto_converge: Some(Mechanisms::default().throttle_params), ..Mechanisms::default() }, ..setting() };
    let e = explain(&m, &s, false);
    let items = &section(&e, "What the mechanisms did").items;
    assert!(items[0].contains("It stepped 2 times: 20 % at 2 s, 30 % at 4 s"), "{items:?}");
    assert!(
        items[0].contains("The vCPU lost 12 % of its time over the live migration, and the application 5 % of its writes"),
        "{items:?}"
    );
}

#[test]
fn the_host_cpu_model_tells_who_shares_the_cores_and_the_paces() {
    use crate::model::mechanism::cpu::HostCpu;
    let h =
        HostCpu { cores: 2.0, busy_threads: 0.0, guest_cpu: 1.0, vcpus: 1.0, zero_rate: None, interference: 0.2, guest_interference: 0.0 };
    let s = Setting { mech: Mechanisms { host_cpu: Some(h), multifd_channels: 4, ..Mechanisms::default() }, ..setting() };
    let e = explain(&converged(), &s, false);
    let items = &section(&e, "What the mechanisms did").items;
    let it = items.iter().find(|i| i.contains("host's 2 cores")).unwrap_or_else(|| panic!("{items:?}"));
    // 4 channels, the main thread and the vCPU: 6 threads on 2 cores, 1/3 each: 4/3 / (1 + 0.2/3)
    // = 1.25x; paused, 5 threads: 0.4 each, 1.6x.
    assert!(it.contains("shared by 4 multifd channels and the main migration thread, the guest's vCPUs (wanting 1 core)"), "{it}");
    assert!(
        it.contains("1.25x as fast as one thread with a core of its own (slowed by the running vCPUs' interference, 0.2 per core)"),
        "{it}"
    );
    assert!(it.contains("the vCPUs get 33 % of the time they want; with the guest paused, 1.6x."), "{it}");
    assert!(!it.contains("flat out"), "no guest interference, no word of it: {it}");
    // With the stream's interference on the vCPUs, the sentence says how much.
    let s = Setting { mech: Mechanisms { host_cpu: Some(HostCpu { guest_interference: 0.2, ..h }), ..s.mech }, ..s };
    let e = explain(&converged(), &s, false);
    let items = &section(&e, "What the mechanisms did").items;
    let it = items.iter().find(|i| i.contains("host's 2 cores")).unwrap_or_else(|| panic!("{items:?}"));
    assert!(
        it.contains("the vCPUs get 33 % of the time they want, and go up to 20 % slower while the stream works flat out (its interference on them); with the guest paused"),
        "{it}"
    );
}

#[test]
fn the_cpu_pace_names_the_final_copys_own_pace_when_given() {
    let paced = Setting { cpu_rate_new: Some(400.0 * 1048576.0), cpu_rate_resent: Some(1.7e9), ..setting() };
    let pace = |s: &Setting| {
        let e = explain(&converged(), s, false);
        section(&e, "What the mechanisms did").items.iter().find(|i| i.contains("The host CPU moves")).cloned().expect("a pace item")
    };
    assert!(!pace(&paced).contains("while the guest is paused"), "{}", pace(&paced));
    let it = pace(&Setting { cpu_rate_resent_paused: Some(2.3e9), ..paced });
    // Rates are told in bits per second: 2.3 GB/s is 18.4 Gbit/s.
    assert!(it.contains("13.6 Gbit/s of re-sent pages (18.4 Gbit/s while the guest is paused) per stream"), "{it}");
}

#[test]
fn a_long_run_tells_its_middle_rounds_together_unless_asked() {
    let th = Some(37_500_000.0);
    let mut m = converged();
    m.timeline = (0..30).map(|i| row(i, "precopy", i as f64, i as f64 + 1.0, 20_000, 12_000 - i as u64, th)).collect();
    let e = explain(&m, &setting(), false);
    let folded = &section(&e, "Pre-copy, round by round").items;
    assert_eq!(folded.len(), ROUNDS_SHOWN + 1);
    let middle = &folded[ROUNDS_SHOWN / 2];
    assert!(middle.starts_with("Rounds 6 to 23 (18 rounds, 6 s to 24 s): each sent 20,000 pages (360,000 in all)"), "{middle}");
    assert!(middle.contains("left 11,977 to 11,994 pages") && middle.contains("the rule never said stop"), "{middle}");
    assert_eq!(section(&explain(&m, &setting(), true), "Pre-copy, round by round").items.len(), 30);
}

#[test]
fn text_is_wrapped_and_markdown_has_headings() {
    let e = explain(&converged(), &setting(), false);
    let text = to_text("Scenario x.", std::slice::from_ref(&e));
    assert!(text.lines().all(|l| l.chars().count() <= 100), "a line over 100 columns");
    assert!(text.contains("\nvm by precopy, from a to b\n==========================\n"), "{text}");
    let md = to_markdown("# x", std::slice::from_ref(&e));
    assert!(
        md.contains("\n## vm by precopy, from a to b\n") && md.contains("\n### Why pre-copy stopped\n") && md.contains("\n- Round 0 ("),
        "{md}"
    );
    assert_eq!(int(2_097_152), "2,097,152");
    assert_eq!(int(999), "999");
    assert_eq!(clock(151.8125), "151.812 s");
}
