// The unionstat dashboard. Every number comes from the JSON API (which asks the SQL engine);
// this file only fetches, formats and draws.
'use strict';

const STATE_ZH = { staged: '已暂存', refused: '被拒收', submitted: '待审核', returned: '已退回', approved: '已通过', withdrawn: '已撤销', not_received: '未报送' };
const I18N = {
  zh: {
    title: '龙岩市总工会 · 工会统计驾驶舱', subtitle: '基层工会组建、会员发展、困难帮扶与集体协商',
    tab_overview: '总览', tab_unions: '工会名录', tab_quality: '数据质量', tab_sql: 'SQL 查询', tab_admin: '账号管理', tab_returns: '数据报送',
    send_return: '填报与上传', form_table: '报表', form_year: '统计年度', download_template: '下载填报模板', upload: '上传校验',
    annotated: '下载标注错误的工作簿', act_submit: '提交审核', act_approve: '审核通过', act_return: '退回', act_withdraw: '撤销通过',
    review_matrix: '报送进度', submission_list: '报送记录', return_reason: '请填写退回原因（县总将据此修改）：', choose_file: '请先选择要上传的文件',
    due: (d) => `截止日期 ${d}`, overdue: '逾期',
    uploaded: (s) => `${s.source_file}：读取 ${s.rows_read} 行，可入库 ${s.rows_loaded} 行，有误 ${s.rows_quarantined} 行。状态：${STATE_ZH[s.state]}`,
    return_states: STATE_ZH,
    err_cols: { cell: '单元格', header: '表头', value: '填写内容', message: '问题与修改方法' },
    list_cols: { id: '编号', table: '报表', county_code: '县（市、区）', period: '年度', state: '状态', source_file: '文件', rows_loaded: '入库行数', rows_quarantined: '有误行数', uploaded_by: '上传人', comment: '说明', actions: '操作' },
    totals_cols: { measure: '指标', staged: '本次报送', published: '已发布' },
    history_cols: { state: '状态', actor: '操作人', at: '时间', comment: '说明' },
    accounts: '账号', account_name: '账号', role: '角色', pii: '可查看个人信息', add_account: '新增账号',
    roles: { admin: '管理员', city: '市总', county: '县总', viewer: '大屏' },
    disable: '停用', enable: '启用', new_password: '重置密码', new_token: '生成令牌',
    states: { active: '正常', disabled: '已停用', expired: '已过期' },
    secret: (name, what, value) => `${name} 的${what === 'token' ? 'API 令牌' : '密码'}（仅显示这一次）：${value}`,
    year: '年度', print: '打印', logout: '退出登录', metric: '指标', industry: '行业', sites: '服务阵地', back: '返回全市',
    all_industries: '全部行业', city: '龙岩市', schematic: '乡镇边界为示意图，仅示意位置关系，不代表实际行政界线。',
    map_title: (m, y, p) => `${p} · ${m}（${y}年）`, rankings: (m) => `乡镇排名 · ${m}`,
    breakdown: (m) => `分行业 · ${m}`, trend: (m, p) => `${p} · ${m} 趋势`, top: '前十', bottom: '后十',
    rank: (r, n) => `第 ${r} / ${n} 名`, yoy: '同比', no_data: '无数据', union_list: '基层工会名录',
    county: '县（市、区）', town: '乡镇（街道）', search: '搜索', prev: '上一页', next: '下一页',
    all: '全部', page: (p, n, t) => `第 ${p} / ${n} 页，共 ${t} 个工会`, reconciliation: '与公开数据核对',
    quarantine: '隔离数据及原因', submissions: '报送记录', exports: '定时导出',
    export_plan: (to, cron) => (to ? `导出到 ${to}，计划 ${cron}` : '未配置定时导出（配置文件的 [export] 部分）'), sql_console: 'SQL 查询（只读）',
    sql_help: '只读查询，受内存、时间和行数限制。Ctrl+Enter 运行。视图：union_coverage、aid_summary、contract_coverage、rights_summary、kpi、kpi_yoy、reconciliation。',
    run: '运行', rows_in: (n, ms) => `${n} 行，用时 ${ms} 毫秒`, footer: '数据来源：各县（市、区）总工会报送，经 unionstat 校验入库。',
    versions: (n) => `数据湖 ${n} 张表`, site_kinds: { '妈妈小屋': '妈妈小屋', '劳动争议调解组织': '劳动争议调解组织', '工会劳动法律监督组织': '工会劳动法律监督组织', '职工服务中心': '职工服务中心' },
    q_files: '报送文件', q_loaded: '入库行数', q_quarantined: '隔离行数', q_matched: '核对一致', q_not: '无法核对',
    verdict: { match: '一致', mismatch: '不一致', not_computable: '无法计算' }, none: '无',
    qualifier: { exact: '', more_than: '多', at_least: '以上', about: '约' },
    year_note: (y) => `当前年度：${y} 年`, five_years: '2013—2017 年',
  },
  en: {
    title: 'Longyan Federation of Trade Unions · Statistics Cockpit', subtitle: 'Union formation, membership, hardship aid and collective bargaining',
    tab_overview: 'Overview', tab_unions: 'Unions', tab_quality: 'Data quality', tab_sql: 'SQL', tab_admin: 'Accounts', tab_returns: 'Returns',
    send_return: 'Fill in and upload', form_table: 'Form', form_year: 'Year', download_template: 'Download template', upload: 'Upload and check',
    annotated: 'Download the workbook with errors marked', act_submit: 'Submit for review', act_approve: 'Approve', act_return: 'Return', act_withdraw: 'Withdraw approval',
    review_matrix: 'Progress', submission_list: 'Submissions', return_reason: 'Why is it returned (the county corrects by it)?', choose_file: 'Choose a file to upload first',
    due: (d) => `due ${d}`, overdue: 'overdue',
    uploaded: (s) => `${s.source_file}: ${s.rows_read} rows read, ${s.rows_loaded} load, ${s.rows_quarantined} with errors. State: ${s.state}`,
    return_states: { staged: 'staged', refused: 'refused', submitted: 'submitted', returned: 'returned', approved: 'approved', withdrawn: 'withdrawn', not_received: 'not received' },
    err_cols: { cell: 'Cell', header: 'Header', value: 'Value', message: 'Problem and fix' },
    list_cols: { id: 'Id', table: 'Form', county_code: 'County', period: 'Year', state: 'State', source_file: 'File', rows_loaded: 'Rows loaded', rows_quarantined: 'Rows with errors', uploaded_by: 'Uploaded by', comment: 'Comment', actions: 'Actions' },
    totals_cols: { measure: 'Measure', staged: 'This return', published: 'Published' },
    history_cols: { state: 'State', actor: 'By', at: 'When', comment: 'Comment' },
    accounts: 'Accounts', account_name: 'Account', role: 'Role', pii: 'May read personal data', add_account: 'Add account',
    roles: { admin: 'Admin', city: 'City', county: 'County', viewer: 'Big screen' },
    disable: 'Disable', enable: 'Enable', new_password: 'New password', new_token: 'New token',
    states: { active: 'active', disabled: 'disabled', expired: 'expired' },
    secret: (name, what, value) => `${what === 'token' ? 'API token' : 'Password'} of ${name} (shown this once): ${value}`,
    year: 'Year', print: 'Print', logout: 'Log out', metric: 'Figure', industry: 'Industry', sites: 'Service sites', back: 'Back to city',
    all_industries: 'All industries', city: 'Longyan', schematic: 'Town boundaries are schematic: they show relative position only, not legal boundaries.',
    map_title: (m, y, p) => `${p} · ${m} (${y})`, rankings: (m) => `Towns ranked · ${m}`,
    breakdown: (m) => `By industry · ${m}`, trend: (m, p) => `${p} · ${m} over time`, top: 'Top 10', bottom: 'Bottom 10',
    rank: (r, n) => `rank ${r} of ${n}`, yoy: 'YoY', no_data: 'no data', union_list: 'Grassroots unions',
    county: 'County', town: 'Town', search: 'Search', prev: 'Previous', next: 'Next',
    all: 'All', page: (p, n, t) => `page ${p} of ${n}, ${t} unions`, reconciliation: 'Reconciliation with published figures',
    quarantine: 'Quarantined rows and reasons', submissions: 'Returns received', exports: 'Scheduled exports',
    export_plan: (to, cron) => (to ? `to ${to}, schedule ${cron}` : 'No scheduled export (the [export] section of the config file)'), sql_console: 'SQL console (read-only)',
    sql_help: 'Read-only queries within memory, time and row limits. Ctrl+Enter runs. Views: union_coverage, aid_summary, contract_coverage, rights_summary, kpi, kpi_yoy, reconciliation.',
    run: 'Run', rows_in: (n, ms) => `${n} rows in ${ms} ms`, footer: 'Source: returns of the county federations, validated and loaded by unionstat.',
    versions: (n) => `${n} tables in the lake`, site_kinds: { '妈妈小屋': "Mothers' rooms", '劳动争议调解组织': 'Mediation bodies', '工会劳动法律监督组织': 'Legal supervision bodies', '职工服务中心': 'Service centres' },
    q_files: 'Files received', q_loaded: 'Rows loaded', q_quarantined: 'Rows quarantined', q_matched: 'Figures matched', q_not: 'Not computable',
    verdict: { match: 'match', mismatch: 'mismatch', not_computable: 'not computable' }, none: 'none',
    qualifier: { exact: '', more_than: 'more than', at_least: 'at least', about: 'about' },
    year_note: (y) => `Year shown: ${y}`, five_years: '2013–2017',
  },
};

