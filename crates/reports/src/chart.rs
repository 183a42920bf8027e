//! Charts as SVG text, drawn on the server so a report needs no script: horizontal bars for
//! categories ([`bars`]) and one column per day ([`columns`]). Each chart is an image to
//! assistive technology (`role="img"`, an `aria-label`, `<title>` and `<desc>`), every bar
//! carries its exact value as text and in its own `<title>`, and the table beside it on the
//! page holds the same numbers. Lengths are proportional to the values from a zero baseline; a
//! negative value (a day that paid out more than it took) draws no bar but still shows its value.

use std::fmt::Write;

/// One bar: its label, the number that sets its length, and that number as the report shows it
/// (`12.50` for 1,250 minor units).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Point {
    pub label: String,
    pub value: i64,
    pub shown: String,
}

/// What a chart is about, in words.
#[derive(Debug, Clone, Copy)]
pub struct Labels<'a> {
    pub title: &'a str,
    /// What the chart shows, for screen readers.
    pub description: &'a str,
    /// The axis the categories or days run along.
    pub category_axis: &'a str,
    /// The axis of the values.
    pub value_axis: &'a str,
}

pub const WIDTH: u32 = 760;
const FONT: &str = "font-family=\"sans-serif\"";
const BAR_COLOUR: &str = "#1d4e89";
const TEXT_COLOUR: &str = "#1a1a1a";

/// Horizontal bars, one per point, in the order given.
pub fn bars(labels: &Labels<'_>, points: &[Point]) -> String {
    const ROW: u32 = 24;
    const TOP: u32 = 44;
    const LABEL_WIDTH: u32 = 230;
    const PLOT_WIDTH: u32 = 400;
    let rows = u32::try_from(points.len()).unwrap_or(u32::MAX / ROW).max(1);
    let height = TOP + rows * ROW + 56;
    let mut out = open(labels, height);
    if points.is_empty() {
        empty(&mut out, height);
        return close(out);
    }
    let max = max_value(points);
    let x0 = LABEL_WIDTH + 10;
    for (i, p) in points.iter().enumerate() {
        let y = TOP + u32::try_from(i).unwrap_or(0) * ROW;
        let length = scaled(p.value, max, PLOT_WIDTH);
        let _ = writeln!(
            out,
            "<g><title>{label}: {shown}</title>\
             <text x=\"{lx}\" y=\"{ty}\" text-anchor=\"end\" font-size=\"13\" fill=\"{TEXT_COLOUR}\">{short}</text>\
             <rect x=\"{x0}\" y=\"{ry}\" width=\"{length:.2}\" height=\"{bh}\" fill=\"{BAR_COLOUR}\" data-value=\"{value}\"/>\
             <text x=\"{vx:.2}\" y=\"{ty}\" font-size=\"13\" fill=\"{TEXT_COLOUR}\">{shown}</text></g>",
            label = Esc(&p.label),
            short = Esc(&shortened(&p.label, 32)),
            shown = Esc(&p.shown),
            lx = LABEL_WIDTH,
            ty = y + 16,
            ry = y + 4,
            bh = ROW - 6,
            value = p.value,
            vx = f64::from(x0) + length + 6.0,
        );
    }
    let axis_y = TOP + rows * ROW + 4;
    let _ = writeln!(
        out,
        "<line x1=\"{x0}\" y1=\"{TOP}\" x2=\"{x0}\" y2=\"{axis_y}\" stroke=\"{TEXT_COLOUR}\"/>\
         <line x1=\"{x0}\" y1=\"{axis_y}\" x2=\"{x1}\" y2=\"{axis_y}\" stroke=\"{TEXT_COLOUR}\"/>\
         <text x=\"{x0}\" y=\"{t1}\" font-size=\"12\" fill=\"{TEXT_COLOUR}\">0</text>\
         <text x=\"{x1}\" y=\"{t1}\" font-size=\"12\" text-anchor=\"end\" fill=\"{TEXT_COLOUR}\">{max_shown}</text>\
         <text x=\"{mid}\" y=\"{t2}\" font-size=\"13\" text-anchor=\"middle\" fill=\"{TEXT_COLOUR}\" class=\"axis-label\">{value_axis}</text>\
         <text x=\"12\" y=\"{t0}\" font-size=\"13\" fill=\"{TEXT_COLOUR}\" class=\"axis-label\">{category_axis}</text>",
        x1 = x0 + PLOT_WIDTH,
        t0 = TOP - 8,
        t1 = axis_y + 16,
        t2 = axis_y + 38,
        mid = x0 + PLOT_WIDTH / 2,
        max_shown = Esc(&shown_of_max(points, max)),
        value_axis = Esc(labels.value_axis),
        category_axis = Esc(labels.category_axis),
    );
    close(out)
}

