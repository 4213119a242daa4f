//! The calibrated generator: the clean records of five years of county returns, for any seed and
//! scale, whose totals reproduce the published figures.

pub mod activities;
pub mod contracts;
pub mod organisation;
pub mod organisation_rows;
pub mod rights;
pub mod targets;
pub mod welfare;

use crate::table::Table;

/// The clean records of every fact table, and the organised economy behind them.
#[derive(Debug)]
pub struct Generated {
    /// The unions and enterprises the rows were made from (the member registry is drawn from them).
    pub world: organisation::World,
    /// One table per fact table, in [`crate::schema::FACT_TABLES`] order.
    pub tables: Vec<Table>,
}

impl Generated {
    /// The table with this name.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.spec.name == name)
    }
}

/// Generates the clean records for `scale` (1 = Longyan as published) and `seed`.
pub fn clean(scale: f64, seed: u64) -> Generated {
    let mut targets = targets::Targets::new(scale, seed);
    let mut world = organisation::build(&mut targets, seed);
    let contracts = contracts::build(&mut world, &mut targets, seed);
    let tables = vec![
        organisation_rows::unions(&world),
        organisation_rows::enterprises(&world),
        welfare::households(&world, &mut targets, seed),
        welfare::disbursements(&world, &mut targets, seed),
        contracts,
        rights::service_sites(&world, &mut targets, seed),
        rights::cases(&world, &mut targets, seed),
        activities::build(&mut targets, seed),
    ];
    Generated { world, tables }
}
