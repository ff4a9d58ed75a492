// The two languages of the interface. Indicator names come from the API
// (name_zh / name_en); everything else shown is here, in both languages.

const STRINGS = {
  zh: {
    app_sub: '医联体运营与绩效',
    nav_overview: '医联体总览', nav_quadrant: 'DRG 象限', nav_drgs: 'DRG 分组',
    nav_qc: '质控', nav_wall: '大屏', lang_switch: 'English', logout: '退出',
    login_title: '登录', login_sub: '医联体绩效与 DRG 评价平台',
    user: '用户名', password: '密码', sign_in: '登录', signing_in: '正在登录…',
    bad_credentials: '用户名或密码错误', rate_limited: '登录失败次数过多，请稍后再试',
    session_ended: '会话已结束，请重新登录', server_error: '服务器错误',
    period: '统计期', year: '年', quarter: '季度', month: '月',
    overview_title: '医联体总览', overview_hosp_title: '本院总览',
    kpi_vs_prev: '环比', prev_none: '无上期', prev: '上期',
    hospitals: '成员医院', hospital: '医院', level: '级别', departments: '科室', department: '科室',
    code: '代码', name: '名称', rank: '排名',
    compare_chart: '医院对比', indicator: '指标', trend_title: '月度趋势',
    trend_hosp: '全院', trend_last_year: '去年同期',
    click_hospital: '点击医院查看科室与趋势', click_department: '点击科室在趋势图中对比',
    back_overview: '返回总览', all_hospitals: '全部医院',
    quadrant_title: 'DRG 评价象限', quadrant_sub: '横轴 CMI（难度），纵轴费用或时间消耗指数（效率），气泡大小为 DRG 入组病例数',
    y_axis: '纵轴', unit_hosp: '按医院', unit_dept: '按科室', volume: 'DRG 病例数',
    q1: '高难度 · 低效率', q2: '低难度 · 低效率', q3: '低难度 · 高效率', q4: '高难度 · 高效率',
    drgs_title: 'DRG 分组明细', drg: 'DRG', cases: '病例数', share: '占比', weight: '权重',
    alos: '平均住院日', mean_cost: '次均费用', mortality: '死亡率', risk: '风险等级',
    cost_index: '费用指数', time_index: '时间指数', ref_alos: '参考住院日', ref_cost: '参考费用',
    search: '搜索 DRG', top_drgs: '病例数前 15 的 DRG', grouped_of: '入组 {a} / 出院 {b}',
    qc_title: '质控状况', qc_sub: '未解决的拒收病案，及已接收病案的警告',
    qc_rules: '问题最多的规则', rule: '规则', severity: '级别',
    rejects: '拒收', warnings: '警告', total: '合计', qc_hospitals: '质控对指标的影响',
    accepted: '已接收', rejected: '拒收', with_warnings: '有警告', excluded_share: '未计入指标比例',
    qc_effect: '被拒收的病案不计入任何指标：出院人次等指标按比例偏低，需修正后重新上传。',
    recent_rejects: '最近的拒收病案', click_rule: '点击规则查看拒收病案', file: '文件', line: '行',
    field: '字段', value: '值', detail: '说明', bah: '病案号',
    wall_title: '医联体运营指挥中心', wall_exit: '退出大屏', fullscreen: '全屏', refreshed: '更新于',
    wall_rank: 'CMI 医院排名', wall_trend: '月度出院人次', wall_quadrant: 'DRG 象限',
    download_csv: '下载 CSV', download_xlsx: '下载 Excel', no_data: '无数据', loading: '加载中…',
    not_computable: '不可计算', reason: '原因', forbidden: '无权访问',
    cases_link: '病例', cases_title: '病例明细', numerator: '分子', denominator: '分母',
    cases_summary: '{side}共 {n} 例', cases_total: '合计 {v}', indicator_value: '指标值',
    all_in_scope: '权限范围内全部', zycs: '住院次数', cysj: '出院日期', doctor: '主治医师',
    lyfs: '离院方式', drg_status: '分组状态', contribution: '贡献', scheme: '方案',
    click_case: '点击病例查看 DRG 分组路径。', cases_masked: '病例列表及下载不含患者姓名、身份证号等身份信息。',
    prev_page: '上一页', next_page: '下一页', page_of: '第 {a}–{b} 条，共 {n} 条',
    trace_title: 'DRG 分组路径', diagnoses: '诊断', procedures: '手术操作', slot: '序号',
    identifiers: '患者身份信息', identifiers_shown: '按您的权限显示，本次查看已记入审计日志。',
    identifiers_omitted: '已隐去（您的账户无权查看患者身份信息）', case_none: '选择一个病例',
    downloading: '正在下载…', csv_capped: '最多下载前 {n} 例',
    unit_cases: '例', unit_yuan: '元', unit_days: '天', unit_weight: '权重', unit_ratio: '',
    nav_live: '运营指挥',
    live_title: '运营指挥中心', live_sub: 'HL7 ADT 实时数据：床位、患者流动与急诊压力',
    live_connecting: '正在连接…', live_connected: '实时推送已连接', live_reconnecting: '连接中断，正在重连…',
    live_census: '在院', live_capacity: '开放床位', live_free: '空床', live_blocked: '停用床',
    live_adm: '今日入院', live_dis: '今日出院', live_trans: '今日转科', live_ed_waiting: '急诊候诊',
    live_boarders: '急诊滞留', live_pending: '待出院', live_alerts: '预警', live_no_alerts: '当前无预警',
    live_no_feed: '无数据源', live_age_s: '{n} 秒前', live_age_m: '{n} 分钟前', live_age_h: '{n} 小时前',
    live_flow_today: '今日分时流量', live_forecast: '预测在院人数', live_forecast_title: '未来 48 小时在院人数预测',
    live_levels: '按护理级别在院', live_ed: '急诊与住院周转', live_ed_arrivals: '今日急诊就诊',
    live_longest_boarding: '最长滞留（分钟）', live_los_outliers: '住院超 {d} 天', live_preadmits: '预约入院',
    live_bed_board: '病区床位一览', live_ward: '病区', live_value: '当前值', live_threshold: '阈值',
    live_start: '开始', live_end: '结束', live_active: '进行中', live_alert_kind: '类型',
    live_alert_ward_occupancy: '病区床位使用率过高', live_alert_ed_boarders: '急诊滞留过多', live_alert_feed_silent: '数据源中断',
    live_bed_free: '空闲', live_bed_occupied: '占用', live_bed_blocked: '停用',
    live_empty: '尚无 ADT 数据：请让 HIS 通过 MLLP 发送，或运行 carebase simulate。',
    scope_group: '医联体', scope_hospital: '医院',
    up: '越高越好', down: '越低越好',
  },
  en: {
    app_sub: 'Consortium performance',
    nav_overview: 'Overview', nav_quadrant: 'DRG quadrant', nav_drgs: 'DRGs',
    nav_qc: 'Data quality', nav_wall: 'Command centre', lang_switch: '中文', logout: 'Log out',
    login_title: 'Sign in', login_sub: 'Performance and DRG evaluation for medical consortia',
    user: 'User name', password: 'Password', sign_in: 'Sign in', signing_in: 'Signing in…',
    bad_credentials: 'Wrong user name or password', rate_limited: 'Too many failed logins; try again later',
    session_ended: 'The session has ended; sign in again', server_error: 'Server error',
    period: 'Period', year: 'Year', quarter: 'Quarter', month: 'Month',
    overview_title: 'Consortium overview', overview_hosp_title: 'Hospital overview',
    kpi_vs_prev: 'vs previous', prev_none: 'no previous period', prev: 'previous',
    hospitals: 'Member hospitals', hospital: 'Hospital', level: 'Level', departments: 'Departments', department: 'Department',
    code: 'Code', name: 'Name', rank: 'Rank',
    compare_chart: 'Hospitals compared', indicator: 'Indicator', trend_title: 'Monthly trend',
    trend_hosp: 'Hospital', trend_last_year: 'Same month last year',
    click_hospital: 'Click a hospital for its departments and trends', click_department: 'Click a department to compare it in the trend',
    back_overview: 'Back to the overview', all_hospitals: 'All hospitals',
    quadrant_title: 'DRG evaluation quadrant', quadrant_sub: 'x: CMI (difficulty); y: cost or time efficiency index; bubble size: DRG cases',
    y_axis: 'y axis', unit_hosp: 'Hospitals', unit_dept: 'Departments', volume: 'DRG cases',
    q1: 'Complex · inefficient', q2: 'Simple · inefficient', q3: 'Simple · efficient', q4: 'Complex · efficient',
    drgs_title: 'DRG table', drg: 'DRG', cases: 'Cases', share: 'Share', weight: 'Weight',
    alos: 'ALOS', mean_cost: 'Mean cost', mortality: 'Mortality', risk: 'Risk grade',
    cost_index: 'Cost index', time_index: 'Time index', ref_alos: 'Reference ALOS', ref_cost: 'Reference cost',
    search: 'Search DRG', top_drgs: 'Top 15 DRGs by cases', grouped_of: '{a} grouped of {b} discharges',
    qc_title: 'Data quality', qc_sub: 'Open rejects, and the warnings of accepted records',
    qc_rules: 'Rules failing most', rule: 'Rule', severity: 'Severity',
    rejects: 'Rejects', warnings: 'Warnings', total: 'Total', qc_hospitals: 'Effect on the indicators',
    accepted: 'Accepted', rejected: 'Rejected', with_warnings: 'With warnings', excluded_share: 'Excluded from indicators',
    qc_effect: 'Rejected records count in no indicator: discharges and every rate are understated by that share until the records are corrected and uploaded again.',
    recent_rejects: 'Recent rejects', click_rule: 'Click a rule for its rejects', file: 'File', line: 'Line',
    field: 'Field', value: 'Value', detail: 'Detail', bah: 'Case no.',
    wall_title: 'Consortium command centre', wall_exit: 'Exit', fullscreen: 'Full screen', refreshed: 'Updated',
    wall_rank: 'CMI by hospital', wall_trend: 'Discharges by month', wall_quadrant: 'DRG quadrant',
    download_csv: 'Download CSV', download_xlsx: 'Download Excel', no_data: 'No data', loading: 'Loading…',
    not_computable: 'not computable', reason: 'reason', forbidden: 'Not allowed',
    cases_link: 'Cases', cases_title: 'Cases', numerator: 'Numerator', denominator: 'Denominator',
    cases_summary: '{side}: {n} cases', cases_total: 'total {v}', indicator_value: 'Value',
    all_in_scope: 'Everything in your scope', zycs: 'Admission no.', cysj: 'Discharged', doctor: 'Attending doctor',
    lyfs: 'Discharge type', drg_status: 'Grouping', contribution: 'Contribution', scheme: 'Scheme',
    click_case: 'Click a case for its DRG grouping trace.', cases_masked: 'Case lists and downloads never carry patient names, ID numbers or other identifiers.',
    prev_page: 'Previous', next_page: 'Next', page_of: '{a}–{b} of {n}',
    trace_title: 'DRG grouping trace', diagnoses: 'Diagnoses', procedures: 'Procedures', slot: 'Slot',
    identifiers: 'Patient identifiers', identifiers_shown: 'Shown as your account allows; this read is in the audit log.',
    identifiers_omitted: 'Omitted (your account may not see patient identifiers)', case_none: 'Choose a case',
    downloading: 'Downloading…', csv_capped: 'at most the first {n} cases are downloaded',
    unit_cases: 'cases', unit_yuan: 'CNY', unit_days: 'days', unit_weight: 'weight', unit_ratio: '',
    nav_live: 'Operations',
    live_title: 'Operations command centre', live_sub: 'Live from HL7 ADT: beds, patient flow and emergency pressure',
    live_connecting: 'connecting…', live_connected: 'live', live_reconnecting: 'connection lost, reconnecting…',
    live_census: 'Census', live_capacity: 'Staffed beds', live_free: 'Free', live_blocked: 'Blocked',
    live_adm: 'Admissions', live_dis: 'Discharges', live_trans: 'Transfers', live_ed_waiting: 'ED waiting',
    live_boarders: 'ED boarders', live_pending: 'Pending discharges', live_alerts: 'Alerts', live_no_alerts: 'No alerts',
    live_no_feed: 'no feed', live_age_s: '{n} s ago', live_age_m: '{n} min ago', live_age_h: '{n} h ago',
    live_flow_today: 'flow today by hour', live_forecast: 'Forecast census', live_forecast_title: 'Census forecast, next 48 hours',
    live_levels: 'Census by level of care', live_ed: 'Emergency and throughput', live_ed_arrivals: 'ED arrivals today',
    live_longest_boarding: 'Longest boarding (min)', live_los_outliers: 'In house > {d} days', live_preadmits: 'Pre-admissions',
    live_bed_board: 'Bed board by ward', live_ward: 'Ward', live_value: 'Value', live_threshold: 'Threshold',
    live_start: 'Start', live_end: 'End', live_active: 'active', live_alert_kind: 'Kind',
    live_alert_ward_occupancy: 'Ward occupancy high', live_alert_ed_boarders: 'Too many ED boarders', live_alert_feed_silent: 'Feed silent',
    live_bed_free: 'free', live_bed_occupied: 'occupied', live_bed_blocked: 'blocked',
    live_empty: 'No ADT data yet: let the HIS send over MLLP, or run carebase simulate.',
    scope_group: 'Consortium', scope_hospital: 'Hospital',
    up: 'higher is better', down: 'lower is better',
  },
};

