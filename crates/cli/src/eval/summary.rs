//! Means over cases (all, and per group such as the ambiguity kind) and the printed table.

use std::collections::BTreeMap;

use serde::Serialize;

use super::metric::Metric;

/// One case's figures, in table order. NaN marks "not applicable" and is left out of the mean
/// (e.g. the rare-hypothesis share of a case without a rare hypothesis).
pub type Row = Vec<(Metric, f64)>;

/// Means of one group of cases.
#[derive(Debug, Clone, Serialize)]
pub struct GroupMean {
    pub group: String,
    pub cases: usize,
    pub means: BTreeMap<&'static str, f64>,
    /// The figures in the rows' order: the table's columns.
    #[serde(skip)]
    pub order: Vec<Metric>,
}

/// The mean of every column over `rows` (NaN entries skipped; all NaN → NaN).
pub fn mean(group: &str, rows: &[&Row]) -> GroupMean {
    let mut means = BTreeMap::new();
    let order = rows
        .first()
        .map(|first| first.iter().map(|(metric, _)| *metric).collect())
        .unwrap_or_default();
    if let Some(first) = rows.first() {
        for (k, (metric, _)) in first.iter().enumerate() {
            let vals: Vec<f64> = rows
                .iter()
                .map(|r| r[k].1)
                .filter(|v| !v.is_nan())
                .collect();
            let m = if vals.is_empty() {
                f64::NAN
            } else {
                vals.iter().sum::<f64>() / vals.len() as f64
            };
            means.insert(metric.key(), m);
        }
    }
    GroupMean {
        group: group.to_string(),
        cases: rows.len(),
        means,
        order,
    }
}

/// "all" first, then one mean per distinct group label.
pub fn by_group(rows: &[(String, Row)]) -> Vec<GroupMean> {
    let all: Vec<&Row> = rows.iter().map(|(_, r)| r).collect();
    let mut out = vec![mean("all", &all)];
    let mut groups: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
    for (g, r) in rows {
        groups.entry(g.as_str()).or_default().push(r);
    }
    if groups.len() > 1 {
        out.extend(groups.into_iter().map(|(g, rs)| mean(g, &rs)));
    }
    out
}

/// Prints `groups` as a fixed-width table, one column per figure of the rows.
pub fn print_table(groups: &[GroupMean]) {
    let order = groups.first().map_or(&[][..], |g| &g.order[..]);
    let mut header = format!("{:<16} {:>5}", "group", "cases");
    for metric in order {
        header.push_str(&format!(" {:>9}", metric.header()));
    }
    println!("{header}");
    println!("{}", "-".repeat(header.chars().count()));
    for g in groups {
        let mut line = format!("{:<16} {:>5}", g.group, g.cases);
        for metric in order {
            match g.means.get(metric.key()) {
                Some(v) if v.is_finite() => line.push_str(&format!(" {v:>9.4}")),
                _ => line.push_str(&format!(" {:>9}", "–")),
            }
        }
        println!("{line}");
    }
}
