//! `migsim explain`: simulate a scenario and tell each migration round by round in plain sentences
//! (`output::explain` writes them); `--vm` picks one VM, `--format` text or Markdown.

use super::common::{Failure, ScenarioArgs, StrategyArg, load, out, strategy_arg};
use crate::output::explain;
use clap::ValueEnum;

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExplainFormat {
    Text,
    Markdown,
}

#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    #[command(flatten)]
    pub scenario: ScenarioArgs,
    /// Which strategy to explain (default: what the scenario says); `all` explains each of them.
    #[arg(long, value_parser = strategy_arg())]
    pub strategy: Option<StrategyArg>,
    /// Only the migrations of this VM.
    #[arg(long)]
    pub vm: Option<String>,
    /// `text` (wrapped at 100 columns) or `markdown`.
    #[arg(long, value_enum, default_value_t = ExplainFormat::Text)]
    pub format: ExplainFormat,
    /// Tell every pre-copy round (by default a long run's middle rounds are told together).
    #[arg(long)]
    pub all_rounds: bool,
}

/// The VM `--vm` names, or an input error listing the scenario's VMs.
pub fn check_vm(sc: &crate::model::Scenario, vm: Option<&str>) -> Result<(), Failure> {
    let Some(v) = vm else { return Ok(()) };
    let names: Vec<&str> = sc.migrations.iter().map(|m| sc.vms[m.vm].name.as_str()).collect();
    if names.contains(&v) {
        return Ok(());
    }
    let hint = crate::names::suggest(v, names.iter().copied()).map_or(String::new(), |s| format!("did you mean `{s}`? "));
    Err(Failure::input(format!("--vm {v}: no migration of that VM in {}; {hint}VMs that migrate: {}", sc.file, names.join(", "))))
}

pub fn cmd_explain(a: &ExplainArgs) -> Result<(), Failure> {
    let mut sc = load(&a.scenario)?;
    if let Some(s) = &a.strategy {
        sc.use_strategies(s.0.clone());
    }
    check_vm(&sc, a.vm.as_deref())?;
    let r = crate::model::simulate(&sc);
    let all = explain::explain_run(&sc, &r, a.vm.as_deref(), a.all_rounds);
    let header = explain::header(&r);
    out(&match a.format {
        ExplainFormat::Text => explain::to_text(&header, &all),
        ExplainFormat::Markdown => explain::to_markdown(&format!("# {header}"), &all),
    })
}
