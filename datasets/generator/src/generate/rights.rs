//! Rights protection: the service sites (mother rooms, mediation and legal-supervision bodies,
//! service centres) as points on the map, and the cases unions handled.

use geo::{BoundingRect, Contains, Point};

use crate::table::{Date, Table, Value};
use unionstat_datasets::crs::Crs;
use unionstat_datasets::geography;
use unionstat_datasets::reference::{self, INDUSTRIES};
use unionstat_datasets::rng::{Rng, allocate, allocate_at_least};
use unionstat_tables::{RIGHTS_CASES, SERVICE_SITES};

use super::organisation::{World, years};
use super::targets::Targets;

/// Counties whose sites come in GCJ-02, read off a web map, rather than from GPS.
const GCJ02_COUNTIES: [usize; 2] = [1, 3];

/// A random point inside the town's boundary; parks, which have none, get one near their centre.
fn point_in_town(rng: &mut Rng, code: &str) -> Point<f64> {
    let Some(region) = geography::region(code) else {
        return Point::new(117.0, 25.1);
    };
    if let Some(shape) = &region.geometry
        && let Some(bbox) = shape.bounding_rect()
    {
        for _ in 0..500 {
            let p = Point::new(
                rng.range_f64(bbox.min().x, bbox.max().x),
                rng.range_f64(bbox.min().y, bbox.max().y),
            );
            if shape.contains(&p) {
                return p;
            }
        }
    }
    let c = region.centroid;
    Point::new(
        c.x() + rng.range_f64(-0.01, 0.01),
        c.y() + rng.range_f64(-0.01, 0.01),
    )
}

struct Site {
    kind: &'static str,
    name: String,
    town: usize,
    at: Point<f64>,
    established: Date,
}

/// The service sites, reported every year from the year they opened, with the people they served.
pub fn service_sites(world: &World, targets: &mut Targets, seed: u64) -> Table {
    let mut rng = Rng::for_part(seed, "service_sites");
    let weights: Vec<f64> = world.towns.iter().map(|t| t.weight).collect();
    let by_town = world.unions_by_town();
    let mut sites = Vec::new();
    // (kind, published count, share opened before 2013, earliest year)
    let kinds = [
        ("妈妈小屋", targets.total("mother_rooms"), 0.0, 2014),
        (
            "劳动争议调解组织",
            targets.total("mediation_bodies"),
            0.6,
            2013,
        ),
        (
            "工会劳动法律监督组织",
            targets.total("legal_supervision_bodies"),
            0.55,
            2013,
        ),
    ];
    for (kind, count, before, earliest) in kinds {
        for (ti, n) in allocate(count, &weights).into_iter().enumerate() {
            for _ in 0..n {
                let year = if rng.chance(before) {
                    rng.range(1995, 2012)
                } else {
                    rng.range(earliest, 2017)
                } as i32;
                let host = world.some_union(&mut rng, &by_town, ti, 2017).map_or_else(
                    || {
                        reference::town(world.towns[ti].code)
                            .map_or(String::new(), |t| t.name_zh.clone())
                    },
                    |u| {
                        u.name
                            .trim_end_matches("工会委员会")
                            .trim_end_matches("联合")
                            .to_string()
                    },
                );
                let name = match kind {
                    "妈妈小屋" => format!("{host}妈妈小屋"),
                    "劳动争议调解组织" => format!("{host}劳动争议调解委员会"),
                    _ => format!("{host}工会劳动法律监督委员会"),
                };
                let at = point_in_town(&mut rng, world.towns[ti].code);
                sites.push(Site {
                    kind,
                    name,
                    town: ti,
                    at,
                    established: Date::random_in(&mut rng, year, 1, 12),
                });
            }
        }
    }
    // A service centre (station) in every town-level body: part of the geography, not scaled.
    for (ti, town) in world.towns.iter().enumerate() {
        let name = reference::town(town.code).map_or(String::new(), |t| t.name_zh.clone());
        let at = point_in_town(&mut rng, town.code);
        let year = rng.range(2008, 2016) as i32;
        sites.push(Site {
            kind: "职工服务中心",
            name: format!("{name}职工服务站"),
            town: ti,
            at,
            established: Date::random_in(&mut rng, year, 1, 12),
        });
    }

    let open = |s: &Site, year: i32| s.established.y <= year;
    let mother_slots: Vec<(usize, i32)> = years()
        .flat_map(|(_, y)| {
            sites
                .iter()
                .enumerate()
                .filter(move |(_, s)| s.kind == "妈妈小屋" && open(s, y))
                .map(move |(i, _)| (i, y))
        })
        .collect();
    let mother_weights: Vec<f64> = mother_slots
        .iter()
        .map(|&(i, y)| f64::from(y - sites[i].established.y + 1))
        .collect();
    let mother_visits = allocate_at_least(targets.total("mother_room_visits"), &mother_weights, 1);

    let mut table = Table::new(&SERVICE_SITES);
    let mut mother = mother_slots.iter().zip(mother_visits);
    for (_, year) in years() {
        for (i, site) in sites.iter().enumerate().filter(|(_, s)| open(s, year)) {
            let county = world.towns[site.town].county;
            let visits = match site.kind {
                "妈妈小屋" => mother.next().map_or(0, |(_, v)| v as i64),
                "劳动争议调解组织" => rng.range(0, 25),
                "工会劳动法律监督组织" => rng.range(0, 12),
                _ => rng.range(300, 6000),
            };
            let crs = if GCJ02_COUNTIES.contains(&county) {
                Crs::Gcj02
            } else {
                Crs::Wgs84
            };
            let (lon, lat) = crs.from_wgs84(site.at.x(), site.at.y());
            // Some returns leave the town blank; ingest places those by their coordinates.
            let town = if site.kind != "职工服务中心" && (i * 7 + year as usize).is_multiple_of(10)
            {
                Value::Null
            } else {
                Value::Text(world.towns[site.town].code.to_string())
            };
            table.push(
                county,
                &[
                    ("year", Value::Int(i64::from(year))),
                    (
                        "site_id",
                        Value::Text(format!("ZD{}{i:06}", reference::counties()[county].code)),
                    ),
                    ("kind", Value::Text(site.kind.to_string())),
                    ("name", Value::Text(site.name.clone())),
                    ("town", town),
                    ("lon", Value::Degrees((lon * 1e6).round() / 1e6)),
                    ("lat", Value::Degrees((lat * 1e6).round() / 1e6)),
                    ("crs", Value::Text(crs.name().to_string())),
                    ("established_date", Value::Date(site.established)),
                    ("visits", Value::Int(visits)),
                ],
            );
        }
    }
    table
}

