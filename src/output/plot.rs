//! Charts as PNG and SVG: lines or points (a scatter) with optional error bars, or bars spanning an
//! x interval, against x (optionally on a log axis), with shaded x spans, a title, axis labels and a
//! legend; one or more panels per picture. And Gantt charts: a row per item, a bar per interval
//! coloured by class. Nothing here knows about migrations: the sweep charts, `migsim plot`, the run
//! timeline and the advice's Pareto front all describe their pictures as [`Chart`] values and hand
//! them to [`write`].
//!
//! Text is drawn with DejaVu Sans, embedded in the binary and registered with plotters' ab_glyph
//! renderer, so charts render the same on a machine with no fonts (and no fontconfig) installed.

use anyhow::{Context, anyhow};
use plotters::coord::Shift;
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use std::path::Path;

static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
/// plotters asks for this family by default (e.g. in legends), so the embedded font takes its name.
const FAMILY: &str = "sans-serif";

/// Register the embedded font once per process (plotters keeps a global registry).
fn register_font() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT).unwrap_or_else(|_| panic!("the embedded font is a valid TTF"));
    });
}

/// One point of a series. `lo`/`hi` draw an error bar; `x_end` makes a bar from `x` to `x_end`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub lo: Option<f64>,
    pub hi: Option<f64>,
    pub x_end: Option<f64>,
}

impl Point {
    pub fn new(x: f64, y: f64) -> Self {
        Point { x, y, lo: None, hi: None, x_end: None }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// A line through the points, a marker on each, and their error bars.
    Lines,
    /// A filled bar per point from `x` to `x_end`, up from zero to `y`.
    Bars,
    /// A marker on each point and its error bars, no line (a scatter).
    Points,
    /// Small grey markers, no error bars: the background a scatter stands out from.
    Faint,
    /// A black ring around each point, and its error bars: the point to look at.
    Ring,
    /// A line through the points without markers (a dense series, e.g. a rate sampled over time).
    Path,
    /// A dashed line through the points, without markers: a reference such as a threshold.
    Dashed,
}

#[derive(Debug, Clone)]
pub struct Series {
    pub label: String,
    pub style: Style,
    pub points: Vec<Point>,
}

/// A shaded x interval across the whole plot (e.g. the downtime), named in the legend.
#[derive(Debug, Clone)]
pub struct Span {
    pub label: String,
    pub from: f64,
    pub to: f64,
}

#[derive(Debug, Clone, Default)]
pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub log_x: bool,
    /// A logarithmic y axis (points at or below zero are left out; bars stand on the axis).
    pub log_y: bool,
    /// Name the x positions 0, 1, 2, ... with these labels (a categorical axis).
    pub x_categories: Option<Vec<String>>,
    pub series: Vec<Series>,
    pub spans: Vec<Span>,
}

/// Size of one panel, in pixels.
pub const PANEL: (u32, u32) = (960, 600);

/// Colour-blind-safe colours (Okabe and Ito), then black.
const PALETTE: [RGBColor; 8] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(120, 120, 120),
    RGBColor(0, 0, 0),
];

/// A tick label: short, no exponent for the ranges charts use ("262k", "1.5M", "0.25").
pub fn tick(v: f64) -> String {
    let a = v.abs();
    let trim = crate::units::trim_zeros;
    if a == 0.0 {
        "0".into()
    } else if a >= 1e9 {
        format!("{}G", trim(format!("{:.2}", v / 1e9)))
    } else if a >= 1e6 {
        format!("{}M", trim(format!("{:.2}", v / 1e6)))
    } else if a >= 1e4 {
        format!("{}k", trim(format!("{:.1}", v / 1e3)))
    } else if a >= 1.0 {
        trim(format!("{v:.2}"))
    } else {
        // Enough decimals for three significant digits.
        let d = (2 - a.log10().floor() as i32).clamp(0, 12) as usize;
        trim(format!("{v:.d$}"))
    }
}

