//! The yearly rows of the `grassroots_unions` and `enterprises` returns.

use crate::table::{Table, Value};
use unionstat_tables::{ENTERPRISES, GRASSROOTS_UNIONS};

use super::organisation::{World, years};

/// One row per union and year it existed.
pub fn unions(world: &World) -> Table {
    let mut table = Table::new(&GRASSROOTS_UNIONS);
    for (yi, year) in years() {
        for union in world.unions.iter().filter(|u| u.exists_in(year)) {
            let town = &world.towns[union.town];
            let members = union.members[yi];
            let migrant = ((f64::from(members) * union.migrant_share).round() as u32)
                .max(union.new_migrant[..=yi].iter().sum::<u32>())
                .min(members);
            let model_home = match union.model_home {
                Some((named, title)) if named <= year => title,
                _ => "无",
            };
            table.push(
                town.county,
                &[
                    ("year", Value::Int(i64::from(year))),
                    ("union_uscc", Value::Text(union.uscc.clone())),
                    ("union_name", Value::Text(union.name.clone())),
                    ("town", Value::Text(town.code.to_string())),
                    ("industry", Value::Text(union.industry.to_string())),
                    ("org_type", Value::Text(union.org_type.zh().to_string())),
                    ("founded_date", Value::Date(union.founded)),
                    ("enterprises_covered", Value::Int(i64::from(union.covers))),
                    ("employees", Value::Int(i64::from(union.employees))),
                    ("members", Value::Int(i64::from(members))),
                    (
                        "female_members",
                        Value::Int((f64::from(members) * union.female_share).round() as i64),
                    ),
                    ("migrant_members", Value::Int(i64::from(migrant))),
                    ("new_members", Value::Int(i64::from(union.new_members[yi]))),
                    (
                        "new_migrant_members",
                        Value::Int(i64::from(union.new_migrant[yi])),
                    ),
                    ("workers_congress", Value::Bool(union.congress)),
                    ("collective_contract", Value::Bool(union.collective[yi])),
                    ("wage_agreement", Value::Bool(union.wage[yi])),
                    (
                        "od_contract",
                        Value::Bool(union.od_since.is_some_and(|y| y <= year)),
                    ),
                    ("model_home", Value::Text(model_home.to_string())),
                ],
            );
        }
    }
    table
}

/// One row per enterprise and year it existed, with its covering union where it had one.
pub fn enterprises(world: &World) -> Table {
    let mut table = Table::new(&ENTERPRISES);
    for (_, year) in years() {
        for e in world.enterprises.iter().filter(|e| e.exists_in(year)) {
            let town = &world.towns[e.town];
            let union = e
                .union
                .map(|u| &world.unions[u])
                .filter(|u| u.exists_in(year));
            let harmonious = match e.harmonious {
                Some((named, level)) if named <= year => level,
                _ => "无",
            };
            table.push(
                town.county,
                &[
                    ("year", Value::Int(i64::from(year))),
                    ("uscc", Value::Text(e.uscc.clone())),
                    ("name", Value::Text(e.name.clone())),
                    ("town", Value::Text(town.code.to_string())),
                    ("industry", Value::Text(e.industry.to_string())),
                    ("established_date", Value::Date(e.established)),
                    ("employees", Value::Int(i64::from(e.employees))),
                    (
                        "union_uscc",
                        union.map_or(Value::Null, |u| Value::Text(u.uscc.clone())),
                    ),
                    ("harmonious_level", Value::Text(harmonious.to_string())),
                ],
            );
        }
    }
    table
}
