//! The clean records reproduce every published figure that detail data can, at any seed.

use unionstat_datasets::published::{NOT_REPRODUCIBLE, published_indicators};
use unionstat_generator::calibration::{agrees, compute};
use unionstat_generator::generate;

fn check(scale: f64, seed: u64) {
    let generated = generate::clean(scale, seed);
    let mut failures = Vec::new();
    for ind in published_indicators() {
        let reason = NOT_REPRODUCIBLE
            .iter()
            .find(|(k, _)| *k == ind.key)
            .map(|(_, why)| *why);
        match (compute(&generated, &ind.key), reason) {
            (Some(v), None) => {
                if !agrees(ind, v, scale) {
                    failures.push(format!(
                        "{}: published {} ({:?}), generated {v}",
                        ind.key, ind.value, ind.qualifier
                    ));
                }
            }
            (None, Some(_)) => {}
            (Some(_), Some(_)) => failures.push(format!(
                "{} is both computed and listed as not reproducible",
                ind.key
            )),
            (None, None) => failures.push(format!("{} is neither computed nor explained", ind.key)),
        }
    }
    assert!(
        failures.is_empty(),
        "scale {scale}, seed {seed}:\n{}",
        failures.join("\n")
    );
}

#[test]
fn every_reproducible_figure_matches_at_scale_one() {
    check(1.0, 42);
}

#[test]
fn calibration_holds_for_other_seeds_and_scales() {
    check(1.0, 7);
    check(2.0, 2026);
}
