//! The Linux recorder: every interval it reads the writable mappings (/proc/PID/maps) and which of
//! their pages are present (/proc/PID/pagemap), hashes each present page's content (read with
//! process_vm_readv, or /proc/PID/mem where that is forbidden), and hands out trace frames (the page
//! space is described in `record`).

use super::*;
use crate::trace::{Header, Kind, PageSet, Record, Writer};
use crate::units;
use std::collections::{BinaryHeap, HashMap};
use std::fs::File;
use std::io::IsTerminal;
use std::os::unix::fs::FileExt;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);

/// Ctrl-C (and SIGTERM, SIGHUP) end the recording cleanly; installed once per process.
fn install_stop_handler() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // A second recorder in the same process shares the flag; nothing to do if one is there.
        let _ = ctrlc::set_handler(|| STOP.store(true, Ordering::SeqCst));
    });
    STOP.store(false, Ordering::SeqCst);
}

/// pagemap bits (Documentation/admin-guide/mm/pagemap.rst).
const PM_PRESENT: u64 = 1 << 63;
const PM_SWAPPED: u64 = 1 << 62;

/// A multiplicative hash for (pid, page) keys: the map is probed once per present page per sample.
#[derive(Default, Clone, Copy)]
struct KeyHasher(u64);
impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(*b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n).wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(29);
    }
}
type Fast = std::hash::BuildHasherDefault<KeyHasher>;

/// Frames (trace pages) and what each holds.
struct Frames {
    /// (pid, virtual page number) -> frame.
    of_page: HashMap<u64, u32, Fast>,
    /// Hash of each frame's last content; a fresh frame holds zeros.
    hash: Vec<u64>,
    /// The sample in which each frame's page was last seen mapped.
    seen: Vec<u64>,
    free: BinaryHeap<std::cmp::Reverse<u32>>,
    zero_hash: u64,
    /// Whether each frame was written in some interval (for the distinct count).
    ever_dirty: Vec<bool>,
}

fn key(pid: i32, vpage: u64) -> u64 {
    // Virtual page numbers fit in 36 bits on x86-64 and arm64 (48-bit addresses).
    ((pid as u64) << 40) ^ vpage
}

impl Frames {
    fn new(page_size: usize) -> Self {
        Frames {
            of_page: HashMap::default(),
            hash: Vec::new(),
            seen: Vec::new(),
            free: BinaryHeap::new(),
            zero_hash: twox_hash::XxHash3_64::oneshot(&vec![0u8; page_size]),
            ever_dirty: Vec::new(),
        }
    }

    /// A present page with content hash `h` in sample `gen`: its frame, and whether it changed.
    fn observe(&mut self, k: u64, h: u64, generation: u64) -> (u32, bool) {
        let f = match self.of_page.get(&k) {
            Some(&f) => f,
            None => {
                let f = match self.free.pop() {
                    Some(std::cmp::Reverse(f)) => f,
                    None => {
                        self.hash.push(self.zero_hash);
                        self.seen.push(0);
                        self.ever_dirty.push(false);
                        (self.hash.len() - 1) as u32
                    }
                };
                self.of_page.insert(k, f);
                f
            }
        };
        let fi = f as usize;
        self.seen[fi] = generation;
        let changed = self.hash[fi] != h;
        self.hash[fi] = h;
        (f, changed)
    }

    /// A page that is mapped but swapped out keeps its frame.
    fn keep(&mut self, k: u64, generation: u64) {
        if let Some(&f) = self.of_page.get(&k) {
            self.seen[f as usize] = generation;
        }
    }

    /// One sample: the present pages with their content hashes, and the swapped-out ones (which
    /// keep their frames). Frames of pages gone since the last sample are given back first, so
    /// a page that appears gets a frame another page just left, as a guest kernel would reuse
    /// it. Pushes the frames whose content changed.
    fn update(&mut self, present: &[(u64, u64)], swapped: &[u64], generation: u64, dirty: &mut Vec<u32>) {
        for &k in present.iter().map(|(k, _)| k).chain(swapped) {
            self.keep(k, generation);
        }
        self.release_unseen(generation);
        for &(k, h) in present {
            let (f, changed) = self.observe(k, h, generation);
            if changed {
                dirty.push(f);
            }
        }
    }

