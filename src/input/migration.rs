//! Reading the migration parameters of `[migration]` and of each `[[migrations]]` entry (which
//! inherits from `[migration]`), the mechanism knobs included.

use crate::input::tree::{ConfigError, TableReader, choice};
use crate::model::mechanism::Mechanisms;
use crate::model::scenario::{MigrationParams, OnMaxTime};
use crate::model::stop;
use crate::model::strategy::{self, Strategy};
use crate::names::suggest;

pub fn read_migration(
    t: &mut TableReader<'_>,
    defaults: Option<&MigrationParams>,
) -> Result<(MigrationParams, Option<Vec<Strategy>>), ConfigError> {
    let strategies = match t.strings("strategy")? {
        Some(list) => {
            if list.is_empty() {
                return Err(t.error("strategy", format!("give at least one strategy: {}", strategy::names().join(", "))));
            }
            let mut out = Vec::new();
            for (s, origin) in list {
                match strategy::by_name(&s) {
                    Some(st) => out.push(st),
                    None => {
                        let names = strategy::names();
                        let hint = suggest(&s, names.iter().copied()).map_or(String::new(), |h| format!("did you mean \"{h}\"? "));
                        return Err(t.error_at(
                            "strategy",
                            &origin,
                            format!("\"{s}\" is not a strategy; {hint}expected {}", or_list(&names)),
                        ));
                    }
                }
            }
            Some(out)
        }
        None => None,
    };
    let d = defaults.cloned().unwrap_or(MigrationParams {
        stop_policy: stop::DEFAULT,
        downtime_limit_ns: 300_000_000,
        max_bandwidth_bps: None,
        max_postcopy_bandwidth_bps: None,
        max_rounds: 30,
        max_time_ns: 3_600_000_000_000,
        on_max_time: OnMaxTime::Cancel,
        hybrid_switch_after: 2,
        setup_time_ns: 0,
        resume_time_ns: 0,
        switchover_bandwidth_bps: None,
        page_header_bytes: 8,
        cpu_rate_new_bps: None,
        cpu_rate_resent_bps: None,
        cpu_rate_resent_paused_bps: None,
        mech: Mechanisms::default(),
    });
    let stop_policy = match t.string("stop_policy")? {
        Some(s) => choice(t, "stop_policy", &s, &stop::names())?,
        None => d.stop_policy,
    };
    let on_max_time = match t.string("on_max_time")? {
        Some(s) => choice(t, "on_max_time", &s, &OnMaxTime::NAMES)?,
        None => d.on_max_time,
    };
    let max_rounds = match t.uint("max_rounds")? {
        Some(0) => return Err(t.error("max_rounds", "must be at least 1")),
        Some(n) => u32::try_from(n).map_err(|_| t.error("max_rounds", "is too large"))?,
        None => d.max_rounds,
    };
    let max_time_ns = match t.duration("max_time")? {
        Some(0) => return Err(t.error("max_time", "must be longer than zero, e.g. \"10 min\"")),
        Some(n) => n,
        None => d.max_time_ns,
    };
    let hybrid_switch_after = match t.uint("hybrid_switch_after")? {
        Some(0) => return Err(t.error("hybrid_switch_after", "must be at least 1 (round 0, the bulk copy, always runs as pre-copy)")),
        Some(n) => u32::try_from(n).map_err(|_| t.error("hybrid_switch_after", "is too large"))?,
        None => d.hybrid_switch_after,
    };
    let p = MigrationParams {
        stop_policy,
        downtime_limit_ns: t.duration("downtime_limit")?.unwrap_or(d.downtime_limit_ns),
        max_bandwidth_bps: if t.is_none("max_bandwidth") { None } else { t.positive_rate("max_bandwidth")?.or(d.max_bandwidth_bps) },
        max_postcopy_bandwidth_bps: if t.is_none("max_postcopy_bandwidth") {
            None
        } else {
            t.positive_rate("max_postcopy_bandwidth")?.or(d.max_postcopy_bandwidth_bps)
        },
        max_rounds,
        max_time_ns,
        on_max_time,
        hybrid_switch_after,
        setup_time_ns: t.duration("setup_time")?.unwrap_or(d.setup_time_ns),
        resume_time_ns: t.duration("resume_time")?.unwrap_or(d.resume_time_ns),
        switchover_bandwidth_bps: t.positive_rate("switchover_bandwidth")?.or(d.switchover_bandwidth_bps),
        page_header_bytes: t.size("page_header")?.unwrap_or(d.page_header_bytes),
        cpu_rate_new_bps: t.positive_rate("cpu_rate_new")?.or(d.cpu_rate_new_bps),
        cpu_rate_resent_bps: t.positive_rate("cpu_rate_resent")?.or(d.cpu_rate_resent_bps),
        cpu_rate_resent_paused_bps: t.positive_rate("cpu_rate_resent_paused")?.or(d.cpu_rate_resent_paused_bps),
        mech: crate::input::mechanisms::read(t, &d.mech)?,
    };
    Ok((p, strategies))
}

/// "a, b, c or d".
fn or_list(names: &[&str]) -> String {
    match names.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => names.join(""),
    }
}