// The KPI cards: the kpi view's metric, labels, and how to show the number.
const CARDS = [
  ['grassroots_unions', '基层工会', 'Grassroots unions', 'count', '个', ''],
  ['members', '工会会员', 'Union members', 'count', '人', ''],
  ['migrant_members', '农民工会员', 'Migrant-worker members', 'count', '人', ''],
  ['formation_rate', '建会率', 'Formation rate', 'rate'],
  ['membership_rate', '入会率', 'Membership rate', 'rate'],
  ['hardship_households', '困难职工户', 'Hardship households', 'count', '户', ''],
  ['warmth_funds', '送温暖资金', 'Warmth funds', 'yuan'],
  ['hardship_aid_funds', '困难帮扶资金', 'Hardship aid', 'yuan'],
  ['education_aid_funds', '金秋助学资金', 'Education aid', 'yuan'],
  ['cooling_funds', '送清凉资金', 'Summer relief', 'yuan'],
  ['contract_coverage', '集体合同覆盖率', 'Contract coverage', 'rate'],
  ['rights_cases', '维权案件', 'Rights cases', 'count', '件', ''],
  ['wages_recovered', '追回欠薪', 'Wages recovered', 'yuan'],
];

const S = {
  lang: localStorage.getItem('unionstat.lang') || 'zh',
  tab: 'overview', year: null, years: [], metric: 'formation_rate', industry: '', sites: false,
  // `home`: the county a county account is bound to (it sees nothing else), else null.
  me: {}, home: null,
  county: null, town: null, indicators: [], counties: [], towns: {}, industries: [],
  unions: { county: '', town: '', industry: '', q: '', page: 1, size: 20 },
  charts: {}, data: {},
};

const t = (key, ...args) => {
  const v = I18N[S.lang][key];
  return typeof v === 'function' ? v(...args) : v;
};
const $ = (id) => document.getElementById(id);
const zh = () => S.lang === 'zh';

// ---- numbers as Chinese (万/亿) or English readers expect ----
function trim(x, digits) {
  return Number(x.toFixed(digits)).toLocaleString(zh() ? 'zh-CN' : 'en-US', { maximumFractionDigits: digits });
}
function formatNumber(v, kind, unit) {
  if (v === null || v === undefined || Number.isNaN(v)) return '—';
  if (kind === 'rate') return `${(v * 100).toFixed(1)}%`;
  const yuan = kind === 'yuan';
  const a = Math.abs(v);
  if (zh()) {
    const u = yuan ? '元' : (unit || '');
    if (a >= 1e8) return `${trim(v / 1e8, 2)}亿${u}`;
    if (a >= 1e4) return `${trim(v / 1e4, yuan ? 0 : 2)}万${u}`;
    return `${trim(v, yuan ? 2 : 0)}${u}`;
  }
  const prefix = yuan ? '¥' : '';
  if (a >= 1e9) return `${prefix}${trim(v / 1e9, 2)} bn`;
  if (a >= 1e6) return `${prefix}${trim(v / 1e6, 2)} m`;
  return `${prefix}${trim(v, yuan ? 2 : 0)}`;
}
function indicator(key) { return S.indicators.find((i) => i.key === key); }
function formatMetric(v, key) {
  const i = indicator(key);
  return formatNumber(v, i ? i.kind : 'count', i ? (zh() ? i.unit_zh : '') : '');
}
function metricLabel(key) { const i = indicator(key); return i ? (zh() ? i.zh : i.en) : key; }
function placeName(row, prefix = '') { return (zh() ? row[`${prefix}name_zh`] : row[`${prefix}name_en`]) || row[`${prefix}name_zh`] || row.code; }