    /// Give back the frames of pages not seen in sample `gen` (unmapped, dropped, exited).
    fn release_unseen(&mut self, generation: u64) {
        let (seen, free) = (&self.seen, &mut self.free);
        self.of_page.retain(|_, f| {
            let keep = seen[*f as usize] == generation;
            if !keep {
                free.push(std::cmp::Reverse(*f));
            }
            keep
        });
    }
}

struct Mapping {
    start: u64,
    end: u64,
}

/// Readable and writable mappings, in address order. `None` if the process is gone.
fn writable_mappings(pid: i32) -> std::io::Result<Vec<Mapping>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/maps"))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let (Some(range), Some(perms)) = (f.next(), f.next()) else { continue };
        let path = f.nth(3).unwrap_or("");
        let p = perms.as_bytes();
        if p.len() < 2 || p[0] != b'r' || p[1] != b'w' {
            continue;
        }
        // Device memory cannot be read as pages (and is not guest RAM); [vvar] and friends are
        // the kernel's.
        if (path.starts_with("/dev/") && !path.starts_with("/dev/shm/") && !path.starts_with("/dev/zero"))
            || matches!(path, "[vvar]" | "[vsyscall]" | "[vvar_vclock]")
        {
            continue;
        }
        let Some((a, b)) = range.split_once('-') else { continue };
        let (Ok(start), Ok(end)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)) else { continue };
        out.push(Mapping { start, end });
    }
    Ok(out)
}

fn comm(pid: i32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).map(|s| s.trim().to_string()).unwrap_or_else(|_| "?".into())
}

fn cmdline(pid: i32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let parts: Vec<String> = raw.split(|&b| b == 0).filter(|p| !p.is_empty()).map(|p| String::from_utf8_lossy(p).into_owned()).collect();
    if parts.is_empty() { comm(pid) } else { parts.join(" ") }
}

/// `pid` and, with `children`, all its descendants (from the parent field of /proc/*/stat).
fn process_tree(pid: i32, children: bool) -> Vec<i32> {
    if !children {
        return vec![pid];
    }
    let mut parent_of: Vec<(i32, i32)> = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(p) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{p}/stat")) else { continue };
            // The command name may hold spaces and parentheses: the fields after the last ')'.
            let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
            let mut f = rest.split_whitespace();
            if let (Some(_state), Some(ppid)) = (f.next(), f.next().and_then(|s| s.parse::<i32>().ok())) {
                parent_of.push((p, ppid));
            }
        }
    }
    let mut tree = vec![pid];
    let mut i = 0;
    while i < tree.len() {
        let p = tree[i];
        tree.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    tree
}

/// Why a process cannot be sampled, worded with the fix.
fn access_error(pid: i32, what: &str, e: &std::io::Error) -> RecordError {
    match e.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => RecordError::Input(format!(
            "cannot read {what} of PID {pid} ({}): permission denied. Reading another process's memory needs ptrace \
             rights: run migsim as root, or as the process's owner with `sysctl kernel.yama.ptrace_scope=0`, or start \
             the program under the recorder (`migsim trace record -- COMMAND ...`): with the default ptrace_scope = 1 a \
             process may read its own children",
            comm(pid)
        )),
        Some(libc::ENOENT) | Some(libc::ESRCH) => {
            RecordError::Input(format!("no process with PID {pid}: it does not exist or has exited (list processes with `ps -e`)"))
        }
        _ => RecordError::Other(format!("cannot read {what} of PID {pid}: {e}")),
    }
}

/// Totals of one sample.
#[derive(Default)]
struct SampleStats {
    bytes: u64,
    present: u64,
}

struct Sampler {
    page_size: usize,
    frames: Frames,
    generation: u64,
    pagemap_buf: Vec<u8>,
    data: Vec<u8>,
    use_proc_mem: bool,
    mem_files: HashMap<i32, File>,
    /// This sample's present pages (key, content hash) and swapped-out pages.
    present: Vec<(u64, u64)>,
    swapped: Vec<u64>,
}

