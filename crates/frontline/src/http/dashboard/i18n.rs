//! The words of the staff dashboard, in English and Simplified Chinese.
//!
//! A phrase's key is its English text: templates read
//! `{{ tr("Open signals") }}` and stay readable, and a phrase missing from
//! the catalogue still shows in English. Placeholders are named:
//! `{{ tr("{n} firing", n=count) }}`. Values of the domain's enumerations
//! (`open`, `incident_lead`) are keys too, shown through the `label`
//! filter (in English with spaces for underscores). Rust code that hands a
//! phrase to a template marks it with [`phrase`], so the catalogue test
//! finds it.
//!
//! The language of a page: the user's choice (stored with the user), else
//! the browser's `Accept-Language`, else English.

use std::collections::HashMap;
use std::future::Future;
use std::sync::OnceLock;

use minijinja::value::{Kwargs, Value};
use minijinja::{Environment, Error, State};

/// The languages the dashboard speaks: code and name (in that language).
pub const LANGUAGES: &[(&str, &str)] = &[("en", "English"), ("zh", "中文")];

tokio::task_local! {
    /// The language of the request being served, for pages rendered
    /// without the principal at hand (error pages).
    static CURRENT: &'static str;
}

/// One of [`LANGUAGES`] for a language tag (`zh-Hans-CN` is `zh`), or None.
pub fn supported(tag: &str) -> Option<&'static str> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    LANGUAGES
        .iter()
        .map(|(code, _)| *code)
        .find(|code| *code == primary)
}

/// The dashboard language: the user's stored choice, else the first
/// supported language of the browser's `Accept-Language`, else English.
pub fn choose(preferred: Option<&str>, accept: Option<&str>) -> &'static str {
    preferred
        .and_then(supported)
        .or_else(|| {
            accept.and_then(|h| {
                crate::http::public::i18n::ranked_tags(h)
                    .into_iter()
                    .find_map(supported)
            })
        })
        .unwrap_or("en")
}

/// Runs `f` with `lang` as the language of the request.
pub async fn scope<F: Future>(lang: &'static str, f: F) -> F::Output {
    CURRENT.scope(lang, f).await
}

/// Runs `f` with `lang` as the language of the request (synchronous).
pub fn sync_scope<R>(lang: &'static str, f: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(lang, f)
}

/// The language of the request being served, English outside one.
pub fn current() -> &'static str {
    CURRENT.try_with(|l| *l).unwrap_or("en")
}

/// Marks a phrase that a template translates (`tr(notice)`, `tr(label)`),
/// so that the catalogue test checks it. Returns it unchanged.
pub const fn phrase(english: &'static str) -> &'static str {
    english
}

fn table() -> &'static HashMap<&'static str, &'static str> {
    static TABLE: OnceLock<HashMap<&'static str, &'static str>> = OnceLock::new();
    TABLE.get_or_init(|| PHRASES.iter().copied().collect())
}

/// `key` in `lang`: the Chinese text for `zh`, the key itself otherwise
/// (and for anything not in the catalogue, such as a notice typed by a
/// person). A key may name its context before a `|` when one English word
/// needs two translations (`survey|open`); English shows what follows it.
pub fn t<'a>(lang: &str, key: &'a str) -> &'a str {
    if lang == "zh" {
        if let Some(zh) = table().get(key) {
            return zh;
        }
    }
    match key.split_once('|') {
        Some((_, english)) if table().contains_key(key) => english,
        _ => key,
    }
}

/// `key` in `lang` with its `{name}` placeholders filled in.
pub fn tf(lang: &str, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    let mut text = t(lang, key).to_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), &value.to_string());
    }
    text
}

/// Adds `tr(key, name=value...)` and the `label` filter to the templates.
pub fn register(env: &mut Environment<'static>) {
    env.add_function("tr", tr);
    env.add_filter("label", label);
}

fn lang_of(state: &State) -> &'static str {
    match state.lookup("lang") {
        Some(v) if v.as_str() == Some("zh") => "zh",
        _ => "en",
    }
}

fn tr(state: &State, key: Value, args: Kwargs) -> Result<String, Error> {
    let lang = lang_of(state);
    let key = match key.as_str() {
        Some(k) => k.to_owned(),
        None if key.is_none() || key.is_undefined() => String::new(),
        None => key.to_string(),
    };
    let mut text = t(lang, &key).to_owned();
    for name in args.args() {
        let value: Value = args.get(name)?;
        text = text.replace(&format!("{{{name}}}"), &value.to_string());
    }
    args.assert_all_used()?;
    Ok(text)
}

/// A value of one of the domain's enumerations (`incident_lead`), for
/// people: translated, or in English with spaces for underscores.
fn label(state: &State, value: Value) -> String {
    let Some(v) = value.as_str() else {
        return if value.is_none() || value.is_undefined() {
            String::new()
        } else {
            value.to_string()
        };
    };
    match lang_of(state) {
        "zh" => table()
            .get(v)
            .map_or_else(|| v.replace('_', " "), |zh| (*zh).to_owned()),
        _ => v.replace('_', " "),
    }
}

