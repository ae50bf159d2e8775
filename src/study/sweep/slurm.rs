//! `migsim sweep --emit-slurm`: the Slurm job-array script of a sweep. Task I of the array runs
//! shard I of N (`migsim sweep --shard I/N --resume`) into a shared folder; a job that depends on
//! the array (`afterok`) runs `migsim merge` over the shards' `sweep.csv` files. This file owns
//! the sbatch options and their defaults, the checks of the values sbatch will read, and the
//! script's text: `slurm-array.sh` beside it, whose `@KEY@` holes are filled here.
//!
//! It writes one file and never runs Slurm. It knows nothing of the command line: the command
//! hands it the words that select the sweep (scenario, `--set`, `--sweep`, ...) as they are.

use super::common::Error;
use super::plan::Plan;
use std::path::{Path, PathBuf};

/// The script, with `@KEY@` holes.
const TEMPLATE: &str = include_str!("slurm-array.sh");

/// Array tasks when `--tasks` is not given: one per point up to this many. More tasks wait longer
/// in the queue as a whole; fewer leave cores idle. A large sweep names its own.
pub const DEFAULT_MAX_TASKS: u64 = 16;
/// Cores per task when `--cpus-per-task` is not given.
pub const DEFAULT_CPUS: u64 = 4;
/// Memory per core when `--mem` is not given, in MiB. A run holds a few bits per guest page: every
/// strategy on a 64 GiB guest (benches/hotcold-64g.toml) peaks at 14 MB resident, so 1 GiB per
/// concurrent run leaves a wide margin.
pub const DEFAULT_MIB_PER_CPU: u64 = 1024;
/// Wall-time limit per task when `--time` is not given. A task cut by it keeps its rows, and its
/// rerun continues from there.
pub const DEFAULT_TIME: &str = "01:00:00";

/// The sbatch options of the array's tasks (the merge job uses the same ones). `None`: the default.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    pub tasks: Option<u64>,
    pub cpus_per_task: Option<u64>,
    /// In sbatch's form (`4G`, `500M`), see [`slurm_mem`].
    pub mem: Option<String>,
    /// In sbatch's form (`01:00:00`, `2-00:00:00`), see [`slurm_time`].
    pub time: Option<String>,
    pub partition: Option<String>,
    pub account: Option<String>,
    /// More `#SBATCH` options, each one option as sbatch reads it (`--qos=short`).
    pub extra: Vec<String>,
}

/// What the tasks run and where.
#[derive(Debug, Clone)]
pub struct Job {
    /// The migsim binary, absolute (the compute nodes run it at this path).
    pub migsim: PathBuf,
    /// The words after `migsim` that select the sweep: `sweep`, the scenario (an absolute path)
    /// and its options (`--set`, `--sweep`, `--seed`, `--replications`, `--strategy`).
    pub sweep: Vec<String>,
    /// `--out` of every shard, absolute.
    pub out: PathBuf,
    /// `<out>/<scenario name>`: the shards' parent and the merge's output.
    pub results: PathBuf,
    /// The scenario's name as used in folder names; the job is called `migsim-<name>`.
    pub name: String,
    /// Whether the merge draws the charts.
    pub charts: bool,
}

/// What was written, for the command's line.
#[derive(Debug)]
pub struct Emitted {
    pub tasks: u64,
    pub points: u64,
    pub runs: u64,
    /// The fewest and the most points a task runs.
    pub per_task: (u64, u64),
}

/// `--time`: sbatch's forms (`MM`, `MM:SS`, `HH:MM:SS`, `D-HH`, `D-HH:MM`, `D-HH:MM:SS`,
/// `UNLIMITED`) as they are, or a duration as a scenario writes it (`90 min`, `2 h`), rounded up
/// to whole seconds and written `[D-]HH:MM:SS`.
pub fn slurm_time(s: &str) -> Result<String, String> {
    let t = s.trim();
    if ["unlimited", "infinite"].contains(&t.to_ascii_lowercase().as_str()) {
        return Ok(t.to_string());
    }
    let digits = |x: &str| !x.is_empty() && x.len() <= 6 && x.bytes().all(|c| c.is_ascii_digit());
    let (days, clock) = match t.split_once('-') {
        Some((d, c)) => (Some(d), c),
        None => (None, t),
    };
    let fields: Vec<&str> = clock.split(':').collect();
    if days.is_none_or(digits) && fields.len() <= 3 && fields.iter().all(|f| digits(f)) {
        // sbatch reads 0 as "no limit", as it reads UNLIMITED.
        return Ok(t.to_string());
    }
    let bad = |why: &str| {
        format!(
            "{s:?} {why}: give sbatch's form (`30` minutes, `01:30:00`, `2-00:00:00` for two days) or a duration such as `90 min` or `2 h`"
        )
    };
    let ns = crate::units::parse_duration(t).map_err(|_| bad("is not a time limit"))?;
    if ns == 0 {
        return Err(bad("is zero"));
    }
    let secs = ns.div_ceil(1_000_000_000);
    let (d, h, m, sec) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    Ok(if d > 0 { format!("{d}-{h:02}:{m:02}:{sec:02}") } else { format!("{h:02}:{m:02}:{sec:02}") })
}

