//! The declarations of the nine tables county unions report.

use crate::column::{Column, Kind, TableSpec, alias, col, grouped};

const YEAR: Column = alias(
    col("year", "统计年度", Kind::Int, true, "reporting year"),
    &["年度", "年份"],
);
const TOWN: Column = alias(
    col(
        "town",
        "所属镇街",
        Kind::Town,
        true,
        "town, street office or park",
    ),
    &["所在乡镇（街道）", "镇（街道、园区）"],
);
const INDUSTRY: Column = alias(
    col(
        "industry",
        "所属行业",
        Kind::Industry,
        true,
        "GB/T 4754-2017 section",
    ),
    &["行业类别", "国民经济行业"],
);
const UNION: Column = alias(
    col(
        "union_uscc",
        "工会统一社会信用代码",
        Kind::Uscc,
        true,
        "the grassroots union's USCC",
    ),
    &["工会社会信用代码", "基层工会代码"],
);
const UNION_OPT: Column = Column {
    required: false,
    ..UNION
};

/// 基层工会组织情况: one row per grassroots union and year.
pub const GRASSROOTS_UNIONS: TableSpec = TableSpec {
    name: "grassroots_unions",
    title_zh: "基层工会组织情况统计表",
    file_stem: "基层工会组织情况",
    columns: &[
        YEAR,
        grouped(UNION, "基本情况"),
        grouped(
            alias(
                col("union_name", "工会名称", Kind::Text, true, "union name"),
                &["基层工会名称"],
            ),
            "基本情况",
        ),
        grouped(TOWN, "基本情况"),
        grouped(INDUSTRY, "基本情况"),
        grouped(
            alias(
                col(
                    "org_type",
                    "组织形式",
                    Kind::Text,
                    true,
                    "single, joint or public-body union",
                ),
                &["建会形式"],
            ),
            "基本情况",
        ),
        grouped(
            alias(
                col("founded_date", "建会日期", Kind::Date, true, "date founded"),
                &["成立时间", "工会成立日期"],
            ),
            "基本情况",
        ),
        grouped(
            alias(
                col(
                    "enterprises_covered",
                    "覆盖单位数",
                    Kind::Int,
                    true,
                    "enterprises the union covers",
                ),
                &["涵盖企业数"],
            ),
            "基本情况",
        ),
        grouped(
            alias(
                col(
                    "employees",
                    "职工人数",
                    Kind::Int,
                    true,
                    "employees of covered enterprises",
                ),
                &["职工数", "从业人员数"],
            ),
            "职工与会员",
        ),
        grouped(
            alias(
                col(
                    "members",
                    "会员人数",
                    Kind::Int,
                    true,
                    "members at year end",
                ),
                &["会员数"],
            ),
            "职工与会员",
        ),
        grouped(
            alias(
                col(
                    "female_members",
                    "女会员",
                    Kind::Int,
                    false,
                    "female members",
                ),
                &["其中：女会员"],
            ),
            "职工与会员",
        ),
        grouped(
            alias(
                col(
                    "migrant_members",
                    "农民工会员",
                    Kind::Int,
                    false,
                    "migrant-worker members",
                ),
                &["其中：农民工会员"],
            ),
            "职工与会员",
        ),
        grouped(
            alias(
                col(
                    "new_members",
                    "本年发展会员",
                    Kind::Int,
                    false,
                    "members recruited this year",
                ),
                &["新发展会员"],
            ),
            "职工与会员",
        ),
        grouped(
            alias(
                col(
                    "new_migrant_members",
                    "本年发展农民工会员",
                    Kind::Int,
                    false,
                    "migrant workers recruited this year",
                ),
                &["其中：新发展农民工会员"],
            ),
            "职工与会员",
        ),
        grouped(
            alias(
                col(
                    "workers_congress",
                    "建立职代会",
                    Kind::Bool,
                    false,
                    "has a workers' congress",
                ),
                &["职工代表大会"],
            ),
            "民主管理与集体合同",
        ),
        grouped(
            alias(
                col(
                    "collective_contract",
                    "签订集体合同",
                    Kind::Bool,
                    false,
                    "has a collective contract in force",
                ),
                &["集体合同"],
            ),
            "民主管理与集体合同",
        ),
        grouped(
            alias(
                col(
                    "wage_agreement",
                    "签订工资专项集体合同",
                    Kind::Bool,
                    false,
                    "has a wage agreement in force",
                ),
                &["工资集体协商"],
            ),
            "民主管理与集体合同",
        ),
        grouped(
            alias(
                col(
                    "od_contract",
                    "签订职业病防治专项合同",
                    Kind::Bool,
                    false,
                    "has an occupational-disease contract",
                ),
                &["职业病防治专项集体合同"],
            ),
            "民主管理与集体合同",
        ),
        alias(
            col(
                "model_home",
                "模范职工之家",
                Kind::Text,
                false,
                "model workers' home title (模范职工之家 / 模范职工小家 / 无)",
            ),
            &["职工之家创建"],
        ),
    ],
};