/// The x and y ranges that show every point, bar, error bar and span, with a margin.
fn ranges(c: &Chart) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
    let pts = c.series.iter().flat_map(|s| s.points.iter());
    let xs: Vec<f64> = pts
        .clone()
        .flat_map(|p| [Some(p.x), p.x_end].into_iter().flatten())
        .chain(c.spans.iter().flat_map(|s| [s.from, s.to]))
        .filter(|x| x.is_finite() && (!c.log_x || *x > 0.0))
        .collect();
    let ys: Vec<f64> =
        pts.flat_map(|p| [Some(p.y), p.lo, p.hi].into_iter().flatten()).filter(|y| y.is_finite() && (!c.log_y || *y > 0.0)).collect();
    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = |v: &[f64]| v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let x = if let Some(cats) = &c.x_categories {
        -0.5..(cats.len().max(1) as f64 - 0.5)
    } else if xs.is_empty() {
        if c.log_x { 1.0..10.0 } else { 0.0..1.0 }
    } else if c.log_x {
        let (a, b) = (min(&xs), max(&xs));
        if a == b { a / 2.0..b * 2.0 } else { a / (b / a).powf(0.03)..b * (b / a).powf(0.03) }
    } else {
        let (a, b) = (min(&xs), max(&xs));
        let pad = if a == b { a.abs().max(1.0) * 0.5 } else { (b - a) * 0.03 };
        a - pad..b + pad
    };
    // Headroom for the legend (upper right), so that it does not hide the data: its height as a
    // share of the plot's (entries of 19 px, the plot about PANEL.1 - 150 px tall).
    let entries = c.series.len().min(LEGEND_MAX + 1) + c.spans.len();
    let share = ((entries as f64 * 19.0 + 16.0) / (PANEL.1 as f64 - 150.0)).min(0.6);
    if c.log_y {
        // From a power of ten, so that the axis always has a labelled tick.
        let (lo, hi) = if ys.is_empty() { (1.0, 10.0) } else { (10f64.powf((min(&ys) / 1.5).log10().floor()), max(&ys) * 1.5) };
        let hi = if hi <= lo { lo * 10.0 } else { hi };
        return (x, lo..hi * (hi / lo).powf(share / (1.0 - share)));
    }
    // Bars stand on zero, and charts of non-negative figures read best from zero.
    let (mut lo, mut hi) = if ys.is_empty() { (0.0, 1.0) } else { (min(&ys).min(0.0), max(&ys)) };
    if hi <= lo {
        hi = lo + 1.0;
    }
    let pad = (hi - lo) * 0.05;
    if lo < 0.0 {
        lo -= pad;
    }
    (x, lo..hi + pad + (hi - lo + pad) * share / (1.0 - share))
}

/// Ticks of a log axis over `r`: 1, 2 and 5 times each power of ten (all of 1..9 on a short axis,
/// the powers alone on a long one), so that every decade of the axis is labelled, the first too.
pub fn log_ticks(r: &std::ops::Range<f64>) -> Vec<f64> {
    let (lo, hi) = (r.start.min(r.end), r.start.max(r.end));
    if !(lo > 0.0 && hi.is_finite()) {
        return Vec::new();
    }
    let pick = |mults: &[f64]| -> Vec<f64> {
        let mut v = Vec::new();
        for k in lo.log10().floor() as i32..=hi.log10().ceil() as i32 {
            for m in mults {
                let t = m * 10f64.powi(k);
                if t >= lo * (1.0 - 1e-9) && t <= hi * (1.0 + 1e-9) {
                    v.push(t);
                }
            }
        }
        v
    };
    let mid = pick(&[1.0, 2.0, 5.0]);
    if mid.len() < 4 {
        pick(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0])
    } else if mid.len() > 12 {
        pick(&[1.0])
    } else {
        mid
    }
}

fn draw_panel<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, c: &Chart) -> anyhow::Result<()> {
    let (x, y) = ranges(c);
    let ends = (y.start, y.end);
    let (xt, yt) = (log_ticks(&x), log_ticks(&y));
    match (c.log_x, c.log_y) {
        (false, false) => draw_on(area, c, x, y, ends),
        (true, false) => draw_on(area, c, x.log_scale().with_key_points(xt), y, ends),
        (false, true) => draw_on(area, c, x, y.log_scale().with_key_points(yt), ends),
        (true, true) => draw_on(area, c, x.log_scale().with_key_points(xt), y.log_scale().with_key_points(yt), ends),
    }
}

