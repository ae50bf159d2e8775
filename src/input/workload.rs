//! Reading a `workload` table: its kind and the keys each kind takes, into a `WorkloadSpec` in
//! pages and pages per second.

use crate::input::tree::{self as config, ConfigError, Node, Origin, TableReader, choice};
use crate::model::workload::{DEFAULT_WRITE_DELTA, DeltaSize, PageRange, Phase, WorkloadKind, WorkloadSpec};
use crate::units::{self, WriteRate};

/// The fastest write or access rate a workload may ask for, pages per second (see `read_workload`).
const MAX_ACCESS_PPS: f64 = 1e9;

pub fn read_workload(file: &str, path: String, node: &Node, pages: u64, page_size: u64) -> Result<WorkloadSpec, ConfigError> {
    let mut t = TableReader::at(file, path, node)?;
    #[derive(Clone, Copy, PartialEq)]
    enum K {
        Idle,
        Uniform,
        HotCold,
        Zipf,
        Sequential,
        Phases,
        Fluid,
        Trace,
        Mix,
    }
    const KINDS: [(&str, K); 9] = [
        ("idle", K::Idle),
        ("uniform", K::Uniform),
        ("hotcold", K::HotCold),
        ("zipf", K::Zipf),
        ("sequential", K::Sequential),
        ("phases", K::Phases),
        ("fluid", K::Fluid),
        ("trace", K::Trace),
        ("mix", K::Mix),
    ];
    let kind_name = t.string("kind")?.unwrap_or_else(|| "idle".into());
    let kind = choice(&t, "kind", &kind_name, &KINDS)?;
    // The fluid (SimGrid) model counts bytes: its working-set cap is rounded down to whole pages.
    let fluid = kind == K::Fluid;
    let to_pages = |t: &TableReader<'_>, key: &str, bytes: u64| -> Result<u64, ConfigError> {
        if !fluid && !bytes.is_multiple_of(page_size) {
            return Err(t.error(
                key,
                format!("{} is not a whole number of pages ({})", units::format_size_exact(bytes), units::format_size_exact(page_size)),
            ));
        }
        Ok(bytes / page_size)
    };
    let ws_bytes = t.size("working_set")?;
    let offset_bytes = t.size("offset")?.unwrap_or(0);
    let offset = to_pages(&t, "offset", offset_bytes)?;
    let ws = match ws_bytes {
        Some(b) => to_pages(&t, "working_set", b)?,
        None => pages - offset.min(pages),
    };
    if offset + ws > pages {
        return Err(
            t.error("working_set", format!("offset + working_set ({} pages) is larger than the VM's memory ({pages} pages)", offset + ws))
        );
    }
    // A strided working set: one page every `stride`, e.g. an array's metadata page after every 512
    // data pages it describes.
    let stride = match t.size("stride")? {
        None => 1,
        Some(b) => {
            if !matches!(kind, K::Idle | K::Uniform | K::HotCold | K::Zipf | K::Sequential) {
                return Err(t.error("stride", format!("applies to kind = \"uniform\", \"hotcold\", \"zipf\", \"sequential\" or \"idle\" (this workload is \"{kind_name}\")")));
            }
            if b == 0 {
                return Err(
                    t.error("stride", format!("must be at least one page, e.g. stride = \"{}\"", units::format_size_exact(page_size)))
                );
            }
            to_pages(&t, "stride", b)?
        }
    };
    let range = PageRange { first: offset, count: ws, stride };
    let span_end = range.span().end as u64;
    if span_end > pages {
        return Err(t.error(
            "stride",
            format!("the working set's last page (offset + (pages - 1) x stride) is page {}, past the VM's memory ({pages} pages); use a smaller stride or working_set", span_end - 1),
        ));
    }
    let rate = |t: &mut TableReader<'_>, key: &'static str| -> Result<f64, ConfigError> {
        Ok(match t.write_rate(key)? {
            Some(WriteRate::PagesPerSec(p)) => p,
            Some(w @ WriteRate::BytesPerSec(_)) => w.pages_per_sec(page_size),
            None => 0.0,
        })
    };
    let write_pps = rate(&mut t, "write_rate")?;
    let read_pps = rate(&mut t, "read_rate")?;
    // The clock steps in nanoseconds: a faster guest would make several accesses at one instant,
    // and post-copy draws the guest's accesses one by one. No memory system comes near this rate.
    for (key, pps) in [("write_rate", write_pps), ("read_rate", read_pps)] {
        if pps > MAX_ACCESS_PPS {
            return Err(t.error(
                key,
                format!(
                    "{pps:e} pages/s is above {MAX_ACCESS_PPS:e} pages/s (one page per nanosecond, the simulator's clock step); real guests write at most a few million pages/s"
                ),
            ));
        }
    }
    let needs_rate = !matches!(kind, K::Idle | K::Phases | K::Trace | K::Mix);
    if needs_rate && !t.has("write_rate") {
        return Err(t.error(
            "write_rate",
            format!("kind = \"{kind_name}\" needs a write_rate, e.g. write_rate = \"20000 pages/s\" or \"50 MiB/s\""),
        ));
    }
    if (needs_rate || kind == K::Trace) && ws == 0 {
        return Err(t.error("working_set", "the working set is empty; give it at least one page"));
    }
    // A kind changed by --set leaves the file's keys of the old kind behind, and --set cannot remove
    // a key: say how to replace the whole table instead.
    let kind_from_set = matches!(t.node("kind"), Some(Node { origin: Origin::Override(_), .. }));
    let only_for = |t: &mut TableReader<'_>, key: &'static str, for_kind: &str| -> Result<(), ConfigError> {
        if t.has(key) && kind_name != for_kind {
            let hint = if kind_from_set {
                format!(
                    "; to change the kind from the command line, replace the whole table: --set '{}={{ kind = \"{kind_name}\", write_rate = \"...\", ... }}'",
                    t.path()
                )
            } else {
                String::new()
            };
            return Err(t.error(key, format!("applies only to kind = \"{for_kind}\" (this workload is \"{kind_name}\"){hint}")));
        }
        Ok(())
    };
    only_for(&mut t, "hot_set", "hotcold")?;
    only_for(&mut t, "hot_share", "hotcold")?;
    only_for(&mut t, "exponent", "zipf")?;
    only_for(&mut t, "phases", "phases")?;
    only_for(&mut t, "repeat", "phases")?;
    only_for(&mut t, "parts", "mix")?;
    if kind == K::Mix {
        for key in ["write_rate", "read_rate", "working_set", "offset", "full_cpu_rate", "reserved_cpu"] {
            if t.has(key) {
                return Err(t.error(key, "a mix takes this key in each of its parts, not for the whole"));
            }
        }
    }
    for key in crate::input::trace::KEYS {
        only_for(&mut t, key, "trace")?;
    }
    let kind = match kind {
        K::Idle => WorkloadKind::Idle,
        K::Uniform => WorkloadKind::Uniform,
        K::HotCold => {
            let Some(hot) = t.size("hot_set")? else {
                return Err(t.error("hot_set", "kind = \"hotcold\" needs hot_set, e.g. hot_set = \"512 MiB\""));
            };
            let hot_pages = to_pages(&t, "hot_set", hot)?;
            if hot_pages == 0 || hot_pages > ws {
                return Err(t.error(
                    "hot_set",
                    format!("must be between one page and the working set ({})", units::format_size_exact(ws * page_size)),
                ));
            }
            WorkloadKind::HotCold { hot_pages, hot_share: t.fraction("hot_share")?.unwrap_or(0.9) }
        }
        K::Zipf => {
            let exponent = t.float("exponent")?.unwrap_or(1.0);
            if exponent <= 0.0 {
                return Err(t.error("exponent", format!("{exponent} must be > 0 (1.0 is classic Zipf)")));
            }
            WorkloadKind::Zipf { exponent }
        }
        K::Sequential => WorkloadKind::Sequential,
        K::Fluid => WorkloadKind::Fluid,
        K::Trace => WorkloadKind::Trace(crate::input::trace::read_spec(&mut t, file, page_size)?),
        K::Phases => {
            let repeat = t.bool("repeat")?.unwrap_or(true);
            let Some(list) = t.tables("phases")? else {
                return Err(t.error("phases", "kind = \"phases\" needs [[workload.phases]] entries with duration and workload"));
            };
            if list.is_empty() {
                return Err(t.error("phases", "needs at least one phase"));
            }
            let mut phases = Vec::new();
            for mut p in list {
                let Some(duration_ns) = p.duration("duration")? else {
                    return Err(p.error("duration", "every phase needs a duration, e.g. duration = \"10 s\""));
                };
                if duration_ns == 0 {
                    return Err(p.error("duration", "must be longer than zero"));
                }
                let wl_path = p.key_path("workload");
                let Some(n) = p.node("workload") else {
                    return Err(p.error("workload", "every phase needs workload = { kind = \"uniform\", write_rate = \"...\" }"));
                };
                let workload = read_workload(file, wl_path, n, pages, page_size)?;
                if matches!(workload.kind, WorkloadKind::Phases { .. }) {
                    return Err(p.error("workload", "phases cannot nest"));
                }
                p.finish()?;
                phases.push(Phase { duration_ns, workload });
            }
            WorkloadKind::Phases { phases, repeat }
        }
        K::Mix => {
            let need = "kind = \"mix\" needs parts = [{ kind = \"uniform\", write_rate = \"...\", ... }, ...]";
            let path = t.key_path("parts");
            let items = match t.node("parts").map(|n| &n.value) {
                Some(config::Value::Array(items)) if !items.is_empty() => items,
                _ => return Err(t.error("parts", need)),
            };
            let mut parts = Vec::new();
            for (i, n) in items.iter().enumerate() {
                let w = read_workload(file, format!("{path}.{i}"), n, pages, page_size)?;
                if matches!(w.kind, WorkloadKind::Phases { .. } | WorkloadKind::Mix { .. }) {
                    return Err(t.error("parts", "a part of a mix cannot be a phases or mix workload"));
                }
                parts.push(w);
            }
            WorkloadKind::Mix { parts }
        }
    };
    let full_cpu_pps = match t.write_rate("full_cpu_rate")? {
        Some(r) if r.pages_per_sec(page_size) <= 0.0 => return Err(t.error("full_cpu_rate", "must be greater than zero")),
        Some(r) => Some(r.pages_per_sec(page_size)),
        None => None,
    };
    // A share of a core (`fraction` checks 0 to 1), below a whole one: the writes need some of it.
    let reserved_cpu = match t.fraction("reserved_cpu")? {
        Some(r) if r >= 1.0 => {
            return Err(t.error("reserved_cpu", format!("{r} must be below 1, e.g. 0.0117 for 11.7 ms of a core each second")));
        }
        r => r.unwrap_or(0.0),
    };
    let write_delta = read_delta(&mut t, page_size)?;
    t.finish()?;
    let (mut write_pps, mut read_pps, mut working_set) = (write_pps, read_pps, range);
    if let WorkloadKind::Mix { parts } = &kind {
        // The whole: the parts' rates added up, and the range that holds every part's working set.
        write_pps = parts.iter().map(|p| p.write_pps).sum();
        read_pps = parts.iter().map(|p| p.read_pps).sum();
        let first = parts.iter().map(|p| p.working_set.first).min().unwrap_or(0);
        let end = parts.iter().map(|p| p.working_set.span().end as u64).max().unwrap_or(0);
        working_set = PageRange::contiguous(first, end - first);
    }
    Ok(WorkloadSpec { kind, write_pps, read_pps, working_set, full_cpu_pps, reserved_cpu, write_delta })
}