// ---- the API ----
async function api(path, params = {}) {
  const q = new URLSearchParams(Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== ''));
  const url = q.toString() ? `${path}?${q}` : path;
  const r = await fetch(url);
  if (r.status === 401) toLogin();
  const body = await r.json();
  if (!r.ok) throw new Error(body.message || `${r.status}`);
  return body;
}
// A session that ended (or none): the login page, then back here.
function toLogin() {
  location.href = `/login?next=${encodeURIComponent(location.pathname + location.search)}`;
  throw new Error('login');
}
function download(path, params, format) {
  const q = new URLSearchParams(Object.entries({ ...params, format }).filter(([, v]) => v !== null && v !== undefined && v !== ''));
  const a = document.createElement('a');
  a.href = `${path}?${q}`;
  a.click();
}

// ---- theme ----
function palette() {
  const light = document.body.classList.contains('light');
  return {
    text: light ? '#1a2433' : '#e6f0ff', muted: light ? '#5b6b80' : '#8fa8c8', line: light ? '#c8d3e0' : '#1d4a7a',
    area: light ? '#eef2f7' : '#12345f', bg: light ? '#ffffff' : '#0d2748',
    ramp: ['#0b3d6e', '#1565a8', '#2b8fd6', '#5cc1f2', '#a6e4ff'],
    top: '#35c3ff', bottom: '#ff8a65',
  };
}
function chart(id) {
  if (!S.charts[id]) S.charts[id] = echarts.init($(id), null, { renderer: 'canvas' });
  return S.charts[id];
}

// ---- the place the user is looking at ----
function countyName(code) {
  const f = S.counties.find((c) => c.code === code);
  return f ? (zh() ? f.name_zh : f.name_en) : code;
}
function townName(code) {
  const towns = S.towns[S.county] ? S.towns[S.county].features : [];
  const f = towns.find((x) => x.properties.code === code);
  return f ? (zh() ? f.properties.name_zh : f.properties.name_en) : code;
}
function placeLabel() {
  if (S.town) return townName(S.town);
  if (S.county) return countyName(S.county);
  return t('city');
}
function renderCrumbs() {
  const parts = [`<a data-level="city">${t('city')}</a>`];
  if (S.county) parts.push(`<a data-level="county">${escape(countyName(S.county))}</a>`);
  if (S.town) parts.push(`<span>${escape(townName(S.town))}</span>`);
  $('crumbs').innerHTML = parts.join('<span class="sep">›</span>');
  $('crumbs').querySelectorAll('a').forEach((a) => a.addEventListener('click', () => {
    if (a.dataset.level === 'city') { S.county = S.home; S.town = null; } else { S.town = null; }
    renderOverview();
  }));
  $('back').hidden = S.county === S.home;
  $('year-note').textContent = t('year_note', S.year);
}

// ---- KPI cards ----
function sparkline(values) {
  const v = values.filter((x) => x !== null);
  if (v.length < 2) return '';
  const min = Math.min(...v), max = Math.max(...v), span = max - min || 1;
  const pts = values.map((x, i) => `${(i / (values.length - 1)) * 70},${24 - ((x ?? min) - min) / span * 22}`).join(' ');
  return `<svg viewBox="0 0 70 26" aria-hidden="true"><polyline fill="none" stroke="${palette().top}" stroke-width="1.5" points="${pts}"/></svg>`;
}
async function renderKpis() {
  const body = await api('/api/overview', { county: S.county, town: S.town });
  S.data.overview = body;
  const by = {};
  body.rows.forEach((r) => { (by[r.metric] = by[r.metric] || {})[r.year] = r; });
  $('kpis').innerHTML = CARDS.map(([key, zhLabel, enLabel, kind, unit]) => {
    const rows = by[key] || {};
    const row = rows[S.year];
    const value = row ? row.value : null;
    const yoy = row ? row.yoy : null;
    const series = S.years.map((y) => (rows[y] ? rows[y].value : null));
    const yoyText = yoy === null || yoy === undefined ? '' :
      `<span class="yoy ${yoy >= 0 ? 'up' : 'down'}">${t('yoy')} ${yoy >= 0 ? '▲' : '▼'}${Math.abs(yoy * 100).toFixed(1)}%</span>`;
    const title = S.years.map((y, i) => `${y}: ${formatNumber(series[i], kind, zh() ? unit : '')}`).join('\n');
    return `<div class="kpi" data-metric="${key}" data-value="${value ?? ''}" title="${title}">
      <div class="label">${zh() ? zhLabel : enLabel}</div>
      <div class="value">${formatNumber(value, kind, zh() ? unit : '')}</div>
      ${yoyText}${sparkline(series)}</div>`;
  }).join('');
}

// ---- the map ----
async function regions(county) {
  const key = county || 'city';
  if (!S.towns[key]) {
    const q = new URLSearchParams(county ? { county } : {});
    const r = await fetch(`/api/regions${county ? `?${q}` : ''}`);
    const geo = await r.json();
    if (!r.ok) throw new Error(geo.message);
    geo.features.forEach((f) => { f.properties.name = f.properties.code; });
    echarts.registerMap(`longyan-${key}`, geo);
    S.towns[key] = geo;
  }
  return S.towns[key];
}
async function renderMap() {
  const p = palette();
  const metric = S.metric;
  $('map-title').textContent = t('map_title', metricLabel(metric), S.year, S.county ? countyName(S.county) : t('city'));
  const [geo, values, sites] = await Promise.all([
    regions(S.county),
    api('/api/map', { metric, year: S.year, county: S.county, industry: S.industry }),
    S.sites ? api('/api/sites', { year: S.year, county: S.county }) : Promise.resolve(null),
  ]);
  S.data.map = values;
  const names = {};
  geo.features.forEach((f) => { names[f.properties.code] = zh() ? f.properties.name_zh : (f.properties.name_en || f.properties.name_zh); });
  const schematic = geo.features.some((f) => f.properties.geometry_source === 'schematic');
  $('schematic-note').hidden = !schematic;
  const data = values.rows.map((r) => ({ name: r.code, value: r.value, rank: r.rank, places: r.places }));
  const numbers = data.map((d) => d.value).filter((v) => v !== null);
  const series = [{
    type: 'map', geoIndex: 0, data,
  }];
  if (sites) {
    const kinds = [...new Set(sites.rows.map((s) => s.kind))];
    const colours = ['#ffd166', '#ef476f', '#06d6a0', '#f78c6b'];
    kinds.forEach((kind, i) => series.push({
      type: 'scatter', coordinateSystem: 'geo', name: t('site_kinds')[kind] || kind,
      symbolSize: kind === '妈妈小屋' || kind === '职工服务中心' ? 7 : 3, itemStyle: { color: colours[i % colours.length] },
      data: sites.rows.filter((s) => s.kind === kind).map((s) => ({ name: s.name, value: [s.lon, s.lat, s.visits], kind: s.kind })),
      tooltip: { formatter: (x) => `${x.data.name}<br>${t('site_kinds')[x.data.kind] || x.data.kind}` },
    }));
  }
  const m = chart('map');
  m.setOption({
    backgroundColor: 'transparent',
    tooltip: {
      trigger: 'item',
      formatter: (x) => {
        if (x.seriesType === 'scatter') return undefined;
        const d = data.find((v) => v.name === x.name);
        if (!d) return `${names[x.name] || x.name}<br>${t('no_data')}`;
        return `<b>${names[x.name] || x.name}</b><br>${metricLabel(metric)}：${formatMetric(d.value, metric)}<br>${t('rank', d.rank, d.places)}`;
      },
    },
    visualMap: {
      type: 'continuous', min: numbers.length ? Math.min(...numbers) : 0, max: numbers.length ? Math.max(...numbers) : 1,
      left: 10, bottom: 10, calculable: true, seriesIndex: 0,
      textStyle: { color: p.text }, inRange: { color: p.ramp.slice().reverse() },
      formatter: (v) => formatMetric(v, metric),
    },
    legend: sites ? { top: 4, right: 10, textStyle: { color: p.text } } : { show: false },
    geo: {
      map: `longyan-${S.county || 'city'}`, roam: true, layoutCenter: ['50%', '52%'], layoutSize: '95%',
      label: { show: true, color: p.text, fontSize: S.county ? 10 : 14, formatter: (x) => names[x.name] || x.name },
      itemStyle: { areaColor: p.area, borderColor: p.line, borderWidth: 1 },
      emphasis: { label: { color: '#fff' }, itemStyle: { areaColor: '#f2a03d' } },
      select: { disabled: true },
    },
    series,
  }, true);
  m.off('click');
  m.on('click', (x) => {
    if (x.seriesType === 'scatter') return;
    const code = x.name;
    if (!S.county) { S.county = code; S.town = null; } else { S.town = S.town === code ? null : code; }
    renderOverview();
  });
}

