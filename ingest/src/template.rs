//! The form a county fills in (填报模板): one workbook per fact table, county and year, made from
//! the table's contract so that what the template allows is what ingest accepts. The 报表 sheet
//! has the title naming the county, the two-row Chinese header the counties already use, a
//! frozen header, drop-down lists (the county's own towns, the industries, each coded column's
//! allowed values, 是/否), number, date and text formats per column; 填报说明 lists the rules.

use rust_xlsxwriter::{
    DataValidation, DataValidationRule, Format, FormatAlign, FormatBorder, Formula, Workbook,
    XlsxError,
};
use unionstat_datasets::reference;
use unionstat_tables::{Contract, Kind};

use crate::{Error, Result};

/// The sheet the data goes in, as the counties' own workbooks name it.
pub const SHEET: &str = "报表";
/// The first data row of the template (0-based): title, unit line, two header rows.
pub const FIRST_DATA_ROW: u32 = 4;
/// How many rows the drop-down lists and checks cover.
const ROWS: u32 = 20_000;

fn xlsx(e: XlsxError) -> Error {
    Error::Usage(format!("cannot make the workbook: {e}"))
}

/// The file name a county's template is offered under; ingest tells table, county and year
/// from it.
pub fn file_name(contract: &Contract, county: &str, period: i32) -> String {
    let county_name = reference::county(county).map_or("", |c| c.name_zh);
    format!(
        "{county}{county_name}_{}_{period}.xlsx",
        contract.spec.file_stem
    )
}

/// What a column takes, in words, for the notes sheet.
fn kind_zh(kind: Kind) -> &'static str {
    match kind {
        Kind::Int => "整数",
        Kind::Money => "金额（元，两位小数）",
        Kind::Degrees => "经纬度（度）",
        Kind::Date => "日期（如 2017-03-05）",
        Kind::Bool => "是/否",
        Kind::Text => "文字",
        Kind::Uscc => "统一社会信用代码（18位）",
        Kind::Town => "镇街名称（下拉选择）",
        Kind::Industry => "国民经济行业门类（下拉选择）",
        Kind::IdNumber => "身份证号码（18位，按文本填写）",
        Kind::Phone => "联系电话（按文本填写）",
    }
}

