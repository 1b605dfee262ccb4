//! A grouped bar chart as a standalone SVG document, written by hand.

use std::fmt::Write as _;

/// One group of bars (a workload) with one optional value per series (a contender) and an optional target line.
#[derive(Debug, Clone)]
pub struct BarGroup {
    /// The label under the group.
    pub label: String,
    /// One value per series, in the order of [`Chart::series`]; `None` leaves a gap.
    pub values: Vec<Option<f64>>,
    /// A target drawn across the group.
    pub target: Option<f64>,
}

/// A grouped bar chart with a reference line at 1.0.
#[derive(Debug, Clone)]
pub struct Chart {
    /// The title above the chart.
    pub title: String,
    /// The y axis label.
    pub y_label: String,
    /// Series names, for the legend.
    pub series: Vec<String>,
    /// The groups, left to right.
    pub groups: Vec<BarGroup>,
}

const COLORS: [&str; 8] = ["#7f7f7f", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#bcbd22"];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

impl Chart {
    /// The SVG document.
    pub fn render(&self) -> String {
        let (left, right, top, bottom) = (70.0, 190.0, 50.0, 60.0);
        let plot_h = 320.0;
        let bar_w = 22.0;
        let gap = 28.0;
        let n = self.series.len().max(1);
        let group_w = bar_w * f64::from(u32::try_from(n).unwrap_or(1)) + gap;
        let groups = f64::from(u32::try_from(self.groups.len().max(1)).unwrap_or(1));
        let plot_w = group_w * groups;
        let (width, height) = (left + plot_w + right, top + plot_h + bottom);
        let max_value =
            self.groups.iter().flat_map(|g| g.values.iter().flatten().copied().chain(g.target)).fold(1.2f64, f64::max);
        let y_max = (max_value * 5.0).ceil() / 5.0;
        let y = |v: f64| top + plot_h - (v.clamp(0.0, y_max) / y_max) * plot_h;

        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(s, r#"<rect width="100%" height="100%" fill="white"/>"#);
        let _ = writeln!(
            s,
            r#"<text x="{:.0}" y="24" font-size="16" text-anchor="middle">{}</text>"#,
            left + plot_w / 2.0,
            escape(&self.title)
        );
        // Grid and y axis.
        let mut tick = 0.0;
        while tick <= y_max + 1e-9 {
            let ty = y(tick);
            let _ = writeln!(
                s,
                r##"<line x1="{left}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="#e0e0e0"/><text x="{:.0}" y="{:.1}" text-anchor="end">{tick:.1}</text>"##,
                left + plot_w,
                left - 6.0,
                ty + 4.0
            );
            tick += 0.2;
        }
        let _ = writeln!(
            s,
            r#"<text transform="translate(18 {:.0}) rotate(-90)" text-anchor="middle">{}</text>"#,
            top + plot_h / 2.0,
            escape(&self.y_label)
        );
        // Bars.
        for (gi, g) in self.groups.iter().enumerate() {
            let gx = left + group_w * f64::from(u32::try_from(gi).unwrap_or(0)) + gap / 2.0;
            for (si, v) in g.values.iter().enumerate() {
                let Some(v) = *v else { continue };
                let x = gx + bar_w * f64::from(u32::try_from(si).unwrap_or(0));
                let color = COLORS[si % COLORS.len()];
                let by = y(v);
                let _ = writeln!(
                    s,
                    r#"<rect x="{x:.1}" y="{by:.1}" width="{:.1}" height="{:.1}" fill="{color}"><title>{}: {v:.2}</title></rect>"#,
                    bar_w - 2.0,
                    top + plot_h - by,
                    escape(self.series.get(si).map_or("", String::as_str))
                );
                let _ = writeln!(
                    s,
                    r#"<text x="{:.1}" y="{:.1}" font-size="9" text-anchor="middle">{}</text>"#,
                    x + (bar_w - 2.0) / 2.0,
                    by - 3.0,
                    if v >= 0.1 { format!("{v:.2}") } else { format!("{v:.3}") }
                );
            }
            if let Some(t) = g.target {
                let ty = y(t);
                let _ = writeln!(
                    s,
                    r##"<line x1="{:.1}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" stroke="#d62728" stroke-width="2" stroke-dasharray="4 3"><title>target {t}</title></line>"##,
                    gx - 4.0,
                    gx + group_w - gap + 4.0
                );
            }
            let _ = writeln!(
                s,
                r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                gx + (group_w - gap) / 2.0,
                top + plot_h + 20.0,
                escape(&g.label)
            );
        }
        // The reference line and the axes.
        let one = y(1.0);
        let _ = writeln!(
            s,
            r##"<line x1="{left}" y1="{one:.1}" x2="{:.1}" y2="{one:.1}" stroke="black" stroke-dasharray="2 2"/>"##,
            left + plot_w
        );
        let _ = writeln!(
            s,
            r#"<line x1="{left}" y1="{top}" x2="{left}" y2="{:.1}" stroke="black"/><line x1="{left}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="black"/>"#,
            top + plot_h,
            top + plot_h,
            left + plot_w,
            top + plot_h
        );
        // Legend.
        let lx = left + plot_w + 20.0;
        for (si, name) in self.series.iter().enumerate() {
            let ly = top + 18.0 * f64::from(u32::try_from(si).unwrap_or(0));
            let _ = writeln!(
                s,
                r#"<rect x="{lx:.0}" y="{ly:.0}" width="12" height="12" fill="{}"/><text x="{:.0}" y="{:.0}">{}</text>"#,
                COLORS[si % COLORS.len()],
                lx + 18.0,
                ly + 10.0,
                escape(name)
            );
        }
        let ly = top + 18.0 * f64::from(u32::try_from(self.series.len()).unwrap_or(0)) + 8.0;
        let _ = writeln!(
            s,
            r##"<line x1="{lx:.0}" y1="{ly:.0}" x2="{:.0}" y2="{ly:.0}" stroke="#d62728" stroke-width="2" stroke-dasharray="4 3"/><text x="{:.0}" y="{:.0}">target</text>"##,
            lx + 12.0,
            lx + 18.0,
            ly + 4.0
        );
        s.push_str("</svg>\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_bar_and_escapes_labels() {
        let chart = Chart {
            title: "a <b> & c".into(),
            y_label: "ratio".into(),
            series: vec!["one".into(), "two".into()],
            groups: vec![
                BarGroup { label: "point".into(), values: vec![Some(1.0), Some(0.5)], target: Some(0.9) },
                BarGroup { label: "scan".into(), values: vec![Some(1.0), None], target: None },
            ],
        };
        let svg = chart.render();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>\n"));
        assert_eq!(svg.matches("<rect x=").count(), 3 + 2, "three bars and two legend swatches");
        assert!(svg.contains("a &lt;b&gt; &amp; c"));
        assert!(svg.contains("two: 0.50"));
    }
}
