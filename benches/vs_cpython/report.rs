//! The comparison table, its CSV, and an SVG bar chart of the speed-ups.

use std::fmt::Write as _;

/// One row of the comparison.
pub struct Row {
    pub workload: &'static str,
    pub unit: &'static str,
    pub rust: f64,
    pub cpython: Option<f64>,
    /// How many times better Rust is (CPython / Rust for times and bytes, Rust / CPython for
    /// throughput).
    pub ratio: Option<f64>,
    /// The target, as text, and whether this run met it.
    pub target: Option<(String, bool)>,
}

fn number(x: f64) -> String {
    if x >= 100.0 {
        format!("{x:.0}")
    } else if x >= 10.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.2}")
    }
}

pub fn table(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| workload | unit | Rust | CPython | ratio | target | met |\n|---|---|---:|---:|---:|---|---|"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            r.workload.replace('|', "\\|"),
            r.unit,
            number(r.rust),
            r.cpython.map_or("–".into(), number),
            r.ratio.map_or("–".into(), |x| format!("{}x", number(x))),
            r.target.as_ref().map_or("", |(t, _)| t.as_str()),
            r.target
                .as_ref()
                .map_or("", |(_, met)| if *met { "yes" } else { "**no**" }),
        );
    }
    out
}

pub fn csv(rows: &[Row]) -> String {
    let mut out = String::from("workload,unit,rust,cpython,ratio,target,met\n");
    for r in rows {
        let _ = writeln!(
            out,
            "\"{}\",{},{},{},{},\"{}\",{}",
            r.workload,
            r.unit,
            r.rust,
            r.cpython.map_or(String::new(), |x| x.to_string()),
            r.ratio.map_or(String::new(), |x| x.to_string()),
            r.target.as_ref().map_or("", |(t, _)| t.as_str()),
            r.target
                .as_ref()
                .map_or("", |(_, met)| if *met { "yes" } else { "no" }),
        );
    }
    out
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Horizontal bars of the ratio against CPython, on a log scale.
pub fn svg(rows: &[Row], title: &str) -> String {
    let bars: Vec<(&str, f64)> = rows
        .iter()
        .filter_map(|r| Some((r.workload, r.ratio?)))
        .collect();
    let (label_w, bar_w, row_h, top) = (330.0, 520.0, 26.0, 50.0);
    let height = top + row_h * bars.len() as f64 + 40.0;
    let max = bars
        .iter()
        .map(|b| b.1)
        .fold(10.0f64, f64::max)
        .log10()
        .ceil();
    let x = |ratio: f64| label_w + bar_w * (ratio.max(1.0).log10() / max);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" font-family="sans-serif" font-size="13">"#,
        w = label_w + bar_w + 80.0
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="10" y="24" font-size="15" font-weight="bold">{title}</text>"#
    );
    for decade in 0..=max as i32 {
        let px = x(10f64.powi(decade));
        let _ = writeln!(
            out,
            r##"<line x1="{px}" y1="{top}" x2="{px}" y2="{y2}" stroke="#ccc"/><text x="{px}" y="{ty}" text-anchor="middle" fill="#555">{v}x</text>"##,
            y2 = height - 35.0,
            ty = height - 20.0,
            v = 10u64.pow(decade as u32)
        );
    }
    for (i, (name, ratio)) in bars.iter().enumerate() {
        let y = top + row_h * i as f64;
        let _ = writeln!(
            out,
            r##"<text x="{lx}" y="{ty}" text-anchor="end">{name}</text><rect x="{label_w}" y="{ry}" width="{w}" height="{h}" fill="#d2691e"/><text x="{vx}" y="{ty}">{v}x</text>"##,
            lx = label_w - 8.0,
            ty = y + 17.0,
            ry = y + 4.0,
            w = (x(*ratio) - label_w).max(1.0),
            h = row_h - 8.0,
            vx = x(*ratio) + 6.0,
            v = number(*ratio),
            name = xml_escape(name),
        );
    }
    out.push_str("</svg>\n");
    out
}
