//! Contests, drives, classes and events: labour and skills contests, innovation, the Ankang Cup,
//! job fairs and workers' congress work.

use crate::table::{Date, Table, Value};
use unionstat_datasets::reference::{self, INDUSTRIES};
use unionstat_datasets::rng::{Rng, allocate, allocate_at_least};
use unionstat_tables::ACTIVITIES;

use super::organisation::{allocate_capped, years};
use super::targets::Targets;

/// A measure of an activity kind: the column and the published figure its rows add up to.
type Measure = (&'static str, &'static str);

/// A kind of activity reported once per county and year, with the figures its rows add up to.
struct Drive {
    kind: &'static str,
    name: &'static str,
    measures: &'static [Measure],
}

const DRIVES: [Drive; 7] = [
    Drive {
        kind: "劳动竞赛",
        name: "“中国梦·劳动美”劳动竞赛",
        measures: &[
            ("units", "labour_contest_units"),
            ("participants", "labour_contest_workers"),
            ("projects", "labour_contest_projects"),
        ],
    },
    Drive {
        kind: "职工自主创新",
        name: "职工自主创新成果征集",
        measures: &[
            ("results", "innovation_results"),
            ("recommended", "innovation_recommended"),
            ("converted", "innovation_converted"),
            ("benefit", "innovation_benefit"),
        ],
    },
    Drive {
        kind: "五小创新",
        name: "职工“五小”创新大赛",
        measures: &[
            ("projects", "five_small_projects"),
            ("awarded", "five_small_awarded"),
        ],
    },
    Drive {
        kind: "安康杯",
        name: "“安康杯”竞赛",
        measures: &[
            ("enterprises", "ankang_cup_enterprises"),
            ("teams", "ankang_cup_teams"),
            ("participants", "ankang_cup_workers"),
            ("awarded", "ankang_cup_advanced"),
        ],
    },
    Drive {
        kind: "一法三卡",
        name: "“一法三卡”推广",
        measures: &[("enterprises", "yifa_sanka_enterprises")],
    },
    Drive {
        kind: "职工代表培训",
        name: "职工代表培训",
        measures: &[("participants", "worker_rep_trainees")],
    },
    Drive {
        kind: "职工代表提案",
        name: "优秀职工代表提案征集",
        measures: &[("results", "worker_rep_proposals")],
    },
];

/// An event kind whose count of rows is itself the published figure.
struct Events {
    kind: &'static str,
    name: &'static str,
    count_key: &'static str,
    participants_key: Option<&'static str>,
}

const EVENTS: [Events; 3] = [
    Events {
        kind: "培训班",
        name: "职工技能培训班",
        count_key: "training_classes",
        participants_key: Some("training_trainees"),
    },
    Events {
        kind: "招聘会",
        name: "就业招聘会",
        count_key: "job_fairs",
        participants_key: Some("job_seekers_placed"),
    },
    Events {
        kind: "道德讲堂",
        name: "职工道德讲堂",
        count_key: "moral_lectures",
        participants_key: None,
    },
];

/// The 15 industries that held skills contests.
const SKILLS_INDUSTRIES: [&str; 15] = [
    "A", "B", "C", "D", "E", "F", "G", "H", "I", "J", "N", "O", "P", "Q", "R",
];

