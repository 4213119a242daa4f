//! The fixed reference facts of Longyan: its counties, towns, industrial parks and the industry
//! classification, embedded in the binary so every command works from any folder.

use std::sync::OnceLock;

/// The city's 4-digit code and names.
pub const CITY_CODE: &str = "3508";
/// The city's Chinese name.
pub const CITY_NAME_ZH: &str = "龙岩市";
/// The city's English name.
pub const CITY_NAME_EN: &str = "Longyan";

/// A county-level division (区/县/市).
#[derive(Debug, Clone)]
pub struct County {
    /// 6-digit code, e.g. `350802`.
    pub code: &'static str,
    /// Chinese name, e.g. `新罗区`.
    pub name_zh: &'static str,
    /// English name, e.g. `Xinluo District`.
    pub name_en: &'static str,
    /// Share of the city's organised economy, which sizes everything the generator makes here.
    pub economic_weight: f64,
    /// Relative incidence of hardship (the mountain counties are poorer).
    pub hardship_weight: f64,
}

/// The kind of a town-level body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TownKind {
    /// 街道, a street office of a county seat.
    Street,
    /// 镇, a town.
    Town,
    /// 乡 (including 畲族乡), a township.
    Township,
    /// 园区, an industrial park's union body; not an administrative division.
    Park,
}

/// A town, township, street office or industrial park: the 141 town-level union bodies.
#[derive(Debug, Clone)]
pub struct Town {
    /// 9-digit statistical code (parks: county code + `9xx`, illustrative).
    pub code: String,
    /// Chinese name as the statistics bureau writes it.
    pub name_zh: String,
    /// Romanised name (generated from the Chinese).
    pub name_en: String,
    /// The county's 6-digit code.
    pub county_code: &'static str,
    /// Street, town, township or park.
    pub kind: TownKind,
    /// True for the industrial parks, whose names are illustrative.
    pub illustrative: bool,
}

/// A section of the national industry classification GB/T 4754-2017.
#[derive(Debug, Clone, Copy)]
pub struct Industry {
    /// Section letter, `A` to `T`.
    pub code: &'static str,
    /// Chinese name.
    pub name_zh: &'static str,
    /// English name.
    pub name_en: &'static str,
    /// Share of grassroots unions in this section across Longyan.
    pub union_weight: f64,
}

const COUNTIES: [County; 7] = [
    County {
        code: "350802",
        name_zh: "新罗区",
        name_en: "Xinluo District",
        economic_weight: 0.33,
        hardship_weight: 0.8,
    },
    County {
        code: "350803",
        name_zh: "永定区",
        name_en: "Yongding District",
        economic_weight: 0.12,
        hardship_weight: 1.0,
    },
    County {
        code: "350821",
        name_zh: "长汀县",
        name_en: "Changting County",
        economic_weight: 0.12,
        hardship_weight: 1.4,
    },
    County {
        code: "350823",
        name_zh: "上杭县",
        name_en: "Shanghang County",
        economic_weight: 0.13,
        hardship_weight: 1.1,
    },
    County {
        code: "350824",
        name_zh: "武平县",
        name_en: "Wuping County",
        economic_weight: 0.09,
        hardship_weight: 1.3,
    },
    County {
        code: "350825",
        name_zh: "连城县",
        name_en: "Liancheng County",
        economic_weight: 0.09,
        hardship_weight: 1.3,
    },
    County {
        code: "350881",
        name_zh: "漳平市",
        name_en: "Zhangping City",
        economic_weight: 0.12,
        hardship_weight: 1.0,
    },
];