// ---- rankings, industry breakdown, trend ----
async function renderRankings() {
  const p = palette();
  $('rankings-title').textContent = t('rankings', metricLabel(S.metric));
  const body = await api('/api/rankings', { metric: S.metric, year: S.year, county: S.county, industry: S.industry, limit: 10 });
  S.data.rankings = body;
  const rows = body.rows;
  const top = rows.filter((r) => r.rank <= 10);
  const bottom = rows.filter((r) => r.rank > 10 || r.rank_from_bottom <= 10).filter((r) => !top.includes(r));
  const label = (r) => (S.county ? placeName(r) : zh() ? `${r.name_zh}（${r.county_name_zh}）` : `${r.name_en} (${r.county_name_en})`);
  const list = [...top, ...bottom];
  chart('rankings').setOption({
    backgroundColor: 'transparent',
    grid: { left: 8, right: 70, top: 8, bottom: 8, containLabel: true },
    tooltip: { trigger: 'item', formatter: (x) => `${x.name}<br>${formatMetric(x.value, S.metric)}<br>${t('rank', list[x.dataIndex].rank, list[x.dataIndex].places)}` },
    xAxis: { type: 'value', show: false },
    yAxis: { type: 'category', inverse: true, data: list.map(label), axisLabel: { color: p.text, fontSize: 10, interval: 0 }, axisLine: { lineStyle: { color: p.line } } },
    series: [{
      type: 'bar', barWidth: '60%',
      data: list.map((r) => ({ value: r.value, itemStyle: { color: top.includes(r) ? p.top : p.bottom } })),
      label: { show: true, position: 'right', color: p.text, fontSize: 10, formatter: (x) => formatMetric(x.value, S.metric) },
    }],
  }, true);
}
async function renderBreakdown() {
  const p = palette();
  $('breakdown-title').textContent = t('breakdown', metricLabel(S.metric));
  const c = chart('breakdown');
  try {
    const body = await api('/api/breakdown', { metric: S.metric, year: S.year, county: S.county });
    S.data.breakdown = body;
    $('breakdown-error').hidden = true;
    const rows = body.rows.filter((r) => r.value !== null);
    const names = rows.map((r) => `${r.industry_code} ${(zh() ? r.name_zh : r.name_en) || ''}`);
    c.setOption({
      backgroundColor: 'transparent',
      grid: { left: 8, right: 16, top: 8, bottom: 8, containLabel: true },
      tooltip: { trigger: 'axis', formatter: (xs) => `${names[xs[0].dataIndex]}<br>${formatMetric(xs[0].value, S.metric)}` },
      xAxis: { type: 'category', data: rows.map((r) => (zh() ? (r.name_zh || '').slice(0, 2) : r.industry_code)), axisLabel: { color: p.text, fontSize: 10, interval: 0 } },
      yAxis: { type: 'value', axisLabel: { color: p.muted, formatter: (v) => formatMetric(v, S.metric) }, splitLine: { lineStyle: { color: p.line } } },
      series: [{ type: 'bar', data: rows.map((r) => r.value), itemStyle: { color: p.top } }],
    }, true);
  } catch (e) {
    S.data.breakdown = null;
    c.clear();
    $('breakdown-error').hidden = false;
    $('breakdown-error').textContent = e.message;
  }
}
async function renderTrend() {
  const p = palette();
  $('trend-title').textContent = t('trend', metricLabel(S.metric), placeLabel());
  const body = await api('/api/trend', { metric: S.metric, county: S.county, town: S.town, industry: S.industry });
  S.data.trend = body;
  chart('trend').setOption({
    backgroundColor: 'transparent',
    grid: { left: 8, right: 16, top: 16, bottom: 8, containLabel: true },
    tooltip: {
      trigger: 'axis',
      formatter: (xs) => xs.map((x) => {
        const r = body.rows[x.dataIndex];
        const yoy = r.yoy === null ? '' : `<br>${t('yoy')} ${(r.yoy * 100).toFixed(1)}%`;
        return `${r.year}<br>${formatMetric(r.value, S.metric)}${yoy}`;
      }).join(''),
    },
    xAxis: { type: 'category', data: body.rows.map((r) => String(r.year)), axisLabel: { color: p.text } },
    yAxis: { type: 'value', scale: true, axisLabel: { color: p.muted, formatter: (v) => formatMetric(v, S.metric) }, splitLine: { lineStyle: { color: p.line } } },
    series: [{ type: 'line', smooth: true, symbolSize: 8, data: body.rows.map((r) => r.value), lineStyle: { color: p.top, width: 3 }, itemStyle: { color: p.top }, areaStyle: { color: 'rgba(53,195,255,.15)' } }],
  }, true);
}

