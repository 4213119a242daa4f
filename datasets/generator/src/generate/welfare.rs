//! Hardship households on file and the aid paid out: warmth (送温暖), hardship aid (困难帮扶),
//! autumn education aid (金秋助学) and summer cooling (送清凉).

use crate::table::{Date, Table, Value};
use unionstat_datasets::codes;
use unionstat_datasets::reference;
use unionstat_datasets::rng::{Rng, allocate, allocate_at_least};
use unionstat_tables::{AID_DISBURSEMENTS, HARDSHIP_HOUSEHOLDS};

use super::organisation::{World, years};
use super::targets::Targets;

const REASONS: [(&str, f64); 7] = [
    ("因病", 0.38),
    ("因残", 0.14),
    ("子女就学", 0.16),
    ("单亲家庭", 0.09),
    ("失业下岗", 0.10),
    ("因灾", 0.04),
    ("收入偏低", 0.09),
];

/// Weight of each town for hardship: its size, tilted to the poorer counties.
fn hardship_weights(world: &World) -> Vec<f64> {
    world
        .towns
        .iter()
        .map(|t| t.weight.sqrt() * reference::counties()[t.county].hardship_weight)
        .collect()
}

/// The hardship households filed over the five years (the archive was built mostly in 2013-2014).
pub fn households(world: &World, targets: &mut Targets, seed: u64) -> Table {
    let mut rng = Rng::for_part(seed, "hardship_households");
    let mut table = Table::new(&HARDSHIP_HOUSEHOLDS);
    let by_year = allocate(
        targets.total("hardship_households"),
        &[0.31, 0.24, 0.18, 0.15, 0.12],
    );
    let town_weights = hardship_weights(world);
    let by_town = world.unions_by_town();
    let mut serial = 0;
    let mut issued = std::collections::HashSet::new();
    for ((_, year), n) in years().zip(by_year) {
        for (ti, count) in allocate(n, &town_weights).into_iter().enumerate() {
            let town = &world.towns[ti];
            let county = reference::counties()[town.county].code;
            for _ in 0..count {
                serial += 1;
                let female = rng.chance(0.45);
                let born = rng.range(1958, 1992) as i32;
                let birth = Date::random_in(&mut rng, born, 1, 12);
                let union = if rng.chance(0.9) {
                    world.some_union(&mut rng, &by_town, ti, year)
                } else {
                    None
                };
                let industry = union.map_or_else(
                    || reference::INDUSTRIES[rng.range(0, 18) as usize].code,
                    |u| u.industry,
                );
                let reason = REASONS[rng.pick_weighted(&REASONS.map(|r| r.1))].0;
                let family = rng.range(1, 6);
                // One person, one number: draw again on the rare collision.
                let id = loop {
                    let id = codes::make_id_number(
                        &mut rng,
                        county,
                        (birth.y, birth.m, birth.d),
                        female,
                    );
                    if issued.insert(id.clone()) {
                        break id;
                    }
                };
                table.push(
                    town.county,
                    &[
                        ("year", Value::Int(i64::from(year))),
                        (
                            "household_id",
                            Value::Text(format!("KN{county}{year}{serial:05}")),
                        ),
                        ("id_number", Value::Text(id)),
                        ("phone", Value::Text(codes::make_mobile(&mut rng))),
                        (
                            "gender",
                            Value::Text(if female { "女" } else { "男" }.to_string()),
                        ),
                        ("birth_date", Value::Date(birth)),
                        ("town", Value::Text(town.code.to_string())),
                        (
                            "union_uscc",
                            union.map_or(Value::Null, |u| Value::Text(u.uscc.clone())),
                        ),
                        ("industry", Value::Text(industry.to_string())),
                        ("hardship_reason", Value::Text(reason.to_string())),
                        ("family_size", Value::Int(family)),
                        ("monthly_income", Value::Money(rng.range(250, 1400) * 100)),
                        ("migrant", Value::Bool(rng.chance(0.4))),
                        (
                            "filed_date",
                            Value::Date(Date::random_in(&mut rng, year, 1, 12)),
                        ),
                    ],
                );
            }
        }
    }
    table
}