/// Pages read per process_vm_readv call (4 MiB with 4 KiB pages). Smaller batches that stay in
/// the cache were not faster: the cost is reading the target's memory (measured 16 to 1024).
const READ_BATCH_PAGES: usize = 1024;

impl Sampler {
    /// Hash every present page of `pid`'s writable mappings (into `present` and `swapped`).
    /// `Ok(false)` if the process has gone.
    fn sample_process(&mut self, pid: i32, st: &mut SampleStats) -> Result<bool, RecordError> {
        let maps = match writable_mappings(pid) {
            // A live user process always has a stack; no writable mapping means a zombie (or a
            // kernel thread, which has no user memory).
            Ok(m) if m.is_empty() => return Ok(false),
            Ok(m) => m,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ESRCH)) => return Ok(false),
            Err(e) => return Err(access_error(pid, "the memory map", &e)),
        };
        let pagemap = match File::open(format!("/proc/{pid}/pagemap")) {
            Ok(f) => f,
            Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT) | Some(libc::ESRCH)) => return Ok(false),
            Err(e) => return Err(access_error(pid, "the page map", &e)),
        };
        let ps = self.page_size as u64;
        for m in &maps {
            let mut vp = m.start / ps;
            let end = m.end / ps;
            while vp < end {
                // pagemap in slices of at most 64 Ki pages.
                let n = (end - vp).min(1 << 16) as usize;
                self.pagemap_buf.resize(n * 8, 0);
                let got = match pagemap.read_at(&mut self.pagemap_buf, vp * 8) {
                    Ok(g) => g / 8,
                    Err(e) if matches!(e.raw_os_error(), Some(libc::ESRCH)) => return Ok(false),
                    Err(e) => return Err(access_error(pid, "the page map", &e)),
                };
                if got == 0 {
                    break; // the mapping went away under us
                }
                let entries: Vec<u64> =
                    self.pagemap_buf[..got * 8].chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes"))).collect();
                let mut i = 0;
                while i < got {
                    if entries[i] & PM_PRESENT == 0 {
                        if entries[i] & PM_SWAPPED != 0 {
                            self.swapped.push(key(pid, vp + i as u64));
                        }
                        i += 1;
                        continue;
                    }
                    // A run of present pages, read in batches.
                    let mut j = i;
                    while j < got && j - i < READ_BATCH_PAGES && entries[j] & PM_PRESENT != 0 {
                        j += 1;
                    }
                    if !self.read_run(pid, vp + i as u64, j - i, st)? {
                        return Ok(false);
                    }
                    i = j;
                }
                vp += got as u64;
            }
        }
        Ok(true)
    }

    /// Read `len` bytes at `addr` of `pid` into `self.data[at..]`: process_vm_readv (one copy,
    /// no file), or /proc/PID/mem where a seccomp filter forbids the system call (some
    /// container runtimes do).
    fn read_remote(&mut self, pid: i32, addr: u64, at: usize, len: usize) -> std::io::Result<usize> {
        let buf = &mut self.data[at..at + len];
        if !self.use_proc_mem {
            let local = libc::iovec { iov_base: buf.as_mut_ptr().cast(), iov_len: len };
            let remote = libc::iovec { iov_base: addr as *mut libc::c_void, iov_len: len };
            // SAFETY: `local` covers `buf`, `len` writable bytes we own; the remote range is only
            // read, by the kernel, which checks it.
            let r = unsafe { libc::process_vm_readv(pid, &local, 1, &remote, 1, 0) };
            if r >= 0 {
                return Ok(r as usize);
            }
            let e = std::io::Error::last_os_error();
            if !matches!(e.raw_os_error(), Some(libc::ENOSYS) | Some(libc::EPERM)) {
                return Err(e);
            }
            self.use_proc_mem = true;
        }
        let f = match self.mem_files.entry(pid) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => v.insert(File::open(format!("/proc/{pid}/mem"))?),
        };
        f.read_at(buf, addr)
    }

    /// Read and hash `n` pages from virtual page `vp`. `Ok(false)` if the process has gone.
    fn read_run(&mut self, pid: i32, vp: u64, n: usize, st: &mut SampleStats) -> Result<bool, RecordError> {
        let ps = self.page_size;
        self.data.resize(n * ps, 0);
        let mut done = 0usize; // pages handled
        while done < n {
            let want = (n - done) * ps;
            let addr = (vp + done as u64) * ps as u64;
            let pages_read = match self.read_remote(pid, addr, done * ps, want) {
                Ok(r) => r / ps,
                Err(e) => match e.raw_os_error() {
                    Some(libc::ESRCH) | Some(libc::ENOENT) => return Ok(false),
                    // The page was unmapped or cannot be read: skip it.
                    Some(libc::EFAULT) | Some(libc::EIO) | Some(libc::ENOMEM) => 0,
                    _ => return Err(access_error(pid, "the memory", &e)),
                },
            };
            for k in done..done + pages_read {
                let h = twox_hash::XxHash3_64::oneshot(&self.data[k * ps..(k + 1) * ps]);
                self.present.push((key(pid, vp + k as u64), h));
            }
            st.bytes += (pages_read * ps) as u64;
            st.present += pages_read as u64;
            done += pages_read;
            if done < n && pages_read * ps < want {
                done += 1; // the page that failed
            }
        }
        Ok(true)
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let p = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if p > 0 { p as usize } else { 4096 }
}

