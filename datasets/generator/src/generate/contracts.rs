//! Collective contracts: comprehensive ones every three years, wage agreements yearly, and
//! occupational-disease contracts once. Sets the unions' contract flags from the contracts.

use crate::table::{Date, Table, Value};
use unionstat_datasets::reference;
use unionstat_datasets::rng::{Rng, allocate};
use unionstat_tables::COLLECTIVE_CONTRACTS;

use super::organisation::{OrgType, World, allocate_capped, shuffle, years};
use super::targets::Targets;

struct Signing {
    union: usize,
    kind: &'static str,
    signed: Date,
    term: i32,
}

/// Generates the contracts and marks each union's contract flags.
pub fn build(world: &mut World, targets: &mut Targets, seed: u64) -> Table {
    let mut rng = Rng::for_part(seed, "contracts");
    let mut signings = Vec::new();
    let n = world.unions.len();

    // Comprehensive contracts (three-year terms), with a women's special contract alongside some.
    for u in 0..n {
        if !rng.chance(0.88) {
            continue;
        }
        let phase = rng.range(0, 2) as i32;
        let founded = world.unions[u].founded.y;
        for (yi, year) in years() {
            let union = &world.unions[u];
            if !union.exists_in(year) {
                continue;
            }
            let due = (year - 2013 - phase).rem_euclid(3) == 0 || year == founded;
            if due {
                signings.push(Signing {
                    union: u,
                    kind: "综合集体合同",
                    signed: Date::random_in(&mut rng, year, 1, 12),
                    term: 3,
                });
                if rng.chance(0.3) {
                    signings.push(Signing {
                        union: u,
                        kind: "女职工权益保护专项集体合同",
                        signed: Date::random_in(&mut rng, year, 1, 12),
                        term: 3,
                    });
                }
            }
            // In force: either signed this year or within the last three.
            world.unions[u].collective[yi] = true;
        }
    }

    // Wage agreements, renewed yearly; by 2017 they cover over 98% of organised enterprises.
    let alive17: Vec<usize> = (0..n)
        .filter(|&u| world.unions[u].exists_in(2017))
        .collect();
    let organised17: u64 = alive17
        .iter()
        .map(|&u| u64::from(world.unions[u].covers))
        .sum();
    let mut without = alive17.clone();
    shuffle(&mut rng, &mut without);
    let mut uncovered = 0u64;
    let allowance = organised17 / 100;
    for u in without {
        let covers = u64::from(world.unions[u].covers);
        if uncovered + covers <= allowance && rng.chance(0.5) {
            uncovered += covers;
        } else {
            world.unions[u].wage[4] = true;
        }
    }
    for u in 0..n {
        for (yi, year) in years().take(4) {
            let union = &mut world.unions[u];
            union.wage[yi] = union.exists_in(year) && rng.chance(0.70 + 0.06 * yi as f64);
        }
        for (yi, year) in years() {
            if world.unions[u].wage[yi] {
                signings.push(Signing {
                    union: u,
                    kind: "工资专项集体合同",
                    signed: Date::random_in(&mut rng, year, 1, 6),
                    term: 1,
                });
            }
        }
    }

    // Occupational-disease contracts, in the hazardous industries first, covering 6,200-odd enterprises.
    let target = targets.total("od_contract_enterprises");
    let mut order: Vec<usize> = (0..n).collect();
    shuffle(&mut rng, &mut order);
    order.sort_by_key(|&u| !matches!(world.unions[u].industry, "B" | "C" | "D" | "E" | "G"));
    let mut covered = 0u64;
    for u in order {
        let union = &world.unions[u];
        let covers = u64::from(union.covers);
        if covered + covers > target {
            continue;
        }
        let first = union.founded.y.max(2013);
        let last = union.dissolved.map_or(2017, |d| d - 1);
        if first > last {
            continue;
        }
        let year = rng.range(i64::from(first), i64::from(last)) as i32;
        world.unions[u].od_since = Some(year);
        signings.push(Signing {
            union: u,
            kind: "职业病防治专项集体合同",
            signed: Date::random_in(&mut rng, year, 1, 12),
            term: 3,
        });
        covered += covers;
        if covered == target {
            break;
        }
    }

    signings.sort_by_key(|s| (s.signed.y, s.union, s.kind));
    // 33,000 wage offers over the wage agreements; replies follow the likely reading of the article
    // (2.7万, since 27万 replies to 3.3万 offers cannot be).
    let wage: Vec<usize> = (0..signings.len())
        .filter(|&i| signings[i].kind == "工资专项集体合同")
        .collect();
    let offer_weights: Vec<f64> = wage
        .iter()
        .map(|&i| f64::from(world.unions[signings[i].union].covers))
        .collect();
    let offers = allocate(targets.total("wage_offers_sent"), &offer_weights);
    let replies = allocate_capped(
        targets.scaled(27_000.0),
        &offers.iter().map(|&o| o as f64).collect::<Vec<_>>(),
        &offers,
    );

    let mut table = Table::new(&COLLECTIVE_CONTRACTS);
    let mut wage_index = 0;
    for (i, s) in signings.iter().enumerate() {
        let union = &world.unions[s.union];
        let county = world.towns[union.town].county;
        let scope = match union.org_type {
            OrgType::Joint if union.uscc.as_bytes()[17].is_multiple_of(3) => "行业性",
            OrgType::Joint => "区域性",
            _ => "单独",
        };
        let (sent, replied) = if wage.get(wage_index) == Some(&i) {
            wage_index += 1;
            (
                Value::Int(offers[wage_index - 1] as i64),
                Value::Int(replies[wage_index - 1] as i64),
            )
        } else {
            (Value::Null, Value::Null)
        };
        let year = s.signed.y;
        table.push(
            county,
            &[
                ("year", Value::Int(i64::from(year))),
                (
                    "contract_id",
                    Value::Text(format!(
                        "HT{}{year}{i:06}",
                        reference::counties()[county].code
                    )),
                ),
                ("union_uscc", Value::Text(union.uscc.clone())),
                ("kind", Value::Text(s.kind.to_string())),
                ("scope", Value::Text(scope.to_string())),
                ("signed_date", Value::Date(s.signed)),
                ("expiry_date", Value::Date(s.signed.plus_years(s.term))),
                ("enterprises_covered", Value::Int(i64::from(union.covers))),
                ("employees_covered", Value::Int(i64::from(union.employees))),
                ("offers_sent", sent),
                ("offers_replied", replied),
            ],
        );
    }
    table
}