/// Letters, visits and calls; legal aid; wage-arrears cases with the workers and money recovered.
pub fn cases(world: &World, targets: &mut Targets, seed: u64) -> Table {
    let mut rng = Rng::for_part(seed, "rights_cases");
    let weights: Vec<f64> = world.towns.iter().map(|t| t.weight).collect();
    let by_town = world.unions_by_town();
    let trend = [0.17, 0.19, 0.21, 0.22, 0.21];
    let arrears = targets.total("wage_arrears_cases");
    let kinds: Vec<(&str, u64)> = {
        let petitions = allocate(targets.total("petitions"), &[0.2, 0.35, 0.45]);
        vec![
            ("来信", petitions[0]),
            ("来访", petitions[1]),
            ("来电", petitions[2]),
            ("法律援助", targets.total("legal_aid_cases")),
            ("欠薪", arrears),
        ]
    };
    // Workers and money recovered, spread over the wage-arrears cases by size.
    let sizes: Vec<f64> = (0..arrears).map(|_| rng.lognormal(0.9)).collect();
    let workers = allocate_at_least(targets.total("wage_arrears_workers"), &sizes, 1);
    let money = allocate(
        targets.total("wage_arrears_recovered"),
        &workers
            .iter()
            .map(|&w| w as f64 * rng.lognormal(0.3))
            .collect::<Vec<_>>(),
    );
    let mut arrears_cases = workers.into_iter().zip(money);

    let mut table = Table::new(&RIGHTS_CASES);
    let mut serial = 0;
    for (kind, total) in kinds {
        for ((_, year), n) in years().zip(allocate(total, &trend)) {
            for (ti, count) in allocate(n, &weights).into_iter().enumerate() {
                let town = &world.towns[ti];
                for _ in 0..count {
                    serial += 1;
                    let industry = if kind == "欠薪" {
                        ["E", "E", "E", "C", "C", "H", "F"][rng.range(0, 6) as usize]
                    } else {
                        INDUSTRIES[rng.range(0, 18) as usize].code
                    };
                    let (workers, recovered) = match kind {
                        "欠薪" => arrears_cases.next().map_or((1, Value::Null), |(w, y)| {
                            (w as i64, Value::Money(y as i64 * 100))
                        }),
                        "法律援助" => (rng.range(1, 6), Value::Null),
                        _ => (rng.range(1, 3), Value::Null),
                    };
                    let outcome = match kind {
                        "欠薪" => "已追回",
                        "法律援助" => {
                            ["调解成功", "胜诉", "部分胜诉", "和解"][rng.range(0, 3) as usize]
                        }
                        _ => ["已办结", "已答复", "转有关部门"][rng.range(0, 2) as usize],
                    };
                    let union = if rng.chance(0.5) {
                        world.some_union(&mut rng, &by_town, ti, year)
                    } else {
                        None
                    };
                    table.push(
                        town.county,
                        &[
                            ("year", Value::Int(i64::from(year))),
                            (
                                "case_id",
                                Value::Text(format!(
                                    "WQ{}{year}{serial:06}",
                                    reference::counties()[town.county].code
                                )),
                            ),
                            ("kind", Value::Text(kind.to_string())),
                            (
                                "received_date",
                                Value::Date(Date::random_in(&mut rng, year, 1, 12)),
                            ),
                            ("town", Value::Text(town.code.to_string())),
                            ("industry", Value::Text(industry.to_string())),
                            (
                                "union_uscc",
                                union.map_or(Value::Null, |u| Value::Text(u.uscc.clone())),
                            ),
                            ("workers", Value::Int(workers)),
                            ("amount_recovered", recovered),
                            ("outcome", Value::Text(outcome.to_string())),
                        ],
                    );
                }
            }
        }
    }
    table
}