/// An axis title, saying so when the axis is logarithmic (every chart's log axes are labelled).
fn axis_title(label: &str, log: bool) -> String {
    if !log || label.contains("log scale") {
        label.to_string()
    } else if let Some(inner) = label.strip_suffix(')') {
        // "bandwidth (Gbit/s)" -> "bandwidth (Gbit/s, log scale)"
        format!("{inner}, log scale)")
    } else {
        format!("{label} (log scale)")
    }
}

/// Runs `$body` with `$mk` bound to a function from a pixel position to a series' marker there. The
/// shape follows the series' number: circle, triangle, square, diamond, cross, hollow square, in
/// turn, so that
/// series differ in shape as well as colour (for readers who cannot tell the colours apart, and
/// where lines lie on top of each other). A macro, because each shape is its own element type.
macro_rules! with_marker {
    ($shape:expr, $color:expr, |$mk:ident| $body:block) => {{
        let fill = $color.filled();
        let cross = $color.stroke_width(2);
        match $shape % 6 {
            0 => {
                let $mk = move |c: (i32, i32)| Circle::new(c, 4, fill);
                $body
            }
            1 => {
                let $mk = move |c: (i32, i32)| TriangleMarker::new(c, 6, fill);
                $body
            }
            2 => {
                let $mk = move |c: (i32, i32)| Rectangle::new([(c.0 - 4, c.1 - 4), (c.0 + 4, c.1 + 4)], fill);
                $body
            }
            3 => {
                let $mk = move |c: (i32, i32)| Polygon::new(vec![(c.0, c.1 - 6), (c.0 + 5, c.1), (c.0, c.1 + 6), (c.0 - 5, c.1)], fill);
                $body
            }
            4 => {
                let $mk = move |c: (i32, i32)| Cross::new(c, 5, cross);
                $body
            }
            _ => {
                let $mk = move |c: (i32, i32)| Rectangle::new([(c.0 - 4, c.1 - 4), (c.0 + 4, c.1 + 4)], cross);
                $body
            }
        }
    }};
}

/// The most series the legend names; the rest are counted in one more entry.
pub const LEGEND_MAX: usize = 12;

/// Series with more points than this are drawn without markers (they would hide the line).
const MARKERS_UP_TO: usize = 60;

/// The error bars of the points shown (on a log axis, those whose bar stays above zero).
fn error_bars(points: &[Point], log_y: bool, color: RGBColor) -> Vec<ErrorBar<f64, f64, plotters::element::ErrorBarOrientV<f64, f64>>> {
    points
        .iter()
        .filter(|p| !log_y || (p.y > 0.0 && p.lo.is_some_and(|l| l > 0.0)))
        .filter_map(|p| Some(ErrorBar::new_vertical(p.x, p.lo?, p.y, p.hi?, color.stroke_width(1), 8)))
        .collect()
}

