//! From results to what people read: the run table, CSV rows and the timeline CSV (`report`), the
//! chart renderer (`plot`, PNG and SVG with an embedded font), the run's timeline chart
//! (`timeline`), a plan's report (`plan`: its summary table, per-VM and per-link CSV) and charts
//! (`gantt`: the Gantt chart and the links' utilisation), the report of `migsim trace stats`
//! (`trace_stats`), a run told in sentences (`explain`), the self-contained HTML report (`html`),
//! and the tables and Pareto-front chart of `migsim advise` (`advise`).
//!
//! It reads the model's results and never changes them; it writes files only through
//! `crate::files` (atomically).

pub mod advise;
pub mod explain;
pub mod gantt;
pub mod html;
pub mod plan;
pub mod plot;
pub mod report;
pub mod timeline;
pub mod trace_stats;
