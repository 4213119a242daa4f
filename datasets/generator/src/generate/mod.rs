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
use unionstat_tables::{FACT_TABLES, TableSpec};

/// The clean records of every fact table, and the organised economy behind them.
#[derive(Debug)]
pub struct Generated {
    /// The unions and enterprises the rows were made from (the member registry is drawn from them).
    pub world: organisation::World,
    /// One table per fact table, in [`unionstat_tables::FACT_TABLES`] order.
    pub tables: Vec<Table>,
}

impl Generated {
    /// The table with this name.
    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.iter().find(|t| t.spec.name == name)
    }
}

/// Makes the clean tables one at a time, so that a writer can drop each before the next is made.
#[derive(Debug)]
pub struct Generator {
    seed: u64,
    targets: targets::Targets,
    world: organisation::World,
    contracts: Option<Table>,
}

impl Generator {
    /// Builds the organised economy for `scale` (1 = Longyan as published) and `seed`.
    pub fn new(scale: f64, seed: u64) -> Self {
        let mut targets = targets::Targets::new(scale, seed);
        let mut world = organisation::build(&mut targets, seed);
        // Contracts set the unions' contract flags, so they come before the unions' rows.
        let contracts = Some(contracts::build(&mut world, &mut targets, seed));
        Generator {
            seed,
            targets,
            world,
            contracts,
        }
    }

    /// The unions and enterprises behind the tables.
    pub fn world(&self) -> &organisation::World {
        &self.world
    }

    /// The clean rows of fact table `spec`. Tables must be asked for in [`FACT_TABLES`] order, each
    /// once, for the output to be the same for a seed.
    pub fn table(&mut self, spec: &'static TableSpec) -> Table {
        let (w, t, seed) = (&self.world, &mut self.targets, self.seed);
        match spec.name {
            "grassroots_unions" => organisation_rows::unions(w),
            "enterprises" => organisation_rows::enterprises(w),
            "hardship_households" => welfare::households(w, t, seed),
            "aid_disbursements" => welfare::disbursements(w, t, seed),
            "collective_contracts" => self.contracts.take().unwrap_or_else(|| Table::new(spec)),
            "service_sites" => rights::service_sites(w, t, seed),
            "rights_cases" => rights::cases(w, t, seed),
            "activities" => activities::build(t, seed),
            _ => Table::new(spec),
        }
    }

    /// Every table, in memory.
    pub fn finish(mut self) -> Generated {
        let tables = FACT_TABLES.iter().map(|spec| self.table(spec)).collect();
        Generated {
            world: self.world,
            tables,
        }
    }
}

/// Generates all clean records for `scale` and `seed` in memory.
pub fn clean(scale: f64, seed: u64) -> Generated {
    Generator::new(scale, seed).finish()
}