/// Draw `c` on coordinates `x` by `y` (linear or log); `(y0, y1)` are the ends of the y axis.
fn draw_on<DB: DrawingBackend, X, Y>(area: &DrawingArea<DB, Shift>, c: &Chart, x: X, y: Y, (y0, y1): (f64, f64)) -> anyhow::Result<()>
where
    X: AsRangedCoord<Value = f64>,
    X::CoordDescType: ValueFormatter<f64>,
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("cannot draw the chart: {e:?}");
    // Bars stand on zero, or on the bottom of a log axis.
    let floor = if c.log_y { y0 } else { 0.0 };
    let mut ch = ChartBuilder::on(area)
        .caption(&c.title, (FAMILY, 24))
        .margin(14)
        .x_label_area_size(60)
        .y_label_area_size(92)
        .build_cartesian_2d(x, y)
        .map_err(e)?;
    let cats = c.x_categories.clone();
    let x_fmt = move |v: &f64| match &cats {
        Some(names) if (v - v.round()).abs() < 1e-9 && *v >= 0.0 => names.get(v.round() as usize).cloned().unwrap_or_default(),
        Some(_) => String::new(),
        None => tick(*v),
    };
    let (x_title, y_title) = (axis_title(&c.x_label, c.log_x), axis_title(&c.y_label, c.log_y));
    let mut mesh = ch.configure_mesh();
    mesh.x_desc(x_title.as_str())
        .y_desc(y_title.as_str())
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&|v| tick(*v))
        .label_style((FAMILY, 16))
        .axis_desc_style((FAMILY, 18))
        .light_line_style(TRANSPARENT);
    if let Some(names) = &c.x_categories {
        mesh.x_labels(names.len() + 1);
    }
    mesh.draw().map_err(e)?;

    for s in &c.spans {
        // Neutral grey, so that the shade never clashes with a series' colour.
        let shade = RGBColor(90, 90, 90);
        ch.draw_series(std::iter::once(Rectangle::new([(s.from, y0), (s.to, y1)], shade.mix(0.22).filled())))
            .map_err(e)?
            .label(s.label.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 7), (x + 22, y + 7)], shade.mix(0.22).filled()));
        // A span can be a few pixels wide on a long axis: its edges keep it visible.
        ch.draw_series([s.from, s.to].map(|x| PathElement::new(vec![(x, y0), (x, y1)], shade.mix(0.9)))).map_err(e)?;
    }
    let mut shapes = 0;
    // The legend names the first LEGEND_MAX series and counts the rest (dozens of `--by` values
    // would overflow the chart); every series is drawn.
    let mut named = 0;
    macro_rules! named {
        ($anno:expr, $label:expr, $legend:expr) => {
            if named < LEGEND_MAX {
                $anno.label($label).legend($legend);
            }
            named += 1;
        };
    }
    // An empty series would only add a legend entry for nothing.
    for (i, s) in c.series.iter().enumerate().filter(|(_, s)| !s.points.is_empty()) {
        let color = PALETTE[i % PALETTE.len()];
        let shown = |p: &&Point| !c.log_y || p.y > 0.0;
        match s.style {
            Style::Lines | Style::Points => {
                let line = color.stroke_width(2);
                let shape = shapes;
                shapes += 1;
                let pts = || s.points.iter().filter(shown).map(|p| (p.x, p.y));
                if s.style == Style::Points {
                    with_marker!(shape, color, |mk| {
                        let anno = ch.draw_series(pts().map(|p| EmptyElement::at(p) + mk((0, 0)))).map_err(e)?;
                        named!(anno, s.label.as_str(), move |(x, y)| EmptyElement::at((x + 11, y)) + mk((0, 0)));
                    });
                } else {
                    let sample = move |at| EmptyElement::at(at) + PathElement::new(vec![(0, 0), (22, 0)], line);
                    if s.points.len() <= MARKERS_UP_TO {
                        with_marker!(shape, color, |mk| {
                            let anno = ch.draw_series(LineSeries::new(pts(), line)).map_err(e)?;
                            named!(anno, s.label.as_str(), move |at| sample(at) + mk((11, 0)));
                            ch.draw_series(pts().map(|p| EmptyElement::at(p) + mk((0, 0)))).map_err(e)?;
                        });
                    } else {
                        let anno = ch.draw_series(LineSeries::new(pts(), line)).map_err(e)?;
                        named!(anno, s.label.as_str(), sample);
                    }
                }
                ch.draw_series(error_bars(&s.points, c.log_y, color)).map_err(e)?;
            }
            Style::Faint => {
                let grey = RGBColor(175, 175, 175);
                let anno = ch
                    .draw_series(s.points.iter().filter(|p| !c.log_y || p.y > 0.0).map(|p| Circle::new((p.x, p.y), 3, grey.filled())))
                    .map_err(e)?;
                named!(anno, s.label.as_str(), move |(x, y)| Circle::new((x + 10, y), 3, grey.filled()));
            }
            Style::Ring => {
                let ring = BLACK.stroke_width(2);
                let shown = |p: &&Point| !c.log_y || p.y > 0.0;
                let anno = ch.draw_series(s.points.iter().filter(shown).map(|p| Circle::new((p.x, p.y), 8, ring))).map_err(e)?;
                named!(anno, s.label.as_str(), move |(x, y)| Circle::new((x + 10, y), 6, ring));
                ch.draw_series(error_bars(&s.points, c.log_y, BLACK)).map_err(e)?;
            }
            Style::Path => {
                let line = color.stroke_width(2);
                let shown = |p: &&Point| !c.log_y || p.y > 0.0;
                let anno = ch.draw_series(LineSeries::new(s.points.iter().filter(shown).map(|p| (p.x, p.y)), line)).map_err(e)?;
                named!(anno, s.label.as_str(), move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], line));
            }
            Style::Dashed => {
                let line = color.stroke_width(2);
                let anno =
                    ch.draw_series(DashedLineSeries::new(s.points.iter().filter(shown).map(|p| (p.x, p.y)), 8, 5, line)).map_err(e)?;
                named!(anno, s.label.as_str(), move |(x, y)| DashedPathElement::new(vec![(x, y), (x + 22, y)], 5, 3, line));
            }
            Style::Bars => {
                let fill = color.mix(0.45).filled();
                let anno = ch
                    .draw_series(
                        s.points
                            .iter()
                            .filter(|p| !c.log_y || p.y > 0.0)
                            .map(|p| Rectangle::new([(p.x, floor), (p.x_end.unwrap_or(p.x), p.y)], fill)),
                    )
                    .map_err(e)?;
                named!(anno, s.label.as_str(), move |(x, y)| Rectangle::new([(x, y - 7), (x + 22, y + 7)], fill));
            }
        }
    }
    if named > LEGEND_MAX {
        ch.draw_series(std::iter::empty::<EmptyElement<(f64, f64), DB>>())
            .map_err(e)?
            .label(format!("... and {} more", named - LEGEND_MAX))
            .legend(|(x, y)| EmptyElement::at((x, y)));
    }
    if !c.series.is_empty() || !c.spans.is_empty() {
        ch.configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(120, 120, 120))
            .label_font((FAMILY, 16))
            .draw()
            .map_err(e)?;
    }
    Ok(())
}