/// `--mem`: sbatch's form (a whole number with an optional K, M, G or T suffix, M if none) as it
/// is, or a size as a scenario writes it (`4 GiB`, `500 MiB`), rounded up to whole MiB.
pub fn slurm_mem(s: &str) -> Result<String, String> {
    let t = s.trim();
    let (n, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    if !n.is_empty() && n.len() <= 12 && (unit.is_empty() || unit.len() == 1 && "KMGTkmgt".contains(unit)) {
        if n.bytes().all(|c| c == b'0') {
            return Err(format!("{s:?} is zero: give the memory per task, e.g. `4G` or `4 GiB`"));
        }
        return Ok(t.to_string());
    }
    let bytes = crate::units::parse_size(t)
        .map_err(|_| format!("{s:?} is not a memory size: give sbatch's form (`4G`, `500M`) or a size such as `4 GiB`"))?;
    if bytes == 0 {
        return Err(format!("{s:?} is zero: give the memory per task, e.g. `4G` or `4 GiB`"));
    }
    let mib = bytes.div_ceil(1 << 20);
    Ok(if mib % 1024 == 0 { format!("{}G", mib / 1024) } else { format!("{mib}M") })
}

/// `--partition` and `--account`: names sbatch reads as one word (a partition may be a comma list).
pub fn slurm_name(s: &str) -> Result<String, String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || "_-.,+@".contains(c);
    if s.is_empty() || !s.chars().all(ok) {
        return Err(format!("{s:?}: a Slurm name is letters, digits and `_-.,+@` (see `sinfo -s` for the partitions)"));
    }
    Ok(s.to_string())
}

/// `--sbatch`: one more sbatch option for the `#SBATCH` lines, e.g. `--qos=short`.
pub fn slurm_option(s: &str) -> Result<String, String> {
    let t = s.trim();
    if !t.starts_with('-') || t.contains(['\n', '\r']) || t.len() < 2 {
        return Err(format!("{s:?}: give one sbatch option as it would follow #SBATCH, e.g. --sbatch=--qos=short"));
    }
    Ok(t.to_string())
}

/// A word for bash: as it is where it is plain, else in single quotes (a `'` as `'\''`).
pub fn shell_word(s: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./=:,+@%^".contains(c);
    if !s.is_empty() && s.chars().all(plain) { s.to_string() } else { format!("'{}'", s.replace('\'', r"'\''")) }
}

/// A path on an `#SBATCH` line: sbatch splits the line at blanks and removes double quotes.
fn directive_path(p: &Path, job: &Job) -> Result<String, Error> {
    let s = p.display().to_string();
    let bad = |t: &str| t.contains(['"', '\n', '\r', '\\']);
    if bad(&s) {
        return Err(Error::Input(format!(
            "{}: the Slurm logs go in {s:?}, and an #SBATCH line cannot hold quotes, backslashes or line breaks; {}",
            cause(job, bad),
            "choose a results folder without them"
        )));
    }
    Ok(if s.contains(char::is_whitespace) { format!("\"{s}\"") } else { s })
}

/// A path written in the script's comments and variables: no line breaks.
fn one_line(p: &Path, job: &Job) -> Result<String, Error> {
    let s = p.display().to_string();
    let bad = |t: &str| t.contains(['\n', '\r']);
    if bad(&s) {
        return Err(Error::Input(format!("{}: {s:?} cannot go in a Slurm script: it holds a line break", cause(job, bad))));
    }
    Ok(s)
}