struct Programme {
    name: &'static str,
    amount_key: &'static str,
    recipients_key: &'static str,
    /// Share of each year 2013-2017.
    trend: [f64; 5],
    /// Months in which it pays out.
    months: (u32, u32),
    /// Weighted to hardship (true) or to the size of the workforce (false).
    needs_based: bool,
}

const PROGRAMMES: [Programme; 4] = [
    Programme {
        name: "送温暖",
        amount_key: "warmth_funds",
        recipients_key: "warmth_visits",
        trend: [0.16, 0.18, 0.20, 0.22, 0.24],
        months: (1, 2),
        needs_based: true,
    },
    Programme {
        name: "困难帮扶",
        amount_key: "hardship_aid_funds",
        recipients_key: "hardship_aid_recipients",
        trend: [0.17, 0.20, 0.21, 0.21, 0.21],
        months: (3, 11),
        needs_based: true,
    },
    Programme {
        name: "金秋助学",
        amount_key: "education_aid_funds",
        recipients_key: "education_aid_students",
        trend: [0.18, 0.19, 0.20, 0.21, 0.22],
        months: (8, 9),
        needs_based: true,
    },
    Programme {
        name: "送清凉",
        amount_key: "cooling_funds",
        recipients_key: "cooling_workers",
        trend: [0.15, 0.18, 0.20, 0.22, 0.25],
        months: (6, 8),
        needs_based: false,
    },
];

/// Aid paid by town and programme, one to three batches per town, programme and year.
pub fn disbursements(world: &World, targets: &mut Targets, seed: u64) -> Table {
    let mut rng = Rng::for_part(seed, "aid_disbursements");
    let mut table = Table::new(&AID_DISBURSEMENTS);
    let needs = hardship_weights(world);
    let size: Vec<f64> = world.towns.iter().map(|t| t.weight).collect();
    let by_town = world.unions_by_town();
    let mut serial = 0;
    for p in &PROGRAMMES {
        // One slot per (year, town, batch); recipients first, then money in proportion with a local rate.
        let mut slots = Vec::new();
        let mut weights = Vec::new();
        for (yi, year) in years() {
            for ti in 0..world.towns.len() {
                let batches = rng.range(1, 3);
                for _ in 0..batches {
                    let w = if p.needs_based { needs[ti] } else { size[ti] };
                    slots.push((year, ti));
                    weights.push(p.trend[yi] * w * rng.lognormal(0.4) / batches as f64);
                }
            }
        }
        let recipients = allocate_at_least(targets.total(p.recipients_key), &weights, 1);
        let per_head: Vec<f64> = recipients
            .iter()
            .map(|&r| r as f64 * rng.lognormal(0.25))
            .collect();
        let amounts = allocate(targets.total(p.amount_key), &per_head);
        let visits = if p.name == "送清凉" {
            allocate(targets.total("cooling_enterprises_visited"), &weights)
        } else {
            Vec::new()
        };
        for (i, (&(year, ti), (r, yuan))) in slots
            .iter()
            .zip(recipients.iter().zip(&amounts))
            .enumerate()
        {
            serial += 1;
            let town = &world.towns[ti];
            let county_code = reference::counties()[town.county].code;
            let union = if rng.chance(0.2) {
                world.some_union(&mut rng, &by_town, ti, year)
            } else {
                None
            };
            table.push(
                town.county,
                &[
                    ("year", Value::Int(i64::from(year))),
                    (
                        "batch_id",
                        Value::Text(format!("ZJ{county_code}{year}{serial:06}")),
                    ),
                    (
                        "paid_date",
                        Value::Date(Date::random_in(&mut rng, year, p.months.0, p.months.1)),
                    ),
                    ("town", Value::Text(town.code.to_string())),
                    (
                        "union_uscc",
                        union.map_or(Value::Null, |u| Value::Text(u.uscc.clone())),
                    ),
                    ("programme", Value::Text(p.name.to_string())),
                    ("amount", Value::Money(*yuan as i64 * 100)),
                    ("recipients", Value::Int(*r as i64)),
                    (
                        "enterprises_visited",
                        visits.get(i).map_or(Value::Null, |v| Value::Int(*v as i64)),
                    ),
                ],
            );
        }
    }
    table
}