async function renderOverview() {
  renderCrumbs();
  const jobs = [renderKpis(), renderMap(), renderRankings(), renderBreakdown(), renderTrend()];
  const results = await Promise.allSettled(jobs);
  const failed = results.filter((r) => r.status === 'rejected').map((r) => r.reason.message);
  $('map-error').hidden = failed.length === 0;
  $('map-error').textContent = failed.join('\n');
  renderCrumbs();
  document.body.dataset.ready = failed.length ? 'error' : 'yes';
  // When the first map reached the screen, counted from navigation (read by the benchmark).
  requestAnimationFrame(() => {
    if (!document.body.dataset.mapDrawnMs) document.body.dataset.mapDrawnMs = String(Math.round(performance.now()));
  });
}

// ---- tables ----
const COLUMN_LABELS = {
  zh: {
    name: '账号', role: '角色', county: '县（市、区）', pii: '个人信息', state: '状态', tokens: '令牌', created: '创建时间',
    union_name: '工会名称', union_uscc: '统一社会信用代码', county_name: '县（市、区）', town_name: '乡镇（街道）', industry_name: '行业',
    org_type: '组织类型', founded_date: '成立日期', employees: '职工数', members: '会员数', migrant_members: '农民工会员',
    collective_contract: '集体合同', model_home: '职工之家', indicator_zh: '指标', unit: '单位', qualifier: '限定', published: '公开数',
    computed: '计算数', gap: '差异', verdict: '结论', reason: '说明', table_name: '数据表', column_name: '字段', rule: '规则',
    rows: '行数', example_zh: '示例', example_file: '示例文件', example_row: '行号', ingested_at: '入库时间', period: '期间',
    source_file: '文件', outcome: '结果', started_at: '开始时间', snapshot: '快照', files: '文件数', bytes: '字节', seconds: '用时（秒）', error: '错误', rows_read: '读取', rows_loaded: '入库', rows_quarantined: '隔离', table_version: '版本',
  },
  en: {},
};
function columnLabel(name) { return (zh() && COLUMN_LABELS.zh[name]) || name; }
function cell(name, v) {
  if (v === null || v === undefined) return '<td></td>';
  if (name === 'verdict') {
    const cls = v === 'match' ? 'ok' : v === 'not_computable' ? 'na' : 'bad';
    return `<td><span class="badge ${cls}">${t('verdict')[v] || v}</span></td>`;
  }
  if (typeof v === 'boolean') return `<td>${v ? '✓' : ''}</td>`;
  if (name === 'qualifier') return `<td>${t('qualifier')[v] ?? v}</td>`;
  if (name === 'source_file' || name === 'example_file') {
    const path = escape(String(v));
    return `<td title="${path}">${path.split('/').slice(-2).join('/')}</td>`;
  }
  if (typeof v === 'number') return `<td class="num">${v.toLocaleString(zh() ? 'zh-CN' : 'en-US', { maximumFractionDigits: 4 })}</td>`;
  return `<td>${escape(String(v))}</td>`;
}
function escape(text) {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]));
}
function renderTable(id, body, columns) {
  const cols = columns || body.columns.map((c) => c.name);
  const rows = body.rows.slice(0, 1000);
  $(id).innerHTML = `<thead><tr>${cols.map((c) => `<th>${columnLabel(c)}</th>`).join('')}</tr></thead>
    <tbody>${rows.map((r) => `<tr>${cols.map((c) => cell(c, r[c])).join('')}</tr>`).join('')}</tbody>`;
}

// ---- union list ----
function unionParams() {
  const u = S.unions;
  return { year: S.year, county: u.county, town: u.town, industry: u.industry, q: u.q, page: u.page, page_size: u.size };
}
async function renderUnions() {
  const u = S.unions;
  fillSelect($('u-county'), [['', t('all')], ...S.counties.map((c) => [c.code, zh() ? c.name_zh : c.name_en])], u.county);
  const towns = u.county ? (await regions(u.county)).features.map((f) => [f.properties.code, zh() ? f.properties.name_zh : f.properties.name_en]) : [];
  fillSelect($('u-town'), [['', t('all')], ...towns], u.town);
  fillSelect($('u-industry'), [['', t('all_industries')], ...industryOptions()], u.industry);
  const body = await api('/api/unions', unionParams());
  S.data.unions = body;
  renderTable('u-table', body, ['union_name', 'union_uscc', 'county_name', 'town_name', 'industry_name', 'org_type', 'founded_date', 'employees', 'members', 'migrant_members', 'collective_contract', 'model_home']);
  const total = body.rows.length ? body.rows[0].total : 0;
  const pages = Math.max(1, Math.ceil(total / u.size));
  $('u-page').textContent = t('page', u.page, pages, total);
  $('u-prev').disabled = u.page <= 1;
  $('u-next').disabled = u.page >= pages;
  $('tab-unions').dataset.page = String(u.page);
}

// ---- data quality ----
async function renderQuality() {
  // The exports hold every county's rows: their runs are for admin accounts.
  const admin = S.me.role === 'admin';
  const [subs, quarantine, recon, exports] = await Promise.all([
    api('/api/quality/submissions'), api('/api/quality/quarantine'), api('/api/quality/reconciliation'),
    admin ? api('/api/exports') : Promise.resolve(null),
  ]);
  $('q-exports-card').hidden = !admin;
  if (exports) {
    $('q-export-plan').textContent = t('export_plan', exports.to, exports.schedule);
    renderTable('q-exports', { columns: [], rows: exports.runs }, ['started_at', 'outcome', 'snapshot', 'rows', 'files', 'bytes', 'seconds', 'error']);
  }
  S.data.submissions = subs; S.data.quarantine = quarantine; S.data.reconciliation = recon;
  const sum = (rows, k) => rows.reduce((a, r) => a + (r[k] || 0), 0);
  const matched = recon.rows.filter((r) => r.verdict === 'match').length;
  const notComputable = recon.rows.filter((r) => r.verdict === 'not_computable').length;
  const cards = [[t('q_files'), subs.row_count], [t('q_loaded'), sum(subs.rows, 'rows_loaded')], [t('q_quarantined'), sum(subs.rows, 'rows_quarantined')], [t('q_matched'), `${matched} / ${recon.row_count}`], [t('q_not'), notComputable]];
  $('q-summary').innerHTML = cards.map(([l, v]) => `<div class="kpi"><div class="label">${l}</div><div class="value">${typeof v === 'number' ? v.toLocaleString() : v}</div></div>`).join('');
  renderTable('q-reconciliation', recon, ['verdict', zh() ? 'indicator_zh' : 'indicator_en', 'published', 'qualifier', 'computed', 'gap', 'unit', 'reason']);
  renderTable('q-quarantine', quarantine, ['table_name', 'column_name', 'rule', 'rows', zh() ? 'example_zh' : 'example_en', 'example_file', 'example_row']);
  renderTable('q-submissions', subs, ['ingested_at', 'table_name', 'county_name', 'period', 'source_file', 'outcome', 'rows_read', 'rows_loaded', 'rows_quarantined', 'table_version']);
}