/// `write_delta = "64 B"` or `write_delta = { min = "16 B", max = "4 KiB" }`.
fn read_delta(t: &mut TableReader<'_>, page_size: u64) -> Result<DeltaSize, ConfigError> {
    let is_table = matches!(t.raw().get("write_delta").map(|n| &n.value), Some(config::Value::Table(_)));
    let d = if is_table {
        let mut d = t.table("write_delta")?.expect("checked above");
        let (Some(min), Some(max)) = (d.size("min")?, d.size("max")?) else {
            return Err(d.error("min", "a write_delta range needs min and max, e.g. { min = \"16 B\", max = \"4 KiB\" }"));
        };
        if min > max {
            return Err(d.error("min", "is larger than max"));
        }
        d.finish()?;
        DeltaSize::Uniform(min, max)
    } else {
        match t.size("write_delta")? {
            Some(b) => DeltaSize::Fixed(b),
            None => DEFAULT_WRITE_DELTA,
        }
    };
    let max = match d {
        DeltaSize::Fixed(b) | DeltaSize::Uniform(_, b) => b,
    };
    if max > 2 * page_size {
        return Err(t.error(
            "write_delta",
            format!("is larger than two pages ({}); a delta above one page overflows anyway", units::format_size_exact(2 * page_size)),
        ));
    }
    Ok(d)
}
