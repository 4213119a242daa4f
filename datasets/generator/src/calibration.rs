//! Which published figures detail data can reproduce, and how: the sums and counts over the clean
//! records that should give each figure; why the rest cannot is
//! [`unionstat_datasets::published::NOT_REPRODUCIBLE`].

use std::collections::BTreeSet;

use crate::generate::Generated;
use crate::table::{Row, Table};
use unionstat_datasets::published::PublishedIndicator;
use unionstat_datasets::reference;

/// Figures that count structure rather than volume, and so stay the same at every scale.
pub const UNSCALED: [&str; 4] = [
    "skills_contest_industries",
    "skills_contest_trades",
    "town_level_unions",
    "wage_bargaining_coverage",
];

fn text_is<'a>(t: &'a Table, column: &'a str, value: &'a str) -> impl Fn(&Row) -> bool + 'a {
    move |r| t.get(r, column).text() == value
}

fn distinct(t: &Table, column: &str, keep: impl Fn(&Row) -> bool) -> f64 {
    t.rows
        .iter()
        .filter(|r| keep(r))
        .map(|r| t.get(r, column).text())
        .collect::<BTreeSet<_>>()
        .len() as f64
}

/// The value of published figure `key` computed from the clean records, or `None` when no detail
/// table holds it (see [`unionstat_datasets::published::NOT_REPRODUCIBLE`]).
pub fn compute(g: &Generated, key: &str) -> Option<f64> {
    let unions = g.table("grassroots_unions")?;
    let enterprises = g.table("enterprises")?;
    let households = g.table("hardship_households")?;
    let aid = g.table("aid_disbursements")?;
    let contracts = g.table("collective_contracts")?;
    let sites = g.table("service_sites")?;
    let cases = g.table("rights_cases")?;
    let acts = g.table("activities")?;
    let u17 = |r: &Row| unions.year(r) == 2017;
    let aid_sum =
        |programme: &str, column: &str| aid.sum(column, text_is(aid, "programme", programme));
    let act_sum = |kind: &str, column: &str| acts.sum(column, text_is(acts, "kind", kind));
    let act_count = |kind: &str| acts.count(text_is(acts, "kind", kind)) as f64;
    let sites_2017 = |kind: &str| {
        distinct(sites, "site_id", |r| {
            sites.year(r) == 2017 && sites.get(r, "kind").text() == kind
        })
    };
    let case_count = |kind: &str| cases.count(text_is(cases, "kind", kind)) as f64;
    let founded_recently = |r: &Row| matches!(unions.get(r, "founded_date"), crate::table::Value::Date(d) if d.y >= 2013);
    let value = match key {
        "workers_led" | "members_activated" | "union_members" => unions.sum("members", u17),
        "grassroots_unions" => unions.count(u17) as f64,
        "unions_founded" => distinct(unions, "union_uscc", founded_recently),
        "enterprises_covered_by_new_unions" => {
            unions.sum("enterprises_covered", |r| u17(r) && founded_recently(r))
        }
        "new_members" => unions.sum("new_members", |_| true),
        "new_migrant_members" => unions.sum("new_migrant_members", |_| true),
        "model_worker_homes" => {
            unions.count(|r| u17(r) && unions.get(r, "model_home").text() == "模范职工之家") as f64
        }
        "model_worker_small_homes" => {
            unions.count(|r| u17(r) && unions.get(r, "model_home").text() == "模范职工小家") as f64
        }
        "town_level_unions" => reference::towns().len() as f64,
        "wage_bargaining_coverage" => {
            let covered = unions.sum("enterprises_covered", |r| {
                u17(r) && unions.get(r, "wage_agreement") == &crate::table::Value::Bool(true)
            });
            100.0 * covered / unions.sum("enterprises_covered", u17)
        }
        "harmonious_enterprises" => enterprises.count(|r| {
            enterprises.year(r) == 2017
                && matches!(
                    enterprises.get(r, "harmonious_level").text(),
                    "市级" | "省级" | "全国"
                )
        }) as f64,
        "hardship_households" => households.rows.len() as f64,
        "warmth_funds" => aid_sum("送温暖", "amount"),
        "warmth_visits" => aid_sum("送温暖", "recipients"),
        "hardship_aid_funds" => aid_sum("困难帮扶", "amount"),
        "hardship_aid_recipients" => aid_sum("困难帮扶", "recipients"),
        "education_aid_funds" => aid_sum("金秋助学", "amount"),
        "education_aid_students" => aid_sum("金秋助学", "recipients"),
        "cooling_funds" => aid_sum("送清凉", "amount"),
        "cooling_workers" => aid_sum("送清凉", "recipients"),
        "cooling_enterprises_visited" => aid_sum("送清凉", "enterprises_visited"),
        "wage_offers_sent" => contracts.sum("offers_sent", |_| true),
        "od_contract_enterprises" => contracts.sum(
            "enterprises_covered",
            text_is(contracts, "kind", "职业病防治专项集体合同"),
        ),
        "mother_rooms" => sites_2017("妈妈小屋"),
        "mother_room_visits" => sites.sum("visits", text_is(sites, "kind", "妈妈小屋")),
        "mediation_bodies" => sites_2017("劳动争议调解组织"),
        "legal_supervision_bodies" => sites_2017("工会劳动法律监督组织"),
        "petitions" => case_count("来信") + case_count("来访") + case_count("来电"),
        "legal_aid_cases" => case_count("法律援助"),
        "wage_arrears_cases" => case_count("欠薪"),
        "wage_arrears_workers" => cases.sum("workers", text_is(cases, "kind", "欠薪")),
        "wage_arrears_recovered" => cases.sum("amount_recovered", text_is(cases, "kind", "欠薪")),
        "labour_contest_units" => act_sum("劳动竞赛", "units"),
        "labour_contest_workers" => act_sum("劳动竞赛", "participants"),
        "labour_contest_projects" => act_sum("劳动竞赛", "projects"),
        "skills_contest_industries" => {
            distinct(acts, "industry", text_is(acts, "kind", "技能大赛"))
        }
        "skills_contest_trades" => act_sum("技能大赛", "trades"),
        "skills_contest_participants" => act_sum("技能大赛", "participants"),
        "training_classes" => act_count("培训班"),
        "training_trainees" => act_sum("培训班", "participants"),
        "innovation_results" => act_sum("职工自主创新", "results"),
        "innovation_recommended" => act_sum("职工自主创新", "recommended"),
        "innovation_converted" => act_sum("职工自主创新", "converted"),
        "innovation_benefit" => act_sum("职工自主创新", "benefit"),
        "five_small_projects" => act_sum("五小创新", "projects"),
        "five_small_awarded" => act_sum("五小创新", "awarded"),
        "ankang_cup_enterprises" => act_sum("安康杯", "enterprises"),
        "ankang_cup_teams" => act_sum("安康杯", "teams"),
        "ankang_cup_workers" => act_sum("安康杯", "participants"),
        "ankang_cup_advanced" => act_sum("安康杯", "awarded"),
        "yifa_sanka_enterprises" => act_sum("一法三卡", "enterprises"),
        "job_fairs" => act_count("招聘会"),
        "job_seekers_placed" => act_sum("招聘会", "participants"),
        "moral_lectures" => act_count("道德讲堂"),
        "worker_rep_trainees" => act_sum("职工代表培训", "participants"),
        "worker_rep_proposals" => act_sum("职工代表提案", "results"),
        _ => return None,
    };
    Some(value)
}

/// Whether `computed` agrees with `indicator` for data generated at `scale`.
pub fn agrees(indicator: &PublishedIndicator, computed: f64, scale: f64) -> bool {
    let factor = if UNSCALED.contains(&indicator.key.as_str()) {
        1.0
    } else {
        scale
    };
    let scaled = PublishedIndicator {
        value: indicator.value * factor,
        upper_bound: indicator.upper_bound.map(|u| u * factor),
        ..indicator.clone()
    };
    scaled.accepts(computed)
}
