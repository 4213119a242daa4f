//! Repairs of what clerks write into the canonical value: full-width characters, amounts in 万 or
//! 亿, thousands separators, Chinese dates, 是/否 and its variants. Each function returns `None`
//! when the text cannot be read as its kind; validation turns that into a rule violation.

/// Full-width digits, letters and punctuation to their ASCII forms; ideographic space to space.
/// Text with nothing to change (all of it ASCII, most often) is returned as it is.
pub fn half_width(s: &str) -> std::borrow::Cow<'_, str> {
    let changes = |c: char| matches!(c, '\u{3000}' | '\u{FF01}'..='\u{FF5E}' | '。');
    if s.is_ascii() || !s.chars().any(changes) {
        return std::borrow::Cow::Borrowed(s);
    }
    s.chars()
        .map(|c| match c {
            '\u{3000}' => ' ',
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '。' => '.',
            _ => c,
        })
        .collect::<String>()
        .into()
}

/// A decimal number as written in a return, scaled to base units: `12,345`, `１２３`, `3.25万`,
/// `1.2亿`, `-5`. Returns the value as a decimal string with no exponent, so money keeps its fen.
pub fn number(s: &str) -> Option<String> {
    let s = half_width(s.trim());
    let s: String = s.chars().filter(|c| *c != ',' && *c != ' ').collect();
    let (digits, shift) = if let Some(d) = s.strip_suffix('万') {
        (d, 4)
    } else if let Some(d) = s.strip_suffix('亿') {
        (d, 8)
    } else {
        (s.as_str(), 0)
    };
    let digits = digits.strip_suffix('元').unwrap_or(digits);
    let (negative, digits) = match digits.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, digits),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    // Move the decimal point `shift` places right, exactly, on the digit string.
    let mut frac = frac.to_string();
    while frac.len() < shift {
        frac.push('0');
    }
    let int = format!("{int}{}", &frac[..shift]);
    let frac = frac[shift..].trim_end_matches('0');
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    let sign = if negative && (int != "0" || !frac.is_empty()) {
        "-"
    } else {
        ""
    };
    Some(if frac.is_empty() {
        format!("{sign}{int}")
    } else {
        format!("{sign}{int}.{frac}")
    })
}

/// A whole number (see [`number`]); `None` when it has a fractional part.
pub fn integer(s: &str) -> Option<i64> {
    let n = number(s)?;
    if n.contains('.') {
        None
    } else {
        n.parse().ok()
    }
}

/// An amount of money in fen (hundredths of a yuan); `None` with more than two decimals.
pub fn money_fen(s: &str) -> Option<i64> {
    let n = number(s)?;
    let (int, frac) = n.split_once('.').unwrap_or((&n, ""));
    if frac.len() > 2 {
        return None;
    }
    let negative = int.starts_with('-');
    let int: i64 = int.trim_start_matches('-').parse().ok()?;
    let frac: i64 = format!("{frac:0<2}").parse().ok()?;
    let fen = int.checked_mul(100)?.checked_add(frac)?;
    Some(if negative { -fen } else { fen })
}

/// How a date cell failed to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateError {
    /// Not a date at all.
    NotADate,
    /// Shaped like a date, but no such day (2017-02-30, 2017-13-05).
    Impossible,
}

/// Days from 1970-01-01 of a proleptic Gregorian date, if it exists.
pub fn days_from_epoch(y: i32, m: u32, d: u32) -> Option<i32> {
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days_in_month = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if d == 0 || d > days_in_month || !(1900..=2100).contains(&y) {
        return None;
    }
    let (y, m, d) = (i64::from(y), i64::from(m), i64::from(d));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    i32::try_from(days).ok()
}

