//! Grassroots unions and the enterprises they cover: who is organised where, with how many members.

use crate::table::{Date, YEARS};
use unionstat_datasets::codes;
use unionstat_datasets::reference::{self, INDUSTRIES, TownKind};
use unionstat_datasets::rng::{Rng, allocate, allocate_at_least};

use super::targets::Targets;

/// How a grassroots union is organised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgType {
    /// 单独基层工会: one enterprise.
    Single,
    /// 联合基层工会: several small enterprises together.
    Joint,
    /// 机关事业单位工会: a public body.
    PublicBody,
}

impl OrgType {
    /// The form's wording.
    pub fn zh(self) -> &'static str {
        match self {
            OrgType::Single => "单独基层工会",
            OrgType::Joint => "联合基层工会",
            OrgType::PublicBody => "机关事业单位工会",
        }
    }
}

/// A town-level body with the traits that shape its unions.
#[derive(Debug, Clone)]
pub struct TownInfo {
    /// 9-digit code.
    pub code: &'static str,
    /// Index of its county.
    pub county: usize,
    /// Share of the city's organised economy.
    pub weight: f64,
    /// Typical share of migrant workers among members.
    pub migrant_share: f64,
    /// Enterprises without a union, per enterprise with one.
    pub unorganised_ratio: f64,
}

/// A grassroots union over the five years.
#[derive(Debug, Clone)]
pub struct Union {
    /// Its USCC (starts `81`).
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Index into the town list.
    pub town: usize,
    /// Industry section letter.
    pub industry: &'static str,
    /// Organisation form.
    pub org_type: OrgType,
    /// Date founded.
    pub founded: Date,
    /// Year it was dissolved (its enterprise closed), if within 2013-2017.
    pub dissolved: Option<i32>,
    /// Enterprises covered.
    pub covers: u32,
    /// Employees of the covered enterprises.
    pub employees: u32,
    /// Members at the end of each year 2013-2017 (0 when the union did not exist).
    pub members: [u32; 5],
    /// Members recruited in each year.
    pub new_members: [u32; 5],
    /// Migrant workers among them.
    pub new_migrant: [u32; 5],
    /// Share of migrant workers among its members.
    pub migrant_share: f64,
    /// Share of women among its members.
    pub female_share: f64,
    /// Has a workers' congress.
    pub congress: bool,
    /// Model-home title and the year it was given.
    pub model_home: Option<(i32, &'static str)>,
    /// A collective contract in force, by year (set when contracts are generated).
    pub collective: [bool; 5],
    /// A wage agreement in force, by year.
    pub wage: [bool; 5],
    /// Year an occupational-disease contract was signed.
    pub od_since: Option<i32>,
}

impl Union {
    /// Whether the union existed at the end of `year`.
    pub fn exists_in(&self, year: i32) -> bool {
        self.founded.y <= year && self.dissolved.is_none_or(|d| d > year)
    }
}

/// An enterprise or public body.
#[derive(Debug, Clone)]
pub struct Enterprise {
    /// USCC (starts `91`, or `12` for public bodies).
    pub uscc: String,
    /// Name.
    pub name: String,
    /// Index into the town list.
    pub town: usize,
    /// Industry section letter.
    pub industry: &'static str,
    /// Date registered.
    pub established: Date,
    /// Year it closed.
    pub closed: Option<i32>,
    /// Employees.
    pub employees: u32,
    /// Index of the covering union.
    pub union: Option<usize>,
    /// Harmonious-labour-relations title and the year given.
    pub harmonious: Option<(i32, &'static str)>,
}

impl World {
    /// Indices of the unions of each town.
    pub fn unions_by_town(&self) -> Vec<Vec<usize>> {
        let mut by_town = vec![Vec::new(); self.towns.len()];
        for (u, union) in self.unions.iter().enumerate() {
            by_town[union.town].push(u);
        }
        by_town
    }