/// One column per point (per day), left to right; at most about twelve category labels are
/// written under the axis so they never overlap, and every column has its own `<title>`.
pub fn columns(labels: &Labels<'_>, points: &[Point]) -> String {
    const TOP: u32 = 44;
    const LEFT: u32 = 70;
    const PLOT_WIDTH: u32 = WIDTH - LEFT - 20;
    const PLOT_HEIGHT: u32 = 240;
    let height = TOP + PLOT_HEIGHT + 70;
    let mut out = open(labels, height);
    if points.is_empty() {
        empty(&mut out, height);
        return close(out);
    }
    let max = max_value(points);
    let n = points.len();
    let slot = f64::from(PLOT_WIDTH) / n as f64;
    let base = TOP + PLOT_HEIGHT;
    let every = n.div_ceil(12).max(1);
    for (i, p) in points.iter().enumerate() {
        let h = scaled(p.value, max, PLOT_HEIGHT);
        let x = f64::from(LEFT) + slot * i as f64;
        let _ = writeln!(
            out,
            "<g><title>{label}: {shown}</title><rect x=\"{rx:.2}\" y=\"{ry:.2}\" width=\"{w:.2}\" height=\"{h:.2}\" \
             fill=\"{BAR_COLOUR}\" data-value=\"{value}\"/></g>",
            label = Esc(&p.label),
            shown = Esc(&p.shown),
            rx = x + slot * 0.1,
            ry = f64::from(base) - h,
            w = slot * 0.8,
            value = p.value,
        );
        if i % every == 0 {
            let _ = writeln!(
                out,
                "<text x=\"{tx:.2}\" y=\"{ty}\" font-size=\"11\" text-anchor=\"middle\" fill=\"{TEXT_COLOUR}\">{}</text>",
                Esc(&shortened(&p.label, 12)),
                tx = x + slot / 2.0,
                ty = base + 16,
            );
        }
    }
    let _ = writeln!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{base}\" stroke=\"{TEXT_COLOUR}\"/>\
         <line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{x1}\" y2=\"{base}\" stroke=\"{TEXT_COLOUR}\"/>\
         <text x=\"{tl}\" y=\"{base}\" font-size=\"12\" text-anchor=\"end\" fill=\"{TEXT_COLOUR}\">0</text>\
         <text x=\"{tl}\" y=\"{tm}\" font-size=\"12\" text-anchor=\"end\" fill=\"{TEXT_COLOUR}\">{max_shown}</text>\
         <text x=\"{mid}\" y=\"{t2}\" font-size=\"13\" text-anchor=\"middle\" fill=\"{TEXT_COLOUR}\" class=\"axis-label\">{category_axis}</text>\
         <text x=\"16\" y=\"{vmid}\" font-size=\"13\" text-anchor=\"middle\" fill=\"{TEXT_COLOUR}\" transform=\"rotate(-90 16 {vmid})\" class=\"axis-label\">{value_axis}</text>",
        x1 = LEFT + PLOT_WIDTH,
        tl = LEFT - 6,
        tm = TOP + 10,
        mid = LEFT + PLOT_WIDTH / 2,
        t2 = base + 44,
        vmid = TOP + PLOT_HEIGHT / 2,
        max_shown = Esc(&shown_of_max(points, max)),
        value_axis = Esc(labels.value_axis),
        category_axis = Esc(labels.category_axis),
    );
    close(out)
}

fn open(labels: &Labels<'_>, height: u32) -> String {
    let mut out = String::with_capacity(4096);
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {height}\" width=\"100%\" \
         style=\"max-width:{WIDTH}px;height:auto\" role=\"img\" aria-label=\"{title}\" {FONT}>\n\
         <title>{title}</title>\n<desc>{desc}</desc>\n\
         <text x=\"12\" y=\"22\" font-size=\"16\" font-weight=\"bold\" fill=\"{TEXT_COLOUR}\">{title}</text>",
        title = Esc(labels.title),
        desc = Esc(labels.description),
    );
    out
}

fn close(mut out: String) -> String {
    out.push_str("</svg>\n");
    out
}

fn empty(out: &mut String, height: u32) {
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{}\" font-size=\"15\" text-anchor=\"middle\" fill=\"{TEXT_COLOUR}\" class=\"empty\">\
         Nothing to show for this range.</text>",
        WIDTH / 2,
        height / 2
    );
}

fn max_value(points: &[Point]) -> i64 {
    points.iter().map(|p| p.value).max().unwrap_or(0).max(0)
}

/// What the longest bar stands for, as the report shows it.
fn shown_of_max(points: &[Point], max: i64) -> String {
    points.iter().find(|p| p.value == max).map_or_else(|| "0".to_string(), |p| p.shown.clone())
}

/// `value / max` of `full`, never NaN: nothing to scale against draws nothing.
fn scaled(value: i64, max: i64, full: u32) -> f64 {
    if max <= 0 || value <= 0 {
        return 0.0;
    }
    value as f64 / max as f64 * f64::from(full)
}