/// End a program we started: SIGTERM, then SIGKILL after two seconds.
fn end_child(child: &mut Child) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    // SAFETY: kill with a pid we own (our child, not yet reaped) and a valid signal.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(2) {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Today's date (UTC), for the header.
fn date_utc() -> String {
    let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    // Days to civil date (H. Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let rem = secs % 86_400;
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02} UTC", rem / 3600, rem % 3600 / 60)
}

fn host() -> String {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").map(|s| s.trim().to_string()).unwrap_or_default();
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| c.lines().find(|l| l.starts_with("model name")).and_then(|l| l.split_once(':')).map(|(_, v)| v.trim().to_string()))
        .unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
    format!("Linux {kernel}, {cpu}, {cpus} CPUs")
}

pub fn record(o: &Options) -> Result<Outcome, RecordError> {
    if o.interval_ns == 0 {
        return Err(RecordError::Input("--interval must be longer than zero, e.g. 100ms".into()));
    }
    install_stop_handler();
    let mut child: Option<Child> = None;
    let pid = match &o.target {
        Target::Pid(p) => {
            if *p <= 0 || !std::path::Path::new(&format!("/proc/{p}")).exists() {
                return Err(RecordError::Input(format!(
                    "no process with PID {p}: it does not exist or has exited (list processes with `ps -e`)"
                )));
            }
            *p
        }
        Target::Command(argv) => {
            let c = Command::new(&argv[0]).args(&argv[1..]).stdin(Stdio::null()).spawn().map_err(|e| {
                RecordError::Input(format!("cannot start {:?}: {e} (is it installed and on PATH?)", argv[0].to_string_lossy()))
            })?;
            let pid = c.id() as i32;
            child = Some(c);
            pid
        }
    };
    let result = run(o, pid, &mut child);
    if let Some(c) = child.as_mut() {
        end_child(c);
    }
    result
}

