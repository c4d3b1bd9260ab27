//! What `probunet empty-odds` reports of a classifier's predictions on held-out slices.

use crate::dataset::MultiRaterSlice;

use super::empty_share;

/// Probabilities are kept inside this margin from 0 and 1 for the log loss.
const EPS: f64 = 1e-6;

/// A classifier's empty odds on a set of slices, against the raters' masks.
#[derive(Debug, Clone, PartialEq)]
pub struct OddsReport {
    /// Mean cross-entropy of the predictions to each slice's share of empty masks, and the
    /// same of the best constant prediction (the slices' own mean share).
    pub log_loss: f64,
    pub constant_log_loss: f64,
    /// Mean predicted and actual share of empty masks over all slices.
    pub predicted: f64,
    pub actual: f64,
    /// Mean prediction on subset B (every rater drew), where the raters' share is 0: the empty
    /// share of a sampler that follows the classifier.
    pub subset_b: f64,
    /// Share of subset-B slices predicted below 5 %.
    pub subset_b_under_5: f64,
    /// Mean prediction and actual share on the slices only some raters drew.
    pub some_drew: f64,
    pub some_drew_actual: f64,
    /// How often a subset-B slice is predicted lower than a "some drew" slice (ties half):
    /// 0.5 is no separation, 1 a perfect one.
    pub auc_b_vs_some: f64,
    /// Slices by tenths of the prediction: (slices, mean prediction, actual share).
    pub bins: Vec<(usize, f64, f64)>,
}

impl OddsReport {
    /// # Panics
    /// If `predictions` and `slices` differ in length or are empty.
    pub fn of(predictions: &[f64], slices: &[MultiRaterSlice]) -> Self {
        assert_eq!(predictions.len(), slices.len(), "one prediction per slice");
        assert!(!slices.is_empty(), "no slices to report on");
        let targets: Vec<f64> = slices.iter().map(empty_share).collect();
        let actual = mean(&targets);
        let cross_entropy = |p: f64, t: f64| {
            let p = p.clamp(EPS, 1.0 - EPS);
            -(t * p.ln() + (1.0 - t) * (1.0 - p).ln())
        };
        let losses: Vec<f64> = predictions
            .iter()
            .zip(&targets)
            .map(|(&p, &t)| cross_entropy(p, t))
            .collect();
        let constant: Vec<f64> = targets.iter().map(|&t| cross_entropy(actual, t)).collect();

        let (mut b, mut some, mut some_actual) = (Vec::new(), Vec::new(), Vec::new());
        for ((slice, &p), &t) in slices.iter().zip(predictions).zip(&targets) {
            match slice.raters_with_lesion() {
                0 => {}
                n if n == slice.raters.len() => b.push(p),
                _ => {
                    some.push(p);
                    some_actual.push(t);
                }
            }
        }
        let mut bins = vec![(0usize, 0.0, 0.0); 10];
        for (&p, &t) in predictions.iter().zip(&targets) {
            let bin = &mut bins[((p * 10.0) as usize).min(9)];
            bin.0 += 1;
            bin.1 += p;
            bin.2 += t;
        }
        for bin in &mut bins {
            let n = bin.0.max(1) as f64;
            bin.1 /= n;
            bin.2 /= n;
        }
        Self {
            log_loss: mean(&losses),
            constant_log_loss: mean(&constant),
            predicted: mean(predictions),
            actual,
            subset_b: mean(&b),
            subset_b_under_5: b.iter().filter(|&&p| p < 0.05).count() as f64
                / b.len().max(1) as f64,
            some_drew: mean(&some),
            some_drew_actual: mean(&some_actual),
            auc_b_vs_some: lower_share(&b, &some),
            bins,
        }
    }

    /// One paragraph of the headline figures.
    pub fn summary(&self) -> String {
        format!(
            "log loss {:.4} (best constant {:.4}); empty masks predicted {:.1} %, actual {:.1} %; \
             subset B: a sampler following it draws {:.1} % empty ({:.1} % of B slices under 5 %); \
             some drew: {:.1} % predicted, {:.1} % actual; B predicted lower than some-drew: {:.3}",
            self.log_loss,
            self.constant_log_loss,
            100.0 * self.predicted,
            100.0 * self.actual,
            100.0 * self.subset_b,
            100.0 * self.subset_b_under_5,
            100.0 * self.some_drew,
            100.0 * self.some_drew_actual,
            self.auc_b_vs_some,
        )
    }

    /// A reliability table: do the predictions mean what they say?
    pub fn reliability(&self) -> String {
        let mut out = String::from(
            "| predicted | slices | mean prediction | actual empty share |\n|---|---|---|---|\n",
        );
        for (k, &(n, p, t)) in self.bins.iter().enumerate().filter(|(_, b)| b.0 > 0) {
            out += &format!(
                "| {}–{} % | {n} | {:.1} % | {:.1} % |\n",
                10 * k,
                10 * (k + 1),
                100.0 * p,
                100.0 * t
            );
        }
        out
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// P(a < b) for a drawn from `low` and b from `high`, ties counted half (the AUC).
fn lower_share(low: &[f64], high: &[f64]) -> f64 {
    let mut sorted = high.to_vec();
    sorted.sort_by(f64::total_cmp);
    let wins: f64 = low
        .iter()
        .map(|&a| {
            let above = sorted.len() - sorted.partition_point(|&b| b <= a);
            let ties = sorted.partition_point(|&b| b <= a) - sorted.partition_point(|&b| b < a);
            above as f64 + 0.5 * ties as f64
        })
        .sum();
    wins / (low.len() * high.len()).max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics::Mask;

    /// A 4² slice whose raters drew (`true`) or left empty (`false`).
    fn slice(drew: [bool; 4]) -> MultiRaterSlice {
        MultiRaterSlice {
            name: "p/nodule-0/slice-0".into(),
            patient: "p".into(),
            image: vec![0.0; 16],
            raters: drew
                .iter()
                .map(|&d| Mask::from_fn(4, 4, |x, y| d && x + y < 2))
                .collect(),
        }
    }

    #[test]
    fn reports_subset_b_calibration_and_separation() {
        let slices = [
            slice([true; 4]),
            slice([true; 4]),
            slice([true, true, false, false]),
            slice([true, false, false, false]),
            slice([false; 4]),
        ];
        let predictions = [0.02, 0.3, 0.5, 0.3, 0.9];
        let report = OddsReport::of(&predictions, &slices);
        assert!((report.subset_b - 0.16).abs() < 1e-12);
        assert!((report.subset_b_under_5 - 0.5).abs() < 1e-12);
        assert!((report.some_drew - 0.4).abs() < 1e-12);
        assert!((report.some_drew_actual - 0.625).abs() < 1e-12);
        assert!((report.actual - (0.5 + 0.75 + 1.0) / 5.0).abs() < 1e-12);
        // B's 0.02 is below both; B's 0.3 ties one and is below the other: (2 + 1.5) / 4.
        assert!((report.auc_b_vs_some - 0.875).abs() < 1e-12);
        assert_eq!(report.bins[0], (1, 0.02, 0.0));
        assert_eq!(report.bins[3].0, 2);
        assert!(report.log_loss < report.constant_log_loss, "{report:?}");
        assert!(
            report
                .reliability()
                .contains("| 90–100 % | 1 | 90.0 % | 100.0 % |"),
            "{}",
            report.reliability()
        );
    }
}