/// 企业建会情况: one row per enterprise (or public body) and year.
pub const ENTERPRISES: TableSpec = TableSpec {
    name: "enterprises",
    title_zh: "企业（单位）建会情况统计表",
    file_stem: "企业建会情况",
    columns: &[
        YEAR,
        alias(
            col(
                "uscc",
                "统一社会信用代码",
                Kind::Uscc,
                true,
                "the enterprise's USCC",
            ),
            &["企业信用代码", "社会信用代码"],
        ),
        alias(
            col("name", "企业名称", Kind::Text, true, "enterprise name"),
            &["单位名称"],
        ),
        TOWN,
        INDUSTRY,
        alias(
            col(
                "established_date",
                "成立日期",
                Kind::Date,
                true,
                "date established",
            ),
            &["注册日期"],
        ),
        alias(
            col("employees", "从业人员", Kind::Int, true, "employees"),
            &["职工人数"],
        ),
        Column {
            description: "covering union's USCC, blank when none",
            ..alias(UNION_OPT, &["所属工会代码", "覆盖工会代码"])
        },
        alias(
            col(
                "harmonious_level",
                "和谐劳动关系企业",
                Kind::Text,
                false,
                "harmonious labour relations title (无/县级/市级/省级/全国)",
            ),
            &["和谐企业等级"],
        ),
    ],
};

/// 困难职工档案: one row per hardship household, in the year it was filed.
pub const HARDSHIP_HOUSEHOLDS: TableSpec = TableSpec {
    name: "hardship_households",
    title_zh: "困难职工档案汇总表",
    file_stem: "困难职工档案",
    columns: &[
        YEAR,
        alias(
            col("household_id", "档案编号", Kind::Text, true, "file number"),
            &["建档编号"],
        ),
        alias(
            col(
                "id_number",
                "身份证号码",
                Kind::IdNumber,
                true,
                "head of household's ID number",
            ),
            &["公民身份号码", "身份证号"],
        ),
        alias(
            col("phone", "联系电话", Kind::Phone, false, "phone"),
            &["手机号码"],
        ),
        col("gender", "性别", Kind::Text, true, "男 or 女"),
        alias(
            col("birth_date", "出生日期", Kind::Date, true, "date of birth"),
            &["出生年月"],
        ),
        TOWN,
        UNION_OPT,
        INDUSTRY,
        alias(
            col(
                "hardship_reason",
                "致困原因",
                Kind::Text,
                true,
                "main cause of hardship",
            ),
            &["困难类型"],
        ),
        alias(
            col(
                "family_size",
                "家庭人口",
                Kind::Int,
                true,
                "people in the household",
            ),
            &["家庭人数"],
        ),
        alias(
            col(
                "monthly_income",
                "家庭月人均收入（元）",
                Kind::Money,
                true,
                "monthly income per head",
            ),
            &["月人均收入"],
        ),
        alias(
            col(
                "migrant",
                "是否农民工",
                Kind::Bool,
                true,
                "head is a migrant worker",
            ),
            &["农民工"],
        ),
        alias(
            col("filed_date", "建档日期", Kind::Date, true, "date filed"),
            &["建档时间"],
        ),
    ],
};

/// 帮扶资金发放: one row per disbursement batch.
pub const AID_DISBURSEMENTS: TableSpec = TableSpec {
    name: "aid_disbursements",
    title_zh: "帮扶慰问资金发放情况表",
    file_stem: "帮扶资金发放",
    columns: &[
        YEAR,
        alias(
            col("batch_id", "发放批次", Kind::Text, true, "batch number"),
            &["批次编号"],
        ),
        alias(
            col("paid_date", "发放日期", Kind::Date, true, "date paid"),
            &["发放时间"],
        ),
        TOWN,
        UNION_OPT,
        alias(
            col(
                "programme",
                "项目",
                Kind::Text,
                true,
                "送温暖 / 困难帮扶 / 金秋助学 / 送清凉",
            ),
            &["帮扶项目", "资金类别"],
        ),
        alias(
            col("amount", "金额（元）", Kind::Money, true, "amount paid"),
            &["发放金额", "资金（元）"],
        ),
        alias(
            col(
                "recipients",
                "受助人次",
                Kind::Int,
                true,
                "recipients (person-times)",
            ),
            &["慰问人次", "资助人次"],
        ),
        alias(
            col(
                "enterprises_visited",
                "慰问企业（家次）",
                Kind::Int,
                false,
                "enterprise visits (送清凉)",
            ),
            &["走访企业数"],
        ),
    ],
};

