//! The page's charts as inline SVG, drawn here from the report's numbers.
//!
//! Why SVG written in Rust rather than a charting library: the page must be one file that
//! opens offline and attaches to a CI run. A vendored library would be tens of kilobytes of
//! script in every report, with its licence to carry and its updates to follow, and the
//! page would show nothing with scripts off. Four chart shapes (lines over time, a
//! histogram, horizontal bars, an onboarding timeline) are a few hundred lines of plain
//! drawing. Every mark carries its value in a `data-` attribute and a `<title>` (the hover
//! text), so the numbers can be read from the DOM by a person or a test.

use std::fmt::Write as _;

use super::html::escape;

/// Plot area inside the SVG's 720 × 260 box: left, top, right, bottom margins.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 260.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 36.0;
/// Height of one fault window's lane at the plot's top, at most.
const BAND_LANE: f64 = 10.0;

/// One line of a line chart: its name, CSS class and points (x, y).
#[derive(Debug, Clone)]
pub struct Series {
    pub name: String,
    pub class: &'static str,
    pub points: Vec<(f64, f64)>,
}

/// A shaded window on the x axis (a fault's), with its label.
#[derive(Debug, Clone)]
pub struct Band {
    pub from: f64,
    pub to: f64,
    pub label: String,
}

/// A vertical line on the x axis (a restart), with its label.
#[derive(Debug, Clone)]
pub struct Mark {
    pub at: f64,
    pub label: String,
}

/// Most ticks on an axis (and at least half as many).
const TICKS: f64 = 5.0;

/// An axis from 0 past `value`: its top and its tick step, the step 1, 2, 2.5 or 5 times a
/// power of ten, the top the first multiple of the step at or above `value`.
fn axis(value: f64) -> (f64, f64) {
    if value <= 0.0 || !value.is_finite() {
        return (1.0, 0.25);
    }
    let rough = value / TICKS;
    let power = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|v| *v >= rough)
        .unwrap_or(10.0 * power);
    ((value / step).ceil().max(1.0) * step, step)
}

/// The ticks of an axis of `top` and `step`.
fn ticks(top: f64, step: f64) -> impl Iterator<Item = f64> {
    let count = (top / step).round() as usize;
    (0..=count).map(move |i| step * i as f64)
}