    /// A random union of town `ti` that existed in `year`, if it has any.
    pub fn some_union(
        &self,
        rng: &mut Rng,
        by_town: &[Vec<usize>],
        ti: usize,
        year: i32,
    ) -> Option<&Union> {
        let alive: Vec<usize> = by_town[ti]
            .iter()
            .copied()
            .filter(|&u| self.unions[u].exists_in(year))
            .collect();
        (!alive.is_empty()).then(|| &self.unions[*rng.pick(&alive)])
    }
}

impl Enterprise {
    /// Whether the enterprise existed at the end of `year`.
    pub fn exists_in(&self, year: i32) -> bool {
        self.established.y <= year && self.closed.is_none_or(|c| c > year)
    }
}

/// The organised economy of the city.
#[derive(Debug)]
pub struct World {
    /// The 141 town-level bodies.
    pub towns: Vec<TownInfo>,
    /// Every union that existed in 2013-2017.
    pub unions: Vec<Union>,
    /// Every enterprise that existed in 2013-2017.
    pub enterprises: Vec<Enterprise>,
}

const BRANDS: [&str; 40] = [
    "闽西", "龙州", "红土", "汀江", "九龙", "紫金", "冠豸", "梅花", "古田", "永福", "金山", "雁石",
    "华兴", "鑫达", "恒泰", "宏盛", "瑞丰", "永兴", "天元", "嘉禾", "海峡", "客家", "土楼", "龙津",
    "翠屏", "莲峰", "卧龙", "双龙", "丰源", "鸿运", "德润", "新宇", "正大", "荣昌", "众和", "合力",
    "长青", "益民", "广源", "万通",
];

fn trade_word(industry: &str) -> &'static str {
    match industry {
        "A" => "农林发展",
        "B" => "矿业",
        "C" => "机械制造",
        "D" => "电力",
        "E" => "建设工程",
        "F" => "商贸",
        "G" => "物流",
        "H" => "酒店管理",
        "I" => "信息技术",
        "J" => "农村信用",
        "K" => "房地产开发",
        "L" => "商务服务",
        "M" => "技术服务",
        "N" => "环境工程",
        "O" => "家政服务",
        "P" => "中学",
        "Q" => "医院",
        "R" => "文化传媒",
        _ => "服务中心",
    }
}

/// Industries public bodies belong to.
const PUBLIC_INDUSTRIES: [&str; 4] = ["P", "Q", "S", "N"];

fn county_short(county: usize) -> &'static str {
    let name = reference::counties()[county].name_zh;
    let mut chars = name.char_indices();
    let end = chars.nth(2).map_or(name.len(), |(i, _)| i);
    &name[..end]
}

fn enterprise_name(rng: &mut Rng, county: usize, industry: &str, public: bool) -> String {
    let brand = rng.pick(&BRANDS);
    let place = county_short(county);
    if public {
        format!("{place}{brand}{}", trade_word(industry))
    } else {
        let form = if rng.chance(0.8) {
            "有限公司"
        } else {
            "股份有限公司"
        };
        format!("龙岩{brand}{}{form}", trade_word(industry))
    }
}

fn industry_weights(county: usize) -> Vec<f64> {
    INDUSTRIES
        .iter()
        .map(|i| {
            let local = match (county, i.code) {
                (3, "B") | (6, "B") => 2.5, // 上杭's copper and gold, 漳平's coal
                (0, "F" | "G" | "I" | "J" | "K" | "L") => 1.4,
                (1, "H") => 1.8, // 永定's earth-building tourism
                (2, "C") => 1.3, // 长汀's textiles
                _ => 1.0,
            };
            i.union_weight * local
        })
        .collect()
}

fn town_infos(seed: u64) -> Vec<TownInfo> {
    let mut rng = Rng::for_part(seed, "towns");
    let towns = reference::towns();
    let counties = reference::counties();
    let factors: Vec<f64> = towns
        .iter()
        .map(|t| {
            let base = match t.kind {
                TownKind::Street => 3.0,
                TownKind::Park => 4.0,
                TownKind::Town => 1.0,
                TownKind::Township => 0.45,
            };
            base * rng.lognormal(0.5)
        })
        .collect();
    towns
        .iter()
        .zip(&factors)
        .map(|(t, f)| {
            let county = counties
                .iter()
                .position(|c| c.code == t.county_code)
                .unwrap_or(0);
            let in_county: f64 = towns
                .iter()
                .zip(&factors)
                .filter(|(o, _)| o.county_code == t.county_code)
                .map(|(_, f)| f)
                .sum();
            let urban = matches!(t.kind, TownKind::Street | TownKind::Park);
            TownInfo {
                code: t.code.as_str(),
                county,
                weight: counties[county].economic_weight * f / in_county,
                migrant_share: if urban {
                    rng.range_f64(0.25, 0.55)
                } else {
                    rng.range_f64(0.08, 0.35)
                },
                unorganised_ratio: if urban {
                    rng.range_f64(0.04, 0.18)
                } else {
                    rng.range_f64(0.08, 0.45)
                },
            }
        })
        .collect()
}

