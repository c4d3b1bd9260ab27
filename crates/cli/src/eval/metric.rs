//! The figures an evaluation reports, each named once: its key (in `--json` output) and its
//! column header (in the printed table), for both evaluators.

/// One reported figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    Ged16,
    Ged16Floor,
    Ged100,
    Ged100Floor,
    HmIou16,
    HmIou32,
    HmIou16Floor,
    EmptyShare,
    Diversity,
    RaterDiversity,
    TrueDiversity,
    SampleForeground,
    RaterForeground,
    ReconstructionIou,
    FreqError,
    FreqErrorFloor,
    RareProduced,
    Ged100Ceiling,
    FreqErrorCeiling,
}

impl Metric {
    /// The key in `--json` output (stable: scripts and tests read it).
    pub fn key(self) -> &'static str {
        self.names().0
    }

    /// The printed table's column header.
    pub fn header(self) -> &'static str {
        self.names().1
    }

    fn names(self) -> (&'static str, &'static str) {
        match self {
            Metric::Ged16 => ("ged16", "GED16"),
            Metric::Ged16Floor => ("ged16_floor", "floor16"),
            Metric::Ged100 => ("ged100", "GED100"),
            Metric::Ged100Floor => ("ged100_floor", "floor100"),
            Metric::HmIou16 => ("hm_iou16", "HM-IoU16"),
            Metric::HmIou32 => ("hm_iou32", "HM-IoU32"),
            Metric::HmIou16Floor => ("hm_iou16_floor", "floorHM"),
            Metric::EmptyShare => ("empty_share", "empty"),
            Metric::Diversity => ("diversity", "div"),
            Metric::RaterDiversity => ("rater_diversity", "rater div"),
            Metric::TrueDiversity => ("true_diversity", "true div"),
            Metric::SampleForeground => ("sample_foreground", "fg px"),
            Metric::RaterForeground => ("rater_foreground", "rater fg"),
            Metric::ReconstructionIou => ("reconstruction_iou", "recon IoU"),
            Metric::FreqError => ("freq_error", "freq err"),
            Metric::FreqErrorFloor => ("freq_error_floor", "floor fe"),
            Metric::RareProduced => ("rare_produced", "rare seen"),
            Metric::Ged100Ceiling => ("ged100_ceiling", "ceil100"),
            Metric::FreqErrorCeiling => ("freq_error_ceiling", "ceil fe"),
        }
    }
}