/// Which of the user's inputs put a character the script cannot hold into a path: `--out`, the
/// scenario's name (the results folder's last part) or the migsim binary's path.
fn cause(job: &Job, bad: impl Fn(&str) -> bool) -> String {
    if bad(&job.out.display().to_string()) {
        format!("--out {:?}", job.out.display().to_string())
    } else if bad(&job.name) {
        format!("the scenario's name {:?} (the results folder is named after it; change `name`)", job.name)
    } else {
        format!("the migsim binary's path {:?}", job.migsim.display().to_string())
    }
}

/// The task count, checked against the sweep: every task must have at least one point.
pub fn tasks(plan: &Plan, asked: Option<u64>) -> Result<u64, Error> {
    let points = plan.total_points;
    match asked {
        None => Ok(points.clamp(1, DEFAULT_MAX_TASKS)),
        Some(0) => Err(Error::Input("--tasks 0: give at least 1 array task".into())),
        Some(n) if n > points => Err(Error::Input(format!(
            "--tasks {n}: the sweep has {points} point{}, so at most {points} tasks have work (a task runs whole points)",
            if points == 1 { "" } else { "s" }
        ))),
        Some(n) => Ok(n),
    }
}

/// The script's text and what it runs. `script_name` is the file name the usage lines show.
pub fn script(plan: &Plan, job: &Job, res: &Resources, script_name: &str) -> Result<(String, Emitted), Error> {
    let n = tasks(plan, res.tasks)?;
    let cpus = res.cpus_per_task.unwrap_or(DEFAULT_CPUS);
    if cpus == 0 {
        return Err(Error::Input("--cpus-per-task 0: give at least 1".into()));
    }
    let mem = res.mem.clone().unwrap_or_else(|| slurm_mem(&format!("{} MiB", cpus * DEFAULT_MIB_PER_CPU)).expect("a valid size"));
    let time = res.time.clone().unwrap_or_else(|| DEFAULT_TIME.to_string());
    let points = plan.total_points;
    let cut = |k: u64| (points as u128 * k as u128 / n as u128) as u64;
    let sizes: Vec<u64> = (1..=n).map(|i| cut(i) - cut(i - 1)).collect();
    let per_task = (*sizes.iter().min().unwrap_or(&0), *sizes.iter().max().unwrap_or(&0));
    let runs = points * plan.per_point();
    let logs = job.results.join("slurm");

    let mut d = vec![
        format!("#SBATCH --job-name=migsim-{}", job.name),
        "# One task per shard; `rerun 3,7` (or `sbatch --array=3,7`) runs only those.".into(),
        format!("#SBATCH --array=1-{n}"),
        "# Cores per task: the shard's runs go in parallel on all of them (--jobs $SLURM_CPUS_PER_TASK).".into(),
        format!("#SBATCH --cpus-per-task={cpus}"),
        "# Memory per task (K, M, G or T). A run of even a 64 GiB guest needs tens of MB: 1 GiB per core is ample.".into(),
        format!("#SBATCH --mem={mem}"),
        "# Wall-time limit per task ([D-]HH:MM:SS). A task it cuts keeps its rows: `rerun I` continues it.".into(),
        format!("#SBATCH --time={time}"),
        "# The partition (queue) and the account to charge; without them, the cluster's defaults.".into(),
    ];
    for (key, v) in [("partition", &res.partition), ("account", &res.account)] {
        d.push(match v {
            Some(v) => format!("#SBATCH --{key}={v}"),
            None => format!("##SBATCH --{key}=NAME"),
        });
    }
    if !res.extra.is_empty() {
        d.push("# Given with --sbatch:".into());
        d.extend(res.extra.iter().map(|o| format!("#SBATCH {o}")));
    }
    d.push("# One log per task: %x is the job name, %A the array's job id, %a the task.".into());
    d.push(format!("#SBATCH --output={}/%x-%A_%a.out", directive_path(&logs, job)?));

    let mut command = vec!["migsim".to_string()];
    command.extend(job.sweep.iter().cloned());
    command.extend(["--out".into(), job.out.display().to_string(), "--emit-slurm".into(), script_name.into()]);
    command.extend(["--tasks".into(), n.to_string(), "--cpus-per-task".into(), cpus.to_string()]);
    command.extend(["--mem".into(), mem.clone(), "--time".into(), time.clone()]);
    for (key, v) in [("--partition", &res.partition), ("--account", &res.account)] {
        if let Some(v) = v {
            command.extend([key.to_string(), v.clone()]);
        }
    }
    command.extend(res.extra.iter().map(|o| format!("--sbatch={o}")));
    if !job.charts {
        command.push("--no-charts".into());
    }

    let count = |k: u64, what: &str| format!("{k} {what}{}", if k == 1 { "" } else { "s" });
    let per_task_text = match per_task {
        (a, b) if a == b => format!("{} ({}) each", count(a, "point"), count(a * plan.per_point(), "run")),
        (a, b) => format!("{a} or {b} points ({} or {} runs) each", a * plan.per_point(), b * plan.per_point()),
    };
    let fills: [(&str, String); 18] = [
        ("NAME", plan.name.replace(['\n', '\r'], " ")),
        ("POINTS", count(points, "point")),
        ("RUNS", count(runs, "run")),
        ("TASKS", n.to_string()),
        ("VERSION", env!("CARGO_PKG_VERSION").into()),
        ("COMMAND", command.iter().map(|w| shell_word(w)).collect::<Vec<_>>().join(" ").replace(['\n', '\r'], " ")),
        ("PER_TASK", per_task_text),
        ("RESULTS_TEXT", one_line(&job.results, job)?),
        ("LOGS_TEXT", one_line(&logs, job)?),
        ("SCRIPT", script_name.replace(['\n', '\r'], " ")),
        ("DIRECTIVES", d.join("\n")),
        ("MIGSIM", shell_word(&one_line(&job.migsim, job)?)),
        ("SWEEP", job.sweep.iter().map(|w| shell_word(w)).collect::<Vec<_>>().join(" ")),
        ("OUT", shell_word(&one_line(&job.out, job)?)),
        ("RESULTS", shell_word(&one_line(&job.results, job)?)),
        ("LOGS", shell_word(&one_line(&logs, job)?)),
        ("JOBNAME", shell_word(&format!("migsim-{}", job.name))),
        ("MERGE_FLAGS", if job.charts { String::new() } else { " --no-charts".into() }),
    ];
    Ok((fill(TEMPLATE, &fills), Emitted { tasks: n, points, runs, per_task }))
}