/// A date as written: `2017-03-05`, `2017/3/5`, `2017.3.5`, `2017年3月5日`, `20170305`, with
/// full-width digits too. Returns days since 1970-01-01.
pub fn date(s: &str) -> Result<i32, DateError> {
    let s = half_width(s.trim());
    let s = s.split([' ', 'T']).next().unwrap_or("");
    let parts: Vec<&str> = if s.contains('年') {
        s.trim_end_matches('日').split(['年', '月']).collect()
    } else if s.len() == 8 && s.chars().all(|c| c.is_ascii_digit()) {
        vec![&s[..4], &s[4..6], &s[6..]]
    } else {
        s.split(['-', '/', '.']).collect()
    };
    let [y, m, d] = parts.as_slice() else {
        return Err(DateError::NotADate);
    };
    let (Ok(y), Ok(m), Ok(d)) = (y.parse::<i32>(), m.parse::<u32>(), d.parse::<u32>()) else {
        return Err(DateError::NotADate);
    };
    days_from_epoch(y, m, d).ok_or(DateError::Impossible)
}

/// An Excel date serial (days since 1899-12-30) as days since 1970-01-01.
pub fn excel_serial_to_days(serial: f64) -> Option<i32> {
    if !(1.0..=73_050.0).contains(&serial) {
        return None;
    }
    Some(serial.floor() as i32 - 25_569)
}

/// The ISO form of days since 1970-01-01.
pub fn iso_date(days: i32) -> String {
    let z = i64::from(days) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Yes or no as written: 是/否, 有/无, √/×, Y/N, 1/0, true/false.
pub fn boolean(s: &str) -> Option<bool> {
    let s = half_width(s.trim());
    let s = if s.chars().any(char::is_uppercase) {
        std::borrow::Cow::Owned(s.to_lowercase())
    } else {
        s
    };
    match s.as_ref() {
        "是" | "有" | "√" | "✓" | "y" | "yes" | "1" | "true" | "已建" | "已签" => {
            Some(true)
        }
        "否" | "无" | "×" | "✗" | "x" | "n" | "no" | "0" | "false" | "未建" | "未签" => {
            Some(false)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_the_forms_clerks_write_them() {
        assert_eq!(number("12,345").as_deref(), Some("12345"));
        assert_eq!(number("３．２５万").as_deref(), Some("32500"));
        assert_eq!(number("3.25万").as_deref(), Some("32500"));
        assert_eq!(number("1.234567万").as_deref(), Some("12345.67"));
        assert_eq!(number("1.2亿").as_deref(), Some("120000000"));
        assert_eq!(number("0.5").as_deref(), Some("0.5"));
        assert_eq!(number("不详"), None);
        assert_eq!(number("约120"), None);
        assert_eq!(integer("1,024"), Some(1024));
        assert_eq!(integer("2.5"), None);
        assert_eq!(money_fen("1,234,567.50"), Some(123_456_750));
        assert_eq!(money_fen("8070万"), Some(8_070_000_000));
        assert_eq!(money_fen("1.005"), None);
    }

    #[test]
    fn dates_in_the_forms_clerks_write_them() {
        let day = days_from_epoch(2017, 3, 5);
        assert_eq!(date("2017-03-05").ok(), day);
        assert_eq!(date("2017年3月5日").ok(), day);
        assert_eq!(date("２０１７.3.5").ok(), day);
        assert_eq!(date("2017/3/5").ok(), day);
        assert_eq!(date("20170305").ok(), day);
        assert_eq!(date("2017-02-30"), Err(DateError::Impossible));
        assert_eq!(date("2017-13-05"), Err(DateError::Impossible));
        assert_eq!(date("2017年4月31日"), Err(DateError::Impossible));
        assert_eq!(date("不详"), Err(DateError::NotADate));
        assert_eq!(day.map(iso_date).as_deref(), Some("2017-03-05"));
        assert_eq!(excel_serial_to_days(42_799.0), day);
        assert_eq!(iso_date(0), "1970-01-01");
    }

    #[test]
    fn yes_and_no() {
        assert_eq!(boolean("是"), Some(true));
        assert_eq!(boolean("×"), Some(false));
        assert_eq!(boolean("Ｙ"), Some(true));
        assert_eq!(boolean("maybe"), None);
    }
}
