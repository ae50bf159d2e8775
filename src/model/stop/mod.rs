//! Stop policies: when pre-copy stops sending rounds and pauses the VM for the final copy. Each rule
//! is a file: `qemu` (QEMU 7.2's continuous check), `threshold` (the textbook rule), `xen` (Xen's
//! legacy limits), `rounds` (a fixed number of passes) and `simgrid` (SimGrid's VM plugin). What a
//! rule is and what it sees is in `policy`. A new rule is a new file plus a line in `ALL`. A rule sees
//! only a `Progress` and answers with a `Decision`: it changes nothing, and knows no migration.

pub mod policy;
pub mod qemu;
pub mod rounds;
pub mod simgrid;
pub mod threshold;
pub mod xen;

pub use policy::{Asks, Decision, Progress, Stop, StopPolicy, StopRule};

/// Every stop policy, by the name a scenario gives it.
pub const ALL: [StopPolicy; 5] = [
    StopPolicy(&qemu::Qemu),
    StopPolicy(&threshold::Threshold),
    StopPolicy(&xen::Xen),
    StopPolicy(&rounds::Rounds),
    StopPolicy(&simgrid::SimGrid),
];

/// QEMU's rule, the default.
pub const DEFAULT: StopPolicy = ALL[0];

/// The policies as (name, policy) pairs, for reading a scenario's `stop_policy`.
pub fn names() -> Vec<(&'static str, StopPolicy)> {
    ALL.iter().map(|p| (p.name(), *p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 1000 pages of 4 KiB dirty after round 3, which sent 100 MB in 1 s; 300 ms downtime limit.
    fn progress() -> Progress {
        Progress {
            dirty_pages: 1000,
            page_size: 4096,
            rounds: 3,
            max_rounds: 30,
            round_bytes: 100_000_000,
            round_ns: 1_000_000_000,
            downtime_limit_ns: 300_000_000,
            measured_threshold: 5e6,
            sent_bytes: 1 << 30,
            memory_bytes: 1 << 30,
        }
    }

    fn stops(name: &str, p: Progress) -> Option<&'static str> {
        let policy = ALL.into_iter().find(|s| s.name() == name).expect("listed");
        policy.decide(&p).stop.map(|s| s.reason)
    }

    #[test]
    fn every_policy_is_listed_once_by_its_name() {
        let names: Vec<&str> = names().iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["qemu", "threshold", "xen", "rounds", "simgrid"]);
        assert_eq!(DEFAULT.name(), "qemu");
    }

    #[test]
    fn qemu_stops_once_the_rest_fits_the_measured_threshold() {
        // 4.1 MB left: under a 5 MB threshold, over a 4 MB one; nothing left always stops.
        assert_eq!(stops("qemu", progress()), Some("converged"));
        assert_eq!(stops("qemu", Progress { measured_threshold: 4e6, ..progress() }), None);
        assert_eq!(stops("qemu", Progress { dirty_pages: 0, measured_threshold: 0.0, ..progress() }), Some("converged"));
        assert_eq!(ALL[0].asks(), Asks::UnderThreshold);
    }

    #[test]
    fn the_textbook_budget_is_the_last_rounds_rate_times_the_downtime_limit() {
        // 100 MB/s x 300 ms = 30 MB: 1000 pages (4.1 MB) fit, 10000 (41 MB) do not.
        let d = ALL[1].decide(&progress());
        assert_eq!(d.threshold_bytes, Some(30e6));
        assert_eq!(stops("threshold", progress()), Some("converged"));
        assert_eq!(stops("threshold", Progress { dirty_pages: 10_000, ..progress() }), None);
        // SimGrid decides the same, and sends each round as one message.
        assert_eq!(ALL[4].decide(&progress()), d);
        assert!(ALL[4].one_message_per_round() && !ALL[1].one_message_per_round());
    }

    #[test]
    fn xen_stops_under_50_pages_after_max_rounds_or_past_three_times_memory() {
        assert_eq!(stops("xen", Progress { dirty_pages: 49, ..progress() }), Some("converged"));
        assert_eq!(stops("xen", progress()), None);
        assert_eq!(stops("xen", Progress { rounds: 30, ..progress() }), Some("max_rounds"));
        assert_eq!(stops("xen", Progress { sent_bytes: 3 * (1 << 30) + 1, ..progress() }), Some("max_data"));
        let unconverged = ALL[2].decide(&Progress { rounds: 30, ..progress() }).stop.unwrap();
        assert!(!unconverged.converged);
    }

    #[test]
    fn rounds_stops_after_max_rounds_whatever_is_left() {
        assert_eq!(stops("rounds", Progress { rounds: 29, ..progress() }), None);
        assert_eq!(stops("rounds", Progress { rounds: 30, dirty_pages: 1 << 20, ..progress() }), Some("max_rounds"));
        assert_eq!(ALL[3].decide(&progress()).threshold_bytes, None);
    }
}
