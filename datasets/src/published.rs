//! The figures the federation published in its five-year review (the seed article), one row each,
//! so that detail data can be reconciled against them.

use std::sync::OnceLock;

/// How a published figure bounds the true value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Qualifier {
    /// The figure as stated.
    Exact,
    /// 多: more than the figure, and below `upper_bound` (the next step of the stated precision).
    MoreThan,
    /// 以上: the figure or more.
    AtLeast,
    /// A round figure (百名, 千家 in a programme's name).
    About,
}

/// One figure of the seed article.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct PublishedIndicator {
    /// Stable key, e.g. `grassroots_unions`.
    pub key: String,
    /// The figure in base units (yuan, persons, ...): 8070万元 is 80700000.
    pub value: f64,
    /// Unit as the article writes it (元, 人, 家, %, ...).
    pub unit: String,
    /// Exact, more than (多), at least (以上) or about.
    pub qualifier: Qualifier,
    /// For `more_than`: the exclusive upper bound implied by the stated precision (46万多 < 47万).
    pub upper_bound: Option<f64>,
    /// First year the figure covers.
    pub period_start: i32,
    /// Last year the figure covers.
    pub period_end: i32,
    /// The programme or area of work it belongs to.
    pub programme: String,
    /// What it counts, in Chinese.
    pub indicator_zh: String,
    /// What it counts, in English.
    pub indicator_en: String,
    /// The phrase of the article it came from.
    pub phrase: String,
    /// Where the article contradicts itself or needs reading with care.
    pub note: Option<String>,
}

impl PublishedIndicator {
    /// Whether `computed` agrees with the figure under its qualifier. Exact figures allow only
    /// floating-point noise; the article rounds money to 万 and people to 千, so a generator or a
    /// data steward hitting the figure hits it exactly.
    pub fn accepts(&self, computed: f64) -> bool {
        let eps = 1e-6 * self.value.abs().max(1.0);
        match self.qualifier {
            Qualifier::Exact => (computed - self.value).abs() <= eps,
            Qualifier::MoreThan => {
                computed > self.value && self.upper_bound.is_none_or(|u| computed < u)
            }
            Qualifier::AtLeast => computed >= self.value - eps,
            Qualifier::About => (computed - self.value).abs() <= 0.2 * self.value,
        }
    }
}

const CSV: &str = include_str!("../data/published_indicators.csv");

/// The embedded CSV, as shipped.
pub fn csv_text() -> &'static str {
    CSV
}

/// Every figure of the seed article, in the article's order.
pub fn published_indicators() -> &'static [PublishedIndicator] {
    static ROWS: OnceLock<Vec<PublishedIndicator>> = OnceLock::new();
    ROWS.get_or_init(|| {
        csv::Reader::from_reader(CSV.as_bytes())
            .deserialize()
            .filter_map(Result::ok)
            .collect()
    })
}

/// The figure with this key.
pub fn indicator(key: &str) -> Option<&'static PublishedIndicator> {
    published_indicators().iter().find(|i| i.key == key)
}

/// Published figures no detail table holds, with the reason.
pub const NOT_REPRODUCIBLE: [(&str, &str); 20] = [
    (
        "regulations_adopted",
        "internal rules of the Party group; no table records them",
    ),
    (
        "labour_contest_participation_rate",
        "the article does not say what the 80% is a share of",
    ),
    (
        "wage_offer_replies",
        "contradicts wage_offers_sent (27万 replies to 3.3万 offers); the data keeps replies within offers, 2.7万 in all",
    ),
    (
        "national_advanced_candidates",
        "a grooming programme for national honours; not a reported fact",
    ),
    (
        "excellent_union_cadres",
        "people honoured; the returns carry no cadre register",
    ),
    (
        "provincial_demo_town_unions",
        "titles of town unions; not in the returns",
    ),
    (
        "town_union_cadres",
        "staffing of town unions; not in the returns",
    ),
    (
        "industry_union_federations",
        "industry federations are not grassroots unions and have no return",
    ),
    (
        "cultural_palace_investment",
        "a city construction project, not union statistics",
    ),
    (
        "cultural_palace_opening_year",
        "a date, not a measure of the returns",
    ),
    ("honours_received", "honours of the city federation itself"),
    (
        "years_rated_advanced",
        "performance ratings of the city federation itself",
    ),
    (
        "terms_civilised_unit",
        "titles of the city federation itself",
    ),
    (
        "model_workers_tree_planting",
        "a photo caption's round figure",
    ),
    ("sports_games_edition", "an ordinal in a photo caption"),
    (
        "team_leader_training_target",
        "a round figure in a programme's name",
    ),
    ("pairing_units", "a round figure in a programme's name"),
    ("pairing_cadres", "a round figure in a programme's name"),
    (
        "visiting_enterprises",
        "a round figure in a programme's name",
    ),
    ("visiting_workers", "a round figure in a programme's name"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_of_the_embedded_csv_parses() {
        let lines = CSV.lines().count() - 1;
        assert_eq!(published_indicators().len(), lines);
        let unions = indicator("grassroots_unions").map(|i| i.value);
        assert_eq!(unions, Some(7086.0));
        let replies = indicator("wage_offer_replies");
        assert!(
            replies
                .and_then(|r| r.note.as_ref())
                .is_some_and(|n| n.contains("Contradicts"))
        );
        let workers = indicator("labour_contest_workers");
        assert!(workers.is_some_and(|w| w.accepts(465_000.0)
            && !w.accepts(460_000.0)
            && !w.accepts(470_000.0)));
    }
}