fn draw_all<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, panels: &[Chart]) -> anyhow::Result<()> {
    root.fill(&WHITE).map_err(|e| anyhow!("cannot draw the chart: {e:?}"))?;
    for (area, c) in root.split_evenly((panels.len().max(1), 1)).iter().zip(panels) {
        draw_panel(area, c)?;
    }
    root.present().map_err(|e| anyhow!("cannot draw the chart: {e:?}"))
}

fn size(panels: &[Chart]) -> (u32, u32) {
    (PANEL.0, PANEL.1 * panels.len().max(1) as u32)
}

/// A Gantt chart: one row per item, top to bottom, each a bar over an interval of x coloured by its
/// class, with marks drawn over the bars (e.g. the downtime) and vertical lines (e.g. a deadline).
#[derive(Debug, Clone, Default)]
pub struct Gantt {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// Row labels, top first (blank ones are not written; every row keeps its place).
    pub rows: Vec<String>,
    /// Legend names of the bar colours, in palette order.
    pub classes: Vec<String>,
    pub bars: Vec<GanttBar>,
    /// Drawn over the bars, dark, named `mark_label` in the legend; edges always at least a line.
    pub marks: Vec<GanttBar>,
    pub mark_label: String,
    /// Vertical lines across the chart: (x, legend name).
    pub lines: Vec<(f64, String)>,
}

/// One bar of a Gantt chart: `row` from the top, from `from` to `to`, in colour `class`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GanttBar {
    pub row: usize,
    pub from: f64,
    pub to: f64,
    pub class: usize,
}

/// Pixels per Gantt row, and the height a Gantt chart takes beyond its rows (title, axes).
const ROW_PX: u32 = 14;
const GANTT_MARGIN_PX: u32 = 170;
/// The tallest Gantt chart drawn (rows beyond it share pixels).
const GANTT_MAX_PX: u32 = 6000;

fn gantt_height(g: &Gantt) -> u32 {
    (GANTT_MARGIN_PX + ROW_PX * g.rows.len().max(1) as u32).clamp(PANEL.1, GANTT_MAX_PX)
}

