//! Query-string parameters of the API, checked before any SQL is written: a bad value gets a 400
//! that names the parameter and what it accepts, and only checked values reach the SQL.

use std::collections::HashMap;

use unionstat_query::indicators::{self, Indicator};
use unionstat_query::output::Format;
use unionstat_query::{ErrorCode, QueryError};

/// The parameters of one request, as sent.
#[derive(Debug)]
pub struct Params(HashMap<String, String>);

fn bad(message: String) -> QueryError {
    QueryError::new(ErrorCode::BadRequest, message)
}

impl Params {
    /// The parameters, refusing any that the endpoint does not take (a typo otherwise goes unseen).
    pub fn new(raw: HashMap<String, String>, allowed: &[&str]) -> Result<Self, QueryError> {
        let mut unknown: Vec<&String> = raw
            .keys()
            .filter(|k| !allowed.contains(&k.as_str()) && k.as_str() != "format")
            .collect();
        unknown.sort();
        if let Some(first) = unknown.first() {
            return Err(bad(format!(
                "unknown parameter `{first}`; this endpoint takes {}",
                if allowed.is_empty() {
                    "only `format`".to_string()
                } else {
                    allowed
                        .iter()
                        .map(|a| format!("`{a}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            )));
        }
        Ok(Params(raw))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// `format`: json (the default), csv, xlsx or parquet.
    pub fn format(&self) -> Result<Format, QueryError> {
        match self.get("format") {
            None => Ok(Format::Json),
            Some(f) => match f.parse::<Format>() {
                Ok(f @ (Format::Json | Format::Csv | Format::Xlsx | Format::Parquet)) => Ok(f),
                _ => Err(bad(format!(
                    "`format={f}` is not offered here; use json, csv, xlsx or parquet"
                ))),
            },
        }
    }

    /// `year`, a four-digit year.
    pub fn year(&self) -> Result<Option<i32>, QueryError> {
        match self.get("year") {
            None => Ok(None),
            Some(y) => match y.parse::<i32>() {
                Ok(v) if (1949..=2100).contains(&v) => Ok(Some(v)),
                _ => Err(bad(format!("`year={y}` is not a year; give one like 2017"))),
            },
        }
    }

    /// `year`, required.
    pub fn required_year(&self) -> Result<i32, QueryError> {
        self.year()?
            .ok_or_else(|| bad("`year` is required, for example `year=2017`".into()))
    }

    fn code(&self, name: &str, digits: usize, example: &str) -> Result<Option<String>, QueryError> {
        match self.get(name) {
            None => Ok(None),
            Some(c) if c.len() == digits && c.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(Some(c.to_string()))
            }
            Some(c) => Err(bad(format!(
                "`{name}={c}` is not a {digits}-digit {name} code; give one like {example}"
            ))),
        }
    }

    /// `county`, a 6-digit county code.
    pub fn county(&self) -> Result<Option<String>, QueryError> {
        self.code("county", 6, "350802 (新罗区)")
    }

    /// `town`, a 9-digit town code.
    pub fn town(&self) -> Result<Option<String>, QueryError> {
        self.code("town", 9, "350802001")
    }

    /// `industry`, a GB/T 4754-2017 section letter.
    pub fn industry(&self) -> Result<Option<char>, QueryError> {
        match self.get("industry") {
            None => Ok(None),
            Some(i) => match i.chars().collect::<Vec<_>>().as_slice() {
                [c @ 'A'..='T'] => Ok(Some(*c)),
                _ => Err(bad(format!(
                    "`industry={i}` is not an industry section; give a letter from A to T, \
                     for example C (制造业)"
                ))),
            },
        }
    }

    /// `metric`, one of the indicators.
    pub fn metric(&self) -> Result<&'static Indicator, QueryError> {
        let keys = || {
            indicators::INDICATORS
                .iter()
                .map(|i| i.key)
                .collect::<Vec<_>>()
                .join(", ")
        };
        match self.get("metric") {
            None => Err(bad(format!("`metric` is required; one of {}", keys()))),
            Some(m) => indicators::find(m).ok_or_else(|| {
                bad(format!(
                    "`metric={m}` is not a figure; use one of {}",
                    keys()
                ))
            }),
        }
    }

    /// A whole number in `range`, or `default`.
    pub fn number(
        &self,
        name: &str,
        range: std::ops::RangeInclusive<u32>,
        default: u32,
    ) -> Result<u32, QueryError> {
        match self.get(name) {
            None => Ok(default),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if range.contains(&n) => Ok(n),
                _ => Err(bad(format!(
                    "`{name}={v}` is out of range; give a whole number from {} to {}",
                    range.start(),
                    range.end()
                ))),
            },
        }
    }

    /// Free text to search for, as typed (the statement quotes it).
    pub fn text(&self, name: &str) -> Result<Option<String>, QueryError> {
        match self.get(name) {
            None => Ok(None),
            Some(t) if t.chars().count() > 50 => Err(bad(format!(
                "`{name}` is longer than 50 characters; search for a shorter part of the name"
            ))),
            Some(t) => Ok(Some(t.to_string())),
        }
    }

    /// `kind` of service site.
    pub fn site_kind(&self) -> Result<Option<String>, QueryError> {
        const KINDS: [&str; 4] = [
            "妈妈小屋",
            "劳动争议调解组织",
            "工会劳动法律监督组织",
            "职工服务中心",
        ];
        match self.get("kind") {
            None => Ok(None),
            Some(k) if KINDS.contains(&k) => Ok(Some(k.to_string())),
            Some(k) => Err(bad(format!(
                "`kind={k}` is not a kind of service site; use one of {}",
                KINDS.join(", ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)], allowed: &[&str]) -> Result<Params, QueryError> {
        Params::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            allowed,
        )
    }

    #[test]
    fn bad_values_are_refused_with_the_parameter_named() {
        let p = params(
            &[
                ("year", "20x7"),
                ("county", "3508"),
                ("industry", "Z"),
                ("metric", "x"),
            ],
            &["year", "county", "industry", "metric"],
        )
        .expect("known names");
        for (result, wanted) in [
            (p.year().map(|_| ()), "`year=20x7` is not a year"),
            (p.county().map(|_| ()), "`county=3508` is not a 6-digit"),
            (p.industry().map(|_| ()), "`industry=Z` is not an industry"),
            (p.metric().map(|_| ()), "`metric=x` is not a figure"),
        ] {
            let e = result.expect_err("refused");
            assert_eq!(e.code, "bad_request");
            assert!(e.message.contains(wanted), "{}", e.message);
        }
        let e = params(&[("yeer", "2017")], &["year"]).expect_err("unknown name");
        assert!(
            e.message.contains("unknown parameter `yeer`"),
            "{}",
            e.message
        );
    }
}