// ---- SQL console ----
async function runSql(format) {
  const sql = $('sql-text').value;
  const started = performance.now();
  const headers = { 'Content-Type': 'text/plain', 'X-CSRF-Token': S.me.csrf || '' };
  const r = await fetch(`/api/sql?format=${format}`, { method: 'POST', body: sql, headers });
  if (r.status === 401) toLogin();
  if (!r.ok) {
    const e = await r.json();
    $('sql-error').hidden = false;
    $('sql-error').textContent = `${e.error}: ${e.message}`;
    return;
  }
  $('sql-error').hidden = true;
  if (format !== 'json') {
    const blob = await r.blob();
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `query.${format}`;
    a.click();
    return;
  }
  const body = await r.json();
  S.data.sql = body;
  renderTable('sql-table', body);
  $('sql-status').textContent = t('rows_in', body.row_count, Math.round(performance.now() - started));
}

// ---- toolbars: every chart's data as CSV, XLSX or Parquet, and the chart as PNG ----
const SOURCES = {
  map: () => ['/api/map', { metric: S.metric, year: S.year, county: S.county, industry: S.industry }],
  rankings: () => ['/api/rankings', { metric: S.metric, year: S.year, county: S.county, industry: S.industry, limit: 10 }],
  breakdown: () => ['/api/breakdown', { metric: S.metric, year: S.year, county: S.county }],
  trend: () => ['/api/trend', { metric: S.metric, county: S.county, town: S.town, industry: S.industry }],
  unions: () => ['/api/unions', { ...unionParams(), page: 1, page_size: 10000 }],
  reconciliation: () => ['/api/quality/reconciliation', {}],
  quarantine: () => ['/api/quality/quarantine', {}],
  submissions: () => ['/api/quality/submissions', {}],
};
function toolbars() {
  document.querySelectorAll('.toolbar').forEach((bar) => {
    const name = bar.dataset.chart;
    const formats = ['csv', 'xlsx', 'parquet'];
    bar.innerHTML = formats.map((f) => `<button type="button" data-format="${f}">${f.toUpperCase()}</button>`).join('') +
      (S.charts[name] || ['map', 'rankings', 'breakdown', 'trend'].includes(name) ? '<button type="button" data-format="png">PNG</button>' : '');
    bar.querySelectorAll('button').forEach((b) => b.addEventListener('click', () => {
      const f = b.dataset.format;
      if (f === 'png') {
        const a = document.createElement('a');
        a.href = chart(name).getDataURL({ pixelRatio: 2, backgroundColor: palette().bg });
        a.download = `${name}.png`;
        a.click();
      } else if (name === 'sql') {
        runSql(f);
      } else {
        const [path, params] = SOURCES[name]();
        download(path, params, f);
      }
    }));
  });
}

// ---- controls ----
function fillSelect(select, options, value) {
  select.innerHTML = options.map(([v, l]) => `<option value="${escape(String(v))}">${escape(String(l))}</option>`).join('');
  select.value = value ?? '';
}
function industryOptions() {
  return S.industries.map((r) => [r.code, `${r.code} ${zh() ? r.name_zh : r.name_en}`]);
}
function translate() {
  document.documentElement.lang = zh() ? 'zh-CN' : 'en';
  document.title = t('title');
  document.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
  $('lang').textContent = zh() ? 'English' : '中文';
  fillSelect($('metric'), S.indicators.map((i) => [i.key, zh() ? i.zh : i.en]), S.metric);
  const byIndustry = indicator(S.metric) && indicator(S.metric).by_industry;
  fillSelect($('industry'), [['', t('all_industries')], ...(byIndustry ? industryOptions() : [])], S.industry);
  $('industry').disabled = !byIndustry;
}
function render() {
  translate();
  if (S.tab === 'overview') return renderOverview();
  if (S.tab === 'unions') return renderUnions();
  if (S.tab === 'quality') return renderQuality();
  if (S.tab === 'admin') return renderAdmin();
  if (S.tab === 'returns') return renderReturns();
  return Promise.resolve();
}

