//! How to apply a recommended setting to a real migration: the QMP commands for QEMU 7.x
//! (`migrate-set-capabilities`, `migrate-set-parameters`, `migrate`, `migrate-start-postcopy`,
//! `set-vcpu-dirty-limit`) and the `virsh migrate` flags, with every place where the model's knob
//! does not map exactly onto QEMU's or libvirt's named. Names and units follow QEMU's
//! qapi/migration.json (downtime-limit in ms, max-bandwidth and max-postcopy-bandwidth in bytes/s,
//! xbzrle-cache-size in bytes, vcpu-dirty-limit and set-vcpu-dirty-limit's dirty-rate in MB/s) and
//! libvirt's virsh manual (--bandwidth and --postcopy-bandwidth in MiB/s, --comp-xbzrle-cache in
//! bytes, migrate-setmaxdowntime in ms). It reads a candidate; it runs nothing.

use super::knob::{Knob, Setting};
use super::space::{Candidate, Space};
use crate::model::mechanism::HybridSwitch;
use crate::model::scenario::{MigrationParams, OnMaxTime};
use crate::units::{format_duration, format_rate, format_size};
use serde::Serialize;

/// The commands, in the order to give them, and what they do not map exactly.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Apply {
    /// QMP on both hosts, before the migration (capabilities and multifd settings must match).
    pub qmp_both: Vec<String>,
    /// QMP on the source, in order.
    pub qmp_source: Vec<String>,
    /// The shell commands with libvirt.
    pub virsh: Vec<String>,
    pub notes: Vec<String>,
}

/// A QMP command as people write it, `execute` first.
fn cmd(execute: &str, args: serde_json::Value) -> String {
    if args.as_object().is_some_and(|o| o.is_empty()) {
        format!("{{\"execute\": \"{execute}\"}}")
    } else {
        format!("{{\"execute\": \"{execute}\", \"arguments\": {args}}}")
    }
}

fn mib(bytes_per_sec: f64) -> u64 {
    ((bytes_per_sec / 1048576.0).floor() as u64).max(1)
}

