//! The figures the map, rankings, trend and breakdown can show: what each is called, its unit, and
//! where the semantic views hold it.

use serde_json::{Value, json};

/// How a figure's values are read and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// A fraction, shown as a percentage.
    Rate,
    /// People, unions, households or contracts.
    Count,
    /// Yuan, shown in 万元 / 亿元.
    Yuan,
}

/// A figure of the metric selector.
#[derive(Debug)]
pub struct Indicator {
    /// Key in the API and the `metric` column of the `kpi` view.
    pub key: &'static str,
    /// Chinese label.
    pub zh: &'static str,
    /// English label.
    pub en: &'static str,
    /// Unit label in Chinese and English (the UI scales 元 to 万元 or 亿元).
    pub unit: (&'static str, &'static str),
    /// How values are read.
    pub kind: Unit,
    /// For figures the facts cut by industry: the view and the aggregate over one
    /// (grain, year, place, industry) cell that computes the figure.
    pub by_industry: Option<(&'static str, &'static str)>,
}

const COVERAGE: &str = "union_coverage";
const CONTRACTS: &str = "contract_coverage";

/// The figures, in the metric selector's order.
pub const INDICATORS: &[Indicator] = &[
    Indicator {
        key: "formation_rate",
        zh: "建会率",
        en: "Union formation rate",
        unit: ("%", "%"),
        kind: Unit::Rate,
        by_industry: Some((COVERAGE, "max(formation_rate)")),
    },
    Indicator {
        key: "membership_rate",
        zh: "入会率",
        en: "Membership rate",
        unit: ("%", "%"),
        kind: Unit::Rate,
        by_industry: Some((COVERAGE, "max(membership_rate)")),
    },
    Indicator {
        key: "migrant_share",
        zh: "农民工会员占比",
        en: "Migrant-worker share of members",
        unit: ("%", "%"),
        kind: Unit::Rate,
        by_industry: Some((COVERAGE, "max(migrant_share)")),
    },
    Indicator {
        key: "members",
        zh: "会员人数",
        en: "Members",
        unit: ("人", "people"),
        kind: Unit::Count,
        by_industry: Some((COVERAGE, "max(members)")),
    },
    Indicator {
        key: "grassroots_unions",
        zh: "基层工会数",
        en: "Grassroots unions",
        unit: ("个", "unions"),
        kind: Unit::Count,
        by_industry: Some((COVERAGE, "max(unions)")),
    },
    Indicator {
        key: "aid_amount",
        zh: "帮扶资金",
        en: "Aid funds",
        unit: ("元", "yuan"),
        kind: Unit::Yuan,
        by_industry: None,
    },
    Indicator {
        key: "aid_per_recipient",
        zh: "人均帮扶金额",
        en: "Aid per recipient",
        unit: ("元/人", "yuan per person"),
        kind: Unit::Yuan,
        by_industry: None,
    },
    Indicator {
        key: "hardship_households",
        zh: "困难职工户数",
        en: "Hardship households",
        unit: ("户", "households"),
        kind: Unit::Count,
        by_industry: None,
    },
    Indicator {
        key: "contract_coverage",
        zh: "集体合同覆盖率",
        en: "Collective-contract coverage",
        unit: ("%", "%"),
        kind: Unit::Rate,
        by_industry: Some((
            CONTRACTS,
            "max(CASE WHEN kind = '综合集体合同' THEN enterprise_coverage END)",
        )),
    },
    Indicator {
        key: "od_contracts",
        zh: "职业病防治专项合同",
        en: "Occupational-disease contracts",
        unit: ("份", "contracts"),
        kind: Unit::Count,
        by_industry: Some((
            CONTRACTS,
            "sum(CASE WHEN kind = '职业病防治专项集体合同' THEN contracts END)",
        )),
    },
];

/// The figure called `key`.
pub fn find(key: &str) -> Option<&'static Indicator> {
    INDICATORS.iter().find(|i| i.key == key)
}

/// The list as the UI's metric selector reads it.
pub fn catalogue() -> Value {
    let list: Vec<Value> = INDICATORS
        .iter()
        .map(|i| {
            json!({
                "key": i.key,
                "zh": i.zh,
                "en": i.en,
                "unit_zh": i.unit.0,
                "unit_en": i.unit.1,
                "kind": match i.kind { Unit::Rate => "rate", Unit::Count => "count", Unit::Yuan => "yuan" },
                "by_industry": i.by_industry.is_some(),
            })
        })
        .collect();
    Value::Array(list)
}
