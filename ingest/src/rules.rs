//! The rules a row can break, each with a stable code and a message in Chinese and English that
//! tells a county's data steward what to fix.

/// A validation rule. The snake_case name is what reports and the quarantine table show.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// A required cell is blank.
    MissingRequired,
    /// Text where a number belongs.
    TextInNumber,
    /// A negative count or amount.
    NegativeNumber,
    /// A date that does not exist.
    ImpossibleDate,
    /// Text that is not a date.
    NotADate,
    /// Not a yes/no value.
    BadYesNo,
    /// A town not in the reporting county.
    UnknownTown,
    /// An industry that is not a GB/T 4754-2017 section.
    UnknownIndustry,
    /// A credit code with a wrong check character.
    BadUscc,
    /// An ID number with a wrong check digit.
    BadIdNumber,
    /// A value outside the column's list.
    NotAllowed,
    /// A row whose key repeats an earlier row of the same return.
    DuplicateRow,
    /// More members than employees.
    MembersExceedEmployees,
    /// A part greater than its whole (female members above members, replies above offers, ...).
    PartExceedsWhole,
    /// The year column disagrees with the return's period.
    WrongPeriod,
    /// Coordinates outside China, or in an unknown coordinate system.
    BadCoordinates,
    /// A CSV record with more cells than the header names (often a comma left unquoted in a
    /// cell, which shifts the cells after it).
    ExtraCells,
    /// A row of a GBK file holding bytes that are not GBK text (read as U+FFFD).
    BadBytes,
    /// A warning, not a rejection: the declared town does not contain the point.
    TownDisagreesWithPoint,
}

impl Rule {
    /// The stable code (E for rejections, W for warnings).
    pub fn code(self) -> &'static str {
        match self {
            Rule::MissingRequired => "E101",
            Rule::TextInNumber => "E102",
            Rule::NegativeNumber => "E103",
            Rule::ImpossibleDate => "E104",
            Rule::NotADate => "E105",
            Rule::BadYesNo => "E106",
            Rule::UnknownTown => "E107",
            Rule::UnknownIndustry => "E108",
            Rule::BadUscc => "E109",
            Rule::BadIdNumber => "E110",
            Rule::NotAllowed => "E111",
            Rule::DuplicateRow => "E112",
            Rule::MembersExceedEmployees => "E113",
            Rule::PartExceedsWhole => "E114",
            Rule::WrongPeriod => "E115",
            Rule::BadCoordinates => "E116",
            Rule::ExtraCells => "E117",
            Rule::BadBytes => "E118",
            Rule::TownDisagreesWithPoint => "W201",
        }
    }

    /// The snake_case name.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// What is wrong and what to do, in Chinese.
    pub fn message_zh(self) -> &'static str {
        match self {
            Rule::MissingRequired => "必填项为空，请补填后重新报送",
            Rule::TextInNumber => "此处应填写数字，请改为阿拉伯数字（可带“万”）",
            Rule::NegativeNumber => "数值不能为负数，请核实",
            Rule::ImpossibleDate => "日期不存在（如2月30日、13月），请核实",
            Rule::NotADate => "无法识别的日期，请按“2017-03-05”或“2017年3月5日”填写",
            Rule::BadYesNo => "请填写“是”或“否”",
            Rule::UnknownTown => "本县（市、区）没有此镇街（园区），请按统计用区划名称填写",
            Rule::UnknownIndustry => "无法识别的行业，请按《国民经济行业分类》门类填写",
            Rule::BadUscc => "统一社会信用代码校验位错误，请核对原证照",
            Rule::BadIdNumber => "身份证号码校验位错误，请核对",
            Rule::NotAllowed => "填写内容不在规定选项内，请按报表说明填写",
            Rule::DuplicateRow => "与本表前面的行重复，请删除重复行",
            Rule::MembersExceedEmployees => "会员人数大于职工人数，请核实",
            Rule::PartExceedsWhole => "分项数大于合计数，请核实",
            Rule::WrongPeriod => "统计年度与报表期别不一致，请核实",
            Rule::BadCoordinates => "经纬度超出范围或坐标系无法识别，请核实",
            Rule::ExtraCells => {
                "此行的单元格比表头多（常因单元格内的逗号未加引号，使后面的内容错位），请核对后重新报送"
            }
            Rule::BadBytes => {
                "此行含有无法按 GBK 编码读取的字节（显示为 �），请在 Excel 中核对此行后重新报送"
            }
            Rule::TownDisagreesWithPoint => "所填镇街与经纬度所在镇街不一致（已按所填镇街入库）",
        }
    }

    /// What is wrong and what to do, in English.
    pub fn message_en(self) -> &'static str {
        match self {
            Rule::MissingRequired => "a required cell is blank; fill it in and resubmit",
            Rule::TextInNumber => "a number is expected here; write digits (万 is allowed)",
            Rule::NegativeNumber => "the value cannot be negative; check it",
            Rule::ImpossibleDate => "no such date (e.g. 30 February or month 13); check it",
            Rule::NotADate => "not a date; write 2017-03-05 or 2017年3月5日",
            Rule::BadYesNo => "write 是 (yes) or 否 (no)",
            Rule::UnknownTown => {
                "the reporting county has no such town, street or park; use the official name"
            }
            Rule::UnknownIndustry => "not an industry section of GB/T 4754-2017",
            Rule::BadUscc => {
                "the unified social credit code's check character is wrong; check the licence"
            }
            Rule::BadIdNumber => "the ID number's check digit is wrong; check it",
            Rule::NotAllowed => "not one of the values the form allows",
            Rule::DuplicateRow => "repeats an earlier row of this return; remove the duplicate",
            Rule::MembersExceedEmployees => "more members than employees; check both",
            Rule::PartExceedsWhole => "a part is larger than its total; check both",
            Rule::WrongPeriod => "the year differs from the return's period",
            Rule::BadCoordinates => "coordinates outside China or in an unknown coordinate system",
            Rule::ExtraCells => {
                "the row has more cells than the header (often a comma in a cell without quotes, \
                 which shifts the cells after it); check it and resubmit"
            }
            Rule::BadBytes => {
                "the row holds bytes that are not GBK text (shown as �); check the row in Excel \
                 and resubmit"
            }
            Rule::TownDisagreesWithPoint => {
                "the declared town does not contain the point (loaded with the declared town)"
            }
        }
    }
}