fn run(o: &Options, pid: i32, child: &mut Option<Child>) -> Result<Outcome, RecordError> {
    let ps = page_size();
    // Read again at every sample: a program started through a wrapper (a shell script, pyenv's
    // shims) execs the real one after we start, and the name to keep is the last one.
    let mut program = cmdline(pid);
    let mut sampler = Sampler {
        page_size: ps,
        frames: Frames::new(ps),
        generation: 0,
        pagemap_buf: Vec::new(),
        data: Vec::new(),
        // Forcing the fallback lets its path be tested where process_vm_readv works.
        use_proc_mem: std::env::var_os("MIGSIM_RECORD_PROC_MEM").is_some_and(|v| v == "1"),
        mem_files: HashMap::new(),
        present: Vec::new(),
        swapped: Vec::new(),
    };
    let out_err = |e: std::io::Error| RecordError::Other(format!("{}: cannot write: {e}", o.output.display()));
    let mut writer = Writer::create(&o.output, o.form, Kind::Intervals).map_err(out_err)?;
    let tty = std::io::stderr().is_terminal();
    let interval = Duration::from_nanos(o.interval_ns);
    let mut samples: Vec<u64> = Vec::new(); // sample durations, ns
    let (mut bytes, mut page_writes, mut processes) = (0u64, 0u64, std::collections::HashSet::new());
    let mut dirty: Vec<u32> = Vec::new();
    let t0 = Instant::now();
    let mut first_start: Option<Instant> = None;
    let mut prev_start = 0u64; // ns since the first sample
    let mut next_tick = t0;
    let mut last_progress = t0;
    let mut last_dirty = 0usize;
    let end = loop {
        // Wait for the tick in small steps so Ctrl-C is prompt.
        loop {
            if STOP.load(Ordering::SeqCst) {
                break;
            }
            let now = Instant::now();
            if now >= next_tick {
                break;
            }
            std::thread::sleep((next_tick - now).min(Duration::from_millis(20)));
        }
        if STOP.load(Ordering::SeqCst) {
            break EndReason::Interrupted;
        }
        let started = Instant::now();
        // Trace time 0 is the start of the first (baseline) sample.
        let base = *first_start.get_or_insert(started);
        let at = started.duration_since(base).as_nanos() as u64;
        // A program we started and that has exited is a zombie until reaped: its maps read empty.
        let root_alive = match child.as_mut() {
            Some(c) => matches!(c.try_wait(), Ok(None)),
            None => true,
        };
        sampler.generation += 1;
        dirty.clear();
        sampler.present.clear();
        sampler.swapped.clear();
        let mut st = SampleStats::default();
        let mut alive = false;
        let tree = if root_alive { process_tree(pid, o.children) } else { Vec::new() };
        sampler.mem_files.retain(|p, _| tree.contains(p));
        {
            for &p in &tree {
                match sampler.sample_process(p, &mut st) {
                    Ok(true) => {
                        alive |= p == pid;
                        processes.insert(p);
                    }
                    Ok(false) => {}
                    // Only the process asked for must be readable; a descendant that is not is skipped.
                    Err(e) if p == pid => return Err(e),
                    Err(_) => {}
                }
            }
        }
        if !alive {
            if sampler.generation == 1 {
                return Err(RecordError::Input(format!(
                    "PID {pid} has no user memory to record: it has exited, or it is a kernel thread (list processes with `ps -e`)"
                )));
            }
            break EndReason::Exited;
        }
        program = cmdline(pid);
        sampler.frames.update(&sampler.present, &sampler.swapped, sampler.generation, &mut dirty);
        let took = started.elapsed().as_nanos() as u64;
        if sampler.generation > 1 {
            // The first sample is the baseline: what changed since it is the first interval's set.
            samples.push(took);
            dirty.sort_unstable();
            dirty.dedup();
            let pages: Vec<u64> = dirty.iter().map(|&f| u64::from(f)).collect();
            for &f in &dirty {
                sampler.frames.ever_dirty[f as usize] = true;
            }
            page_writes += pages.len() as u64;
            last_dirty = pages.len();
            let pages = PageSet::from_pages(&pages);
            writer.write(&Record::Interval { start_ns: prev_start, length_ns: at - prev_start, pages }).map_err(out_err)?;
            prev_start = at;
        } else {
            prev_start = at;
            // The baseline marked every page "changed" against a fresh frame; that is not a write.
            dirty.clear();
        }
        bytes += st.bytes;
        if !o.quiet && last_progress.elapsed() >= Duration::from_secs(if tty { 1 } else { 10 }) {
            last_progress = Instant::now();
            let mean = samples.iter().sum::<u64>() / samples.len().max(1) as u64;
            let line = format!(
                "recording PID {pid}: {} s, {} intervals, last {} dirty pages, {} pages present ({}), sample {} ({:.1}% of the interval)",
                at / 1_000_000_000,
                samples.len(),
                last_dirty,
                st.present,
                units::format_size(st.present * ps as u64),
                units::format_duration(mean),
                100.0 * mean as f64 / o.interval_ns as f64
            );
            if tty {
                eprint!("\r{line}\x1b[K");
            } else {
                eprintln!("{line}");
            }
        }
        if o.duration_ns.is_some_and(|d| at >= d) {
            break EndReason::Duration;
        }
        // The next tick; if sampling overran it, sample again at once.
        next_tick += interval;
        let now = Instant::now();
        if next_tick < now {
            next_tick = now;
        }
        if let Some(d) = o.duration_ns {
            next_tick = next_tick.min(base + Duration::from_nanos(d));
        }
    };
    if !o.quiet && tty {
        eprintln!();
    }
    let frames = sampler.frames.hash.len().max(1) as u64;
    let mean = samples.iter().sum::<u64>() / samples.len().max(1) as u64;
    let max = samples.iter().copied().max().unwrap_or(0);
    let outcome = Outcome {
        end,
        program: program.clone(),
        intervals: samples.len() as u64,
        duration_ns: prev_start,
        page_size: ps as u64,
        frames,
        distinct_dirty: sampler.frames.ever_dirty.iter().filter(|&&d| d).count() as u64,
        page_writes,
        sample_mean_ns: mean,
        sample_max_ns: max,
        bytes_hashed: bytes,
        processes_seen: processes.len() as u64,
    };
    let mut h = Header::new(Kind::Intervals, ps as u64, frames * ps as u64);
    h.interval_ns = Some(o.interval_ns);
    h.duration_ns = Some(prev_start);
    let tree = if o.children { " and its descendants" } else { "" };
    h.push_meta("program", &format!("{program} (PID {pid}{tree}; {} processes seen)", outcome.processes_seen));
    h.push_meta(
        "recorder",
        &format!(
            "migsim {} trace record: xxh3 hash of every present page of the readable+writable mappings (/proc/PID/maps, \
             /proc/PID/pagemap, process_vm_readv) every {}; a page whose hash changed is dirty; pages packed into frames \
             as first seen (docs/traces.md)",
            env!("CARGO_PKG_VERSION"),
            units::format_duration_exact(o.interval_ns)
        ),
    );
    h.push_meta("date", &date_utc());
    h.push_meta("host", &host());
    h.push_meta(
        "sample_time",
        &format!(
            "mean {}, max {} per sample ({:.1}% of the interval on average); {} hashed in all",
            units::format_duration(mean),
            units::format_duration(max),
            100.0 * outcome.sample_share(o.interval_ns),
            units::format_size(bytes)
        ),
    );
    h.push_meta("note", &format!("recording ended because {}", end.text()));
    writer.finish(&h).map_err(out_err)?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_reused_lowest_first_and_content_changes_are_dirty() {
        let mut f = Frames::new(4096);
        let z = f.zero_hash;
        assert_eq!(f.observe(key(1, 10), 7, 1), (0, true));
        assert_eq!(f.observe(key(1, 11), z, 1), (1, false)); // a zero page in a fresh frame: no write
        assert_eq!(f.observe(key(2, 10), 9, 1), (2, true));
        f.release_unseen(1);
        assert_eq!(f.observe(key(1, 10), 7, 2), (0, false));
        assert_eq!(f.observe(key(2, 10), 9, 2), (2, false));
        f.release_unseen(2); // (1, 11) is gone: frame 1 is free
        assert_eq!(f.observe(key(3, 5), z, 3), (1, false));
        assert_eq!(f.hash.len(), 3);
        // A page that leaves and one that arrives in the same sample share a frame.
        let mut dirty = Vec::new();
        f.update(&[(key(1, 10), 7), (key(3, 5), z), (key(4, 1), 5)], &[], 4, &mut dirty);
        assert_eq!((dirty, f.hash.len()), (vec![2], 3)); // (2, 10) left frame 2 to (4, 1)
    }

    #[test]
    fn dates_are_civil() {
        let d = date_utc();
        assert!(d.len() == 20 && d.ends_with(" UTC") && d.starts_with("20"), "{d}");
    }
}