/// 集体合同: one row per contract signed or renewed.
pub const COLLECTIVE_CONTRACTS: TableSpec = TableSpec {
    name: "collective_contracts",
    title_zh: "集体合同签订情况表",
    file_stem: "集体合同",
    columns: &[
        YEAR,
        alias(
            col(
                "contract_id",
                "合同编号",
                Kind::Text,
                true,
                "contract number",
            ),
            &["备案编号"],
        ),
        UNION,
        alias(
            col(
                "kind",
                "合同类别",
                Kind::Text,
                true,
                "综合 / 工资专项 / 职业病防治专项 / 女职工专项",
            ),
            &["合同种类"],
        ),
        alias(
            col(
                "scope",
                "签订形式",
                Kind::Text,
                true,
                "单独 / 区域性 / 行业性",
            ),
            &["合同形式"],
        ),
        alias(
            col("signed_date", "签订日期", Kind::Date, true, "date signed"),
            &["签约日期"],
        ),
        alias(
            col(
                "expiry_date",
                "到期日期",
                Kind::Date,
                true,
                "date it expires",
            ),
            &["期满日期"],
        ),
        alias(
            col(
                "enterprises_covered",
                "覆盖企业数",
                Kind::Int,
                true,
                "enterprises covered",
            ),
            &["覆盖单位数"],
        ),
        alias(
            col(
                "employees_covered",
                "覆盖职工数",
                Kind::Int,
                true,
                "employees covered",
            ),
            &["覆盖职工人数"],
        ),
        alias(
            col(
                "offers_sent",
                "发出要约书（份）",
                Kind::Int,
                false,
                "wage-bargaining offers sent",
            ),
            &["要约书"],
        ),
        alias(
            col(
                "offers_replied",
                "答复要约（份）",
                Kind::Int,
                false,
                "offers answered",
            ),
            &["答复要约"],
        ),
    ],
};

/// 服务阵地: one row per service site and year.
pub const SERVICE_SITES: TableSpec = TableSpec {
    name: "service_sites",
    title_zh: "工会服务阵地情况表",
    file_stem: "服务阵地",
    columns: &[
        YEAR,
        alias(
            col("site_id", "阵地编号", Kind::Text, true, "site number"),
            &["编号"],
        ),
        alias(
            col(
                "kind",
                "阵地类型",
                Kind::Text,
                true,
                "妈妈小屋 / 劳动争议调解组织 / 工会劳动法律监督组织 / 职工服务中心",
            ),
            &["类型"],
        ),
        alias(
            col("name", "名称", Kind::Text, true, "site name"),
            &["阵地名称"],
        ),
        Column {
            required: false,
            ..TOWN
        },
        alias(
            col("lon", "经度", Kind::Degrees, true, "longitude"),
            &["东经"],
        ),
        alias(
            col("lat", "纬度", Kind::Degrees, true, "latitude"),
            &["北纬"],
        ),
        alias(
            col("crs", "坐标系", Kind::Text, true, "WGS-84 or GCJ-02"),
            &["坐标系统"],
        ),
        alias(
            col(
                "established_date",
                "建成日期",
                Kind::Date,
                true,
                "date opened",
            ),
            &["成立日期"],
        ),
        alias(
            col(
                "visits",
                "本年服务人次",
                Kind::Int,
                true,
                "people served this year",
            ),
            &["接待人次"],
        ),
    ],
};

/// 维权案件: one row per case (letters, visits and calls, legal aid, wage arrears).
pub const RIGHTS_CASES: TableSpec = TableSpec {
    name: "rights_cases",
    title_zh: "职工维权案件统计表",
    file_stem: "维权案件",
    columns: &[
        YEAR,
        alias(
            col("case_id", "案件编号", Kind::Text, true, "case number"),
            &["受理编号"],
        ),
        alias(
            col(
                "kind",
                "案件类别",
                Kind::Text,
                true,
                "来信 / 来访 / 来电 / 法律援助 / 欠薪",
            ),
            &["类别"],
        ),
        alias(
            col(
                "received_date",
                "受理日期",
                Kind::Date,
                true,
                "date received",
            ),
            &["受理时间"],
        ),
        TOWN,
        INDUSTRY,
        UNION_OPT,
        alias(
            col(
                "workers",
                "涉及职工人数",
                Kind::Int,
                true,
                "workers concerned",
            ),
            &["涉及人数"],
        ),
        alias(
            col(
                "amount_recovered",
                "追回金额（元）",
                Kind::Money,
                false,
                "wages recovered",
            ),
            &["追回欠薪（元）"],
        ),
        alias(
            col("outcome", "办理结果", Kind::Text, true, "outcome"),
            &["处理结果"],
        ),
    ],
};

