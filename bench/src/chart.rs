//! One SVG bar chart per workload: groups = capacity x mode x message size (or parameter
//! x mode x unit), one bar per contender (median, log scale) with a min–max whisker.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::harness::{median, min_max};
use crate::report::{columns, rows, unit, Report, Row};

fn color(contender: &str) -> RGBColor {
    match contender {
        "gochan" => RGBColor(31, 119, 180),
        "crossbeam" => RGBColor(255, 127, 14),
        "flume" => RGBColor(44, 160, 44),
        "kanal" => RGBColor(214, 39, 40),
        "crossfire" => RGBColor(0, 128, 128),
        "std" => RGBColor(148, 103, 189),
        "tokio" => RGBColor(140, 86, 75),
        "tokio-util" => RGBColor(188, 189, 34),
        "async-channel" => RGBColor(227, 119, 194),
        "go" => RGBColor(0, 173, 216),
        _ => RGBColor(127, 127, 127),
    }
}

/// Writes `<dir>/<workload>.svg` for every workload of the report; returns the paths.
pub fn write_charts(report: &Report, dir: &Path) -> Result<Vec<PathBuf>, String> {
    let all = rows(report);
    let mut workloads: Vec<&str> = Vec::new();
    for r in &all {
        if !workloads.contains(&r.key.workload.as_str()) {
            workloads.push(&r.key.workload);
        }
    }
    let mut paths = Vec::new();
    for w in workloads {
        let group: Vec<&Row<'_>> = all.iter().filter(|r| r.key.workload == w).collect();
        let path = dir.join(format!("{w}.svg"));
        chart(w, &group, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        paths.push(path);
    }
    Ok(paths)
}

fn chart(workload: &str, rows: &[&Row<'_>], path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let owned: Vec<Row<'_>> = rows
        .iter()
        .map(|r| Row {
            key: r.key,
            figures: r.figures.clone(),
        })
        .collect();
    let cols = columns(&owned);
    let groups = rows.len();
    let width = (270 + groups * (cols.len() * 16 + 40)).max(1000) as u32;
    let (mut lo, mut hi) = (f64::INFINITY, 0f64);
    for r in rows {
        for xs in r.figures.values() {
            let (a, b) = min_max(xs);
            lo = lo.min(a);
            hi = hi.max(b);
        }
    }
    if !(lo.is_finite() && hi > 0.0) {
        return Ok(());
    }
    // Every row of a workload has the same unit (ns/msg, ns/op, ms, B/node, ...).
    let unit = rows.first().map_or("ns/msg", |r| unit(r.key));
    let lo = 10f64.powf(lo.max(0.1).log10().floor());
    let hi = 10f64.powf((hi * 1.05).log10().ceil());

    let root = SVGBackend::new(path, (width, 560)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{workload}: {unit} (median of rounds, log scale; whisker = min-max)"),
            ("sans-serif", 20),
        )
        .margin(15)
        .margin_right(150) // the legend sits to the right of the plot
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..groups as f64, (lo..hi).log_scale())?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_desc(unit)
        .y_label_formatter(&|y| format!("{y}"))
        .draw()?;

    let slot = 0.8 / cols.len().max(1) as f64;
    for (j, c) in cols.iter().enumerate() {
        let col = color(c);
        let bars: Vec<_> = rows
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.figures.get(c).map(|xs| (i, *xs)))
            .collect();
        let x0 = |i: usize| i as f64 + 0.1 + j as f64 * slot;
        chart.draw_series(bars.iter().map(|&(i, xs)| {
            Rectangle::new(
                [(x0(i), lo), (x0(i) + slot * 0.85, median(xs))],
                col.filled(),
            )
        }))?;
        chart.draw_series(bars.iter().map(|&(i, xs)| {
            let (a, b) = min_max(xs);
            let mid = x0(i) + slot * 0.425;
            PathElement::new(vec![(mid, a), (mid, b)], BLACK.stroke_width(1))
        }))?;
    }
    // Legend, right of the plot (drawn on the root: the plot area clips).
    let (xs, ys) = chart.plotting_area().get_pixel_range();
    for (j, c) in cols.iter().enumerate() {
        let (x, y) = (xs.end + 20, ys.start + 10 + 22 * j as i32);
        root.draw(&Rectangle::new(
            [(x, y), (x + 14, y + 14)],
            color(c).filled(),
        ))?;
        root.draw(&Text::new(c.to_string(), (x + 22, y), ("sans-serif", 14)))?;
    }

    let style = TextStyle::from(("sans-serif", 13)).pos(Pos::new(HPos::Center, VPos::Top));
    for (i, r) in rows.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(i as f64 + 0.5, lo));
        let label = format!("cap {} {} {}", r.key.cap, r.key.mode, r.key.msg);
        root.draw(&Text::new(label, (x, y + 8), style.clone()))?;
    }
    root.present()?;
    Ok(())
}