// ---- accounts (admin) ----
async function adminPost(path, body) {
  const r = await fetch(path, {
    method: 'POST', body: body ? JSON.stringify(body) : '',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': S.me.csrf || '' },
  });
  if (r.status === 401) toLogin();
  const answer = await r.json();
  $('a-error').hidden = r.ok;
  if (!r.ok) { $('a-error').textContent = `${answer.error}: ${answer.message}`; return null; }
  return answer;
}
function showSecret(answer) {
  const what = answer.token ? 'token' : 'password';
  $('a-secret').textContent = t('secret', answer.name, what, answer.token || answer.password);
  $('a-secret').hidden = false;
}
async function renderAdmin() {
  const roles = ['county', 'city', 'viewer', 'admin'];
  if (!$('a-role').options.length) {
    fillSelect($('a-role'), roles.map((r) => [r, t('roles')[r]]), 'county');
    fillSelect($('a-county'), S.counties.map((c) => [c.code, zh() ? c.name_zh : c.name_en]), S.counties[0] && S.counties[0].code);
  }
  const accounts = await api('/api/admin/users');
  const actions = (a) => [a.state === 'disabled' ? 'enable' : 'disable', 'password', 'token']
    .map((act) => `<button type="button" data-user="${escape(a.name)}" data-act="${act}">${t({ password: 'new_password', token: 'new_token' }[act] || act)}</button>`).join(' ');
  $('a-table').innerHTML = `<thead><tr>${['name', 'role', 'county', 'pii', 'state', 'tokens', 'created'].map((c) => `<th>${columnLabel(c)}</th>`).join('')}<th></th></tr></thead>
    <tbody>${accounts.map((a) => `<tr data-name="${escape(a.name)}"><td>${escape(a.name)}</td><td>${t('roles')[a.role] || a.role}</td><td>${a.county ? escape(countyName(a.county)) : ''}</td>
      <td>${a.pii ? '✓' : ''}</td><td>${escape(t('states')[a.state] || a.state)}</td><td class="num">${a.tokens}</td><td>${escape(a.created)}</td><td>${actions(a)}</td></tr>`).join('')}</tbody>`;
  $('a-table').querySelectorAll('button[data-act]').forEach((b) => b.addEventListener('click', async () => {
    const answer = await adminPost(`/api/admin/users/${encodeURIComponent(b.dataset.user)}/${b.dataset.act}`);
    if (answer && (answer.password || answer.token)) showSecret(answer);
    if (answer) renderAdmin();
  }));
}
function bind() {
  document.querySelectorAll('.tabs button').forEach((b) => b.addEventListener('click', () => {
    S.tab = b.dataset.tab;
    document.querySelectorAll('.tabs button').forEach((x) => x.classList.toggle('active', x === b));
    document.querySelectorAll('.tab').forEach((x) => x.classList.toggle('active', x.id === `tab-${S.tab}`));
    render().then(() => Object.values(S.charts).forEach((c) => c.resize()));
  }));
  $('year').addEventListener('change', (e) => { S.year = Number(e.target.value); S.unions.page = 1; render(); });
  $('metric').addEventListener('change', (e) => {
    S.metric = e.target.value;
    if (!indicator(S.metric).by_industry) S.industry = '';
    render();
  });
  $('industry').addEventListener('change', (e) => { S.industry = e.target.value; render(); });
  $('sites').addEventListener('change', (e) => { S.sites = e.target.checked; renderMap(); });
  $('back').addEventListener('click', () => { S.county = S.home; S.town = null; renderOverview(); });
  $('logout').addEventListener('click', async () => {
    await fetch('/api/logout', { method: 'POST', headers: { 'X-CSRF-Token': S.me.csrf || '' } });
    location.href = '/login';
  });
  $('lang').addEventListener('click', () => {
    S.lang = zh() ? 'en' : 'zh';
    localStorage.setItem('unionstat.lang', S.lang);
    render();
  });
  $('print').addEventListener('click', () => window.print());
  window.addEventListener('beforeprint', () => { document.body.classList.add('light'); renderOverview(); Object.values(S.charts).forEach((c) => c.resize()); });
  window.addEventListener('afterprint', () => { document.body.classList.remove('light'); renderOverview(); });
  window.addEventListener('resize', () => Object.values(S.charts).forEach((c) => c.resize()));
  const unionFilter = (key) => (e) => {
    S.unions[key] = e.target.value;
    if (key === 'county') S.unions.town = '';
    S.unions.page = 1;
    renderUnions();
  };
  $('u-county').addEventListener('change', unionFilter('county'));
  $('u-town').addEventListener('change', unionFilter('town'));
  $('u-industry').addEventListener('change', unionFilter('industry'));
  let typing;
  $('u-q').addEventListener('input', (e) => { clearTimeout(typing); typing = setTimeout(() => unionFilter('q')(e), 300); });
  $('u-prev').addEventListener('click', () => { S.unions.page -= 1; renderUnions(); });
  $('u-next').addEventListener('click', () => { S.unions.page += 1; renderUnions(); });
  $('sql-run').addEventListener('click', () => runSql('json'));
  $('a-role').addEventListener('change', (e) => { $('a-county').disabled = e.target.value !== 'county'; });
  $('a-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const role = $('a-role').value;
    const answer = await adminPost('/api/admin/users', {
      name: $('a-name').value, role, county: role === 'county' ? $('a-county').value : '', pii: $('a-pii').checked,
    });
    if (!answer) return;
    showSecret(answer);
    $('a-name').value = '';
    // The first account turns a single-user server into one that needs logins: the list is
    // then behind the login page, and the password must stay on screen to be copied.
    if (S.me.accounts !== false) renderAdmin();
  });
  $('sql-text').addEventListener('keydown', (e) => { if (e.key === 'Enter' && e.ctrlKey) runSql('json'); });
}