/// 工会活动: one row per contest, drive, class or event.
pub const ACTIVITIES: TableSpec = TableSpec {
    name: "activities",
    title_zh: "工会重点工作活动统计表",
    file_stem: "工会活动",
    columns: &[
        YEAR,
        alias(
            col(
                "activity_id",
                "活动编号",
                Kind::Text,
                true,
                "activity number",
            ),
            &["编号"],
        ),
        alias(
            col(
                "kind",
                "活动类型",
                Kind::Text,
                true,
                "劳动竞赛 / 技能大赛 / 培训班 / 职工自主创新 / 五小创新 / 安康杯 / 一法三卡 / 招聘会 / 道德讲堂 / 职工代表培训 / 职工代表提案",
            ),
            &["类型"],
        ),
        alias(col("name", "活动名称", Kind::Text, true, "name"), &["名称"]),
        alias(
            col("start_date", "开始日期", Kind::Date, true, "date started"),
            &["举办日期"],
        ),
        Column {
            required: false,
            ..INDUSTRY
        },
        grouped(
            alias(
                col("units", "参与单位数", Kind::Int, false, "units taking part"),
                &["参赛单位"],
            ),
            "参与情况",
        ),
        grouped(
            alias(
                col(
                    "enterprises",
                    "参与企业数",
                    Kind::Int,
                    false,
                    "enterprises taking part",
                ),
                &["参赛企业"],
            ),
            "参与情况",
        ),
        grouped(
            alias(
                col(
                    "teams",
                    "参与班组数",
                    Kind::Int,
                    false,
                    "work teams taking part",
                ),
                &["参赛班组"],
            ),
            "参与情况",
        ),
        grouped(
            alias(
                col(
                    "participants",
                    "参与人次",
                    Kind::Int,
                    false,
                    "participants (person-times)",
                ),
                &["参赛人次"],
            ),
            "参与情况",
        ),
        grouped(
            alias(
                col("projects", "项目数", Kind::Int, false, "projects"),
                &["工程项目数"],
            ),
            "成效",
        ),
        grouped(
            alias(
                col("trades", "工种数", Kind::Int, false, "trades"),
                &["竞赛工种"],
            ),
            "成效",
        ),
        grouped(
            alias(
                col(
                    "results",
                    "成果数",
                    Kind::Int,
                    false,
                    "innovations, proposals or entries collected",
                ),
                &["征集数"],
            ),
            "成效",
        ),
        grouped(
            alias(
                col(
                    "recommended",
                    "推荐数",
                    Kind::Int,
                    false,
                    "sent on to a higher contest",
                ),
                &["推荐参展"],
            ),
            "成效",
        ),
        grouped(
            alias(
                col(
                    "converted",
                    "转化数",
                    Kind::Int,
                    false,
                    "put into production",
                ),
                &["对接转化"],
            ),
            "成效",
        ),
        grouped(
            alias(
                col("awarded", "获表彰数", Kind::Int, false, "honoured"),
                &["获奖数"],
            ),
            "成效",
        ),
        grouped(
            alias(
                col(
                    "benefit",
                    "经济效益（元）",
                    Kind::Money,
                    false,
                    "economic benefit",
                ),
                &["效益（元）"],
            ),
            "成效",
        ),
    ],
};

/// 会员名册: one row per member (optional, large).
pub const MEMBERS: TableSpec = TableSpec {
    name: "members",
    title_zh: "工会会员名册",
    file_stem: "会员名册",
    columns: &[
        alias(
            col("member_id", "会员编号", Kind::Text, true, "member number"),
            &["会员证号"],
        ),
        UNION,
        TOWN,
        col("gender", "性别", Kind::Text, true, "男 or 女"),
        alias(
            col("birth_date", "出生日期", Kind::Date, true, "date of birth"),
            &["出生年月"],
        ),
        alias(
            col("id_number", "身份证号码", Kind::IdNumber, true, "ID number"),
            &["公民身份号码"],
        ),
        alias(
            col("phone", "联系电话", Kind::Phone, false, "phone"),
            &["手机号码"],
        ),
        alias(
            col(
                "migrant",
                "是否农民工",
                Kind::Bool,
                true,
                "a migrant worker",
            ),
            &["农民工"],
        ),
        alias(
            col("join_date", "入会日期", Kind::Date, true, "date joined"),
            &["入会时间"],
        ),
    ],
};

/// The yearly fact tables of a county's returns, in the order they are generated and written.
pub const FACT_TABLES: [&TableSpec; 8] = [
    &GRASSROOTS_UNIONS,
    &ENTERPRISES,
    &HARDSHIP_HOUSEHOLDS,
    &AID_DISBURSEMENTS,
    &COLLECTIVE_CONTRACTS,
    &SERVICE_SITES,
    &RIGHTS_CASES,
    &ACTIVITIES,
];