fn shortened(label: &str, max_chars: usize) -> String {
    if label.chars().count() <= max_chars {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(max_chars - 1).collect();
        s.push('…');
        s
    }
}

/// Text and attribute values escaped for XML.
struct Esc<'a>(&'a str);

impl std::fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for c in self.0.chars() {
            match c {
                '&' => f.write_str("&amp;")?,
                '<' => f.write_str("&lt;")?,
                '>' => f.write_str("&gt;")?,
                '"' => f.write_str("&quot;")?,
                '\'' => f.write_str("&apos;")?,
                // XML 1.0 allows no other control characters, even escaped.
                c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => f.write_str(" ")?,
                '\u{fffe}' | '\u{ffff}' => f.write_str(" ")?,
                c => write!(f, "{c}")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LABELS: Labels<'static> = Labels {
        title: "Checkouts <by> branch",
        description: "A & B",
        category_axis: "Branch",
        value_axis: "Checkouts",
    };

    fn point(label: &str, value: i64) -> Point {
        Point { label: label.to_string(), value, shown: value.to_string() }
    }

    /// The `width` (bars) or `height` (columns) of each rect with a data-value, with that value.
    fn lengths(svg: &str, attribute: &str) -> Vec<(f64, i64)> {
        svg.split("<rect ")
            .skip(1)
            .filter_map(|r| {
                let get = |name: &str| {
                    let start = r.find(&format!(" {name}=\""))? + name.len() + 3;
                    let end = start + r[start..].find('"')?;
                    Some(r[start..end].to_string())
                };
                Some((get(attribute)?.parse().ok()?, get("data-value")?.parse().ok()?))
            })
            .collect()
    }

    #[test]
    fn an_accessible_image_with_title_desc_and_axis_labels() {
        let svg = bars(&LABELS, &[point("Main", 3), point("East", 1)]);
        assert!(svg.contains("role=\"img\" aria-label=\"Checkouts &lt;by&gt; branch\""));
        assert!(svg.contains("<title>Checkouts &lt;by&gt; branch</title>\n<desc>A &amp; B</desc>"));
        assert!(svg.contains(">Branch</text>") && svg.contains(">Checkouts</text>"));
        assert!(svg.contains("<title>Main: 3</title>"));
        let c = columns(&LABELS, &[point("2026-01-01", 2)]);
        assert!(c.contains("role=\"img\"") && c.contains("rotate(-90"));
    }

    #[test]
    fn empty_data_draws_an_empty_state_not_bars() {
        for svg in [bars(&LABELS, &[]), columns(&LABELS, &[])] {
            assert!(svg.contains("Nothing to show for this range."));
            assert!(!svg.contains("<rect"));
        }
        let zeros = columns(&LABELS, &[point("a", 0), point("b", 0)]);
        assert!(!zeros.contains("NaN"));
        assert_eq!(lengths(&zeros, "height"), [(0.0, 0), (0.0, 0)]);
    }

    #[test]
    fn many_days_label_at_most_about_twelve() {
        let days: Vec<Point> = (0..366).map(|i| point(&format!("d{i}"), i)).collect();
        let svg = columns(&LABELS, &days);
        assert_eq!(svg.matches("<rect ").count(), 366);
        let under_axis = svg.matches("font-size=\"11\"").count();
        assert!((12..=13).contains(&under_axis), "{under_axis}");
    }

    fn arb_points() -> impl Strategy<Value = Vec<Point>> {
        prop::collection::vec(("\\PC{0,40}", -1_000i64..1_000_000_000), 0..60).prop_map(|v| {
            v.into_iter().map(|(label, value)| Point { label, value, shown: format!("{value}") }).collect()
        })
    }

    proptest! {
        #[test]
        fn every_value_appears_bars_are_proportional_and_nothing_is_nan(points in arb_points()) {
            for (svg, attribute, full) in [(bars(&LABELS, &points), "width", 400.0), (columns(&LABELS, &points), "height", 240.0)] {
                prop_assert!(!svg.contains("NaN") && !svg.contains("inf"));
                let found = lengths(&svg, attribute);
                prop_assert_eq!(found.len(), points.len());
                let max = points.iter().map(|p| p.value).max().unwrap_or(0).max(0);
                for ((length, value), p) in found.iter().zip(&points) {
                    prop_assert_eq!(*value, p.value);
                    let shown = format!("<title>{}: {}</title>", Esc(&p.label), p.value);
                    prop_assert!(svg.contains(&shown));
                    let expected = if max > 0 && p.value > 0 { p.value as f64 / max as f64 * full } else { 0.0 };
                    prop_assert!((length - expected).abs() <= 0.01, "{} vs {}", length, expected);
                }
            }
        }
    }
}