fn draw_gantt<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, g: &Gantt) -> anyhow::Result<()> {
    let e = |e: DrawingAreaErrorKind<DB::ErrorType>| anyhow!("cannot draw the chart: {e:?}");
    let n = g.rows.len().max(1);
    let xs = g.bars.iter().flat_map(|b| [b.from, b.to]).chain(g.lines.iter().map(|l| l.0)).filter(|x| x.is_finite());
    let (lo, hi) = xs.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| (a.min(x), b.max(x)));
    let (lo, hi) = if lo.is_finite() { (lo.min(0.0), hi.max(lo + 1e-9)) } else { (0.0, 1.0) };
    // Room on the right for the legend.
    let x = lo..hi + (hi - lo) * 0.22;
    // Row 0 at the top: y runs from n - 0.5 (bottom) down to -0.5.
    let y = -0.5..(n as f64 - 0.5);
    let label_w = g.rows.iter().map(|r| r.chars().count()).max().unwrap_or(0).clamp(4, 24) as u32 * 8 + 20;
    let mut ch = ChartBuilder::on(area)
        .caption(&g.title, (FAMILY, 22))
        .margin(14)
        .x_label_area_size(52)
        .y_label_area_size(label_w)
        .build_cartesian_2d(x, y)
        .map_err(e)?;
    let top = |r: usize| (n - 1 - r) as f64;
    let rows = g.rows.clone();
    // A label at each tick that falls on a row (plotters spaces the ticks: every row up to 80).
    let y_fmt = move |v: &f64| {
        let i = v.round();
        if (v - i).abs() > 1e-6 || i < 0.0 || i as usize >= n {
            return String::new();
        }
        rows.get(n - 1 - i as usize).cloned().unwrap_or_default()
    };
    ch.configure_mesh()
        .x_desc(g.x_label.as_str())
        .y_desc(g.y_label.as_str())
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&y_fmt)
        .y_labels(n.min(80) + 1)
        .label_style((FAMILY, 12))
        .axis_desc_style((FAMILY, 16))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(e)?;
    let half = 0.4;
    for (k, name) in g.classes.iter().enumerate() {
        let fill = PALETTE[k % PALETTE.len()].filled();
        let bars = g.bars.iter().filter(|b| b.class == k);
        // Only the classes that have bars get a legend entry; each keeps its colour.
        if bars.clone().next().is_none() {
            continue;
        }
        ch.draw_series(bars.map(|b| Rectangle::new([(b.from, top(b.row) - half), (b.to, top(b.row) + half)], fill)))
            .map_err(e)?
            .label(name.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], fill));
    }
    if !g.marks.is_empty() {
        let dark = BLACK.filled();
        ch.draw_series(g.marks.iter().map(|m| Rectangle::new([(m.from, top(m.row) - half), (m.to, top(m.row) + half)], dark)))
            .map_err(e)?
            .label(g.mark_label.as_str())
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 20, y + 6)], dark));
        // A mark of a few milliseconds on a long axis is narrower than a pixel: its edge shows it.
        ch.draw_series(g.marks.iter().map(|m| PathElement::new(vec![(m.from, top(m.row) - half), (m.from, top(m.row) + half)], BLACK)))
            .map_err(e)?;
    }
    for (i, (at, name)) in g.lines.iter().enumerate() {
        let color = PALETTE[(g.classes.len() + i) % PALETTE.len()].stroke_width(2);
        ch.draw_series(std::iter::once(PathElement::new(vec![(*at, -0.5), (*at, n as f64 - 0.5)], color)))
            .map_err(e)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    }
    ch.configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(120, 120, 120))
        .label_font((FAMILY, 14))
        .draw()
        .map_err(e)?;
    Ok(())
}

/// Gantt charts stacked top to bottom, as an SVG document.
pub fn render_gantt_svg(charts: &[Gantt]) -> anyhow::Result<String> {
    register_font();
    let mut out = String::new();
    let h: u32 = charts.iter().map(gantt_height).sum();
    draw_gantts(SVGBackend::with_string(&mut out, (PANEL.0, h.max(1))).into_drawing_area(), charts)?;
    Ok(out)
}

fn draw_gantts<DB: DrawingBackend>(root: DrawingArea<DB, Shift>, charts: &[Gantt]) -> anyhow::Result<()> {
    root.fill(&WHITE).map_err(|e| anyhow!("cannot draw the chart: {e:?}"))?;
    let mut rest = root.clone();
    for g in charts {
        let (this, below) = rest.split_vertically(gantt_height(g));
        draw_gantt(&this, g)?;
        rest = below;
    }
    root.present().map_err(|e| anyhow!("cannot draw the chart: {e:?}"))
}

/// Write Gantt charts, stacked, to `path` as PNG or SVG (by the extension), atomically.
pub fn write_gantt(path: &Path, charts: &[Gantt]) -> anyhow::Result<()> {
    let h: u32 = charts.iter().map(gantt_height).sum::<u32>().max(1);
    write_with(path, (PANEL.0, h), |b| draw_gantts(b, charts), || render_gantt_svg(charts))
}