/// The commands for candidate `c` of a scenario whose migration has parameters `p`, over a link
/// of `link` bytes/s, with pages of `page_size` bytes.
pub fn commands(space: &Space, c: &Candidate, p: &MigrationParams, link: f64, page_size: u64) -> Apply {
    let name = c.strategy.name();
    let pre = matches!(name, "precopy" | "hybrid");
    let post = matches!(name, "postcopy" | "hybrid");
    let mut caps: Vec<&str> = Vec::new();
    let mut params = serde_json::Map::new();
    let mut both = serde_json::Map::new();
    let mut flags: Vec<String> = vec!["--live".into(), "--verbose".into()];
    let mut after: Vec<String> = Vec::new();
    let mut notes: Vec<String> = Vec::new();
    let mut extra_qmp: Vec<String> = Vec::new();

    if pre && let Setting::Duration(ns) = c.get(space, Knob::DowntimeLimit) {
        let ms = ((*ns as f64 / 1e6).round() as u64).max(1);
        params.insert("downtime-limit".into(), ms.into());
        after.push(format!(
            "virsh migrate-setmaxdowntime DOMAIN {ms}    # from a second shell once the job runs: virsh migrate has no flag for it"
        ));
        if (*ns as f64 / 1e6).fract() != 0.0 {
            notes.push(format!("downtime-limit is whole milliseconds: {} rounds to {ms} ms", format_duration(*ns)));
        }
    }
    let Setting::Caps(cap, post_cap) = c.get(space, Knob::MaxBandwidth) else { unreachable!("the bandwidth knob holds caps") };
    let rate = cap.unwrap_or(link);
    params.insert("max-bandwidth".into(), (rate.round() as u64).into());
    flags.push(format!("--bandwidth {}", mib(rate)));
    if cap.is_none() {
        notes.push(format!(
            "max-bandwidth is set to the link's rate ({}): the model's \"no cap\"; QEMU 7.2 caps at 128 MiB/s unless told",
            format_rate(link)
        ));
    }
    if post {
        params.insert("max-postcopy-bandwidth".into(), post_cap.map_or(0, |r| r.round() as u64).into());
        if let Some(r) = post_cap {
            flags.push(format!("--postcopy-bandwidth {}", mib(*r)));
        }
    }
    if let Setting::AutoConverge(Some((initial, inc))) = c.get(space, Knob::AutoConverge) {
        caps.push("auto-converge");
        params.insert("cpu-throttle-initial".into(), (*initial as u64).into());
        params.insert("cpu-throttle-increment".into(), (*inc as u64).into());
        let a = p.mech.throttle_params;
        if a.max_pct != 99.0 {
            params.insert("max-cpu-throttle".into(), (a.max_pct as u64).into());
        }
        if a.trigger != 0.5 {
            params.insert("throttle-trigger-threshold".into(), ((a.trigger * 100.0).round() as u64).into());
        }
        if a.tailslow {
            params.insert("cpu-throttle-tailslow".into(), true.into());
        }
        flags.push(format!("--auto-converge --auto-converge-initial {initial} --auto-converge-increment {inc}"));
        notes.push("auto-converge: the model throttles the vCPU as a steady share, where QEMU sleeps it in 10 ms slices".into());
    }
    if let Setting::DirtyLimit(Some(pps)) = c.get(space, Knob::DirtyLimit) {
        let mbs = ((pps * page_size as f64 / 1e6).round() as u64).max(1);
        extra_qmp.push(cmd("set-vcpu-dirty-limit", serde_json::json!({ "dirty-rate": mbs })));
        notes.push(format!(
            "dirty limit: QEMU's set-vcpu-dirty-limit (7.1 to 8.0; from 8.1 the dirty-limit capability with vcpu-dirty-limit) caps each vCPU at {mbs} MB/s and needs KVM with dirty-ring-size; the model caps the whole guest's page writes, so divide by the vCPUs that write; virsh migrate has no flag for it"
        ));
    }
    if let Setting::Xbzrle(Some(cache)) = c.get(space, Knob::Xbzrle) {
        caps.push("xbzrle");
        params.insert("xbzrle-cache-size".into(), (*cache).into());
        flags.push(format!("--compressed --comp-methods xbzrle --comp-xbzrle-cache {cache}"));
        notes.push(format!(
            "XBZRLE: the model's deltas are workload.write_delta bytes, not computed from page contents; the {} cache is a power of two, as QEMU requires",
            format_size(*cache)
        ));
    }
    let channels = match c.get(space, Knob::Multifd) {
        Setting::Channels(n) => *n,
        _ => 1,
    };
    let compression = matches!(c.get(space, Knob::Compression), Setting::Compression(true)) && !post;
    if channels > 1 || compression {
        caps.push("multifd");
        both.insert("multifd-channels".into(), channels.into());
        flags.push(format!("--parallel --parallel-connections {channels}"));
        notes.push(
            "multifd: set multifd-channels on both hosts and start the destination with -incoming defer; the model's channels share one flow"
                .into(),
        );
    }
    if compression {
        both.insert("multifd-compression".into(), "zstd".into());
        flags.push("--compressed --comp-methods zstd".into());
        if let Some(z) = p.mech.compression {
            notes.push(format!(
                "compression: the model's ratio ({}) and speed ({}/s per channel) are the scenario's assumptions; measure zstd on the guest's own pages",
                z.ratio,
                format_size(z.cpu_rate as u64)
            ));
        }
    }
    if post {
        caps.push("postcopy-ram");
        flags.push("--postcopy".into());
        if let Setting::Flag(true) = c.get(space, Knob::PostcopyPreempt) {
            caps.push("postcopy-preempt");
            notes.push("postcopy-preempt: a capability since QEMU 7.1, set on both hosts; virsh migrate has no flag for it".into());
        }
        if let Setting::Pages(n) = c.get(space, Knob::Prepaging)
            && *n != 1
        {
            notes.push(format!(
                "pre-paging {n}: neither QEMU nor libvirt has such a setting; QEMU always continues its push right after a requested page (pre-paging 1)"
            ));
        }
    }
    let switch = match name {
        "postcopy" => {
            Some(("at once".to_string(), "virsh migrate-postcopy DOMAIN    # from a second shell as soon as the job runs".to_string()))
        }
        "hybrid" => match c.get(space, Knob::HybridSwitch) {
            Setting::Switch(HybridSwitch::Rounds, 1) => {
                flags.push("--postcopy-after-precopy".into());
                notes.push("hybrid after 1 round: libvirt's --postcopy-after-precopy switches once the first pass is done".into());
                Some(("once query-migrate's ram.dirty-sync-count reaches 2".to_string(), String::new()))
            }
            Setting::Switch(HybridSwitch::Rounds, n) => {
                notes.push(format!(
                    "hybrid after {n} rounds: QEMU has no such parameter; send migrate-start-postcopy once query-migrate's ram.dirty-sync-count reaches {} (the QEMU lab's harness did so)",
                    n + 1
                ));
                Some((
                    format!("once query-migrate's ram.dirty-sync-count reaches {}", n + 1),
                    format!("virsh migrate-postcopy DOMAIN    # once {n} passes are done"),
                ))
            }
            s => {
                notes.push(format!(
                    "hybrid switch {}: QEMU switches only when told; watch query-migrate and send migrate-start-postcopy by that rule",
                    s.words()
                ));
                Some(("when the rule says so".to_string(), "virsh migrate-postcopy DOMAIN    # when the rule says so".to_string()))
            }
        },
        "cold" => {
            notes.push("cold: the guest is paused for the whole copy (QMP stop, or virsh migrate without --live)".into());
            None
        }
        _ => None,
    };
    if pre && p.on_max_time == OnMaxTime::Stop && p.max_time_ns < 3_600_000_000_000 {
        flags.push(format!("--timeout {} --timeout-suspend", (p.max_time_ns as f64 / 1e9).ceil() as u64));
    }

    let mut qmp_both = Vec::new();
    if !caps.is_empty() {
        let list: Vec<serde_json::Value> = caps.iter().map(|c| serde_json::json!({ "capability": c, "state": true })).collect();
        qmp_both.push(cmd("migrate-set-capabilities", serde_json::json!({ "capabilities": list })));
    }
    if !both.is_empty() {
        qmp_both.push(cmd("migrate-set-parameters", serde_json::Value::Object(both)));
    }
    let mut qmp_source = vec![cmd("migrate-set-parameters", serde_json::Value::Object(params))];
    qmp_source.extend(extra_qmp);
    if name == "cold" {
        qmp_source.push(cmd("stop", serde_json::json!({})));
    }
    qmp_source.push(cmd("migrate", serde_json::json!({ "uri": "tcp:DESTINATION:4444" })));
    if name == "cold" {
        // Without --live, libvirt pauses the guest for the whole copy.
        flags.retain(|f| f != "--live");
    }
    let mut virsh = vec![format!("virsh migrate {} DOMAIN qemu+ssh://DESTINATION/system", flags.join(" "))];
    if let Some((when, v)) = switch {
        qmp_source.push(format!("{}    # {when}", cmd("migrate-start-postcopy", serde_json::json!({}))));
        if !v.is_empty() {
            after.push(v);
        }
    }
    virsh.extend(after);
    Apply { qmp_both, qmp_source, virsh, notes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::strategy;

    fn space_and_params(extra: &str) -> (Space, MigrationParams) {
        let text = format!(
            "[vm]\nmemory = \"1 GiB\"\n[network]\nbandwidth = \"10 Gbit/s\"\n[workload]\nkind = \"uniform\"\nwrite_rate = \"1000 pages/s\"\nworking_set = \"64 MiB\"\n[migration]\n{extra}"
        );
        let sc = crate::input::from_str("t.toml", "t", &text, &[]).unwrap();
        (Space::new(&sc, false, &[], &[], &[]).unwrap(), sc.migrations[0].params.clone())
    }

    #[test]
    fn qemu_names_and_units() {
        let (space, p) = space_and_params("downtime_limit = \"50 ms\"\n");
        let c = space.baseline(strategy::PRECOPY).with(&space, Knob::AutoConverge, Setting::AutoConverge(Some((20.0, 10.0)))).with(
            &space,
            Knob::Xbzrle,
            Setting::Xbzrle(Some(256 << 20)),
        );
        let a = commands(&space, &c, &p, 1.25e9, 4096);
        assert_eq!(
            a.qmp_both,
            [
                r#"{"execute": "migrate-set-capabilities", "arguments": {"capabilities":[{"capability":"auto-converge","state":true},{"capability":"xbzrle","state":true}]}}"#
            ]
        );
        let params: serde_json::Value = serde_json::from_str(&a.qmp_source[0]).unwrap();
        assert_eq!(params["execute"], "migrate-set-parameters");
        let args = &params["arguments"];
        assert_eq!((args["downtime-limit"].as_u64(), args["max-bandwidth"].as_u64()), (Some(50), Some(1_250_000_000)));
        assert_eq!((args["cpu-throttle-initial"].as_u64(), args["xbzrle-cache-size"].as_u64()), (Some(20), Some(268435456)));
        assert!(a.virsh[0].contains("--auto-converge --auto-converge-initial 20 --auto-converge-increment 10"), "{}", a.virsh[0]);
        assert!(a.virsh[0].contains("--comp-methods xbzrle --comp-xbzrle-cache 268435456") && a.virsh[0].contains("--bandwidth 1192"));
        assert!(a.virsh[1].starts_with("virsh migrate-setmaxdowntime DOMAIN 50"));
        assert!(a.notes.iter().any(|n| n.contains("128 MiB/s")), "no cap is set as the link's rate");
    }

    #[test]
    fn post_copy_and_the_hybrid_switch() {
        let (space, p) = space_and_params("");
        let post = space.baseline(strategy::POSTCOPY).with(&space, Knob::PostcopyPreempt, Setting::Flag(true));
        let a = commands(&space, &post, &p, 1.25e9, 4096);
        assert!(a.qmp_both[0].contains("postcopy-ram") && a.qmp_both[0].contains("postcopy-preempt"));
        assert!(a.qmp_source.last().unwrap().starts_with(r#"{"execute": "migrate-start-postcopy"}    # at once"#));
        assert!(a.virsh[0].contains("--postcopy") && a.virsh.iter().any(|v| v.starts_with("virsh migrate-postcopy DOMAIN")));
        let h = space.baseline(strategy::HYBRID).with(&space, Knob::HybridSwitch, Setting::Switch(HybridSwitch::Rounds, 1));
        assert!(commands(&space, &h, &p, 1.25e9, 4096).virsh[0].contains("--postcopy --postcopy-after-precopy"));
        let h3 = h.with(&space, Knob::HybridSwitch, Setting::Switch(HybridSwitch::Rounds, 3));
        let a = commands(&space, &h3, &p, 1.25e9, 4096);
        assert!(a.qmp_source.last().unwrap().contains("dirty-sync-count reaches 4"));
        assert!(a.notes.iter().any(|n| n.contains("no such parameter")));
    }
}
