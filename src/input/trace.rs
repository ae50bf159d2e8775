//! Reading a `kind = "trace"` workload: its keys, and the whole trace checked at load time, so a bad
//! trace is an error naming the scenario key and the trace's own line or record.

use crate::input::tree::{ConfigError, TableReader, choice};
use crate::model::workload::trace::{MAP_NAMES, MapMode, SPREAD_NAMES, Spread, TraceSpec};
use crate::names::name_of;
use crate::trace;
use std::path::Path;

/// The most page writes one chunk of a replayed trace may hold (an interval, or the write records
/// of one group). The replay holds one chunk's pages and write times, 16 bytes a page write, for
/// the guest's writes and again for post-copy's access stream, so this bounds it to 2 x 512 MiB
/// however the file describes the chunk (a range `0-4294967295` is 2^32 pages in a few bytes).
/// 2^25 pages of 4 KiB are 128 GiB written in one interval, far beyond a recorded program.
pub const MAX_REPLAY_CHUNK: u64 = 1 << 25;

/// The scenario keys only a trace workload takes.
pub const KEYS: [&str; 5] = ["file", "loop", "time_scale", "map", "spread"];

/// Read the trace keys of a workload table and validate the trace itself (every record), so a bad
/// trace is a load-time error with the scenario key and the trace's own line or record.
pub fn read_spec(t: &mut TableReader<'_>, scenario_file: &str, vm_page_size: u64) -> Result<TraceSpec, ConfigError> {
    for key in ["write_rate", "read_rate"] {
        if t.has(key) {
            return Err(t.error(
                key,
                "does not apply to kind = \"trace\": the trace sets when pages are written, and its writes are also the \
                 post-copy access stream (docs/traces.md)",
            ));
        }
    }
    let Some(file) = t.string("file")? else {
        return Err(t.error("file", "kind = \"trace\" needs file = \"traces/NAME.mtrace\" (relative to the scenario's folder)"));
    };
    let dir = Path::new(scenario_file).parent().unwrap_or(Path::new(""));
    let path = dir.join(&file);
    let summary = trace::scan(&path).map_err(|e| {
        let hint = if e.message.starts_with("cannot open") {
            let shown = std::path::absolute(if dir.as_os_str().is_empty() { Path::new(".") } else { dir })
                .map_or_else(|_| dir.display().to_string(), |p| p.display().to_string());
            format!(" (`file` is relative to the scenario's folder, {shown})")
        } else {
            String::new()
        };
        t.error("file", format!("{e}{hint}"))
    })?;
    if summary.max_chunk > MAX_REPLAY_CHUNK {
        let chunk = match summary.header.kind {
            trace::Kind::Intervals => "this interval writes".to_string(),
            trace::Kind::Writes => {
                format!("the {} group of write records ending here holds", crate::units::format_duration(summary.header.group_ns()))
            }
        };
        let e = trace::TraceError {
            file: path.display().to_string(),
            place: summary.max_chunk_at,
            message: format!(
                "{chunk} {} pages; a replay holds one interval or group in memory (16 bytes a page) and takes at most \
                 {MAX_REPLAY_CHUNK} pages in one: split it into shorter intervals (record with a shorter --interval)",
                summary.max_chunk
            ),
        };
        return Err(t.error("file", e.to_string()));
    }
    let looped = t.bool("loop")?.unwrap_or(false);
    let time_scale = t.float("time_scale")?.unwrap_or(1.0);
    if time_scale <= 0.0 {
        return Err(t.error("time_scale", format!("{time_scale} must be > 0 (2 plays the trace at half speed, 0.5 at double speed)")));
    }
    let map = match t.string("map")? {
        Some(s) => choice(t, "map", &s, &MAP_NAMES)?,
        None => MapMode::Scale,
    };
    let spread = match t.string("spread")? {
        Some(s) => choice(t, "spread", &s, &SPREAD_NAMES)?,
        None => Spread::Even,
    };
    if looped && summary.duration_ns == 0 {
        return Err(t.error("loop", format!("{} lasts 0 ns, so it cannot loop; give it a `# duration` header", path.display())));
    }
    Ok(TraceSpec { path, looped, time_scale, map, spread, vm_page_size, summary })
}

/// The keys as `migsim check` writes them (the file as an absolute path, so the output reads
/// back from any folder).
pub fn inline_keys(spec: &TraceSpec) -> Vec<String> {
    let file = std::path::absolute(&spec.path).unwrap_or_else(|_| spec.path.clone());
    vec![
        format!("file = {:?}", file.display().to_string()),
        format!("loop = {}", spec.looped),
        format!("time_scale = {:?}", spec.time_scale),
        format!("map = {:?}", name_of(&MAP_NAMES, spec.map)),
        format!("spread = {:?}", name_of(&SPREAD_NAMES, spec.spread)),
    ]
}