// Units of measure from the catalogue, shown in the current language.
const UNITS = {
  zh: { '%': '%', '元': '元', '天': '天', '人次': '人次', '例': '例', '组': '组', '': '' },
  en: { '%': '%', '元': 'CNY', '天': 'days', '人次': '', '例': '', '组': '', '': '' },
};

// Reasons a value is not computable (the API's text is English).
const REASONS_ZH = [
  [/empty denominator/, '分母为 0'],
  [/no DRG reference/, '无 DRG 参考标准'],
  [/catalogue missing: ?(\w+)/, '缺少目录：$1'],
  [/catalogue/, '缺少国家目录'],
];

let lang = localStorage.getItem('cb.lang') === 'en' ? 'en' : 'zh';

export function getLang() { return lang; }

export function setLang(l) {
  lang = l === 'en' ? 'en' : 'zh';
  localStorage.setItem('cb.lang', lang);
  document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
}

export function t(key, vars) {
  let s = STRINGS[lang][key] ?? STRINGS.zh[key] ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) s = s.replace(`{${k}}`, v);
  return s;
}

export function unitText(u) {
  const m = UNITS[lang];
  return u in m ? m[u] : u;
}

const LEVELS_EN = { '三级': 'Tertiary', '二级': 'Secondary', '基层': 'Primary care' };

// A hospital level (三级, 二级, 基层) in the current language.
export function levelText(level) {
  return lang === 'en' ? (LEVELS_EN[level] || level || '') : (level || '');
}

export function indName(row) {
  return lang === 'zh' ? (row.name_zh || row.name_en || row.id) : (row.name_en || row.name_zh || row.id);
}

export function reasonText(status) {
  if (!status || status === 'ok') return '';
  if (lang === 'en') return status;
  const body = status.replace(/^not computable: ?/, '');
  for (const [re, zh] of REASONS_ZH) if (re.test(body)) return `${t('not_computable')}：${body.replace(re, zh)}`;
  return `${t('not_computable')}：${body}`;
}

setLang(lang);

// Discharge types (LYFS, RC019).
const LYFS = {
  zh: { 1: '医嘱离院', 2: '医嘱转院', 3: '转社区/乡镇卫生院', 4: '非医嘱离院', 5: '死亡', 9: '其他' },
  en: { 1: 'discharged', 2: 'transferred', 3: 'to community care', 4: 'against advice', 5: 'died', 9: 'other' },
};

export function lyfsText(code) {
  const n = LYFS[lang][code];
  return n ? `${code} ${n}` : (code ?? '');
}