// ---- returns (县总填报上传，市总审核) ----
async function returnsPost(path, body, isForm) {
  const headers = { 'X-CSRF-Token': S.me.csrf || '' };
  if (!isForm) headers['Content-Type'] = 'application/json';
  const r = await fetch(path, { method: 'POST', headers, body: isForm ? body : JSON.stringify(body || {}) });
  if (r.status === 401) toLogin();
  const answer = await r.json();
  if (!r.ok && !answer.report) throw new Error(answer.message || `${r.status}`);
  return answer;
}
function showUpload(answer) {
  S.upload = answer;
  const report = answer.report || {};
  $('r-result').hidden = false;
  $('r-summary').textContent = answer.state === 'refused'
    ? `${STATE_ZH.refused}：${report.message || ''}`
    : t('uploaded', { ...answer.submission, rows_read: report.rows_read });
  $('r-summary').className = answer.state === 'refused' || answer.rows_quarantined > 0 ? 'error' : 'notice';
  $('r-annotated').href = `/api/submissions/${encodeURIComponent(answer.id)}/annotated.xlsx`;
  $('r-annotated').hidden = !(report.errors && report.errors.length);
  $('r-submit').hidden = answer.state !== 'staged';
  const cols = t('err_cols');
  const rows = (answer.errors || []).slice(0, 500).map((e) => ({
    cell: e.cell, header: e.header, value: e.value, message: zh() ? e.message_zh : e.message_en,
  }));
  $('r-errors').innerHTML = `<thead><tr>${Object.values(cols).map((c) => `<th>${c}</th>`).join('')}</tr></thead>
    <tbody>${rows.map((r) => `<tr>${Object.keys(cols).map((k) => `<td>${escape(String(r[k] ?? ''))}</td>`).join('')}</tr>`).join('')}</tbody>`;
}
async function renderReturns() {
  const reviewer = S.me.role === 'city' || S.me.role === 'admin';
  const counties = S.me.county ? S.counties.filter((c) => c.code === S.me.county) : S.counties;
  fillSelect($('r-county'), counties.map((c) => [c.code, zh() ? c.name_zh : c.name_en]), $('r-county').value || (counties[0] || {}).code);
  $('r-county').disabled = !!S.me.county;
  if (!$('r-period').value) $('r-period').value = S.year || new Date().getFullYear() - 1;
  $('r-matrix-card').hidden = false;
  const period = $('r-period').value;
  const [matrix, list] = await Promise.all([api('/api/submissions/matrix', { period }), api('/api/submissions')]);
  const FORMS = matrix.tables.map((f) => [f.name, f.title]);
  const title = Object.fromEntries(FORMS);
  fillSelect($('r-table'), FORMS.map(([k, v]) => [k, zh() ? v : k]), $('r-table').value || FORMS[0][0]);
  $('r-due').textContent = t('due', matrix.due);
  const states = t('return_states');
  $('r-matrix').innerHTML = `<thead><tr><th></th>${FORMS.map(([k, v]) => `<th>${zh() ? v : k}</th>`).join('')}</tr></thead>
    <tbody>${matrix.counties.map((c) => `<tr><th>${escape(zh() ? c.county : c.county_code)}</th>${FORMS.map(([k]) => {
      const cell = c.tables[k] || { state: 'not_received' };
      const cls = cell.approved ? 'ok' : cell.overdue ? 'bad' : 'na';
      return `<td><span class="badge ${cls}" data-state="${cell.state}">${states[cell.state] || cell.state}${cell.overdue ? ` · ${t('overdue')}` : ''}</span></td>`;
    }).join('')}</tr>`).join('')}</tbody>`;
  const cols = t('list_cols');
  const action = (s) => {
    const b = (act) => `<button type="button" data-id="${escape(s.id)}" data-act="${act}">${t(`act_${act}`)}</button>`;
    if (s.state === 'staged') return b('submit');
    if (s.state === 'submitted' && reviewer) return b('approve') + b('return');
    if (s.state === 'approved' && reviewer) return b('withdraw');
    return '';
  };
  $('r-list').innerHTML = `<thead><tr>${Object.values(cols).map((c) => `<th>${c}</th>`).join('')}</tr></thead>
    <tbody>${list.map((s) => `<tr data-row="${escape(s.id)}">${Object.keys(cols).map((k) => {
      if (k === 'actions') return `<td>${action(s)}</td>`;
      if (k === 'state') return `<td><span class="badge ${s.state === 'approved' ? 'ok' : ['refused', 'returned'].includes(s.state) ? 'bad' : 'na'}">${states[s.state] || s.state}</span></td>`;
      if (k === 'id') return `<td><a href="#" data-open="${escape(s.id)}">${escape(s.id.slice(-14))}</a></td>`;
      if (k === 'table') return `<td>${escape(zh() ? title[s.table] || s.table : s.table)}</td>`;
      if (k === 'county_code') return `<td>${escape(countyName(s.county_code))}</td>`;
      return `<td>${escape(String(s[k] ?? ''))}</td>`;
    }).join('')}</tr>`).join('')}</tbody>`;
}
async function openSubmission(id) {
  const d = await api(`/api/submissions/${encodeURIComponent(id)}`);
  $('r-detail').hidden = false;
  $('r-detail-title').textContent = `${d.submission.source_file} · ${t('return_states')[d.state] || d.state}`;
  const staged = (d.totals && d.totals.staged) || {}, published = (d.totals && d.totals.published) || {};
  const tc = t('totals_cols');
  const measures = [...new Set([...Object.keys(staged), ...Object.keys(published)])];
  $('r-totals').innerHTML = `<thead><tr>${Object.values(tc).map((c) => `<th>${c}</th>`).join('')}</tr></thead>
    <tbody>${measures.map((m) => `<tr><td>${escape(columnLabel(m))}</td>${cell('staged', staged[m] ?? null)}${cell('published', published[m] ?? null)}</tr>`).join('')}</tbody>`;
  const hc = t('history_cols');
  $('r-history').innerHTML = `<thead><tr>${Object.values(hc).map((c) => `<th>${c}</th>`).join('')}</tr></thead>
    <tbody>${d.history.map((e) => `<tr><td>${t('return_states')[e.state] || e.state}</td><td>${escape(e.actor)}</td><td>${new Date(e.at / 1000).toLocaleString()}</td><td>${escape(e.comment || '')}</td></tr>`).join('')}</tbody>`;
  if (d.report && d.report.errors && d.report.errors.length) showUpload(d);
}
function bindReturns() {
  $('r-template').addEventListener('click', () => {
    const q = new URLSearchParams({ county: $('r-county').value, period: $('r-period').value });
    const a = document.createElement('a');
    a.href = `/api/templates/${$('r-table').value}.xlsx?${q}`;
    a.click();
  });
  $('r-period').addEventListener('change', () => renderReturns());
  $('r-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    $('r-error').hidden = true;
    const file = $('r-file').files[0];
    if (!file) { $('r-error').hidden = false; $('r-error').textContent = t('choose_file'); return; }
    const form = new FormData();
    form.append('file', file);
    try {
      showUpload(await returnsPost('/api/submissions', form, true));
      await renderReturns();
    } catch (err) { $('r-error').hidden = false; $('r-error').textContent = err.message; }
  });
  $('r-submit').addEventListener('click', async () => {
    try {
      await returnsPost(`/api/submissions/${encodeURIComponent(S.upload.id)}/submit`);
      $('r-submit').hidden = true;
      await renderReturns();
    } catch (err) { $('r-error').hidden = false; $('r-error').textContent = err.message; }
  });
  $('r-list').addEventListener('click', async (e) => {
    const open = e.target.closest('[data-open]');
    if (open) { e.preventDefault(); await openSubmission(open.dataset.open); return; }
    const b = e.target.closest('button[data-act]');
    if (!b) return;
    let body = {};
    if (b.dataset.act === 'return') {
      const reason = prompt(t('return_reason'));
      if (!reason) return;
      body = { reason };
    }
    try {
      await returnsPost(`/api/submissions/${encodeURIComponent(b.dataset.id)}/${b.dataset.act}`, body);
      await renderReturns();
    } catch (err) { $('r-error').hidden = false; $('r-error').textContent = err.message; }
  });
}

// Who is logged in: a county account opens on its county and has no city level; a viewer has
// no SQL console. A server without accounts answers as its single local user.
async function whoAmI() {
  const r = await fetch('/api/me');
  if (r.status === 401) toLogin();
  S.me = await r.json();
  S.home = S.me.county || null;
  S.county = S.home;
  document.querySelector('[data-tab="sql"]').hidden = !S.me.sql;
  document.querySelector('[data-tab="admin"]').hidden = S.me.role !== 'admin';
  document.querySelector('[data-tab="returns"]').hidden = S.me.role === 'viewer';
  if (S.me.accounts !== false) {
    $('who').textContent = S.me.name;
    $('who').hidden = false;
    $('logout').hidden = false;
  }
}

async function start() {
  await whoAmI();
  const [indicators, overview, counties, industries] = await Promise.all([
    api('/api/indicators'), api('/api/overview'), regions(null),
    api('/api/industries'),
  ]);
  S.indicators = indicators;
  S.years = [...new Set(overview.rows.map((r) => r.year))].sort();
  S.year = S.years[S.years.length - 1];
  S.counties = counties.features.map((f) => f.properties);
  S.industries = industries.rows;
  const versions = overview.versions || {};
  $('versions').textContent = t('versions', Object.keys(versions).length);
  fillSelect($('year'), S.years.map((y) => [y, y]), S.year);
  bind();
  bindReturns();
  toolbars();
  await render();
}

start().catch((e) => {
  document.body.dataset.ready = 'error';
  $('map-error').hidden = false;
  $('map-error').textContent = e.message;
});