/// The template workbook of `contract` for `county` and `period`, as `.xlsx` bytes.
pub fn workbook(contract: &Contract, county: &str, period: i32) -> Result<Vec<u8>> {
    let county_info = reference::county(county)
        .ok_or_else(|| Error::Usage(format!("{county} is not a county of Longyan")))?;
    let spec = contract.spec;
    let mut book = Workbook::new();

    // The lists the drop-downs read, on a hidden sheet: Excel limits a list typed into a
    // validation to 255 characters, which a county's towns exceed.
    let mut lists: Vec<(String, Vec<String>)> = Vec::new();
    for column in spec.columns {
        let values: Vec<String> = match column.kind {
            Kind::Town => reference::towns_of(county)
                .map(|t| t.name_zh.clone())
                .collect(),
            Kind::Industry => reference::INDUSTRIES
                .iter()
                .map(|i| i.name_zh.to_string())
                .collect(),
            Kind::Bool => vec!["是".into(), "否".into()],
            _ => contract
                .enums
                .iter()
                .find(|(name, _)| *name == column.name)
                .map(|(_, values)| values.iter().map(|v| v.to_string()).collect())
                .unwrap_or_default(),
        };
        lists.push((column.name.to_string(), values));
    }

    let title = Format::new()
        .set_bold()
        .set_font_size(16)
        .set_align(FormatAlign::Center);
    let header = Format::new()
        .set_bold()
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
        .set_border(FormatBorder::Thin)
        .set_background_color("#DDEBF7")
        .set_text_wrap();
    let required_header = header.clone().set_font_color("#C00000");
    let last = (spec.columns.len() - 1) as u16;

    let sheet = book.add_worksheet();
    sheet.set_name(SHEET).map_err(xlsx)?;
    sheet
        .merge_range(
            0,
            0,
            0,
            last,
            &format!("{}{}", county_info.name_zh, spec.title_zh),
            &title,
        )
        .map_err(xlsx)?;
    sheet
        .write_string(
            1,
            0,
            format!(
                "填报单位：{}总工会　统计年度：{period}年　（红色表头为必填项；请勿修改表头，每行一条记录）",
                county_info.name_zh
            ),
        )
        .map_err(xlsx)?;
    let mut i = 0;
    while i < spec.columns.len() {
        let col = i as u16;
        let format = |c: usize| {
            if spec.columns[c].required {
                &required_header
            } else {
                &header
            }
        };
        match spec.columns[i].group {
            Some(group) => {
                let end = (i..spec.columns.len())
                    .take_while(|&j| spec.columns[j].group == Some(group))
                    .last()
                    .unwrap_or(i);
                if end > i {
                    sheet
                        .merge_range(2, col, 2, end as u16, group, &header)
                        .map_err(xlsx)?;
                } else {
                    sheet
                        .write_string_with_format(2, col, group, &header)
                        .map_err(xlsx)?;
                }
                for j in i..=end {
                    sheet
                        .write_string_with_format(3, j as u16, spec.columns[j].header_zh, format(j))
                        .map_err(xlsx)?;
                }
                i = end + 1;
            }
            None => {
                sheet
                    .merge_range(2, col, 3, col, spec.columns[i].header_zh, format(i))
                    .map_err(xlsx)?;
                i += 1;
            }
        }
    }
    sheet.set_freeze_panes(FIRST_DATA_ROW, 0).map_err(xlsx)?;
    sheet.set_row_height(2, 24).map_err(xlsx)?;
    sheet.set_row_height(3, 36).map_err(xlsx)?;

    let (first, last_row) = (FIRST_DATA_ROW, FIRST_DATA_ROW + ROWS - 1);
    for (c, column) in spec.columns.iter().enumerate() {
        let col = c as u16;
        let (width, format) = match column.kind {
            Kind::Int => (12.0, Format::new().set_num_format("0")),
            Kind::Money => (14.0, Format::new().set_num_format("0.00")),
            Kind::Degrees => (13.0, Format::new().set_num_format("0.000000")),
            Kind::Date => (13.0, Format::new().set_num_format("yyyy-mm-dd")),
            // Codes and numbers that are not amounts are text: Excel would drop the leading
            // zeros of a phone number and round an 18-digit ID number.
            Kind::Uscc | Kind::IdNumber | Kind::Phone => (22.0, Format::new().set_num_format("@")),
            Kind::Text => (18.0, Format::new().set_num_format("@")),
            Kind::Town | Kind::Industry | Kind::Bool => (16.0, Format::new()),
        };
        sheet.set_column_width(col, width).map_err(xlsx)?;
        sheet.set_column_format(col, &format).map_err(xlsx)?;
        let prompt = |v: DataValidation| {
            v.set_error_title("填写有误")
                .and_then(|v| v.set_input_title(column.header_zh))
        };
        let validation = if column.name == "year" {
            Some(
                prompt(
                    DataValidation::new().allow_whole_number(DataValidationRule::EqualTo(period)),
                )
                .and_then(|v| v.set_error_message(format!("本表统计年度为 {period}"))),
            )
        } else if !lists[c].1.is_empty() {
            let range = format!(
                "=选项!${}$2:${}${}",
                column_letter(c as u16),
                column_letter(c as u16),
                lists[c].1.len() + 1
            );
            Some(
                prompt(DataValidation::new().allow_list_formula(Formula::new(range)))
                    .and_then(|v| v.set_error_message("请从下拉列表中选择")),
            )
        } else if column.kind == Kind::Int {
            Some(
                prompt(
                    DataValidation::new()
                        .allow_whole_number(DataValidationRule::GreaterThanOrEqualTo(0)),
                )
                .and_then(|v| v.set_error_message("请填写不小于 0 的整数")),
            )
        } else if column.kind == Kind::Money {
            Some(
                prompt(
                    DataValidation::new()
                        .allow_decimal_number(DataValidationRule::GreaterThanOrEqualTo(0.0)),
                )
                .and_then(|v| v.set_error_message("请填写不小于 0 的金额")),
            )
        } else {
            None
        };
        if let Some(v) = validation {
            let v = v.map_err(xlsx)?;
            sheet
                .add_data_validation(first, col, last_row, col, &v)
                .map_err(xlsx)?;
        }
    }

    let notes = book.add_worksheet();
    notes.set_name("填报说明").map_err(xlsx)?;
    let bold = Format::new().set_bold();
    let plain = Format::new();
    let general = [
        format!("{}{}（{period}年）填报说明", county_info.name_zh, spec.title_zh),
        "1. 请在“报表”页第5行起逐行填写，每行一条记录；不要修改、删除或移动表头。".to_string(),
        "2. 红色表头为必填项；带下拉箭头的列请从列表中选择。".to_string(),
        "3. 日期按 2017-03-05 填写；金额单位为元；人数等填整数。".to_string(),
        "4. 身份证号码、电话、信用代码请按文本填写，不要改成数字格式。".to_string(),
        "5. 上传后系统逐行校验：有误的行列出单元格位置和修改方法，可下载标注后的工作簿，改正后重新上传。".to_string(),
        "6. 校验通过后点击“提交审核”，市总工会审核通过后数据才计入统计。".to_string(),
    ];
    for (r, line) in general.iter().enumerate() {
        let format = if r == 0 { &bold } else { &plain };
        notes
            .write_string_with_format(r as u32, 0, line, format)
            .map_err(xlsx)?;
    }
    let top = general.len() as u32 + 1;
    for (c, h) in ["列", "表头", "必填", "填写内容", "可选值", "含义"]
        .iter()
        .enumerate()
    {
        notes
            .write_string_with_format(top, c as u16, *h, &header)
            .map_err(xlsx)?;
    }
    for (i, column) in spec.columns.iter().enumerate() {
        let r = top + 1 + i as u32;
        let options = lists[i].1.join("、");
        let cells = [
            column_letter(i as u16),
            column.header_zh.to_string(),
            if column.required { "是" } else { "否" }.to_string(),
            kind_zh(column.kind).to_string(),
            options,
            column.description.to_string(),
        ];
        for (c, text) in cells.iter().enumerate() {
            notes.write_string(r, c as u16, text).map_err(xlsx)?;
        }
    }
    notes.set_column_width(0, 6).map_err(xlsx)?;
    notes.set_column_width(1, 22).map_err(xlsx)?;
    notes.set_column_width(3, 28).map_err(xlsx)?;
    notes.set_column_width(4, 40).map_err(xlsx)?;
    notes.set_column_width(5, 36).map_err(xlsx)?;

    let options = book.add_worksheet();
    options.set_name("选项").map_err(xlsx)?;
    for (c, (_, values)) in lists.iter().enumerate() {
        // Not the header itself: ingest finds the data's sheet by the headers it holds.
        options
            .write_string(0, c as u16, format!("下拉选项{}", column_letter(c as u16)))
            .map_err(xlsx)?;
        for (r, v) in values.iter().enumerate() {
            options
                .write_string(r as u32 + 1, c as u16, v)
                .map_err(xlsx)?;
        }
    }
    options.set_hidden(true);
    book.save_to_buffer().map_err(xlsx)
}

/// The letters of a 0-based column: 0 is A, 26 is AA.
pub fn column_letter(col: u16) -> String {
    let mut n = u32::from(col) + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = ((n - 1) % 26) as u8;
        letters.push((b'A' + rem) as char);
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_lettered_as_excel_does() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(701), "ZZ");
        assert_eq!(column_letter(702), "AAA");
    }
}