/// Builds the unions and enterprises of the five years, calibrated to the published figures.
pub fn build(targets: &mut Targets, seed: u64) -> World {
    let towns = town_infos(seed);
    let mut rng = Rng::for_part(seed, "unions");
    let n17 = targets.total("grassroots_unions");
    let founded = targets.total("unions_founded");
    let dissolved = targets.scaled(213.0).min(n17 - founded);
    let total = n17 + dissolved;

    // Where the unions are: towns weighted by economy.
    let per_town = allocate(total, &towns.iter().map(|t| t.weight).collect::<Vec<_>>());
    let mut unions = Vec::with_capacity(total as usize);
    for (ti, count) in per_town.iter().enumerate() {
        let county = towns[ti].county;
        let weights = industry_weights(county);
        let region = reference::counties()[county].code;
        for _ in 0..*count {
            let industry = INDUSTRIES[rng.pick_weighted(&weights)].code;
            let public = PUBLIC_INDUSTRIES.contains(&industry) && rng.chance(0.8);
            let org_type = if public {
                OrgType::PublicBody
            } else {
                OrgType::Single
            };
            let uscc = codes::make_uscc(&mut rng, '8', '1', region);
            unions.push(Union {
                uscc,
                name: String::new(),
                town: ti,
                industry,
                org_type,
                founded: Date {
                    y: 2000,
                    m: 1,
                    d: 1,
                },
                dissolved: None,
                covers: 1,
                employees: 0,
                members: [0; 5],
                new_members: [0; 5],
                new_migrant: [0; 5],
                migrant_share: 0.0,
                female_share: 0.0,
                congress: rng.chance(0.86),
                model_home: None,
                collective: [false; 5],
                wage: [false; 5],
                od_since: None,
            });
        }
    }

    // Which were founded in the five years (a campaign that peaked in 2014-2015) and which closed.
    let mut order: Vec<usize> = (0..unions.len()).collect();
    shuffle(&mut rng, &mut order);
    let by_year = allocate(founded, &[0.17, 0.23, 0.24, 0.19, 0.17]);
    let mut cursor = 0;
    for (yi, n) in by_year.iter().enumerate() {
        for &u in &order[cursor..cursor + *n as usize] {
            let union = &mut unions[u];
            union.founded = Date::random_in(&mut rng, 2013 + yi as i32, 1, 12);
            if union.org_type == OrgType::Single && rng.chance(0.55) {
                union.org_type = OrgType::Joint;
            }
        }
        cursor += *n as usize;
    }
    let closures = allocate(dissolved, &[0.15, 0.18, 0.22, 0.24, 0.21]);
    for (yi, n) in closures.iter().enumerate() {
        for &u in &order[cursor..cursor + *n as usize] {
            unions[u].dissolved = Some(2013 + yi as i32);
        }
        cursor += *n as usize;
    }
    for &u in &order[founded as usize..] {
        let union = &mut unions[u];
        let y = 1985 + (27.0 * rng.f64().powf(0.6)) as i32;
        union.founded = Date::random_in(&mut rng, y.min(2012), 1, 12);
        if union.org_type == OrgType::Single && rng.chance(0.06) {
            union.org_type = OrgType::Joint;
        }
    }

    // Enterprises covered: the new unions, many of them joint, cover the published 13,837.
    let new: Vec<usize> = (0..unions.len())
        .filter(|&u| unions[u].founded.y >= 2013)
        .collect();
    let new_weights: Vec<f64> = new
        .iter()
        .map(|&u| {
            if unions[u].org_type == OrgType::Joint {
                30.0 * rng.lognormal(0.6)
            } else {
                0.0
            }
        })
        .collect();
    let covered = allocate_at_least(
        targets.total("enterprises_covered_by_new_unions"),
        &new_weights,
        1,
    );
    for (&u, c) in new.iter().zip(covered) {
        unions[u].covers = c as u32;
    }
    for union in unions
        .iter_mut()
        .filter(|u| u.founded.y < 2013 && u.org_type == OrgType::Joint)
    {
        union.covers = rng.range(3, 25) as u32;
    }

    // Members at the end of 2017 hit 514,000; employees follow from a membership rate.
    let alive17: Vec<usize> = (0..unions.len())
        .filter(|&u| unions[u].exists_in(2017))
        .collect();
    let size_weights: Vec<f64> = alive17
        .iter()
        .map(|&u| {
            let union = &unions[u];
            let industry = match union.industry {
                "B" | "C" | "D" => 1.6,
                "E" => 1.4,
                "P" | "Q" => 1.2,
                _ => 0.8,
            };
            let joint = if union.org_type == OrgType::Joint {
                1.0 + 0.12 * f64::from(union.covers)
            } else {
                1.0
            };
            industry * joint * rng.lognormal(1.0)
        })
        .collect();
    let members17 = allocate_at_least(targets.total("union_members"), &size_weights, 5);
    for (&u, m) in alive17.iter().zip(members17) {
        unions[u].members[4] = m as u32;
    }
    for union in unions.iter_mut().filter(|u| u.dissolved.is_some()) {
        union.members[4] = (30.0 * rng.lognormal(0.8)).round().max(5.0) as u32;
    }
    for union in &mut unions {
        let town = &towns[union.town];
        let m17 = union.members[4];
        let rate = rng.range_f64(0.80, 0.97);
        union.employees = (f64::from(m17) / rate).ceil() as u32;
        let growth = rng.range_f64(0.975, 1.0);
        let industry_migrant = match union.industry {
            "C" | "E" | "B" => 1.5,
            "H" | "F" | "G" | "O" => 1.1,
            "P" | "Q" | "S" | "J" | "D" => 0.15,
            _ => 0.7,
        };
        union.migrant_share = (town.migrant_share * industry_migrant).min(0.92);
        union.female_share = match union.industry {
            "P" | "Q" | "H" | "J" => rng.range_f64(0.5, 0.7),
            "B" | "E" | "D" | "G" => rng.range_f64(0.1, 0.25),
            _ => rng.range_f64(0.3, 0.5),
        };
        let mut m = f64::from(m17);
        for yi in (0..5).rev() {
            let year = 2013 + yi as i32;
            union.members[yi] = if union.exists_in(year) {
                m.round().max(3.0) as u32
            } else {
                0
            };
            m *= growth;
        }
    }

    // Recruitment: 102,000 new members in five years, 86,000 of them migrant workers.
    let mut slots = Vec::new();
    let mut weights = Vec::new();
    let mut caps = Vec::new();
    for (u, union) in unions.iter().enumerate() {
        for yi in 0..5 {
            let year = 2013 + yi as i32;
            if union.members[yi] == 0 {
                continue;
            }
            let prev = if yi > 0 { union.members[yi - 1] } else { 0 };
            let founding = union.founded.y == year;
            let growth = if founding {
                union.members[yi]
            } else {
                union.members[yi].saturating_sub(prev)
            };
            slots.push((u, yi));
            weights.push(f64::from(growth) + 0.03 * f64::from(union.members[yi]));
            caps.push(u64::from(union.members[yi]));
        }
    }
    let recruited = allocate_capped(targets.total("new_members"), &weights, &caps);
    let migrant_weights: Vec<f64> = slots
        .iter()
        .zip(&recruited)
        .map(|(&(u, _), &n)| n as f64 * (unions[u].migrant_share + 0.6))
        .collect();
    let migrants = allocate_capped(
        targets.total("new_migrant_members"),
        &migrant_weights,
        &recruited,
    );
    for ((&(u, yi), n), mi) in slots.iter().zip(recruited).zip(migrants) {
        unions[u].new_members[yi] = n as u32;
        unions[u].new_migrant[yi] = mi as u32;
    }

    // Model workers' homes named over the five years.
    let homes = targets.total("model_worker_homes") as usize;
    let small = targets.total("model_worker_small_homes") as usize;
    let mut candidates: Vec<(u64, usize)> = alive17
        .iter()
        .map(|&u| {
            (
                u64::from(unions[u].members[4]) * (1 + rng.range(0, 3) as u64),
                u,
            )
        })
        .collect();
    candidates.sort_by_key(|&(size, u)| (std::cmp::Reverse(size), u));
    let mut candidates: Vec<usize> = candidates.into_iter().map(|(_, u)| u).collect();
    candidates.retain(|&u| unions[u].founded.y < 2016);
    for (i, &u) in candidates.iter().take(homes + small).enumerate() {
        let title = if i < homes {
            "模范职工之家"
        } else {
            "模范职工小家"
        };
        unions[u].model_home = Some((rng.range(2013, 2017) as i32, title));
    }

    let enterprises = build_enterprises(&mut rng, &towns, &mut unions, targets);
    World {
        towns,
        unions,
        enterprises,
    }
}