/// The 20 sections of GB/T 4754-2017, with Longyan's union mix (manufacturing and construction heavy,
/// mining in the western counties' coal and copper, few in finance).
pub const INDUSTRIES: [Industry; 20] = [
    Industry {
        code: "A",
        name_zh: "农、林、牧、渔业",
        name_en: "Agriculture, forestry, animal husbandry and fishery",
        union_weight: 0.040,
    },
    Industry {
        code: "B",
        name_zh: "采矿业",
        name_en: "Mining",
        union_weight: 0.045,
    },
    Industry {
        code: "C",
        name_zh: "制造业",
        name_en: "Manufacturing",
        union_weight: 0.300,
    },
    Industry {
        code: "D",
        name_zh: "电力、热力、燃气及水生产和供应业",
        name_en: "Electricity, heat, gas and water production and supply",
        union_weight: 0.020,
    },
    Industry {
        code: "E",
        name_zh: "建筑业",
        name_en: "Construction",
        union_weight: 0.130,
    },
    Industry {
        code: "F",
        name_zh: "批发和零售业",
        name_en: "Wholesale and retail trade",
        union_weight: 0.100,
    },
    Industry {
        code: "G",
        name_zh: "交通运输、仓储和邮政业",
        name_en: "Transport, storage and postal services",
        union_weight: 0.045,
    },
    Industry {
        code: "H",
        name_zh: "住宿和餐饮业",
        name_en: "Accommodation and catering",
        union_weight: 0.040,
    },
    Industry {
        code: "I",
        name_zh: "信息传输、软件和信息技术服务业",
        name_en: "Information transmission, software and IT services",
        union_weight: 0.015,
    },
    Industry {
        code: "J",
        name_zh: "金融业",
        name_en: "Finance",
        union_weight: 0.015,
    },
    Industry {
        code: "K",
        name_zh: "房地产业",
        name_en: "Real estate",
        union_weight: 0.025,
    },
    Industry {
        code: "L",
        name_zh: "租赁和商务服务业",
        name_en: "Leasing and business services",
        union_weight: 0.025,
    },
    Industry {
        code: "M",
        name_zh: "科学研究和技术服务业",
        name_en: "Scientific research and technical services",
        union_weight: 0.010,
    },
    Industry {
        code: "N",
        name_zh: "水利、环境和公共设施管理业",
        name_en: "Water conservancy, environment and public facilities management",
        union_weight: 0.015,
    },
    Industry {
        code: "O",
        name_zh: "居民服务、修理和其他服务业",
        name_en: "Resident services, repair and other services",
        union_weight: 0.025,
    },
    Industry {
        code: "P",
        name_zh: "教育",
        name_en: "Education",
        union_weight: 0.070,
    },
    Industry {
        code: "Q",
        name_zh: "卫生和社会工作",
        name_en: "Health and social work",
        union_weight: 0.030,
    },
    Industry {
        code: "R",
        name_zh: "文化、体育和娱乐业",
        name_en: "Culture, sports and entertainment",
        union_weight: 0.010,
    },
    Industry {
        code: "S",
        name_zh: "公共管理、社会保障和社会组织",
        name_en: "Public administration, social security and social organisations",
        union_weight: 0.040,
    },
    Industry {
        code: "T",
        name_zh: "国际组织",
        name_en: "International organisations",
        union_weight: 0.0,
    },
];

/// Industrial-park union bodies: the seed counts 141 town-level bodies, 133 towns plus 8 parks.
/// Parks are not administrative divisions and have no official code or boundary; these names and
/// codes are illustrative.
const PARKS: [(&str, &str, &str); 8] = [
    ("350802901", "龙岩经济技术开发区园区", "350802"),
    ("350802902", "龙岩高新技术产业园区", "350802"),
    ("350803901", "永定工业园区", "350803"),
    ("350821901", "长汀经济开发区", "350821"),
    ("350823901", "上杭蛟洋工业园区", "350823"),
    ("350824901", "武平工业园区", "350824"),
    ("350825901", "连城工业园区", "350825"),
    ("350881901", "漳平工业园区", "350881"),
];

const TOWNS_CSV: &str = include_str!("../data/longyan_towns.csv");

/// The 7 counties in code order.
pub fn counties() -> &'static [County] {
    &COUNTIES
}

/// The county with this 6-digit code.
pub fn county(code: &str) -> Option<&'static County> {
    COUNTIES.iter().find(|c| c.code == code)
}

