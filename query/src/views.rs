//! The semantic views: the numbers people ask for, defined once in SQL over the lake's tables.
//!
//! Most views are cut by `grain`: `city`, `county`, `town` (and, where the facts carry an
//! industry, `industry`, `county_industry`, `town_industry`). A rate is computed from the sums at
//! its own grain, so a county's formation rate is its covered enterprises over its enterprises,
//! not an average of its towns' rates. Rates are fractions (0.85 for 85%).

use datafusion::prelude::SessionContext;

/// A view: its name, what it answers, and its SQL.
#[derive(Debug)]
pub struct View {
    /// Name in SQL.
    pub name: &'static str,
    /// What it answers, in Chinese and English.
    pub description: &'static str,
    /// The `SELECT` that defines it.
    pub sql: String,
}

/// A grain: its name in the `grain` column and the keys it groups by besides `year`.
type Grain = (&'static str, &'static [&'static str]);

/// The grains of a fact cut by place only.
const PLACE_GRAINS: &[Grain] = &[
    ("city", &[]),
    ("county", &["county_code"]),
    ("town", &["county_code", "town_code"]),
];

/// The grains of a fact cut by place and industry.
const PLACE_AND_INDUSTRY_GRAINS: &[Grain] = &[
    ("city", &[]),
    ("county", &["county_code"]),
    ("town", &["county_code", "town_code"]),
    ("industry", &["industry_code"]),
    ("county_industry", &["county_code", "industry_code"]),
    (
        "town_industry",
        &["county_code", "town_code", "industry_code"],
    ),
];

const PLACE_KEYS: &[&str] = &["county_code", "town_code"];
const PLACE_AND_INDUSTRY_KEYS: &[&str] = &["county_code", "town_code", "industry_code"];

/// One `SELECT` per grain, joined by `UNION ALL`. Each branch names its grain as a literal and
/// groups by plain keys, so a filter on `grain`, `year` or a key reaches the branches it
/// concerns and the scans below them (partition pruning), and the other branches drop out.
fn per_grain(grains: &[Grain], branch: impl Fn(&Grain) -> String) -> String {
    grains
        .iter()
        .map(branch)
        .collect::<Vec<_>>()
        .join(" UNION ALL ")
}

/// The `GROUP BY` keys of a grain: `year`, the `extra` keys, then the grain's own.
fn group_keys(grain: &Grain, extra: &[&str]) -> String {
    std::iter::once("year")
        .chain(extra.iter().copied())
        .chain(grain.1.iter().copied())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The leading columns of a grain's row from relation `r`: the grain's name, `year`, the
/// `extra` keys, then every key of `all` (null where the grain rolls it up).
fn grain_columns(grain: &Grain, r: &str, extra: &[&str], all: &[&str]) -> String {
    let (name, keys) = grain;
    let mut columns = vec![format!("'{name}' AS grain"), format!("{r}.year")];
    columns.extend(extra.iter().map(|k| format!("{r}.{k}")));
    columns.extend(all.iter().map(|k| {
        if keys.contains(k) {
            format!("{r}.{k}")
        } else {
            format!("CAST(NULL AS VARCHAR) AS {k}")
        }
    }));
    columns.join(", ")
}

/// The join of two relations grouped at the same grain: same year and same keys.
fn same_cell(grain: &Grain, a: &str, b: &str) -> String {
    std::iter::once("year")
        .chain(grain.1.iter().copied())
        .map(|k| format!("{a}.{k} = {b}.{k}"))
        .collect::<Vec<_>>()
        .join(" AND ")
}

/// The place columns of a grain's row `g`, with names (from the joins of [`NAMES`]).
const PLACE_COLUMNS: &str =
    "g.county_code, rc.name_zh AS county_name, g.town_code, rt.name_zh AS town_name";

/// Joins that add the county's and town's names to the codes of `g`.
const NAMES: &str = "LEFT JOIN regions rc ON rc.code = g.county_code \
    LEFT JOIN regions rt ON rt.code = g.town_code";

/// The industry columns of `g`, with the name (from the join of [`INDUSTRY_NAMES`]).
const INDUSTRY_COLUMNS: &str = "g.industry_code, i.name_zh AS industry_name";

/// The join that adds the industry's name.
const INDUSTRY_NAMES: &str = "LEFT JOIN industries i ON i.code = g.industry_code";

/// Fact rows with their place and industry keys, a missing town or industry read as '' so that
/// such rows still count at the grains above them.
fn keyed(table: &str, columns: &str) -> String {
    format!(
        "SELECT year, county_code, coalesce(town_code, '') AS town_code, \
           coalesce(industry_code, '') AS industry_code, {columns} FROM {table}"
    )
}

/// Enterprises (the denominators of coverage) at `grain`, from the CTE `ent` of [`keyed`] rows.
fn enterprise_cell(grain: &Grain) -> String {
    let keys = group_keys(grain, &[]);
    format!(
        "SELECT {keys}, count(*) AS enterprises, sum(employees) AS enterprise_employees, \
           count(union_uscc) AS enterprises_with_union FROM ent GROUP BY {keys}"
    )
}

fn union_coverage() -> String {
    let rows = per_grain(PLACE_AND_INDUSTRY_GRAINS, |grain| {
        let keys = group_keys(grain, &[]);
        format!(
            "SELECT {columns}, u.unions, u.unions_founded, u.enterprises_covered, u.employees, \
               u.members, u.female_members, u.migrant_members, u.new_members, u.new_migrant_members, \
               e.enterprises, e.enterprises_with_union \
             FROM (SELECT {keys}, count(*) AS unions, sum(founded_this_year) AS unions_founded, \
                     sum(enterprises_covered) AS enterprises_covered, sum(employees) AS employees, \
                     sum(members) AS members, sum(female_members) AS female_members, \
                     sum(migrant_members) AS migrant_members, sum(new_members) AS new_members, \
                     sum(new_migrant_members) AS new_migrant_members \
                   FROM un GROUP BY {keys}) u \
             LEFT JOIN ({enterprises}) e ON {cell}",
            columns = grain_columns(grain, "u", &[], PLACE_AND_INDUSTRY_KEYS),
            enterprises = enterprise_cell(grain),
            cell = same_cell(grain, "u", "e"),
        )
    });
    format!(
        "WITH un AS ({unions}), ent AS ({enterprises}) \
         SELECT g.grain, g.year, {PLACE_COLUMNS}, {INDUSTRY_COLUMNS}, \
           g.unions, g.unions_founded, coalesce(g.enterprises, 0) AS enterprises, \
           coalesce(g.enterprises_with_union, 0) AS enterprises_with_union, g.enterprises_covered, \
           g.employees, g.members, g.female_members, g.migrant_members, g.new_members, g.new_migrant_members, \
           CAST(g.enterprises_with_union AS DOUBLE) / NULLIF(g.enterprises, 0) AS formation_rate, \
           CAST(g.members AS DOUBLE) / NULLIF(g.employees, 0) AS membership_rate, \
           CAST(g.migrant_members AS DOUBLE) / NULLIF(g.members, 0) AS migrant_share, \
           CAST(g.female_members AS DOUBLE) / NULLIF(g.members, 0) AS female_share \
         FROM ({rows}) g {NAMES} {INDUSTRY_NAMES}",
        unions = keyed(
            "grassroots_unions",
            "enterprises_covered, employees, members, female_members, migrant_members, \
             new_members, new_migrant_members, \
             CASE WHEN extract(year FROM founded_date) = year THEN 1 ELSE 0 END AS founded_this_year"
        ),
        enterprises = keyed("enterprises", "employees, union_uscc"),
    )
}

fn aid_summary() -> String {
    let rows = per_grain(PLACE_GRAINS, |grain| {
        let keys = group_keys(grain, &["programme"]);
        let place_keys = group_keys(grain, &[]);
        format!(
            "SELECT {columns}, a.amount, a.recipients, a.enterprises_visited, a.batches, h.households \
             FROM (SELECT {keys}, sum(amount) AS amount, sum(recipients) AS recipients, \
                     sum(enterprises_visited) AS enterprises_visited, count(*) AS batches \
                   FROM aid GROUP BY {keys}) a \
             LEFT JOIN (SELECT {place_keys}, count(*) AS households FROM hh GROUP BY {place_keys}) h \
               ON {cell}",
            columns = grain_columns(grain, "a", &["programme"], PLACE_KEYS),
            cell = same_cell(grain, "a", "h"),
        )
    });
    format!(
        "WITH aid AS (SELECT year, programme, county_code, coalesce(town_code, '') AS town_code, \
             amount, recipients, enterprises_visited FROM aid_disbursements), \
         years AS (SELECT DISTINCT year FROM aid_disbursements), \
         hh AS (SELECT y.year, h.county_code, coalesce(h.town_code, '') AS town_code \
             FROM hardship_households h JOIN years y ON h.year <= y.year) \
         SELECT g.grain, g.year, g.programme, {PLACE_COLUMNS}, \
           g.amount, g.recipients, g.enterprises_visited, g.batches, \
           coalesce(g.households, 0) AS hardship_households, \
           CAST(g.amount AS DOUBLE) / NULLIF(g.recipients, 0) AS amount_per_recipient, \
           CAST(g.amount AS DOUBLE) / NULLIF(g.households, 0) AS amount_per_household \
         FROM ({rows}) g {NAMES}"
    )
}

/// The kinds of collective contract, as the ingest contract of `collective_contracts` allows them.
pub const CONTRACT_KINDS: &[&str] = &[
    "综合集体合同",
    "工资专项集体合同",
    "职业病防治专项集体合同",
    "女职工权益保护专项集体合同",
];

/// Collective contracts by kind. Coverage counts the register's enterprises (and their
/// employees) whose union holds a contract of the kind, in each enterprise's own town and
/// industry, so no cut passes 100%; the counts the contracts declare, attributed to the union's
/// town and industry, stay as `enterprises_covered` and `employees_covered`.
///
/// Each grain is one aggregate over two inputs stacked with `UNION ALL`: the contracts, one row
/// each, and the register's enterprises summed per cell, once per kind. So the register is read
/// once per grain, and filters on year, place or kind reach both inputs.
fn contract_coverage() -> String {
    // Per cell of the register, for kind i: enterprises whose union holds one (n{i}), and their
    // employees (w{i}); then, once per kind, the pair of that kind.
    let per_kind_sums: String = (0..CONTRACT_KINDS.len())
        .map(|i| {
            format!(
                ", sum(CASE WHEN held{i} THEN 1 ELSE 0 END) AS n{i}, \
                 sum(CASE WHEN held{i} THEN employees ELSE 0 END) AS w{i}"
            )
        })
        .collect();
    let of_kind = |column: &str| {
        let arms: String = (0..CONTRACT_KINDS.len())
            .map(|i| format!(" WHEN '{}' THEN {column}{i}", CONTRACT_KINDS[i]))
            .collect();
        format!("CASE kinds.kind{arms} END")
    };
    let kinds = CONTRACT_KINDS
        .iter()
        .map(|k| format!("('{k}')"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = per_grain(PLACE_AND_INDUSTRY_GRAINS, |grain| {
        let keys = group_keys(grain, &["kind"]);
        let cell = group_keys(grain, &[]);
        // Contracts carry their county; their town and industry are those of the union.
        let source = if grain.1.iter().any(|k| *k != "county_code") {
            "con"
        } else {
            "collective_contracts"
        };
        format!(
            "SELECT {columns}, sum(contracts) AS contracts, \
               sum(enterprises_covered) AS enterprises_covered, \
               sum(employees_covered) AS employees_covered, sum(offers_sent) AS offers_sent, \
               sum(offers_replied) AS offers_replied, \
               sum(enterprises_with_contract) AS enterprises_with_contract, \
               sum(employees_with_contract) AS employees_with_contract, \
               sum(enterprises) AS enterprises, sum(enterprise_employees) AS enterprise_employees \
             FROM (SELECT {keys}, 1 AS contracts, enterprises_covered, employees_covered, \
                     offers_sent, offers_replied, 0 AS enterprises_with_contract, \
                     0 AS employees_with_contract, 0 AS enterprises, 0 AS enterprise_employees \
                   FROM {source} \
                   UNION ALL \
                   SELECT {keys}, 0, 0, 0, 0, 0, {with_contract}, {employees_with_contract}, \
                     enterprises, enterprise_employees \
                   FROM (SELECT {cell}, count(*) AS enterprises, \
                           sum(employees) AS enterprise_employees{per_kind_sums} \
                         FROM ent GROUP BY {cell}) a \
                   CROSS JOIN (VALUES {kinds}) kinds(kind)) x \
             GROUP BY {keys} \
             HAVING sum(contracts) > 0 OR sum(enterprises_with_contract) > 0",
            columns = grain_columns(grain, "x", &["kind"], PLACE_AND_INDUSTRY_KEYS),
            with_contract = of_kind("a.n"),
            employees_with_contract = of_kind("a.w"),
        )
    });
    let held: String = CONTRACT_KINDS
        .iter()
        .enumerate()
        .map(|(i, k)| format!(", bool_or(kind = '{k}') AS held{i}"))
        .collect();
    let held_columns: String = (0..CONTRACT_KINDS.len())
        .map(|i| format!(", coalesce(h.held{i}, false) AS held{i}"))
        .collect();
    format!(
        "WITH con AS (SELECT c.year, c.kind, c.county_code, coalesce(u.town_code, '') AS town_code, \
             coalesce(u.industry_code, '') AS industry_code, c.enterprises_covered, \
             c.employees_covered, c.offers_sent, c.offers_replied \
           FROM collective_contracts c LEFT JOIN grassroots_unions u \
             ON u.year = c.year AND u.union_uscc = c.union_uscc), \
         held AS (SELECT year, union_uscc{held} FROM collective_contracts GROUP BY year, union_uscc), \
         ent AS (SELECT e.year, e.county_code, coalesce(e.town_code, '') AS town_code, \
             coalesce(e.industry_code, '') AS industry_code, e.employees{held_columns} \
           FROM enterprises e LEFT JOIN held h ON h.year = e.year AND h.union_uscc = e.union_uscc) \
         SELECT g.grain, g.year, g.kind, {PLACE_COLUMNS}, {INDUSTRY_COLUMNS}, \
           g.contracts, g.enterprises_covered, g.employees_covered, g.offers_sent, g.offers_replied, \
           g.enterprises_with_contract, g.employees_with_contract, \
           g.enterprises, g.enterprise_employees AS employees, \
           CAST(g.enterprises_with_contract AS DOUBLE) / NULLIF(g.enterprises, 0) AS enterprise_coverage, \
           CAST(g.employees_with_contract AS DOUBLE) / NULLIF(g.enterprise_employees, 0) AS employee_coverage, \
           CAST(g.offers_replied AS DOUBLE) / NULLIF(g.offers_sent, 0) AS reply_rate \
         FROM ({rows}) g {NAMES} {INDUSTRY_NAMES}"
    )
}

fn rights_summary() -> String {
    let rows = per_grain(PLACE_AND_INDUSTRY_GRAINS, |grain| {
        let keys = group_keys(grain, &["kind"]);
        format!(
            "SELECT {columns}, count(*) AS cases, sum(workers) AS workers, \
               sum(amount_recovered) AS amount_recovered \
             FROM cases r GROUP BY {keys}",
            columns = grain_columns(grain, "r", &["kind"], PLACE_AND_INDUSTRY_KEYS),
        )
    });
    format!(
        "WITH cases AS ({cases}) \
         SELECT g.grain, g.year, g.kind, {PLACE_COLUMNS}, {INDUSTRY_COLUMNS}, \
           g.cases, g.workers, g.amount_recovered \
         FROM ({rows}) g {NAMES} {INDUSTRY_NAMES}",
        cases = keyed("rights_cases", "kind, workers, amount_recovered"),
    )
}

/// One row per metric from each row of `source` (a FROM clause, with its WHERE and GROUP BY):
/// the metrics' values are computed side by side, then `unnest` turns them into rows named by
/// `columns` (name, value), so the source is read once.
fn unpivot(keys: &str, columns: (&str, &str), metrics: &[(&str, &str)], source: &str) -> String {
    let (name_column, value_column) = columns;
    let names: Vec<String> = metrics.iter().map(|(m, _)| sql_text(m)).collect();
    let values: Vec<String> = (0..metrics.len()).map(|i| format!("v{i}")).collect();
    let computed: Vec<String> = metrics
        .iter()
        .enumerate()
        .map(|(i, (_, expr))| format!("CAST({expr} AS DOUBLE) AS v{i}"))
        .collect();
    let keys = if keys.is_empty() {
        String::new()
    } else {
        format!("{keys}, ")
    };
    format!(
        "SELECT {keys}unnest([{}]) AS {name_column}, unnest([{}]) AS {value_column} \
         FROM (SELECT {keys}{} FROM {source})",
        names.join(", "),
        values.join(", "),
        computed.join(", ")
    )
}

/// The leadership's headline figures by year and place, one row per metric: the KPI cards and
/// the map's metric selector read this.
fn kpi() -> String {
    let place = "grain, year, county_code, town_code";
    let places = "grain IN ('city', 'county', 'town')";
    let metric = ("metric", "value");
    let coverage = unpivot(
        place,
        metric,
        &[
            ("grassroots_unions", "unions"),
            ("members", "members"),
            ("migrant_members", "migrant_members"),
            ("formation_rate", "formation_rate"),
            ("membership_rate", "membership_rate"),
            ("migrant_share", "migrant_share"),
        ],
        &format!("union_coverage WHERE {places}"),
    );
    let amount =
        |programme: &str| format!("sum(CASE WHEN programme = '{programme}' THEN amount END)");
    let aid = unpivot(
        place,
        metric,
        &[
            ("aid_amount", "sum(amount)"),
            ("aid_recipients", "sum(recipients)"),
            (
                "aid_per_recipient",
                "CAST(sum(amount) AS DOUBLE) / NULLIF(sum(recipients), 0)",
            ),
            ("hardship_households", "max(hardship_households)"),
            ("warmth_funds", &amount("送温暖")),
            ("hardship_aid_funds", &amount("困难帮扶")),
            ("education_aid_funds", &amount("金秋助学")),
            ("cooling_funds", &amount("送清凉")),
        ],
        &format!("aid_summary GROUP BY {place}"),
    );
    let contracts = unpivot(
        place,
        metric,
        &[
            (
                "contract_coverage",
                "max(CASE WHEN kind = '综合集体合同' THEN enterprise_coverage END)",
            ),
            (
                "od_contracts",
                "sum(CASE WHEN kind = '职业病防治专项集体合同' THEN contracts END)",
            ),
        ],
        &format!("contract_coverage WHERE {places} GROUP BY {place}"),
    );
    let rights = unpivot(
        place,
        metric,
        &[
            ("rights_cases", "sum(cases)"),
            (
                "wages_recovered",
                "sum(CASE WHEN kind = '欠薪' THEN amount_recovered END)",
            ),
        ],
        &format!("rights_summary WHERE {places} GROUP BY {place}"),
    );
    [coverage, aid, contracts, rights].join(" UNION ALL ")
}

/// Year-on-year change (同比) of every headline figure: each figure next to the same figure a
/// year earlier. Each year's figures are stacked with the previous year's moved one year on and
/// grouped by key, rather than read with a window over the years: so a query for one year
/// computes that year and the one before only (the filter on `year` reaches both), and a year
/// missing from the data gives no previous value instead of an older one.
const KPI_YOY: &str = "SELECT grain, year, county_code, town_code, metric, max(value) AS value, \
    max(previous) AS previous_value, max(value) / NULLIF(max(previous), 0) - 1 AS yoy \
    FROM (SELECT grain, year, county_code, town_code, metric, 1 AS this_year, value, \
            CAST(NULL AS DOUBLE) AS previous FROM kpi \
          UNION ALL \
          SELECT grain, year + 1 AS year, county_code, town_code, metric, 0 AS this_year, \
            CAST(NULL AS DOUBLE) AS value, value AS previous FROM kpi) y \
    GROUP BY grain, year, county_code, town_code, metric \
    HAVING max(this_year) = 1";

/// Each published figure that detail data can reproduce: the rows holding it (a table, or its
/// 2017 rows, so that one-year figures read one year's files) and the aggregate over them that
/// computes it (the generator's calibration computes the same).
const COMPUTED: &[(&str, &[(&str, &str)])] = &[
    (
        "grassroots_unions WHERE year = 2017",
        &[
            ("workers_led", "sum(members)"),
            ("members_activated", "sum(members)"),
            ("union_members", "sum(members)"),
            ("grassroots_unions", "count(*)"),
            (
                "enterprises_covered_by_new_unions",
                "sum(CASE WHEN founded_date >= DATE '2013-01-01' THEN enterprises_covered END)",
            ),
            (
                "model_worker_homes",
                "count(CASE WHEN model_home = '模范职工之家' THEN 1 END)",
            ),
            (
                "model_worker_small_homes",
                "count(CASE WHEN model_home = '模范职工小家' THEN 1 END)",
            ),
            (
                "wage_bargaining_coverage",
                "100.0 * sum(CASE WHEN wage_agreement THEN enterprises_covered ELSE 0 END) / sum(enterprises_covered)",
            ),
        ],
    ),
    (
        "grassroots_unions",
        &[
            (
                "unions_founded",
                "count(DISTINCT CASE WHEN founded_date >= DATE '2013-01-01' THEN union_uscc END)",
            ),
            ("new_members", "sum(new_members)"),
            ("new_migrant_members", "sum(new_migrant_members)"),
        ],
    ),
    (
        "regions",
        &[(
            "town_level_unions",
            "count(CASE WHEN level IN ('town', 'park') THEN 1 END)",
        )],
    ),
    (
        "enterprises WHERE year = 2017",
        &[(
            "harmonious_enterprises",
            "count(CASE WHEN harmonious_level IN ('市级', '省级', '全国') THEN 1 END)",
        )],
    ),
    (
        "hardship_households",
        &[("hardship_households", "count(*)")],
    ),
    (
        "aid_disbursements",
        &[
            (
                "warmth_funds",
                "sum(CASE WHEN programme = '送温暖' THEN amount END)",
            ),
            (
                "warmth_visits",
                "sum(CASE WHEN programme = '送温暖' THEN recipients END)",
            ),
            (
                "hardship_aid_funds",
                "sum(CASE WHEN programme = '困难帮扶' THEN amount END)",
            ),
            (
                "hardship_aid_recipients",
                "sum(CASE WHEN programme = '困难帮扶' THEN recipients END)",
            ),
            (
                "education_aid_funds",
                "sum(CASE WHEN programme = '金秋助学' THEN amount END)",
            ),
            (
                "education_aid_students",
                "sum(CASE WHEN programme = '金秋助学' THEN recipients END)",
            ),
            (
                "cooling_funds",
                "sum(CASE WHEN programme = '送清凉' THEN amount END)",
            ),
            (
                "cooling_workers",
                "sum(CASE WHEN programme = '送清凉' THEN recipients END)",
            ),
            (
                "cooling_enterprises_visited",
                "sum(CASE WHEN programme = '送清凉' THEN enterprises_visited END)",
            ),
        ],
    ),
    (
        "collective_contracts",
        &[
            ("wage_offers_sent", "sum(offers_sent)"),
            (
                "od_contract_enterprises",
                "sum(CASE WHEN kind = '职业病防治专项集体合同' THEN enterprises_covered END)",
            ),
        ],
    ),
    // One kind of site each: a lone count(DISTINCT) is planned as a grouping, far cheaper than
    // several distinct counts in one aggregate.
    (
        "service_sites WHERE year = 2017 AND kind = '妈妈小屋'",
        &[("mother_rooms", "count(DISTINCT site_id)")],
    ),
    (
        "service_sites WHERE year = 2017 AND kind = '劳动争议调解组织'",
        &[("mediation_bodies", "count(DISTINCT site_id)")],
    ),
    (
        "service_sites WHERE year = 2017 AND kind = '工会劳动法律监督组织'",
        &[("legal_supervision_bodies", "count(DISTINCT site_id)")],
    ),
    (
        "service_sites",
        &[(
            "mother_room_visits",
            "sum(CASE WHEN kind = '妈妈小屋' THEN visits END)",
        )],
    ),
    (
        "rights_cases",
        &[
            (
                "petitions",
                "count(CASE WHEN kind IN ('来信', '来访', '来电') THEN 1 END)",
            ),
            (
                "legal_aid_cases",
                "count(CASE WHEN kind = '法律援助' THEN 1 END)",
            ),
            (
                "wage_arrears_cases",
                "count(CASE WHEN kind = '欠薪' THEN 1 END)",
            ),
            (
                "wage_arrears_workers",
                "sum(CASE WHEN kind = '欠薪' THEN workers END)",
            ),
            (
                "wage_arrears_recovered",
                "sum(CASE WHEN kind = '欠薪' THEN amount_recovered END)",
            ),
        ],
    ),
    (
        "activities",
        &[
            (
                "labour_contest_units",
                "sum(CASE WHEN kind = '劳动竞赛' THEN units END)",
            ),
            (
                "labour_contest_workers",
                "sum(CASE WHEN kind = '劳动竞赛' THEN participants END)",
            ),
            (
                "labour_contest_projects",
                "sum(CASE WHEN kind = '劳动竞赛' THEN projects END)",
            ),
            (
                "skills_contest_industries",
                "count(DISTINCT CASE WHEN kind = '技能大赛' THEN industry_code END)",
            ),
            (
                "skills_contest_trades",
                "sum(CASE WHEN kind = '技能大赛' THEN trades END)",
            ),
            (
                "skills_contest_participants",
                "sum(CASE WHEN kind = '技能大赛' THEN participants END)",
            ),
            (
                "training_classes",
                "count(CASE WHEN kind = '培训班' THEN 1 END)",
            ),
            (
                "training_trainees",
                "sum(CASE WHEN kind = '培训班' THEN participants END)",
            ),
            (
                "innovation_results",
                "sum(CASE WHEN kind = '职工自主创新' THEN results END)",
            ),
            (
                "innovation_recommended",
                "sum(CASE WHEN kind = '职工自主创新' THEN recommended END)",
            ),
            (
                "innovation_converted",
                "sum(CASE WHEN kind = '职工自主创新' THEN converted END)",
            ),
            (
                "innovation_benefit",
                "sum(CASE WHEN kind = '职工自主创新' THEN benefit END)",
            ),
            (
                "five_small_projects",
                "sum(CASE WHEN kind = '五小创新' THEN projects END)",
            ),
            (
                "five_small_awarded",
                "sum(CASE WHEN kind = '五小创新' THEN awarded END)",
            ),
            (
                "ankang_cup_enterprises",
                "sum(CASE WHEN kind = '安康杯' THEN enterprises END)",
            ),
            (
                "ankang_cup_teams",
                "sum(CASE WHEN kind = '安康杯' THEN teams END)",
            ),
            (
                "ankang_cup_workers",
                "sum(CASE WHEN kind = '安康杯' THEN participants END)",
            ),
            (
                "ankang_cup_advanced",
                "sum(CASE WHEN kind = '安康杯' THEN awarded END)",
            ),
            (
                "yifa_sanka_enterprises",
                "sum(CASE WHEN kind = '一法三卡' THEN enterprises END)",
            ),
            ("job_fairs", "count(CASE WHEN kind = '招聘会' THEN 1 END)"),
            (
                "job_seekers_placed",
                "sum(CASE WHEN kind = '招聘会' THEN participants END)",
            ),
            (
                "moral_lectures",
                "count(CASE WHEN kind = '道德讲堂' THEN 1 END)",
            ),
            (
                "worker_rep_trainees",
                "sum(CASE WHEN kind = '职工代表培训' THEN participants END)",
            ),
            (
                "worker_rep_proposals",
                "sum(CASE WHEN kind = '职工代表提案' THEN results END)",
            ),
        ],
    ),
];

fn sql_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// Published figures against the detail data: for every figure, the computed value, the gap
/// and a verdict that honours the qualifier (exact, more than, at least, about).
fn reconciliation() -> String {
    let computed = COMPUTED
        .iter()
        .map(|(table, figures)| unpivot("", ("key", "computed"), figures, table))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let reasons = unionstat_datasets::published::NOT_REPRODUCIBLE
        .iter()
        .map(|(key, why)| format!("({}, {})", sql_text(key), sql_text(why)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "WITH computed AS ({computed}), \
         reasons AS (SELECT * FROM (VALUES {reasons}) AS r (key, reason)) \
         SELECT p.key, p.indicator_zh, p.indicator_en, p.unit, p.qualifier, p.period_start, p.period_end, \
           p.value AS published, p.upper_bound, c.computed, c.computed - p.value AS gap, \
           CASE \
             WHEN c.computed IS NULL THEN 'not_computable' \
             WHEN p.qualifier = 'exact' AND abs(c.computed - p.value) <= 1e-6 * greatest(abs(p.value), 1) THEN 'match' \
             WHEN p.qualifier = 'more_than' AND c.computed > p.value \
               AND (p.upper_bound IS NULL OR c.computed < p.upper_bound) THEN 'match' \
             WHEN p.qualifier = 'at_least' AND c.computed >= p.value - 1e-6 * greatest(abs(p.value), 1) THEN 'match' \
             WHEN p.qualifier = 'about' AND abs(c.computed - p.value) <= 0.2 * p.value THEN 'match' \
             ELSE 'mismatch' END AS verdict, \
           CASE \
             WHEN r.reason IS NOT NULL THEN r.reason \
             WHEN c.key IS NULL THEN 'no rule computes this figure yet' \
             WHEN c.computed IS NULL THEN 'the detail data it needs is not in the lake' \
           END AS reason \
         FROM published_indicators p \
         LEFT JOIN computed c ON c.key = p.key \
         LEFT JOIN reasons r ON r.key = p.key"
    )
}

/// Every view, in an order in which each is defined after the views it reads.
pub fn views() -> Vec<View> {
    vec![
        View {
            name: "union_coverage",
            description: "建会入会：基层工会、会员、农民工会员、建会率、入会率 / unions, members, formation and membership rates by year, place and industry",
            sql: union_coverage(),
        },
        View {
            name: "aid_summary",
            description: "困难帮扶：按项目的金额、人次、人均、户均 / aid by programme: amount, recipients, per recipient, per hardship household",
            sql: aid_summary(),
        },
        View {
            name: "contract_coverage",
            description: "集体合同：覆盖企业与职工、要约与答复 / collective contracts by kind: coverage of enterprises and employees, offers and replies",
            sql: contract_coverage(),
        },
        View {
            name: "rights_summary",
            description: "维权：来信来访、法律援助、欠薪案件与追回金额 / rights cases, workers and wages recovered",
            sql: rights_summary(),
        },
        View {
            name: "kpi",
            description: "核心指标（长表）：按年份与地区 / headline figures by year and place, one row per metric",
            sql: kpi(),
        },
        View {
            name: "kpi_yoy",
            description: "核心指标同比 / headline figures with the previous year's value and the year-on-year change",
            sql: KPI_YOY.to_string(),
        },
        View {
            name: "reconciliation",
            description: "与公开数据核对 / published figures against the detail data, with the gap and a verdict",
            sql: reconciliation(),
        },
    ]
}

/// Registers every view whose tables exist; returns the views left out, with why.
pub async fn register(ctx: &SessionContext) -> Vec<(&'static str, String)> {
    let mut missing = Vec::new();
    for view in views() {
        let _ = ctx.deregister_table(view.name);
        let sql = format!("CREATE VIEW {} AS {}", view.name, view.sql);
        let created = match ctx.sql(&sql).await {
            Ok(df) => df.collect().await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = created {
            tracing::info!(view = view.name, error = %e, "view left out until its tables exist");
            missing.push((view.name, e.to_string()));
        }
    }
    missing
}