fn build_enterprises(
    rng: &mut Rng,
    towns: &[TownInfo],
    unions: &mut [Union],
    targets: &mut Targets,
) -> Vec<Enterprise> {
    let mut enterprises = Vec::new();
    for (u, union) in unions.iter_mut().enumerate() {
        let county = towns[union.town].county;
        let region = reference::counties()[county].code;
        let public = union.org_type == OrgType::PublicBody;
        let employees = allocate_at_least(
            u64::from(union.employees),
            &(0..union.covers)
                .map(|_| rng.lognormal(0.9))
                .collect::<Vec<_>>(),
            1,
        );
        for (k, e) in employees.into_iter().enumerate() {
            let industry = if k == 0 || rng.chance(0.7) {
                union.industry
            } else {
                INDUSTRIES[rng.range(0, 18) as usize].code
            };
            let name = enterprise_name(rng, county, industry, public);
            let latest = union.founded.y.min(2017);
            let y = (latest - (25.0 * rng.f64().powi(2)) as i32).max(1980);
            enterprises.push(Enterprise {
                uscc: codes::make_uscc(
                    rng,
                    if public { '1' } else { '9' },
                    if public { '2' } else { '1' },
                    region,
                ),
                name,
                town: union.town,
                industry,
                established: Date::random_in(rng, y, 1, 12),
                closed: union.dissolved,
                employees: e as u32,
                union: Some(u),
                harmonious: None,
            });
        }
        union.name = match union.org_type {
            OrgType::Joint => {
                let town = reference::town(towns[union.town].code)
                    .map_or("", |t| reference::short_name(&t.name_zh));
                format!(
                    "{town}{}{}联合工会委员会",
                    rng.pick(&BRANDS),
                    trade_word(union.industry)
                )
            }
            _ => format!(
                "{}工会委员会",
                enterprises.last().map_or("", |e| e.name.as_str())
            ),
        };
    }
    // Enterprises with no union: small firms, more of them in the countryside.
    for (ti, town) in towns.iter().enumerate() {
        let organised = enterprises
            .iter()
            .filter(|e| e.town == ti && e.closed.is_none())
            .count();
        let region = reference::counties()[town.county].code;
        let weights = industry_weights(town.county);
        let n = (organised as f64 * town.unorganised_ratio).round() as usize;
        for _ in 0..n {
            let industry = INDUSTRIES[rng.pick_weighted(&weights)].code;
            let y = 2017 - (30.0 * rng.f64().powi(2)) as i32;
            enterprises.push(Enterprise {
                uscc: codes::make_uscc(rng, '9', '1', region),
                name: enterprise_name(rng, town.county, industry, false),
                town: ti,
                industry,
                established: Date::random_in(rng, y, 1, 12),
                closed: None,
                employees: (8.0 * rng.lognormal(0.8)).round().max(1.0) as u32,
                union: None,
                harmonious: None,
            });
        }
    }
    // Harmonious-labour-relations titles: 178 at city level or above by 2017, more at county level.
    let mut candidates: Vec<(u64, usize)> = (0..enterprises.len())
        .filter(|&e| enterprises[e].union.is_some() && enterprises[e].exists_in(2017))
        .map(|e| {
            (
                u64::from(enterprises[e].employees) * rng.range(1, 4) as u64,
                e,
            )
        })
        .collect();
    candidates.sort_by_key(|&(size, e)| (std::cmp::Reverse(size), e));
    let candidates: Vec<usize> = candidates.into_iter().map(|(_, e)| e).collect();
    let city_level = targets.total("harmonious_enterprises") as usize;
    for (i, &e) in candidates.iter().take(city_level * 3).enumerate() {
        let level = match i {
            i if i < city_level / 10 => "省级",
            i if i < city_level => "市级",
            _ => "县级",
        };
        enterprises[e].harmonious = Some((rng.range(2013, 2017) as i32, level));
    }
    enterprises
}

/// Fisher-Yates with the generator's own random source.
pub fn shuffle<T>(rng: &mut Rng, items: &mut [T]) {
    for i in (1..items.len()).rev() {
        let j = rng.range(0, i as i64) as usize;
        items.swap(i, j);
    }
}

/// Like [`allocate`], but no part exceeds its cap: overflow is passed on to parts with room.
pub fn allocate_capped(total: u64, weights: &[f64], caps: &[u64]) -> Vec<u64> {
    let mut parts = allocate(total, weights);
    for _ in 0..50 {
        let overflow: u64 = parts
            .iter()
            .zip(caps)
            .map(|(p, c)| p.saturating_sub(*c))
            .sum();
        if overflow == 0 {
            break;
        }
        for (p, c) in parts.iter_mut().zip(caps) {
            *p = (*p).min(*c);
        }
        let room: Vec<f64> = parts
            .iter()
            .zip(caps)
            .map(|(p, c)| (c - p) as f64)
            .collect();
        for (p, extra) in parts.iter_mut().zip(allocate(overflow, &room)) {
            *p += extra;
        }
    }
    parts
}

/// Years as indices 0-4 with the year.
pub fn years() -> impl Iterator<Item = (usize, i32)> {
    YEARS.enumerate()
}
