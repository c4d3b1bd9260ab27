//! The patient-level train/validation split of the LIDC crops.
//!
//! Slices of one nodule are nearly identical, so a slice-level split would put the same nodule
//! on both sides and flatter every metric. The split is a pure function of the patient ID
//! (FNV-1a 64 of the ID's bytes, validation when the hash mod 100 is below
//! [`VALIDATION_PERCENT`]), so it never depends on which patients a folder holds or in which
//! order they are read; `docs/lidc-validation-patients.txt` lists the validation patients of
//! `shared/lidc-crops` and a test checks it against this rule.

use clap::ValueEnum;

/// Share of patients, in percent, that go to validation.
pub const VALIDATION_PERCENT: u64 = 15;

/// Which patients of a data set to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PatientSplit {
    /// Patients not in the validation split.
    Train,
    /// The held-out validation patients: never trained on, the only data to tune on.
    Validation,
    /// Every patient (a flat folder has no patients to split).
    All,
}

impl PatientSplit {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            PatientSplit::Train => "train",
            PatientSplit::Validation => "validation",
            PatientSplit::All => "all",
        }
    }

    /// Whether `patient` belongs to this split.
    pub fn keeps(self, patient: &str) -> bool {
        match self {
            PatientSplit::Train => !is_validation_patient(patient),
            PatientSplit::Validation => is_validation_patient(patient),
            PatientSplit::All => true,
        }
    }
}

/// The split rule: FNV-1a 64 of the patient ID, validation when `hash % 100 < 15`.
pub fn is_validation_patient(patient: &str) -> bool {
    fnv1a64(patient.as_bytes()) % 100 < VALIDATION_PERCENT
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
    }

    #[test]
    fn the_committed_list_is_the_rule() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest = std::fs::read_to_string(dir.join("../../../shared/lidc-crops/MANIFEST.tsv"))
            .expect("shared/lidc-crops/MANIFEST.tsv");
        let mut patients: Vec<&str> = manifest
            .lines()
            .skip(1)
            .filter_map(|l| l.split('\t').next())
            .collect();
        patients.dedup();
        let validation: Vec<&str> = patients
            .iter()
            .copied()
            .filter(|p| is_validation_patient(p))
            .collect();
        let listed = std::fs::read_to_string(dir.join("../../docs/lidc-validation-patients.txt"))
            .expect("docs/lidc-validation-patients.txt");
        let listed: Vec<&str> = listed
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .collect();
        assert_eq!(listed, validation);
        // About 15 % of 697 patients, and both sides non-trivial.
        assert!(
            (80..130).contains(&validation.len()),
            "{}",
            validation.len()
        );
    }
}