/// A number as an axis shows it: as few decimals as it needs, at most two.
fn tick_label(value: f64) -> String {
    let text = format!("{value:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Maps data to the plot area.
struct Frame {
    x_max: f64,
    x_step: f64,
    y_max: f64,
    y_step: f64,
}

impl Frame {
    /// A frame whose axes reach past `x` and `y`.
    fn past(x: f64, y: f64) -> Self {
        let ((x_max, x_step), (y_max, y_step)) = (axis(x), axis(y));
        Self {
            x_max,
            x_step,
            y_max,
            y_step,
        }
    }
}

impl Frame {
    fn x(&self, value: f64) -> f64 {
        LEFT + (WIDTH - LEFT - RIGHT) * (value / self.x_max).clamp(0.0, 1.0)
    }

    fn y(&self, value: f64) -> f64 {
        HEIGHT - BOTTOM - (HEIGHT - TOP - BOTTOM) * (value / self.y_max).clamp(0.0, 1.0)
    }

    /// Horizontal grid lines at the y ticks, with their labels.
    fn y_grid(&self, out: &mut String) {
        for value in ticks(self.y_max, self.y_step) {
            let y = self.y(value);
            let _ = write!(
                out,
                r#"<line class="grid" x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}"/><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
                WIDTH - RIGHT,
                LEFT - 6.0,
                y + 4.0,
                tick_label(value)
            );
        }
    }

    /// The x ticks' labels below `bottom`.
    fn x_ticks(&self, out: &mut String, bottom: f64) {
        for value in ticks(self.x_max, self.x_step) {
            let _ = write!(
                out,
                r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                self.x(value),
                bottom + 14.0,
                tick_label(value)
            );
        }
    }

    /// Both axes' ticks and labels.
    fn axes(&self, out: &mut String, x_label: &str, y_label: &str) {
        self.y_grid(out);
        self.x_ticks(out, HEIGHT - BOTTOM);
        let _ = write!(
            out,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text><text class="axis" x="12" y="{:.1}" transform="rotate(-90 12 {:.1})" text-anchor="middle">{}</text>"#,
            (LEFT + WIDTH - RIGHT) / 2.0,
            HEIGHT - 4.0,
            escape(x_label),
            HEIGHT / 2.0,
            HEIGHT / 2.0,
            escape(y_label)
        );
    }
}

fn open(out: &mut String, id: &str, title: &str) {
    let _ = write!(
        out,
        r#"<svg id="{}" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(id),
        escape(title)
    );
}

/// Lines over x, with shaded bands and vertical marks; a legend below.
pub fn line_chart(
    id: &str,
    title: &str,
    (x_label, y_label): (&str, &str),
    series: &[Series],
    bands: &[Band],
    marks: &[Mark],
) -> String {
    let points = series.iter().flat_map(|s| &s.points);
    let x_max = points
        .clone()
        .map(|p| p.0)
        .chain(bands.iter().map(|b| b.to))
        .chain(marks.iter().map(|m| m.at))
        .fold(0.0, f64::max);
    let y_max = points.map(|p| p.1).fold(0.0, f64::max);
    let frame = Frame::past(x_max, y_max);
    let mut out = String::new();
    open(&mut out, id, title);
    // Each window in a lane of its own along the plot's top edge, so that overlapping rules
    // stay apart (a faults scenario has several over the same minutes).
    let lane = ((HEIGHT - TOP - BOTTOM) / 3.0 / bands.len().max(1) as f64).min(BAND_LANE);
    for (i, band) in bands.iter().enumerate() {
        let (x1, x2) = (frame.x(band.from), frame.x(band.to));
        let _ = write!(
            out,
            r#"<rect class="band" data-from="{}" data-to="{}" x="{x1:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}</title></rect>"#,
            band.from,
            band.to,
            TOP + lane * i as f64,
            (x2 - x1).max(1.0),
            (lane - 1.0).max(1.0),
            escape(&band.label)
        );
    }
    frame.axes(&mut out, x_label, y_label);
    for s in series {
        let path: Vec<String> = s
            .points
            .iter()
            .map(|&(x, y)| format!("{:.1},{:.1}", frame.x(x), frame.y(y)))
            .collect();
        let last = s.points.last().map_or(0.0, |p| p.1);
        let _ = write!(
            out,
            r#"<polyline class="series {}" data-series="{}" data-last="{last}" points="{}"><title>{}: {last}</title></polyline>"#,
            s.class,
            escape(&s.name),
            path.join(" "),
            escape(&s.name)
        );
    }
    for mark in marks {
        let x = frame.x(mark.at);
        let _ = write!(
            out,
            r#"<line class="mark" data-at="{}" x1="{x:.1}" x2="{x:.1}" y1="{TOP}" y2="{:.1}"><title>{}</title></line>"#,
            mark.at,
            HEIGHT - BOTTOM,
            escape(&mark.label)
        );
    }
    out.push_str("</svg>");
    out.push_str(r#"<p class="legend">"#);
    for s in series {
        let _ = write!(
            out,
            r#"<span class="key {}"></span>{} "#,
            s.class,
            escape(&s.name)
        );
    }
    if !bands.is_empty() {
        out.push_str(r#"<span class="key band"></span>fault window "#);
    }
    if !marks.is_empty() {
        out.push_str(r#"<span class="key mark"></span>emulator restart"#);
    }
    out.push_str("</p>");
    out
}

/// Vertical bars, one per labelled count (a histogram).
pub fn bar_chart(id: &str, title: &str, y_label: &str, bars: &[(String, f64)]) -> String {
    let frame = Frame {
        x_max: bars.len().max(1) as f64,
        ..Frame::past(1.0, bars.iter().map(|b| b.1).fold(0.0, f64::max))
    };
    let mut out = String::new();
    open(&mut out, id, title);
    frame.y_grid(&mut out);
    let step = (WIDTH - LEFT - RIGHT) / frame.x_max;
    for (i, (label, value)) in bars.iter().enumerate() {
        let x = LEFT + step * i as f64;
        let y = frame.y(*value);
        let _ = write!(
            out,
            r#"<rect class="bar" data-label="{}" data-value="{value}" x="{:.1}" y="{y:.1}" width="{:.1}" height="{:.1}"><title>{}: {value}</title></rect><text class="tick" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            escape(label),
            x + 2.0,
            (step - 4.0).max(1.0),
            HEIGHT - BOTTOM - y,
            escape(label),
            x + step / 2.0,
            HEIGHT - BOTTOM + 14.0,
            escape(label)
        );
    }
    let _ = write!(
        out,
        r#"<text class="axis" x="12" y="{:.1}" transform="rotate(-90 12 {:.1})" text-anchor="middle">{}</text></svg>"#,
        HEIGHT / 2.0,
        HEIGHT / 2.0,
        escape(y_label)
    );
    out
}

/// Horizontal bars, one per labelled value, with the value's text (`format`) beside each.
pub fn horizontal_bars(
    id: &str,
    title: &str,
    bars: &[(String, f64)],
    format: impl Fn(f64) -> String,
) -> String {
    const ROW: f64 = 24.0;
    const LABEL: f64 = 180.0;
    let height = ROW * bars.len().max(1) as f64 + 8.0;
    let max = bars
        .iter()
        .map(|b| b.1)
        .fold(0.0, f64::max)
        .max(f64::MIN_POSITIVE);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg id="{}" class="chart" viewBox="0 0 {WIDTH} {height}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(id),
        escape(title)
    );
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = 4.0 + ROW * i as f64;
        let width = (WIDTH - LABEL - 120.0) * (value / max).max(0.0);
        let text = format(*value);
        let _ = write!(
            out,
            r#"<text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="bar" data-label="{}" data-value="{value}" x="{LABEL}" y="{y:.1}" width="{width:.1}" height="{:.1}"><title>{}: {}</title></rect><text class="tick" x="{:.1}" y="{:.1}">{}</text>"#,
            LABEL - 6.0,
            y + ROW / 2.0 + 2.0,
            escape(label),
            escape(label),
            ROW - 6.0,
            escape(label),
            escape(&text),
            LABEL + width + 6.0,
            y + ROW / 2.0 + 2.0,
            escape(&text)
        );
    }
    out.push_str("</svg>");
    out
}

/// One row of the onboarding timeline: a bar from `from` to `to` (`None`: to the end), dots
/// at named moments, a class for the outcome, and the text at the row's end.
#[derive(Debug, Clone)]
pub struct TimelineRow {
    pub label: String,
    pub class: &'static str,
    pub from: f64,
    pub to: Option<f64>,
    pub moments: Vec<(&'static str, f64)>,
    pub note: String,
}

/// The onboarding timeline: a row per instance over x (minutes).
pub fn timeline(id: &str, title: &str, x_label: &str, rows: &[TimelineRow], x_end: f64) -> String {
    const ROW: f64 = 20.0;
    let height = TOP + ROW * rows.len().max(1) as f64 + BOTTOM;
    let frame = Frame::past(x_end, 1.0);
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg id="{}" class="chart" viewBox="0 0 {WIDTH} {height:.0}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(id),
        escape(title)
    );
    for (i, row) in rows.iter().enumerate() {
        let y = TOP + ROW * i as f64;
        let (x1, x2) = (frame.x(row.from), frame.x(row.to.unwrap_or(frame.x_max)));
        let _ = write!(
            out,
            r#"<g class="instance {}" data-instance="{}"><text class="tick" x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect class="span" x="{x1:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}</title></rect>"#,
            row.class,
            escape(&row.label),
            LEFT - 6.0,
            y + ROW / 2.0 + 4.0,
            escape(&row.label),
            y + 4.0,
            (x2 - x1).max(1.0),
            ROW - 8.0,
            escape(&row.note)
        );
        for (name, at) in &row.moments {
            let _ = write!(
                out,
                r#"<circle class="moment {name}" data-moment="{name}" data-at="{at:.3}" cx="{:.1}" cy="{:.1}" r="4"><title>{name} at {at:.2} min</title></circle>"#,
                frame.x(*at),
                y + ROW / 2.0
            );
        }
        out.push_str("</g>");
    }
    frame.x_ticks(&mut out, height - BOTTOM);
    let _ = write!(
        out,
        r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">{}</text></svg>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        height - 4.0,
        escape(x_label)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_end_on_round_numbers() {
        assert_eq!(axis(0.0), (1.0, 0.25));
        assert_eq!(axis(5.0), (5.0, 1.0));
        assert_eq!(axis(5.2), (6.0, 2.0));
        assert_eq!(axis(612.0), (800.0, 200.0));
        assert_eq!(axis(60.0), (60.0, 20.0));
        assert_eq!(ticks(5.0, 1.0).count(), 6);
        assert_eq!(tick_label(2.5), "2.5");
        assert_eq!(tick_label(125.0), "125");
    }

    #[test]
    fn every_mark_carries_its_value_and_labels_are_escaped() {
        let chart = bar_chart(
            "h",
            "histogram",
            "events",
            &[("≤1 s".into(), 3.0), ("<b>".into(), 0.0)],
        );
        assert!(chart.contains(r#"data-label="≤1 s" data-value="3""#));
        assert!(chart.contains("&lt;b&gt;"));
        assert!(!chart.contains("<b>"));
        let lines = line_chart(
            "t",
            "timeline",
            ("min", "lines"),
            &[Series {
                name: "landed".into(),
                class: "landed",
                points: vec![(0.0, 0.0), (5.0, 612.0)],
            }],
            &[Band {
                from: 1.0,
                to: 2.0,
                label: "throttle".into(),
            }],
            &[],
        );
        assert!(lines.contains(r#"data-series="landed" data-last="612""#));
        assert!(lines.contains(r#"data-from="1" data-to="2""#));
    }
}
