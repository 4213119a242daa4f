//! The contract of each table: the columns county returns carry (declared in [`crate::facts`]),
//! the allowed values of coded columns, the key that must be unique within a return, the counts
//! that cannot exceed another, and the lake's column names and types. The same declarations drive
//! validation, the lake's column comments, the views and `unionstat schema`.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};

use crate::column::{Column, Kind, TableSpec};
use crate::facts as schema;

/// A fact table's contract.
#[derive(Debug)]
pub struct Contract {
    /// The columns as returns carry them.
    pub spec: &'static TableSpec,
    /// Columns whose values identify a row within a return; a repeat is a duplicate row.
    pub key: &'static [&'static str],
    /// Allowed values of coded text columns.
    pub enums: &'static [(&'static str, &'static [&'static str])],
}

const YES_NO_TITLES: &[&str] = &["无", "模范职工之家", "模范职工小家"];
const HARMONIOUS: &[&str] = &["无", "县级", "市级", "省级", "全国"];
const GENDER: &[&str] = &["男", "女"];

/// Counts that cannot exceed another in the same row: (part, whole).
pub const PART_WHOLE: [(&str, &str); 7] = [
    ("members", "employees"),
    ("female_members", "members"),
    ("migrant_members", "members"),
    ("new_migrant_members", "new_members"),
    ("offers_replied", "offers_sent"),
    ("recommended", "results"),
    ("converted", "recommended"),
];

/// Every fact table's contract, in the order returns are usually generated.
pub const CONTRACTS: [Contract; 9] = [
    Contract {
        spec: &schema::GRASSROOTS_UNIONS,
        key: &["union_uscc"],
        enums: &[
            (
                "org_type",
                &["单独基层工会", "联合基层工会", "机关事业单位工会"],
            ),
            ("model_home", YES_NO_TITLES),
        ],
    },
    Contract {
        spec: &schema::ENTERPRISES,
        key: &["uscc"],
        enums: &[("harmonious_level", HARMONIOUS)],
    },
    Contract {
        spec: &schema::HARDSHIP_HOUSEHOLDS,
        key: &["household_id"],
        enums: &[
            ("gender", GENDER),
            (
                "hardship_reason",
                &[
                    "因病",
                    "因残",
                    "子女就学",
                    "单亲家庭",
                    "失业下岗",
                    "因灾",
                    "收入偏低",
                ],
            ),
        ],
    },
    Contract {
        spec: &schema::AID_DISBURSEMENTS,
        key: &["batch_id"],
        enums: &[("programme", &["送温暖", "困难帮扶", "金秋助学", "送清凉"])],
    },
    Contract {
        spec: &schema::COLLECTIVE_CONTRACTS,
        key: &["contract_id"],
        enums: &[
            (
                "kind",
                &[
                    "综合集体合同",
                    "工资专项集体合同",
                    "职业病防治专项集体合同",
                    "女职工权益保护专项集体合同",
                ],
            ),
            ("scope", &["单独", "区域性", "行业性"]),
        ],
    },
    Contract {
        spec: &schema::SERVICE_SITES,
        key: &["site_id"],
        enums: &[(
            "kind",
            &[
                "妈妈小屋",
                "劳动争议调解组织",
                "工会劳动法律监督组织",
                "职工服务中心",
            ],
        )],
    },
    Contract {
        spec: &schema::RIGHTS_CASES,
        key: &["case_id"],
        enums: &[("kind", &["来信", "来访", "来电", "法律援助", "欠薪"])],
    },
    Contract {
        spec: &schema::ACTIVITIES,
        key: &["activity_id"],
        enums: &[(
            "kind",
            &[
                "劳动竞赛",
                "技能大赛",
                "培训班",
                "职工自主创新",
                "五小创新",
                "安康杯",
                "一法三卡",
                "招聘会",
                "道德讲堂",
                "职工代表培训",
                "职工代表提案",
            ],
        )],
    },
    Contract {
        spec: &schema::MEMBERS,
        key: &["member_id"],
        enums: &[("gender", GENDER)],
    },
];