/// The template with each `@KEY@` of `fills` replaced, in one pass (a value is never read again,
/// so a path that happens to contain `@TASKS@` stays as it is). Other `@`s are kept.
fn fill(template: &str, fills: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 4096);
    let mut rest = template;
    while let Some(at) = rest.find('@') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let key_len = after.find(|c: char| !(c.is_ascii_uppercase() || c == '_')).unwrap_or(after.len());
        match fills.iter().find(|(k, _)| *k == &after[..key_len]) {
            Some((_, v)) if after[key_len..].starts_with('@') => {
                out.push_str(v);
                rest = &after[key_len + 1..];
            }
            _ => {
                out.push('@');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Check every point of the sweep (on `jobs` threads), as a sweep does before its first run, so
/// that a mistake shows here and not in the tasks; then write the script to `path` atomically,
/// executable, and create the log folder the tasks write to (sbatch does not create it, and a
/// task whose log cannot be opened fails without a word).
pub fn emit(path: &Path, plan: &Plan, job: &Job, res: &Resources, jobs: usize) -> Result<Emitted, Error> {
    super::common::pool(jobs)?.install(|| plan.base.validate(plan.points.clone())).map_err(|e| Error::Input(e.to_string()))?;
    let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_else(|| "sweep.sbatch".into());
    let (text, emitted) = script(plan, job, res, &name)?;
    let logs = job.results.join("slurm");
    crate::files::create_dir_all(&logs).map_err(|e| Error::Other(format!("{}: cannot create: {e}", logs.display())))?;
    crate::files::write_atomic(path, text.as_bytes()).map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
            .map_err(|e| Error::Other(format!("{}: cannot make it executable: {e}", path.display())))?;
    }
    Ok(emitted)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shipped sweep: 2 bandwidths x 6 write rates = 12 points, 3 strategies, 3 replications.
    fn shipped() -> Plan {
        let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweep-dirty-rate.toml");
        let base = super::super::spec::Base::load(&file, &[], &[], None).unwrap_or_else(|e| panic!("{e}"));
        Plan::new(base, None, None, None).unwrap_or_else(|_| panic!("the shipped sweep has a plan"))
    }

    fn job(charts: bool) -> Job {
        Job {
            migsim: "/opt/migsim/bin/migsim".into(),
            sweep: ["sweep", "/data/my scenarios/s.toml", "--set", "network.latency=0.2 ms", "--seed", "5"].map(String::from).to_vec(),
            out: "/scratch/u/results".into(),
            results: "/scratch/u/results/sweep-dirty-rate".into(),
            name: "sweep-dirty-rate".into(),
            charts,
        }
    }

    fn text(res: &Resources, charts: bool) -> (String, Emitted) {
        script(&shipped(), &job(charts), res, "sweep.sbatch").unwrap_or_else(|_| panic!("a script"))
    }

    #[test]
    fn the_array_has_one_task_per_shard_and_each_runs_its_shard_with_resume() {
        let (s, e) = text(&Resources { tasks: Some(5), ..Default::default() }, true);
        assert_eq!((e.tasks, e.points, e.runs, e.per_task), (5, 12, 108, (2, 3)));
        assert!(s.contains("\n#SBATCH --array=1-5\n"), "{s}");
        assert!(s.contains("\nTASKS=5\n"));
        // Shards are numbered from 1, as the array's tasks; the task's cores become --jobs.
        assert!(s.contains("task \"$SLURM_ARRAY_TASK_ID\""));
        let task = s.lines().find(|l| l.contains("exec \"$MIGSIM\" \"${SWEEP[@]}\"")).expect("the task's command");
        for part in ["\"${SWEEP[@]}\"", "--out \"$OUT\"", "--shard \"$1/$TASKS\"", "--jobs \"$(cores)\"", "--resume", "--no-charts"] {
            assert!(task.contains(part), "{part} missing from {task}");
        }
        assert!(s.contains("echo \"${SLURM_CPUS_PER_TASK:-$(nproc)}\""));
        // The sweep's words, quoted for bash where they need it.
        assert!(s.contains("SWEEP=(sweep '/data/my scenarios/s.toml' --set 'network.latency=0.2 ms' --seed 5)"), "{s}");
        assert!(s.contains("MIGSIM=${MIGSIM:-/opt/migsim/bin/migsim}"));
        assert!(s.contains("\nRESULTS=/scratch/u/results/sweep-dirty-rate\n"));
        assert!(s.contains("2 or 3 points (18 or 27 runs) each"));
    }

    #[test]
    fn the_merge_job_waits_for_the_whole_array_and_joins_every_shard() {
        let (s, _) = text(&Resources { tasks: Some(4), ..Default::default() }, false);
        assert!(s.contains("--dependency=\"afterok:$array\" \"$self\" merge"), "{s}");
        assert!(s.contains("array=$(sbatch --parsable --array=\"$1\" \"$self\")"));
        assert!(s.contains("for ((i = 1; i <= TASKS; i++)); do"));
        assert!(s.contains("inputs+=(\"$RESULTS/shard-$i-of-$TASKS/sweep.csv\")"));
        let merge = s.lines().find(|l| l.contains("\"$MIGSIM\" merge")).expect("the merge command");
        assert!(merge.contains("\"$RESULTS\" \"${inputs[@]}\" --jobs \"$(cores)\" --no-charts"), "{merge}");
        let (s, _) = text(&Resources { tasks: Some(4), ..Default::default() }, true);
        let merge = s.lines().find(|l| l.contains("\"$MIGSIM\" merge")).expect("the merge command");
        assert!(merge.ends_with("--jobs \"$(cores)\""), "{merge}");
    }

    #[test]
    fn every_directive_comes_before_the_first_command_and_every_hole_is_filled() {
        let res = Resources {
            tasks: None,
            cpus_per_task: Some(8),
            mem: None,
            time: Some("2-00:00:00".into()),
            partition: Some("short".into()),
            account: None,
            extra: vec!["--qos=low".into()],
        };
        let (s, e) = text(&res, true);
        // sbatch reads #SBATCH lines only until the first line that is neither blank nor a comment.
        let first_command = s.lines().skip(1).position(|l| !l.trim().is_empty() && !l.starts_with('#')).expect("a command") + 1;
        let directives: Vec<(usize, &str)> = s.lines().enumerate().filter(|(_, l)| l.starts_with("#SBATCH")).collect();
        assert!(directives.iter().all(|(i, _)| *i < first_command), "{s}");
        let d: Vec<&str> = directives.iter().map(|(_, l)| *l).collect();
        assert_eq!(
            d,
            [
                "#SBATCH --job-name=migsim-sweep-dirty-rate",
                "#SBATCH --array=1-12",
                "#SBATCH --cpus-per-task=8",
                "#SBATCH --mem=8G",
                "#SBATCH --time=2-00:00:00",
                "#SBATCH --partition=short",
                "#SBATCH --qos=low",
                "#SBATCH --output=/scratch/u/results/sweep-dirty-rate/slurm/%x-%A_%a.out",
            ]
        );
        // The default task count is one per point (12 here), the default memory 1 GiB per core.
        assert_eq!(e.tasks, 12);
        assert!(s.contains("\n##SBATCH --account=NAME\n"));
        // No hole is left; the bash array expansions are kept.
        let holes: Vec<&str> =
            s.split('@').skip(1).step_by(2).filter(|k| !k.is_empty() && k.chars().all(|c| c.is_ascii_uppercase() || c == '_')).collect();
        assert!(holes.is_empty(), "unfilled: {holes:?}");
        assert!(s.contains("\"${inputs[@]}\""));
        assert!(s.starts_with("#!/bin/bash\n"));
    }

    #[test]
    fn the_task_count_must_give_every_task_a_point() {
        let plan = shipped();
        assert_eq!(tasks(&plan, None).ok(), Some(12));
        assert_eq!(tasks(&plan, Some(12)).ok(), Some(12));
        let msg = |n| match tasks(&plan, Some(n)) {
            Err(Error::Input(m)) => m,
            _ => panic!("--tasks {n} accepted"),
        };
        assert!(msg(0).contains("at least 1"));
        assert!(msg(13).contains("the sweep has 12 points, so at most 12 tasks"), "{}", msg(13));
    }

    #[test]
    fn time_limits_in_sbatch_form_or_as_durations() {
        for ok in ["30", "1:30:00", "90:00", "2-00:00:00", "2-12", "1-6:30", "UNLIMITED", "0"] {
            assert_eq!(slurm_time(ok).as_deref(), Ok(ok));
        }
        assert_eq!(slurm_time("90 min").as_deref(), Ok("01:30:00"));
        assert_eq!(slurm_time("36 h").as_deref(), Ok("1-12:00:00"));
        assert_eq!(slurm_time("1.5 s").as_deref(), Ok("00:00:02"));
        for bad in ["soon", "1:2:3:4", "-5", "0 s", "5 parsecs", "1-2-3", ""] {
            assert!(slurm_time(bad).is_err(), "{bad:?} accepted");
        }
        assert!(slurm_time("soon").unwrap_err().contains("2-00:00:00"));
    }

    #[test]
    fn memory_in_sbatch_form_or_as_sizes() {
        for ok in ["4G", "500M", "500", "1T", "64k"] {
            assert_eq!(slurm_mem(ok).as_deref(), Ok(ok));
        }
        assert_eq!(slurm_mem("4 GiB").as_deref(), Ok("4G"));
        assert_eq!(slurm_mem("1.5 GiB").as_deref(), Ok("1536M"));
        assert_eq!(slurm_mem("100 MB").as_deref(), Ok("96M"));
        for bad in ["0", "0 GiB", "lots", "4 GB/s", "4GiBs", "-4G"] {
            assert!(slurm_mem(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn names_options_and_shell_words() {
        assert_eq!(slurm_name("gpu,short").as_deref(), Ok("gpu,short"));
        assert!(slurm_name("my queue").is_err() && slurm_name("").is_err());
        assert_eq!(slurm_option(" --qos=low ").as_deref(), Ok("--qos=low"));
        assert!(slurm_option("qos=low").is_err() && slurm_option("--a\n--b").is_err());
        assert_eq!(shell_word("network.bandwidth=1Gbit/s"), "network.bandwidth=1Gbit/s");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word("it's $HOME"), r"'it'\''s $HOME'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("~/x"), "'~/x'");
    }

    #[test]
    fn holes_are_filled_once() {
        let fills = [("A", "@B@".to_string()), ("B", "b".to_string())];
        assert_eq!(fill("x @A@ @B@ ${y[@]} a@b.c @C@", &fills), "x @B@ b ${y[@]} a@b.c @C@");
    }
}