/// The catalogue: English (the key) and Simplified Chinese.
const PHRASES: &[(&str, &str)] = &[
    // The frame: header, navigation, language.
    ("Main", "主导航"),
    ("Skip to the content", "跳到正文"),
    ("Sign out", "退出登录"),
    ("Language", "语言"),
    ("Browser default", "跟随浏览器"),
    ("Change", "切换"),
    ("Overview", "概览"),
    ("Feedback", "反馈"),
    ("Signals", "信号"),
    ("Security", "安全"),
    ("Surveys", "调查"),
    ("Tickets", "工单"),
    ("Incidents", "事件"),
    ("Status page", "状态页"),
    ("Scorecard", "计分卡"),
    ("Journey", "客户旅程"),
    ("Users", "用户"),
    ("Roles", "角色"),
    ("API tokens", "API 令牌"),
    ("Audit trail", "审计记录"),
    // Live channel and countdowns (app.js reads these from the page).
    ("Connecting…", "正在连接…"),
    ("Live", "实时"),
    ("Reconnecting…", "正在重新连接…"),
    ("overdue by {n} min", "已逾期 {n} 分钟"),
    ("in {n} min", "{n} 分钟后"),
    // Error pages.
    ("Not allowed", "无权访问"),
    ("Not found", "未找到"),
    ("Too many attempts", "尝试次数过多"),
    ("That did not work", "操作未成功"),
    ("Something went wrong", "出错了"),
    ("Back to the overview", "返回概览"),
    // Overview.
    ("Signed in as {name}, role", "已登录:{name},角色"),
    ("Live activity", "实时动态"),
    ("{n} incidents overdue for a public update.", "{n} 个事件的公开更新已逾期。"),
    ("1 incident overdue for a public update.", "1 个事件的公开更新已逾期。"),
    ("See incidents", "查看事件"),
    ("The last 7 days", "最近 7 天"),
    ("week before: {value}", "前一周:{value}"),
    ("NPS", "NPS"),
    ("CSAT", "CSAT"),
    ("CES (mean)", "CES(均值)"),
    ("First response (median)", "首次响应(中位数)"),
    ("SLA first response", "首次响应 SLA"),
    ("Backlog", "积压"),
    ("Feedback by topic, last hour", "最近一小时各主题反馈"),
    ("expected ~{n}", "预期约 {n}"),
    ("above usual", "高于常态"),
    ("No feedback with text in the last hour.", "最近一小时没有带文字的反馈。"),
    ("Line: reports per minute. Shaded: the detector's usual range (expected to its upper bound).", "折线:每分钟报告数。阴影:检测器的常态范围(从预期值到上限)。"),
    ("{topic}: {total} in the last hour, about {expected} expected", "{topic}:最近一小时 {total} 条,预期约 {expected} 条"),
    ("{topic}: {total} in the last hour, about {expected} expected, above the usual range", "{topic}:最近一小时 {total} 条,预期约 {expected} 条,高于常态范围"),
    ("Open signals", "未处理信号"),
    ("{observed} reports, {expected} expected", "{observed} 条报告,预期 {expected} 条"),
    ("Acknowledge", "确认"),
    ("No open signals.", "没有未处理的信号。"),
    ("{n} firing", "{n} 条告警中"),
    ("Open incident", "创建事件"),
    ("No alerts firing.", "没有正在触发的告警。"),
    ("Open incidents", "进行中的事件"),
    ("next update", "下次更新"),
    ("overdue", "已逾期"),
    ("No open incidents.", "没有进行中的事件。"),
    ("Approved and ready:", "已批准,可发布:"),
    ("Publish to the status page", "发布到状态页"),
    ("Delivery, last 24 hours", "投递情况(最近 24 小时)"),
    ("Sent", "已发送"),
    ("Waiting", "等待中"),
    ("oldest queued", "最早排队"),
    ("{n} min ago", "{n} 分钟前"),
    ("Failed", "失败"),
    ("Bounced", "退回"),
    ("Per incident", "按事件查看"),
    // Values shown with the label filter.
    ("account_access", "账户访问"),
    ("phishing_scam", "钓鱼诈骗"),
    ("fraud", "欺诈"),
    ("data_exposure", "数据泄露"),
    ("malware", "恶意软件"),
    ("outage", "服务中断"),
    ("performance", "性能"),
    ("billing", "账单"),
    ("other", "其他"),
    ("open", "待处理"),
    ("acknowledged", "已确认"),
    ("dismissed", "已驳回"),
    ("promoted", "已升级为事件"),
    ("investigating", "调查中"),
    ("identified", "已查明"),
    ("monitoring", "监控中"),
    ("resolved", "已解决"),
    ("postmortem", "复盘中"),
    ("none", "无"),
    ("minor", "轻微"),
    ("major", "严重"),
    ("critical", "危急"),
    ("incident_lead", "事件负责人"),
    ("security", "安全"),
    ("cx", "客户体验"),
    ("communications", "沟通"),
    ("legal", "法务"),
    ("operational", "正常运行"),
    ("under_maintenance", "维护中"),
    ("degraded_performance", "性能下降"),
    ("partial_outage", "部分中断"),
    ("major_outage", "重大中断"),
    ("scheduled", "已计划"),
    ("in_progress", "进行中"),
    ("verifying", "验证中"),
    ("completed", "已完成"),
    ("new", "新建"),
    ("pending", "等待客户"),
    ("on_hold", "挂起"),
    ("solved", "已解决"),
    ("closed", "已关闭"),
    ("reopened", "重新打开"),
    ("low", "低"),
    ("normal", "普通"),
    ("high", "高"),
    ("urgent", "紧急"),
    ("nps", "NPS"),
    ("csat", "CSAT"),
    ("ces", "CES"),
    ("scale", "量表"),
    ("comment", "评论"),
    ("complaint", "投诉"),
    ("web", "网页"),
    ("email", "电子邮件"),
    ("chat", "在线聊天"),
    ("phone", "电话"),
    ("social", "社交媒体"),
    ("app", "应用"),
    ("api", "API"),
    ("import", "导入"),
    ("medium", "中"),
    ("info", "信息"),
    ("firing", "触发中"),
    ("accepted", "已接受"),
    // Signing in.
    ("Sign in", "登录"),
    ("Sign in to Frontline", "登录 Frontline"),
    ("Email", "电子邮件"),
    ("Password", "密码"),
    ("The sign-in form expired. Please try again.", "登录表单已过期,请重试。"),
    ("Too many sign-in attempts. Try again in {wait} seconds.", "登录尝试次数过多,请在 {wait} 秒后重试。"),
    ("email or password is wrong", "电子邮件或密码错误"),
    // Signals.
    ("Early-warning signals", "预警信号"),
    ("A signal opens when complaints in a series rise well above what the time of day and week lead us to expect.", "当某一序列的投诉明显高于按当天时段和星期几所预期的水平时,就会产生一个信号。"),
    ("all", "全部"),
    ("Signals, newest first", "信号,最新的在前"),
    ("Fired", "触发时间"),
    ("Signal", "信号"),
    ("Observed / expected", "实际 / 预期"),
    ("Status", "状态"),
    ("No signals.", "没有信号。"),
    ("Series", "序列"),
    ("Began", "开始于"),
    ("Since it began", "开始以来"),
    ("at most {p}", "至多 {p}"),
    ("Chance", "偶然概率"),
    ("Reports per minute, last {n} minutes: bars observed, line expected, shaded the usual range, red the moment it fired.", "最近 {n} 分钟每分钟的报告数:柱为实际值,线为预期值,阴影为常态范围,红线为触发时刻。"),
    ("Reports per minute, last {n} minutes: bars observed, line expected, dashed the usual upper bound (when it fired), red the moment it fired.", "最近 {n} 分钟每分钟的报告数:柱为实际值,线为预期值,虚线为(触发时的)常态上限,红线为触发时刻。"),
    ("{observed} reports since the rise began against {expected} expected", "上升开始以来共 {observed} 条报告,预期 {expected} 条"),
    ("Act", "处理"),
    ("Dismiss because", "驳回原因"),
    ("Dismiss", "驳回"),
    ("Promoted to an incident:", "已升级为事件:"),
    ("open it", "打开"),
    ("Declare an incident", "宣布事件"),
    ("Title", "标题"),
    ("Severity", "严重程度"),
    ("Playbook", "预案"),
    ("(none)", "(无)"),
    ("Declare from this signal", "根据此信号宣布事件"),
    ("Or link it to", "或关联到"),
    ("Link", "关联"),
    ("What customers say ({n} reports)", "客户的反馈({n} 条报告)"),
    ("The same message, many times", "多次出现的相同消息"),
    ("Message (first report, redacted)", "消息(首条报告,已脱敏)"),
    ("Reports", "报告数"),
    ("Indicators quoted", "引用的威胁指标"),
    ("Indicator (defanged)", "指标(已去活)"),
    // Incidents.
    ("Postmortems", "复盘"),
    ("Incidents, newest first", "事件,最新的在前"),
    ("Incident", "事件"),
    ("Impact", "影响"),
    ("Next update", "下次更新"),
    ("Declared", "宣布时间"),
    ("Resolved", "解决时间"),
    ("No incidents.", "没有事件。"),
    ("Declare", "宣布"),
    ("Incident declared.", "事件已宣布。"),
    ("Note added.", "备注已添加。"),
    ("Update published.", "更新已发布。"),
    ("Draft saved; it needs approval before it is published.", "草稿已保存;发布前需要审批。"),
    ("Approved.", "已批准。"),
    ("Published to the status page.", "已发布到状态页。"),
    ("Checklist updated.", "检查清单已更新。"),
    ("Update cadence set.", "更新节奏已设置。"),
    ("Draft saved; preview it below.", "草稿已保存;可在下方预览。"),
    ("Postmortem started from the timeline.", "已根据时间线开始复盘。"),
    ("Postmortem published.", "复盘已发布。"),
    ("Postmortem saved.", "复盘已保存。"),
    ("Remedy recorded.", "补救措施已记录。"),
    ("Remedy updated.", "补救措施已更新。"),
    ("Post-incident survey created.", "事后调查已创建。"),
    ("Survey invitations queued: {affected} affected customers, {subscribers} subscribers.", "调查邀请已排队:{affected} 位受影响客户,{subscribers} 位订阅者。"),
    ("Reply sent.", "回复已发送。"),
    ("Internal note added.", "内部备注已添加。"),
    ("Ticket updated.", "工单已更新。"),
    ("User added.", "用户已添加。"),
    ("User disabled.", "用户已停用。"),
    ("User enabled.", "用户已启用。"),
    ("Role created.", "角色已创建。"),
    ("Token revoked.", "令牌已吊销。"),
    ("Survey created.", "调查已创建。"),
    // One incident.
    ("This incident changed (its facts and timeline are up to date):", "此事件有更新（概况和时间线已是最新）："),
    ("reload to see the rest", "重新加载以查看其余部分"),
    ("Components", "组件"),
    ("Customer segments", "客户群体"),
    ("Next public update", "下次公开更新"),
    ("due {at}:", "截止 {at}:"),
    ("(every {n} min)", "(每 {n} 分钟)"),
    ("{n} alert(s) for the incident lead:", "给事件负责人的提醒 {n} 条:"),
    ("Response in numbers", "响应数据"),
    ("First signal to declaration", "从首个信号到宣布"),
    ("{m} min {s} s", "{m} 分 {s} 秒"),
    ("no linked signal", "无关联信号"),
    ("Declaration to first public notice", "从宣布到首次公开通知"),
    ("none published yet", "尚未发布"),
    ("Updates on time", "按时更新"),
    ("{kept} of {due} due ({missed} missed)", "应更新 {due} 次,按时 {kept} 次(错过 {missed} 次)"),
    ("Checklist", "检查清单"),
    ("done by {name} at {at}", "由 {name} 于 {at} 完成"),
    ("Uncheck", "取消勾选"),
    ("Done", "完成"),
    ("Seat", "席位"),
    ("Person", "人员"),
    ("Assign", "分配"),
    ("No checklist: declare with a playbook to start from one.", "没有检查清单:使用预案宣布事件即可从预案开始。"),
    ("Linked", "已关联"),
    ("began {at}", "开始于 {at}"),
    ("Response team", "响应团队"),
    ("No one assigned yet.", "尚未分配人员。"),
    ("Public updates", "公开更新"),
    ("{severity}: every update needs approval by communications and by legal, from two different people, before it is published.", "{severity}:每条更新在发布前都需要由沟通和法务两位不同人员批准。"),
    ("Drafted {at} by {name}", "{name} 于 {at} 起草"),
    ("; published {at} by {name}", ";{name} 于 {at} 发布"),
    ("Approved for {role} by {name} at {at}", "{name} 于 {at} 代表{role}批准"),
    ("Waiting for:", "等待:"),
    ("Preview per language and channel", "按语言和渠道预览"),
    ("Email:", "电子邮件:"),
    ("{n} messages", "{n} 条短信"),
    ("1 message", "1 条短信"),
    ("Approve as {role}", "以{role}身份批准"),
    ("Nothing published yet.", "尚未发布任何内容。"),
    ("New update", "新更新"),
    ("What customers read", "客户看到的内容"),
    ("Set a component", "设置组件"),
    ("to", "为"),
    ("(unchanged)", "(不变)"),
    ("Save draft for approval", "保存草稿待批准"),
    ("Publish", "发布"),
    ("New update from a template", "用模板写新更新"),
    ("Template", "模板"),
    ("(the template’s)", "(沿用模板)"),
    ("Fill in the languages to write; a language whose “what happened” is empty is left out. The security advice, headings and the time of the next update come from the template.", "填写需要的语言;“发生了什么”为空的语言将被省略。安全建议、标题和下次更新时间来自模板。"),
    ("What happened", "发生了什么"),
    ("What it means for customers", "对客户的影响"),
    ("What we are doing", "我们正在做什么"),
    ("Remedy offered (optional)", "提供的补救措施(可选)"),
    ("Further advice (optional)", "更多建议(可选)"),
    ("How to reach us", "联系方式"),
    ("Keep as a draft to preview first", "先保存为草稿以便预览"),
    ("Write the update", "撰写更新"),
    ("Update cadence", "更新节奏"),
    ("Minutes between public updates", "公开更新间隔(分钟)"),
    ("Set", "设置"),
    ("0: the default for {severity}", "0:使用 {severity} 的默认值"),
    ("Remedies offered", "提供的补救措施"),
    ("Remedy", "补救措施"),
    ("Offered to", "提供人数"),
    ("Taken up", "接受人数"),
    ("Update", "更新"),
    ("Save", "保存"),
    ("None yet.", "暂无。"),
    ("Kind", "类型"),
    ("What", "内容"),
    ("12 months of free account monitoring", "12 个月免费账户监控"),
    ("Record", "记录"),
    ("Post-incident survey", "事后调查"),
    ("Form:", "表单:"),
    ("(answers land in feedback).", "(回答将进入反馈)。"),
    ("Invite affected customers and subscribers", "邀请受影响的客户和订阅者"),
    ("by email or SMS, in their language, once each", "通过电子邮件或短信,使用其语言,每人一次"),
    ("Create the post-incident survey", "创建事后调查"),
    ("Postmortem", "复盘"),
    ("Start the postmortem from the timeline", "根据时间线开始复盘"),
    ("Not started.", "尚未开始。"),
    ("Summary", "摘要"),
    ("Root cause", "根本原因"),
    ("What went well", "做得好的地方"),
    ("What to improve", "需要改进的地方"),
    ("Action items", "行动项"),
    (", due {date}", ",截止 {date}"),
    ("Summary (from the timeline)", "摘要(来自时间线)"),
    ("Action", "行动"),
    ("Owner", "负责人"),
    ("(no owner)", "(无负责人)"),
    ("Due", "截止日期"),
    ("done", "已完成"),
    ("New action", "新行动"),
    ("New action item", "新行动项"),
    ("Save draft", "保存草稿"),
    ("A published postmortem is never edited. Publish?", "复盘发布后将不能再编辑。确定发布吗?"),
    ("Timeline", "时间线"),
    ("Note", "备注"),
    ("Add note", "添加备注"),
    ("Delivery", "投递"),
    ("Recipient", "收件人"),
    ("Channel", "渠道"),
    ("State", "状态"),
    ("Attempts", "尝试次数"),
    ("Last error", "最近错误"),
    // Values: updates, links, timeline, delivery, notification channels.
    ("draft", "草稿"),
    ("published", "已发布"),
    ("approved", "已批准"),
    ("signal", "信号"),
    ("alert", "告警"),
    ("survey", "调查"),
    ("ticket", "工单"),
    ("change", "变更"),
    ("checklist", "检查清单"),
    ("note", "备注"),
    ("suggestion", "建议事件"),
    ("linked", "关联"),
    ("remedy", "补救措施"),
    ("declared", "已宣布"),
    ("team", "团队"),
    ("severity", "严重程度"),
    ("impact", "影响"),
    ("update", "更新"),
    ("status", "状态"),
    ("queued", "排队中"),
    ("sending", "发送中"),
    ("sent", "已发送"),
    ("failed", "失败"),
    ("bounced", "退回"),
    ("webhook", "Webhook"),
    ("slack", "Slack"),
    ("teams", "Teams"),
    ("sms", "短信"),
    ("pagerduty", "PagerDuty"),
    // Tickets.
    ("Filter the queue", "筛选队列"),
    ("active (not solved or closed)", "活动中(未解决或关闭)"),
    ("Priority", "优先级"),
    ("any", "任意"),
    ("Assignee", "处理人"),
    ("anyone", "任何人"),
    ("Breaching within the hour", "一小时内将违反 SLA"),
    ("Show", "显示"),
    ("Tickets, newest first", "工单,最新的在前"),
    ("Ticket", "工单"),
    ("Group", "小组"),
    ("Next due", "下一截止时间"),
    ("Opened", "创建时间"),
    ("repeat", "重复"),
    ("breached", "已违反 SLA"),
    ("No tickets.", "没有工单。"),
    ("Segment", "客户群体"),
    ("Topic", "主题"),
    ("Customer", "客户"),
    ("(masked)", "(已遮蔽)"),
    ("Repeat of", "重复自"),
    ("First response due", "首次响应截止"),
    ("Next response due", "下次响应截止"),
    ("Resolution due", "解决截止"),
    ("Breached", "已违反"),
    ("First response", "首次响应"),
    ("{secs} s ({business} s business)", "{secs} 秒(工作时间 {business} 秒)"),
    ("Solved in", "解决用时"),
    ("History", "历史"),
    ("internal", "内部"),
    ("Reply to the customer", "回复客户"),
    ("Message", "消息"),
    ("Then set state", "然后设置状态"),
    ("keep {state}", "保持“{state}”"),
    ("Send reply", "发送回复"),
    ("Internal note", "内部备注"),
    ("Note (never shown to the customer)", "备注(不会显示给客户)"),
    ("State and assignment", "状态与分配"),
    ("nobody", "无人"),
    ("first_response", "首次响应"),
    ("next_response", "下次响应"),
    ("resolution", "解决"),
    ("created", "已创建"),
    ("assignee", "处理人"),
    ("labels", "标签"),
    ("priority", "优先级"),
    ("group", "小组"),
    ("reply", "回复"),
    // Scorecard.
    ("Range and breakdown", "范围与细分"),
    ("From", "从"),
    ("To", "到"),
    ("By", "按"),
    ("Breakdown", "细分"),
    ("day", "日"),
    ("week", "周"),
    ("month", "月"),
    ("channel", "渠道"),
    ("segment", "客户群体"),
    ("component", "组件"),
    ("language", "语言"),
    ("journey_stage", "旅程阶段"),
    ("Definitions of every figure are in the README (“Tickets and the scorecard”).", "每项指标的定义见 README(“Tickets and the scorecard”一节)。"),
    ("Backlog now: {n}.", "当前积压:{n}。"),
    ("The whole range", "整个范围"),
    ("The whole range by {dimension}", "整个范围,按{dimension}"),
    ("CES mean", "CES 均值"),
    ("Created", "新建"),
    ("Solved", "已解决"),
    ("First response median / p90 (h)", "首次响应 中位数 / p90(小时)"),
    ("Resolution median / p90 (h)", "解决 中位数 / p90(小时)"),
    ("Reopen %", "重开率 %"),
    ("SLA first resp. %", "首次响应 SLA %"),
    ("SLA resolution %", "解决 SLA %"),
    ("business {value}", "工作时间 {value}"),
    ("Nothing in this range.", "此范围内没有数据。"),
    ("Trends, per {grain}", "趋势,按{grain}"),
    ("Trends for {value}, per {grain}", "{value} 的趋势,按{grain}"),
    ("{min} to {max}", "{min} 至 {max}"),
    ("{title} per {grain}", "{title},按{grain}"),
    ("No data.", "没有数据。"),
    ("CSAT (share of 4 and 5)", "CSAT(4 分和 5 分占比)"),
    ("CES mean (1-7)", "CES 均值(1-7)"),
    ("Tickets created", "新建工单"),
    ("First response, median", "首次响应,中位数"),
    ("Resolution, median", "解决,中位数"),
    ("SLA first response attained", "首次响应 SLA 达成率"),
    ("Backlog at period end", "期末积压"),
    ("Incident communication", "事件沟通"),
    ("{n} incidents declared, {with_notice} with a published notice.", "宣布了 {n} 个事件,其中 {with_notice} 个发布了通知。"),
    ("Time to first customer notice: median {median} min, p90 {p90} min.", "首次通知客户用时:中位数 {median} 分钟,p90 {p90} 分钟。"),
    ("Mean time between updates: {mean} min.", "平均更新间隔:{mean} 分钟。"),
    ("First notice (min)", "首次通知(分钟)"),
    ("Updates", "更新次数"),
    ("Mean / longest gap (min)", "平均 / 最长间隔(分钟)"),
    ("none yet", "尚无"),
    ("Weekly report by email", "每周报告邮件"),
    ("Every Monday from {hour}:00 ({timezone}), the week just ended: the key figures against the week before, with the week’s scorecard attached as CSV.", "每周一 {hour}:00({timezone})起发送刚结束一周的关键指标及与前一周的对比,并附上该周计分卡的 CSV 文件。"),
    ("You get the weekly report.", "你会收到每周报告。"),
    ("Stop my weekly report", "停止给我发送每周报告"),
    ("You do not get the weekly report.", "你不会收到每周报告。"),
    ("Email me the weekly report", "给我发送每周报告"),
    ("Stakeholders", "相关人员"),
    ("Remove", "移除"),
    ("Nobody yet.", "暂无人员。"),
    ("Add", "添加"),
    ("Add stakeholder", "添加相关人员"),
    ("Only users whose role may view reports receive it.", "只有角色可查看报告的用户才会收到。"),
    // Journey.
    ("Customer journey", "客户旅程"),
    ("Range", "范围"),
    ("not defined", "未定义"),
    ("Touchpoints", "接触点"),
    ("Top complaint topics", "主要投诉主题"),
    ("None.", "无。"),
    ("Worst pain points", "最严重的痛点"),
    ("{share} % negative of {n}", "{n} 条中 {share}% 为负面"),
    (", mean score {score}", ",平均分 {score}"),
    ("No stages yet. Define them with", "还没有阶段。可通过以下接口定义:"),
    ("Define a stage", "定义阶段"),
    ("Feedback and tickets carry the stage’s key as journey_stage and a touchpoint as touchpoint. A key used again replaces that stage.", "反馈和工单以 journey_stage 携带阶段的键,以 touchpoint 携带接触点。再次使用同一个键会替换该阶段。"),
    ("Key", "键"),
    ("Name", "名称"),
    ("Position", "位置"),
    ("Touchpoints (comma-separated)", "接触点(逗号分隔)"),
    ("Save stage", "保存阶段"),
    // Feedback and surveys.
    ("Search", "搜索"),
    ("any language", "任意语言"),
    ("Component", "组件"),
    ("Region", "地区"),
    ("Filter", "筛选"),
    ("{n} shown.", "显示 {n} 条。"),
    ("{n} shown, more below.", "显示 {n} 条,下方还有更多。"),
    ("Personal data is redacted; contacts open only on the item page.", "个人数据已脱敏;联系方式只能在单条反馈页面打开。"),
    ("Feedback items, newest first", "反馈,最新的在前"),
    ("When", "时间"),
    ("Score", "评分"),
    ("Text", "文本"),
    ("Lang", "语言"),
    ("the customer left contact details", "客户留下了联系方式"),
    ("contact", "联系方式"),
    ("Nothing matches.", "没有匹配的结果。"),
    ("Older items", "更早的条目"),
    ("Received", "收到时间"),
    ("Journey stage", "旅程阶段"),
    ("Survey", "调查"),
    ("Redacted", "已脱敏"),
    ("Contact", "联系方式"),
    ("Phone", "电话"),
    ("Consent", "同意"),
    ("Masked: your role does not include contact:view.", "已遮蔽:你的角色不包含 contact:view 权限。"),
    ("Contact details are personal data. Opening them is recorded in the audit trail.", "联系方式属于个人数据。查看操作会被记录在审计记录中。"),
    ("Show contact details", "显示联系方式"),
    ("Original text (unredacted)", "原文(未脱敏)"),
    ("New survey", "新建调查"),
    ("Form", "表单"),
    ("Languages", "语言"),
    ("Questions", "问题"),
    ("survey|open", "收集中"),
    ("No surveys yet.", "还没有调查。"),
    ("Address", "地址"),
    ("Question {n}", "问题 {n}"),
    ("required", "必填"),
    ("Policy", "策略"),
    ("Offer “contact me” with explicit consent", "提供“联系我”选项(需明确同意)"),
    ("Answers only through single-use links", "只接受通过一次性链接提交的回答"),
    ("Keep the unredacted text, sealed, for the raw-text retention period", "在原文保留期内加密保存未脱敏文本"),
    ("Keep a shortened network address and browser name", "保存截短的网络地址和浏览器名称"),
    ("Create survey", "创建调查"),
    ("{n} submissions", "{n} 份提交"),
    ("answers", "条回答"),
    ("CES easy", "CES 容易"),
    ("mean", "均值"),
    ("Answers per score", "各评分的回答数"),
    ("Answers", "回答数"),
    ("Answers by language", "各语言的回答"),
    // Postmortems, status page, security, alert sources, routes.
    ("Postmortems, latest first", "复盘,最新的在前"),
    ("Updated", "更新时间"),
    ("{done} of {total} done", "已完成 {done} / {total}"),
    ("No postmortems yet.", "还没有复盘。"),
    ("Open the public status page", "打开公开状态页"),
    ("Components in page order", "组件(按页面顺序)"),
    ("Visibility", "可见性"),
    ("private", "私有"),
    ("public", "公开"),
    ("No components yet. Add them with", "还没有组件。可通过以下接口添加:"),
    ("Scheduled maintenance", "计划维护"),
    ("Maintenances, latest first", "维护,最新的在前"),
    ("Maintenance", "维护"),
    ("Until", "至"),
    ("None scheduled.", "没有计划中的维护。"),
    ("The security team’s alerts and the customers’ signals on one timeline. A signal and an alert on the same component at the same time are correlated: they are marked, and they raise a suggested incident.", "安全团队的告警和客户信号汇集在同一条时间线上。同一时间、同一组件上的信号和告警会被关联:它们会被标记,并生成一个建议事件。"),
    ("Alert sources", "告警来源"),
    ("Routes", "通知路由"),
    ("Suggested incident, {severity}", "建议事件,{severity}"),
    ("{signals} signal(s), {alerts} alert(s).", "{signals} 个信号,{alerts} 条告警。"),
    ("correlated:", "已关联:"),
    ("Nothing yet: no alerts or signals.", "暂无内容:没有告警或信号。"),
    ("Source", "来源"),
    (", from {origin}", ",来自 {origin}"),
    ("Started", "开始时间"),
    ("Ended", "结束时间"),
    ("still firing", "仍在触发"),
    ("Notifications", "通知次数"),
    ("{n}, last {at}", "{n} 次,最近一次 {at}"),
    ("Fingerprint", "指纹"),
    ("Description", "描述"),
    ("Labels", "标签"),
    ("Label", "标签"),
    ("Value", "值"),
    ("Correlated", "已关联"),
    ("incident", "事件"),
    ("Each tool posts to its hook with its own secret: as Authorization: Bearer, or as the hex HMAC-SHA256 of the body in its signature header. A secret is shown once, when the source is added or its secret rotated.", "每个工具使用自己的密钥向其 hook 发送请求:作为 Authorization: Bearer,或在签名头中提供请求体的十六进制 HMAC-SHA256。密钥只在添加来源或轮换密钥时显示一次。"),
    ("Hook", "Hook 地址"),
    ("Proof", "验证方式"),
    ("Secret since", "密钥启用时间"),
    ("disabled", "已停用"),
    ("HMAC-SHA256 in", "HMAC-SHA256,位于"),
    ("bearer token", "Bearer 令牌"),
    ("Rotate secret", "轮换密钥"),
    ("No sources yet.", "还没有来源。"),
    ("Add a source", "添加来源"),
    ("Format", "格式"),
    ("Generic JSON", "通用 JSON"),
    ("Bearer token", "Bearer 令牌"),
    ("HMAC-SHA256 signature", "HMAC-SHA256 签名"),
    ("Signature header", "签名头"),
    ("Skip to content", "跳到主要内容"),
    ("A playbook's steps become an incident's checklist when it is declared with it; editing a playbook later changes no running incident.", "用某个预案宣布事件时，预案的步骤会成为该事件的检查清单；之后修改预案不会影响正在进行的事件。"),
    ("Delete playbook", "删除预案"),
    ("Delete this playbook? Incidents declared with it keep their checklists.", "删除此预案？用它宣布的事件会保留其检查清单。"),
    ("Edit", "编辑"),
    ("New playbook", "新预案"),
    ("No playbooks.", "没有预案。"),
    ("Playbook deleted; incidents keep their checklists.", "预案已删除；事件保留其检查清单。"),
    ("Playbook saved.", "预案已保存。"),
    ("Playbooks", "预案"),
    ("Save playbook", "保存预案"),
    ("Steps", "步骤"),
    ("Steps, one per line; start a line with its seat and a colon to give it an owner", "步骤，每行一个；在行首写上席位和冒号即可指定负责人"),
    ("Write a new playbook", "编写新预案"),
    ("Write it", "编写"),
    ("Notice templates", "通知模板"),
    ("What an incident update is written from, per language: the status page and email text, the email subject and the SMS. On an incident's page, the update form with a template fills them in.", "事件更新据以撰写的内容，按语言分：状态页和电子邮件正文、电子邮件主题和短信。在事件页面上，使用模板的更新表单会填入它们。"),
    ("built in", "内置"),
    ("No templates.", "没有模板。"),
    ("Write a new template", "编写新模板"),
    ("New notice template", "新通知模板"),
    ("Not saved:", "未保存："),
    ("Each part is a template: a name between double braces is replaced by its value, as in", "每个部分都是模板：双花括号中的名称会被替换为其值，例如"),
    ("Names:", "名称："),
    ("A language left empty is not part of the template.", "留空的语言不属于此模板。"),
    ("Short name (a-z, 0-9, -)", "短名称（a-z、0-9、-）"),
    ("Status of an update written from it", "据此撰写的更新的状态"),
    ("Email subject", "电子邮件主题"),
    ("Notice (status page and email)", "通知（状态页和电子邮件）"),
    ("SMS", "短信"),
    ("Save template", "保存模板"),
    ("Template saved.", "模板已保存。"),
    ("Subscribers", "订阅者"),
    ("Subscribers, newest first", "订阅者（最新的在前）"),
    ("People and tools told when an incident is published on the status page, newest first. Addresses are masked. Email subscribers confirm by a link before anything is sent to them.", "状态页发布事件时会通知的人和工具，最新的在前。地址已打码。电子邮件订阅者需先点击确认链接，之后才会收到消息。"),
    ("Since", "起始"),
    ("Unsubscribe", "退订"),
    ("Delete this subscriber? Messages still queued for them are cancelled.", "删除此订阅者？仍在排队发给他们的消息将被取消。"),
    ("Delete", "删除"),
    ("No subscribers.", "没有订阅者。"),
    ("Older subscribers", "更早的订阅者"),
    ("Add a subscriber", "添加订阅者"),
    ("Add subscriber", "添加订阅者"),
    ("Address (email, phone number or URL)", "地址（电子邮件、电话号码或 URL）"),
    ("Phone region, for numbers without a country code", "电话地区（用于没有国家代码的号码）"),
    ("Every new subscriber hears about every component; to narrow it, use", "新订阅者会收到所有组件的通知；如需缩小范围，请使用"),
    ("Subscriber added.", "订阅者已添加。"),
    ("Subscriber added. They get a confirmation link and receive notices once they confirm.", "订阅者已添加。他们会收到确认链接，确认后才会收到通知。"),
    ("Subscriber changed.", "订阅者已更改。"),
    ("Subscriber deleted; messages still queued for them are cancelled.", "订阅者已删除；仍在排队发给他们的消息已取消。"),
    ("Webhook subscriber added", "Webhook 订阅者已添加"),
    ("Copy the signing secret now: it is not shown again. The webhook checks each delivery's signature with it (Standard Webhooks).", "请立即复制签名密钥：它不会再次显示。Webhook 用它校验每次投递的签名（Standard Webhooks）。"),
    ("unsubscribed", "已退订"),
    ("staff", "员工"),
    ("Affected customers", "受影响的客户"),
    (
        "{n} on this incident's list. They are told directly, by email or SMS in their language, when you send them an update; they are not subscribers and get no unsubscribe link.",
        "此事件名单上有 {n} 位。您向他们发送更新时，他们会通过电子邮件或短信以其语言直接收到通知；他们不是订阅者，不会收到退订链接。",
    ),
    ("Added", "添加时间"),
    ("The first {n} are shown.", "仅显示前 {n} 位。"),
    ("Send them", "发送给他们"),
    ("Send", "发送"),
    ("Publish an update to send it to them.", "先发布一条更新，才能发送给他们。"),
    (
        "Add customers: CSV with a header line (email, phone, language, name, region); an address already on the list is skipped",
        "添加客户：带标题行的 CSV（email、phone、language、name、region）；已在名单上的地址会被跳过",
    ),
    ("Add to the list", "加入名单"),
    (
        "Affected customers: {added} added, {duplicates} already on the list, {rejected} refused.",
        "受影响的客户：新增 {added} 位，{duplicates} 位已在名单上，{rejected} 行被拒绝。",
    ),
    ("Line", "行"),
    (
        "The update is on its way to {n} affected customers (those already sent it are skipped).",
        "更新正在发送给 {n} 位受影响的客户（已收到的会被跳过）。",
    ),
    ("Timestamp header (optional)", "时间戳头（可选）"),
    ("signed time in", "签名时间在"),
    (
        "the hex HMAC-SHA256 of the signing time in Unix seconds, a colon and the request body, with this secret as the key, in the {header} header, and the signing time in the {ts} header (at most five minutes from now); add ?source={id} to the URL to name the source",
        "以此密钥对“签名时间（Unix 秒）、冒号和请求正文”计算的十六进制 HMAC-SHA256，放在 {header} 头中，签名时间放在 {ts} 头中（与当前时间相差不超过五分钟）；在 URL 后加 ?source={id} 以指明来源",
    ),
    ("Map label", "映射标签"),
    ("equal to", "等于"),
    ("to component", "到组件"),
    ("and region", "和地区"),
    ("Add source", "添加来源"),
    ("More mapping rules and a generic source’s field map:", "更多映射规则及通用来源的字段映射:"),
    ("Secret for {name}", "{name} 的密钥"),
    ("Copy it now: it is not shown again. Rotating it makes a new one and retires this one.", "请立即复制:它不会再次显示。轮换会生成新密钥并停用此密钥。"),
    ("the hex HMAC-SHA256 of the request body with this secret as the key, in the {header} header (a sha256= prefix is fine); add ?source={id} to the URL to name the source", "以此密钥为键计算请求体的十六进制 HMAC-SHA256,放在 {header} 头中(可带 sha256= 前缀);在 URL 上加 ?source={id} 以指明来源"),
    ("and this secret", "加上此密钥"),
    ("Where early warnings go: new signals, suggested incidents and overdue incident updates, to Slack, Microsoft Teams, PagerDuty, email or a signed webhook. A route takes what its rules allow (events, a minimum severity, topics and components; empty means any). PagerDuty and webhooks are also told when what they were paged about is acknowledged or resolved. Every attempt is listed with its answer.", "预警发往何处:新信号、建议事件和逾期的事件更新,可发送到 Slack、Microsoft Teams、PagerDuty、电子邮件或签名的 webhook。每条路由只接收其规则允许的内容(事件、最低严重程度、主题和组件;留空表示任意)。告警被确认或解决时也会通知 PagerDuty 和 webhook。每次尝试及其响应都会列出。"),
    ("Route {name} added", "路由 {name} 已添加"),
    ("Copy the signing secret now: it is not shown again. The receiver checks webhook-signature (v1, HMAC-SHA256 of webhook-id.webhook-timestamp.body) with it.", "请立即复制签名密钥:它不会再次显示。接收方用它校验 webhook-signature(v1,对 webhook-id.webhook-timestamp.body 的 HMAC-SHA256)。"),
    ("Target", "目标"),
    ("Events", "事件"),
    ("{severity} and worse", "{severity} 及更严重"),
    ("Topics", "主题"),
    ("Send test", "发送测试"),
    ("Disable", "停用"),
    ("Enable", "启用"),
    ("Recent attempts", "最近的尝试"),
    ("Event", "事件"),
    ("Attempt", "尝试"),
    ("Outcome", "结果"),
    ("Error", "错误"),
    ("Took", "耗时"),
    ("No attempts yet.", "还没有尝试。"),
    ("{n} message(s) waiting.", "{n} 条消息等待中。"),
    ("No routes yet: nothing is sent out.", "还没有路由:不会发送任何内容。"),
    ("Add a route", "添加路由"),
    ("Send to", "发送到"),
    ("PagerDuty routing key", "PagerDuty 路由键"),
    ("Email address", "电子邮件地址"),
    ("new signals", "新信号"),
    ("suggested incidents", "建议事件"),
    ("overdue updates", "逾期更新"),
    ("At least", "至少"),
    ("account_access, phishing_scam (empty: any)", "account_access, phishing_scam(留空:任意)"),
    ("login, payments (empty: any)", "login, payments(留空:任意)"),
    ("Add route", "添加路由"),
    ("PagerDuty goes to its Events API unless a URL is given. The URL and routing key are sealed and shown masked; a webhook’s signing secret is shown once.", "未提供 URL 时,PagerDuty 使用其 Events API。URL 和路由键会加密保存并以遮蔽形式显示;webhook 的签名密钥只显示一次。"),
    ("signal.opened", "新信号"),
    ("suggestion.opened", "建议事件"),
    ("incident.overdue", "逾期更新"),
    ("incident.resolved", "事件已解决"),
    ("incident.updated", "事件已更新"),
    ("signal.acknowledged", "信号已确认"),
    ("signal.dismissed", "信号已驳回"),
    ("retry", "重试"),
    ("cancelled", "已取消"),
    // Administration.
    ("Staff users", "员工用户"),
    ("Role", "角色"),
    ("Last sign-in", "最近登录"),
    ("Actions", "操作"),
    ("active", "正常"),
    ("never", "从未"),
    ("Disable this user? Their sessions end now.", "停用此用户?其会话将立即结束。"),
    ("Add a user", "添加用户"),
    ("Password (12+ characters)", "密码(至少 12 个字符)"),
    ("Add user", "添加用户"),
    ("Each role is a set of grants: an action on a data class.", "每个角色是一组授权:对某个数据类别的某个操作。"),
    ("V view, M modify, S store, D delete.", "V 查看,M 修改,S 新建,D 删除。"),
    ("Grants by role, data class and action", "按角色、数据类别和操作列出的授权"),
    ("(custom)", "(自定义)"),
    ("no {action}", "无{action}权限"),
    ("Define a custom role", "定义自定义角色"),
    ("Grants", "授权"),
    ("Class", "类别"),
    ("Create role", "创建角色"),
    ("view", "查看"),
    ("modify", "修改"),
    ("store", "新建"),
    ("delete", "删除"),
    ("redacted feedback text and scores", "脱敏后的反馈文本和评分"),
    ("who sent something: names, email addresses, phone numbers", "发送者信息:姓名、电子邮件地址、电话号码"),
    ("unredacted original text (sealed, off by default)", "未脱敏的原文(加密保存,默认关闭)"),
    ("support tickets and replies", "支持工单及回复"),
    ("incidents, their team, checklist and timeline", "事件及其团队、检查清单和时间线"),
    ("alerts from the security team's tools", "来自安全团队工具的告警"),
    ("customer notices and status page updates", "客户通知和状态页更新"),
    ("status page subscribers and affected-customer lists", "状态页订阅者和受影响客户名单"),
    ("aggregates only: scorecards and counts", "仅汇总数据:计分卡和计数"),
    ("users, roles, tokens and configuration", "用户、角色、令牌和配置"),
    ("the audit trail", "审计记录"),
    ("Copy this token now", "请立即复制此令牌"),
    ("It will not be shown again. Send it as", "它不会再次显示。发送方式:"),
    ("token|Created", "创建时间"),
    ("Expires", "过期时间"),
    ("revoked", "已吊销"),
    ("live", "有效"),
    ("Revoke this token? Anything using it stops working.", "吊销此令牌?所有使用它的程序都将停止工作。"),
    ("Revoke", "吊销"),
    ("Create a token", "创建令牌"),
    ("Expires in (days)", "有效期(天)"),
    ("Create token", "创建令牌"),
    ("Chain intact: {n} entries verified.", "哈希链完整:已验证 {n} 条记录。"),
    ("Chain broken at entry {seq}:", "哈希链在第 {seq} 条记录处断开:"),
    ("Audit entries, newest first", "审计记录,最新的在前"),
    ("Who", "操作者"),
    ("Older entries", "更早的记录"),
    ("no component", "无组件"),
    ("customers", "客户"),
    // The demo's mailbox.
    ("Mail sent", "已发送邮件"),
    ("Scrollable table", "可滚动的表格"),
    ("Everything Frontline sent through the local mail catcher at {catcher}, newest first: sign-up confirmations, notices and survey invitations. Recipients are masked; opening a message shows it whole and is recorded in the audit trail.", "Frontline 通过本地邮件捕获器 {catcher} 发出的全部邮件，最新的在前：订阅确认、通知和调查邀请。收件人已做遮蔽；打开一封邮件会显示全文，并记入审计记录。"),
    ("mail|From", "发件人"),
    ("mail|To", "收件人"),
    ("Subject", "主题"),
    ("(no subject)", "（无主题）"),
    ("No mail yet.", "还没有邮件。"),
    ("mail|Text", "正文"),
    ("(the message also has an HTML part)", "（邮件另有 HTML 部分）"),
    ("confirmation", "订阅确认"),
    ("mail|notice", "通知"),
    ("mail|survey", "调查邀请"),
    ("mail|other", "其他"),
    // Deliveries: the outbox by state.
    ("Deliveries", "投递记录"),
    ("Messages in the outbox (notices, sign-up confirmations, surveys, ticket mail, staff email, routes), the latest change first. Recipients are masked.", "发件箱中的消息（通知、订阅确认、调查、工单邮件、员工邮件、通知路由），最近变化的在前。收件人已做遮蔽。"),
    ("Deliveries, latest change first", "投递记录，最近变化的在前"),
    ("Changed in the last {n} hours", "最近 {n} 小时内有变化"),
    ("any time", "不限时间"),
    ("Any time", "不限时间"),
    ("last 24 hours", "最近 24 小时"),
    ("{total} messages, the latest {shown} shown.", "共 {total} 条消息，显示最近的 {shown} 条。"),
    ("{n} messages.", "{n} 条消息。"),
    ("1 message.", "1 条消息。"),
    ("No messages.", "没有消息。"),
    ("All messages", "全部消息"),
    ("waiting", "等待中"),
    ("delivery|staff email", "员工邮件"),
    ("delivery|route", "通知路由"),
    ("delivery|ticket mail", "工单邮件"),
    ("Update cadence kept: {kept} of {due} updates due ({pct} %).", "按时更新：应更新 {due} 次，按时 {kept} 次（{pct} %）。"),
    ("Updates kept / due", "按时 / 应更新"),
    ("Webhook", "Webhook"),
    ("Slack, Teams and webhook bodies (JSON)", "Slack、Teams 和 Webhook 消息体（JSON）"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_is_the_users_then_the_browsers_then_english() {
        assert_eq!(choose(Some("zh"), Some("en-GB")), "zh");
        assert_eq!(choose(Some("en"), Some("zh-CN")), "en");
        assert_eq!(choose(None, Some("zh-CN,zh;q=0.9,en;q=0.8")), "zh");
        assert_eq!(choose(None, Some("zh-Hant-TW")), "zh");
        assert_eq!(choose(Some("xx"), Some("de, en;q=0.5")), "en");
        assert_eq!(choose(None, Some("de, fr")), "en");
        assert_eq!(choose(None, Some("en;q=0.5, zh;q=0.9")), "zh");
        assert_eq!(choose(None, None), "en");
    }

    #[test]
    fn phrases_translate_and_fall_back_to_english() {
        assert_eq!(t("zh", "Incidents"), "事件");
        assert_eq!(t("en", "Incidents"), "Incidents");
        assert_eq!(t("zh", "typed by a person"), "typed by a person");
        assert_eq!(tf("zh", "in {n} min", &[("n", &5)]), "5 分钟后");
        assert_eq!(t("en", "survey|open"), "open");
        assert_eq!(t("zh", "survey|open"), "收集中");
        assert_eq!(t("en", "typed | by a person"), "typed | by a person");
    }

    #[test]
    fn every_phrase_has_both_languages_once_with_its_placeholders() {
        let mut seen = std::collections::BTreeSet::new();
        for (en, zh) in PHRASES {
            assert!(!en.trim().is_empty() && !zh.trim().is_empty(), "{en:?}");
            assert!(seen.insert(*en), "{en:?} is in the catalogue twice");
            let en = en.split_once('|').map_or(*en, |(_, english)| english);
            for name in placeholders(en) {
                assert!(
                    zh.contains(&format!("{{{name}}}")),
                    "{zh:?} lacks {{{name}}}"
                );
            }
            assert_eq!(placeholders(en).len(), placeholders(zh).len(), "{en:?}");
        }
    }

    fn placeholders(s: &str) -> Vec<&str> {
        s.split('{')
            .skip(1)
            .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
            .filter(|name| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            })
            .collect()
    }

    /// Every string literal passed to `call(` in `source`.
    fn literal_calls<'a>(source: &'a str, call: &str) -> Vec<&'a str> {
        let mut found = Vec::new();
        let mut rest = source;
        while let Some(i) = rest.find(call) {
            let before = rest[..i].chars().next_back();
            rest = &rest[i + call.len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(end) = rest.find('"') {
                found.push(&rest[..end]);
            }
        }
        found
    }

    #[test]
    fn every_phrase_the_templates_and_handlers_use_is_in_the_catalogue() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut sources = Vec::new();
        for dir in ["templates", "src/http/dashboard"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                sources.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
            }
        }
        let mut used = 0;
        let mut missing = Vec::new();
        for (path, text) in &sources {
            for call in ["tr(\"", "phrase(\""] {
                for key in literal_calls(text, call) {
                    used += 1;
                    if !table().contains_key(key) {
                        missing.push(format!("{}: {key:?}", path.display()));
                    }
                }
            }
        }
        assert!(used > 100, "the scan found only {used} phrases");
        assert!(
            missing.is_empty(),
            "not in the catalogue:\n{}",
            missing.join("\n")
        );
    }

    #[test]
    fn every_value_shown_with_the_label_filter_is_in_the_catalogue() {
        use crate::domain::feedback::{Channel, FeedbackKind};
        use crate::domain::incident::{
            ComponentStatus, Impact, IncidentStatus, MaintenanceStatus, TeamRole,
        };
        use crate::domain::ticket::{Priority, TicketStatus};
        let mut values: Vec<&str> = Vec::new();
        values.extend(IncidentStatus::ALL.iter().map(|v| v.as_str()));
        values.extend(MaintenanceStatus::ALL.iter().map(|v| v.as_str()));
        values.extend(FeedbackKind::ALL.iter().map(|v| v.as_str()));
        values.extend(Channel::ALL.iter().map(|v| v.as_str()));
        values.extend(Impact::ALL.iter().map(|v| v.as_str()));
        values.extend(TeamRole::ALL.iter().map(|v| v.as_str()));
        values.extend(ComponentStatus::ALL.iter().map(|v| v.as_str()));
        values.extend(TicketStatus::ALL.iter().map(|v| v.as_str()));
        values.extend(Priority::ALL.iter().map(|v| v.as_str()));
        values.extend(VALUES);
        values.extend(crate::notify::outbox::STATES);
        values.extend(crate::domain::Action::ALL.iter().map(|a| a.as_str()));
        values.extend(crate::domain::DataClass::ALL.iter().map(|c| c.describe()));
        values.extend(frontline_detect::Topic::ALL.iter().map(|t| t.as_str()));
        let missing: Vec<_> = values
            .into_iter()
            .filter(|v| !table().contains_key(v))
            .collect();
        assert!(
            missing.is_empty(),
            "values not in the catalogue: {missing:?}"
        );
    }

    /// Values of other kinds that pages show with `label`: topics, the
    /// states of signals, alerts and suggestions, alert severities, the
    /// deliveries page's `waiting`.
    const VALUES: &[&str] = &[
        "open",
        "acknowledged",
        "dismissed",
        "promoted",
        "accepted",
        "firing",
        "resolved",
        "critical",
        "high",
        "medium",
        "low",
        "info",
        "waiting",
    ];
}