/// The 141 town-level bodies: the 133 towns and street offices, then the 8 parks, in code order
/// within each county.
pub fn towns() -> &'static [Town] {
    static TOWNS: OnceLock<Vec<Town>> = OnceLock::new();
    TOWNS.get_or_init(|| {
        let mut towns: Vec<Town> = TOWNS_CSV
            .lines()
            .skip(1)
            .filter_map(|line| {
                let mut f = line.split(',');
                let (code, name, county_code) = (f.next()?, f.next()?, f.next()?);
                let county = county(county_code.trim())?;
                let kind = if name.ends_with("街道") {
                    TownKind::Street
                } else if name.ends_with('乡') {
                    TownKind::Township
                } else {
                    TownKind::Town
                };
                Some(Town {
                    code: code.to_string(),
                    name_zh: name.to_string(),
                    name_en: romanise(name),
                    county_code: county.code,
                    kind,
                    illustrative: false,
                })
            })
            .collect();
        towns.extend(PARKS.iter().filter_map(|(code, name, county_code)| {
            Some(Town {
                code: code.to_string(),
                name_zh: name.to_string(),
                name_en: romanise(name),
                county_code: county(county_code)?.code,
                kind: TownKind::Park,
                illustrative: true,
            })
        }));
        towns.sort_by(|a, b| a.code.cmp(&b.code));
        towns
    })
}

/// The towns of one county, in code order.
pub fn towns_of(county_code: &str) -> impl Iterator<Item = &'static Town> + '_ {
    towns().iter().filter(move |t| t.county_code == county_code)
}

/// The town-level body with this 9-digit code.
pub fn town(code: &str) -> Option<&'static Town> {
    towns().iter().find(|t| t.code == code)
}

/// The industry section with this letter.
pub fn industry(code: &str) -> Option<&'static Industry> {
    INDUSTRIES.iter().find(|i| i.code == code)
}

/// A town's name without its administrative suffix, as returns often write it (`东城街道` -> `东城`).
pub fn short_name(name: &str) -> &str {
    for suffix in ["畲族乡", "街道", "镇", "乡"] {
        if let Some(stem) = name.strip_suffix(suffix)
            && stem.chars().count() >= 2
        {
            return stem;
        }
    }
    name
}

/// Romanises a Chinese place name: the stem in pinyin, the administrative suffix translated.
fn romanise(name: &str) -> String {
    use pinyin::ToPinyin;
    let (stem, suffix) = [
        ("畲族乡", "She Ethnic Township"),
        ("街道", "Subdistrict"),
        ("镇", "Town"),
        ("乡", "Township"),
        (
            "经济技术开发区园区",
            "Economic and Technological Development Zone",
        ),
        ("高新技术产业园区", "High-tech Industrial Park"),
        ("经济开发区", "Economic Development Zone"),
        ("工业园区", "Industrial Park"),
    ]
    .iter()
    .find_map(|(zh, en)| name.strip_suffix(zh).map(|stem| (stem, *en)))
    .unwrap_or((name, ""));
    let mut words = String::new();
    for p in stem.to_pinyin().flatten() {
        words.push_str(p.plain());
    }
    let mut chars = words.chars();
    let capitalised: String = chars
        .next()
        .map(|c| c.to_ascii_uppercase())
        .into_iter()
        .chain(chars)
        .collect();
    if suffix.is_empty() {
        capitalised
    } else {
        format!("{capitalised} {suffix}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_141_town_level_bodies() {
        assert_eq!(towns().len(), 141);
        assert_eq!(
            towns().iter().filter(|t| t.kind == TownKind::Park).count(),
            8
        );
        assert_eq!(towns_of("350802").count(), 22);
        assert_eq!(
            town("350802001").map(|t| t.name_en.as_str()),
            Some("Dongcheng Subdistrict")
        );
        assert_eq!(short_name("庐丰畲族乡"), "庐丰");
        assert_eq!(short_name("东城街道"), "东城");
        assert!((INDUSTRIES.iter().map(|i| i.union_weight).sum::<f64>() - 1.0).abs() < 1e-9);
    }
}