/// The panels, stacked top to bottom, as an SVG document.
pub fn render_svg(panels: &[Chart]) -> anyhow::Result<String> {
    register_font();
    let mut out = String::new();
    draw_all(SVGBackend::with_string(&mut out, size(panels)).into_drawing_area(), panels)?;
    Ok(out)
}

/// Write the panels, stacked top to bottom, to `path` as PNG or SVG (chosen by the extension),
/// atomically: a temporary file in the same folder, renamed over the target.
pub fn write(path: &Path, panels: &[Chart]) -> anyhow::Result<()> {
    write_with(path, size(panels), |b| draw_all(b, panels), || render_svg(panels))
}

/// Write a picture of `size` pixels drawn by `png` (on a bitmap) or `svg` (as text), by the
/// extension of `path`, atomically.
fn write_with(
    path: &Path,
    size: (u32, u32),
    png: impl FnOnce(DrawingArea<BitMapBackend<'_>, Shift>) -> anyhow::Result<()>,
    svg: impl FnOnce() -> anyhow::Result<String>,
) -> anyhow::Result<()> {
    let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match ext.as_deref() {
        Some("svg") => {
            let svg = svg()?;
            crate::files::write_atomic(path, svg.as_bytes()).with_context(|| format!("{}: cannot write", path.display()))
        }
        Some("png") => {
            register_font();
            let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            crate::files::create_dir_all(dir).with_context(|| format!("{}: cannot create", dir.display()))?;
            let name = path.file_name().map_or("chart".into(), |n| n.to_string_lossy().to_string());
            // The bitmap backend picks its encoder from the extension, so the temporary name keeps it.
            let tmp = dir.join(format!(".{name}.{}.tmp.png", std::process::id()));
            let drawn = png(BitMapBackend::new(&tmp, size).into_drawing_area())
                .and_then(|_| std::fs::rename(&tmp, path).with_context(|| format!("{}: cannot write", path.display())));
            if drawn.is_err() {
                let _ = std::fs::remove_file(&tmp);
            }
            drawn
        }
        _ => Err(anyhow!("{}: a chart file must end in .png or .svg", path.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(log_x: bool) -> Chart {
        let pts = |k: f64| {
            (1..=4)
                .map(|i| {
                    let x = 10f64.powi(i);
                    Point { lo: Some(k * i as f64 - 0.5), hi: Some(k * i as f64 + 0.5), ..Point::new(x, k * i as f64) }
                })
                .collect()
        };
        Chart {
            title: "downtime vs bandwidth".into(),
            x_label: "bandwidth (Gbit/s)".into(),
            y_label: "downtime (ms)".into(),
            log_x,
            series: vec![
                Series { label: "precopy".into(), style: Style::Lines, points: pts(1.0) },
                Series { label: "postcopy".into(), style: Style::Lines, points: pts(2.0) },
            ],
            spans: vec![Span { label: "downtime".into(), from: 20.0, to: 30.0 }],
            ..Chart::default()
        }
    }

    #[test]
    fn a_legend_of_dozens_of_series_names_the_first_and_counts_the_rest() {
        let mut c = sample(false);
        c.series = (0..40)
            .map(|g| Series {
                label: format!("group {g}"),
                style: Style::Lines,
                points: (1..=5).map(|x| Point::new(x as f64, x as f64 * (1.0 + g as f64 / 10.0))).collect(),
            })
            .collect();
        let svg = render_svg(&[c]).unwrap();
        let shown = |t: &str| svg.contains(&format!(">\n{t}\n</text>"));
        assert!(shown("group 0") && shown(&format!("group {}", LEGEND_MAX - 1)), "the first entries are named");
        assert!(!shown(&format!("group {LEGEND_MAX}")) && !shown("group 39"), "the others are not");
        assert!(shown(&format!("... and {} more", 40 - LEGEND_MAX)), "the rest are counted");
        assert!(svg.lines().filter(|l| l.starts_with("<polyline")).count() >= 40, "every series is drawn");
    }

    #[test]
    fn svg_has_title_labels_and_one_polyline_per_line_series() {
        for log_x in [false, true] {
            let svg = render_svg(&[sample(log_x)]).unwrap();
            assert!(svg.starts_with("<svg"), "{}", &svg[..80]);
            let x_title = if log_x { "bandwidth (Gbit/s, log scale)" } else { "bandwidth (Gbit/s)" };
            for text in ["downtime vs bandwidth", x_title, "downtime (ms)", "precopy", "postcopy", "downtime"] {
                assert!(svg.contains(&format!(">\n{text}\n</text>")), "missing {text}");
            }
            // The series differ in marker shape too: circles for the first, triangles for the second
            // (4 points and a legend sample each).
            let count =
                |tag: &str, colour: &str| svg.lines().filter(|l| l.starts_with(tag) && l.contains(&format!("fill=\"{colour}\""))).count();
            assert_eq!((count("<circle", "#0072B2"), count("<polygon", "#0072B2")), (5, 0));
            assert_eq!((count("<circle", "#D55E00"), count("<polygon", "#D55E00")), (0, 5));
            // Each line series draws its line and its legend sample in its own colour.
            for colour in ["#0072B2", "#D55E00"] {
                let lines = svg.lines().filter(|l| l.starts_with("<polyline") && l.contains(&format!("stroke=\"{colour}\""))).count();
                assert_eq!(lines, 2, "{colour}");
            }
        }
    }

    #[test]
    fn png_is_written_atomically_and_is_a_png() {
        let dir = std::env::temp_dir().join(format!("migsim-plot-{}", std::process::id()));
        let p = dir.join("c.png");
        write(&p, &[sample(true), sample(false)]).unwrap();
        if std::env::var_os("MIGSIM_KEEP_CHART").is_some() {
            std::fs::copy(&p, "/tmp/migsim-plot-sample.png").unwrap();
        }
        let bytes = std::fs::read(&p).unwrap();
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
        let names: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(write(&dir.join("c.gif"), &[sample(false)]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_gantt_chart_names_its_rows_and_only_the_classes_it_uses() {
        let bar = |row, from, to, class| GanttBar { row, from, to, class };
        let g = Gantt {
            title: "plan".into(),
            x_label: "time (s)".into(),
            y_label: "VM".into(),
            rows: vec!["db-1".into(), "web-1".into(), "web-2".into()],
            classes: vec!["precopy".into(), "postcopy".into(), "cold".into()],
            bars: vec![bar(0, 0.0, 4.0, 0), bar(1, 4.0, 6.0, 2), bar(2, 6.0, 7.0, 2)],
            marks: vec![bar(0, 3.9, 4.0, 0)],
            mark_label: "downtime".into(),
            lines: vec![(10.0, "deadline 10 s".into())],
        };
        let svg = render_gantt_svg(&[g]).unwrap();
        for text in ["plan", "db-1", "web-1", "web-2", "precopy", "cold", "downtime", "deadline 10 s"] {
            assert!(svg.contains(&format!(">\n{text}\n</text>")), "missing {text}");
        }
        assert!(!svg.contains(">\npostcopy\n</text>"), "no bar is post-copy: no legend entry");
    }

    #[test]
    fn log_axes_get_ticks_in_every_decade_and_say_so() {
        assert_eq!(log_ticks(&(0.04..1.4)), vec![0.05, 0.1, 0.2, 0.5, 1.0]);
        assert_eq!(log_ticks(&(1000.0..3.0e6)), vec![1000.0, 2000.0, 5000.0, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6]);
        assert_eq!(log_ticks(&(1.0e6..3.5e6)), vec![1e6, 2e6, 3e6]);
        assert_eq!(log_ticks(&(1.0..1e9)).len(), 10);
        assert_eq!(axis_title("pages", true), "pages (log scale)");
        assert_eq!(axis_title("rate (Gbit/s)", true), "rate (Gbit/s, log scale)");
        assert_eq!(axis_title("rate (Gbit/s)", false), "rate (Gbit/s)");
    }

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(262144.0), "262.1k");
        assert_eq!(tick(1.5e6), "1.5M");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(0.000123), "0.000123");
        assert_eq!(tick(12.0), "12");
        assert_eq!(tick(10000.0), "10k");
        assert_eq!(tick(2500.0), "2500");
        assert_eq!(tick(0.0), "0");
    }
}