/// The contract of table `name`.
pub fn contract(name: &str) -> Option<&'static Contract> {
    CONTRACTS.iter().find(|c| c.spec.name == name)
}

impl Contract {
    /// The lake column name of return column `c`.
    pub fn lake_name(c: &Column) -> String {
        match c.kind {
            Kind::Town => "town_code".to_string(),
            Kind::Industry => "industry_code".to_string(),
            Kind::IdNumber => format!("{}_hash", c.name),
            Kind::Phone => format!("{}_masked", c.name),
            _ => c.name.to_string(),
        }
    }

    /// The lake columns that follow the order of the rows: the key (registers list their rows in
    /// key order) and the source row.
    pub fn ordered_columns(&self) -> Vec<String> {
        self.spec
            .columns
            .iter()
            .filter(|c| self.key.contains(&c.name))
            .map(Self::lake_name)
            .chain(["source_row".to_string()])
            .collect()
    }

    /// The lake columns whose values carry no order worth recording: hashed ID numbers and masked
    /// phones.
    pub fn opaque_columns(&self) -> Vec<String> {
        self.spec
            .columns
            .iter()
            .filter(|c| matches!(c.kind, Kind::IdNumber | Kind::Phone))
            .map(Self::lake_name)
            .collect()
    }

    /// The allowed values of column `name`, if it is coded.
    pub fn allowed(&self, name: &str) -> Option<&'static [&'static str]> {
        self.enums.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// The lake schema: the return's columns typed and renamed, then the partition and lineage columns.
    pub fn lake_schema(&self) -> Arc<Schema> {
        let mut fields: Vec<Field> = self
            .spec
            .columns
            .iter()
            .map(|c| {
                let data_type = match c.kind {
                    Kind::Int => DataType::Int64,
                    Kind::Money => DataType::Decimal128(18, 2),
                    Kind::Degrees => DataType::Float64,
                    Kind::Date => DataType::Date32,
                    Kind::Bool => DataType::Boolean,
                    Kind::IdNumber => DataType::Binary,
                    _ => DataType::Utf8,
                };
                let nullable = !(c.required && c.name == "year");
                let comment = format!("{} / {}", c.header_zh, c.description);
                Field::new(Self::lake_name(c), data_type, nullable)
                    .with_metadata([("comment".to_string(), comment)].into())
            })
            .collect();
        if self.spec.index("year").is_none() {
            fields.insert(0, Field::new("year", DataType::Int64, false));
        }
        fields.extend(lineage_fields());
        Arc::new(Schema::new(fields))
    }
}

/// The lineage columns that hold one value for a whole return.
pub const RETURN_CONSTANTS: [&str; 5] = [
    "county_code",
    "submission_id",
    "source_file",
    "source_sheet",
    "ingested_at",
];

/// Columns every fact row carries: where it came from and when.
pub fn lineage_fields() -> Vec<Field> {
    vec![
        Field::new("county_code", DataType::Utf8, false),
        Field::new("submission_id", DataType::Utf8, false),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("source_sheet", DataType::Utf8, true),
        Field::new("source_row", DataType::Int64, false),
        Field::new(
            "ingested_at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lake_schema_renames_coded_columns_and_adds_lineage() {
        let unions = contract("grassroots_unions").expect("a contract");
        let schema = unions.lake_schema();
        assert!(schema.field_with_name("town_code").is_ok());
        assert!(schema.field_with_name("submission_id").is_ok());
        assert!(schema.field_with_name("town").is_err());
    }

    #[test]
    fn every_part_and_whole_is_a_column_of_some_table() {
        for (part, whole) in PART_WHOLE {
            assert!(
                CONTRACTS
                    .iter()
                    .any(|c| c.spec.index(part).is_some() && c.spec.index(whole).is_some()),
                "{part} <= {whole} names no table's columns"
            );
        }
    }
}