/// All activity rows of the five years.
pub fn build(targets: &mut Targets, seed: u64) -> Table {
    let mut rng = Rng::for_part(seed, "activities");
    let counties = reference::counties();
    let county_weights: Vec<f64> = counties.iter().map(|c| c.economic_weight).collect();
    let mut table = Table::new(&ACTIVITIES);
    let mut serial = 0;
    let mut push = |table: &mut Table,
                    county: usize,
                    year: i32,
                    kind: &str,
                    name: String,
                    start: Date,
                    cells: Vec<(&str, Value)>| {
        serial += 1;
        let mut row = vec![
            ("year", Value::Int(i64::from(year))),
            (
                "activity_id",
                Value::Text(format!("HD{}{year}{serial:05}", counties[county].code)),
            ),
            ("kind", Value::Text(kind.to_string())),
            ("name", Value::Text(name)),
            ("start_date", Value::Date(start)),
        ];
        row.extend(cells);
        table.push(county, &row);
    };

    // Drives: one row per county and year; each measure's rows add up to its published figure, and
    // nested figures (recommended of results, converted of recommended) stay within their parent.
    for drive in &DRIVES {
        let slots: Vec<(usize, i32)> = years()
            .flat_map(|(_, y)| (0..counties.len()).map(move |c| (c, y)))
            .collect();
        let weights: Vec<f64> = slots
            .iter()
            .map(|&(c, y)| {
                county_weights[c] * (1.0 + 0.08 * f64::from(y - 2013)) * rng.lognormal(0.3)
            })
            .collect();
        let mut columns: Vec<(&str, Vec<u64>)> = Vec::new();
        for (column, key) in drive.measures {
            let total = targets.total(key);
            let parts = match (drive.kind, *column) {
                (_, "recommended") | (_, "converted") | (_, "awarded") => {
                    let parent = &columns[columns.len() - 1].1;
                    let caps = if *column == "awarded" && drive.kind == "安康杯" {
                        &columns[0].1
                    } else {
                        parent
                    };
                    allocate_capped(
                        total,
                        &caps.iter().map(|&c| c as f64).collect::<Vec<_>>(),
                        caps,
                    )
                }
                (_, "benefit") => allocate(
                    total,
                    &columns[2]
                        .1
                        .iter()
                        .map(|&c| c as f64 + 0.2)
                        .collect::<Vec<_>>(),
                ),
                _ => allocate_at_least(total, &weights, 1),
            };
            columns.push((column, parts));
        }
        for (i, &(county, year)) in slots.iter().enumerate() {
            let cells = columns
                .iter()
                .map(|(column, parts)| {
                    let v = parts[i] as i64;
                    (
                        *column,
                        if *column == "benefit" {
                            Value::Money(v * 100)
                        } else {
                            Value::Int(v)
                        },
                    )
                })
                .collect();
            let name = format!("{year}年{}{}", counties[county].name_zh, drive.name);
            push(
                &mut table,
                county,
                year,
                drive.kind,
                name,
                Date::random_in(&mut rng, year, 3, 6),
                cells,
            );
        }
    }

    // Events: as many rows as the published count, spread over counties and years.
    for ev in &EVENTS {
        let n = targets.total(ev.count_key);
        let slots: Vec<(usize, i32)> = (0..n)
            .map(|_| {
                (
                    rng.pick_weighted(&county_weights),
                    rng.range(2013, 2017) as i32,
                )
            })
            .collect();
        let participants = match ev.participants_key {
            Some(key) => allocate_at_least(
                targets.total(key),
                &slots.iter().map(|_| rng.lognormal(0.5)).collect::<Vec<_>>(),
                1,
            ),
            None => slots.iter().map(|_| rng.range(80, 400) as u64).collect(),
        };
        for (&(county, year), p) in slots.iter().zip(participants) {
            let name = format!("{}{}", counties[county].name_zh, ev.name);
            push(
                &mut table,
                county,
                year,
                ev.kind,
                name,
                Date::random_in(&mut rng, year, 1, 12),
                vec![("participants", Value::Int(p as i64))],
            );
        }
    }

    // Skills contests: one city-wide contest per industry in the five years, 150 trades in all
    // (distinct trades are a count of the contests, not a volume, so they do not scale).
    let trades = allocate_at_least(150, &SKILLS_INDUSTRIES.map(|_| rng.lognormal(0.4)), 2);
    let participants = allocate_at_least(
        targets.total("skills_contest_participants"),
        &SKILLS_INDUSTRIES.map(|_| rng.lognormal(0.6)),
        1,
    );
    for ((code, t), p) in SKILLS_INDUSTRIES.iter().zip(trades).zip(participants) {
        let year = rng.range(2013, 2017) as i32;
        let name = reference::industry(code).map_or(String::new(), |i| {
            format!("龙岩市{}职工技能大赛", i.name_zh)
        });
        let cells = vec![
            ("industry", Value::Text(code.to_string())),
            ("trades", Value::Int(t as i64)),
            ("participants", Value::Int(p as i64)),
        ];
        push(
            &mut table,
            0,
            year,
            "技能大赛",
            name,
            Date::random_in(&mut rng, year, 4, 10),
            cells,
        );
    }
    debug_assert!(
        SKILLS_INDUSTRIES
            .iter()
            .all(|c| INDUSTRIES.iter().any(|i| i.code == *c))
    );
    table
}
