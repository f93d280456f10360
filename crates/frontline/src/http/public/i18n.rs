//! The words of the public pages, in every language customers use.

/// The languages the public pages speak.
pub const LANGUAGES: &[(&str, &str)] = &[
    ("en", "English"),
    ("zh", "中文"),
    ("fa", "فارسی"),
    ("gu", "ગુજરાતી"),
];

/// Right-to-left scripts.
pub fn dir(lang: &str) -> &'static str {
    if matches!(lang, "fa" | "ar" | "he" | "ur") {
        "rtl"
    } else {
        "ltr"
    }
}

/// One of [`LANGUAGES`] for a language tag (`fa-IR` is `fa`, `zh-Hans-CN`
/// is `zh`), or None.
pub fn supported(tag: &str) -> Option<&'static str> {
    let primary = tag.trim().split(['-', '_']).next()?.to_ascii_lowercase();
    LANGUAGES
        .iter()
        .map(|(code, _)| *code)
        .find(|code| *code == primary)
}

/// The first supported language of an `Accept-Language` header, by
/// quality (`q`), then order.
pub fn from_accept_language(header: &str) -> Option<&'static str> {
    ranked_tags(header).into_iter().find_map(supported)
}

/// The language tags of an `Accept-Language` header, best first (by
/// quality, then order); tags with `q=0` are left out.
pub fn ranked_tags(header: &str) -> Vec<&str> {
    let mut tags: Vec<(f32, usize, &str)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut bits = part.split(';');
            let tag = bits.next()?.trim();
            let q = bits
                .find_map(|b| b.trim().strip_prefix("q="))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok())?;
            (q > 0.0).then_some((q, i, tag))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter().map(|(_, _, tag)| tag).collect()
}

/// The language of a public page: what the link or form asks for
/// (`?lang=`), else `preferred` (a ticket's language), else the browser's
/// `Accept-Language`, else English.
pub fn choose(asked: Option<&str>, preferred: Option<&str>, accept: Option<&str>) -> &'static str {
    asked
        .and_then(supported)
        .or_else(|| preferred.and_then(supported))
        .or_else(|| accept.and_then(from_accept_language))
        .unwrap_or("en")
}

/// A phrase in `lang`, falling back to English.
pub fn t(lang: &str, key: &str) -> &'static str {
    let row = PHRASES.iter().find(|(k, _)| *k == key);
    let Some((_, texts)) = row else { return "" };
    let idx = match lang {
        "zh" => 1,
        "fa" => 2,
        "gu" => 3,
        _ => 0,
    };
    texts[idx]
}

/// All phrases of one language, for templates.
pub fn phrases(lang: &str) -> std::collections::BTreeMap<&'static str, &'static str> {
    PHRASES.iter().map(|(k, _)| (*k, t(lang, k))).collect()
}

type Row = (&'static str, [&'static str; 4]);

const PHRASES: &[Row] = &[
    ("submit", ["Send", "提交", "ارسال", "મોકલો"]),
    (
        "thanks_title",
        ["Thank you!", "谢谢!", "سپاسگزاریم!", "આભાર!"],
    ),
    (
        "thanks_body",
        [
            "We have received your feedback.",
            "我们已收到您的反馈。",
            "بازخورد شما دریافت شد.",
            "તમારો પ્રતિસાદ મળી ગયો છે.",
        ],
    ),
    ("required", ["required", "必填", "الزامی", "જરૂરી"]),
    ("optional", ["optional", "可选", "اختیاری", "વૈકલ્પિક"]),
    (
        "nps_low",
        [
            "Not at all likely",
            "完全不可能",
            "اصلاً احتمال ندارد",
            "બિલકુલ શક્યતા નથી",
        ],
    ),
    (
        "nps_high",
        [
            "Extremely likely",
            "极有可能",
            "بسیار محتمل است",
            "ખૂબ જ શક્યતા છે",
        ],
    ),
    (
        "csat_low",
        [
            "Very dissatisfied",
            "非常不满意",
            "بسیار ناراضی",
            "ખૂબ અસંતુષ્ટ",
        ],
    ),
    (
        "csat_high",
        ["Very satisfied", "非常满意", "بسیار راضی", "ખૂબ સંતુષ્ટ"],
    ),
    (
        "ces_low",
        ["Very difficult", "非常困难", "بسیار دشوار", "ખૂબ મુશ્કેલ"],
    ),
    (
        "ces_high",
        ["Very easy", "非常容易", "بسیار آسان", "ખૂબ સરળ"],
    ),
    ("scale_low", ["Low", "低", "کم", "ઓછું"]),
    ("scale_high", ["High", "高", "زیاد", "વધુ"]),
    (
        "contact_legend",
        [
            "May we contact you about this?",
            "我们可以就此与您联系吗?",
            "آیا می‌توانیم درباره این موضوع با شما تماس بگیریم؟",
            "શું અમે આ વિશે તમારો સંપર્ક કરી શકીએ?",
        ],
    ),
    (
        "contact_consent",
        [
            "Yes, you may contact me about this feedback.",
            "可以,您可以就此反馈与我联系。",
            "بله، می‌توانید درباره این بازخورد با من تماس بگیرید.",
            "હા, તમે આ પ્રતિસાદ વિશે મારો સંપર્ક કરી શકો છો.",
        ],
    ),
    (
        "contact_needs_consent",
        [
            "Tick the box to let us contact you, or leave your details out.",
            "请勾选同意联系,或不填写联系方式。",
            "برای تماس، گزینه رضایت را علامت بزنید یا اطلاعات تماس را خالی بگذارید.",
            "સંપર્ક માટે સંમતિનું બોક્સ ટિક કરો અથવા વિગતો ખાલી રાખો.",
        ],
    ),
    (
        "contact_invalid",
        [
            "Check your email address or phone number.",
            "请检查您的电子邮件地址或电话号码。",
            "نشانی ایمیل یا شماره تلفن خود را بررسی کنید.",
            "તમારું ઇમેઇલ સરનામું અથવા ફોન નંબર તપાસો.",
        ],
    ),
    ("name", ["Name", "姓名", "نام", "નામ"]),
    ("email", ["Email", "电子邮件", "ایمیل", "ઇમેઇલ"]),
    ("phone", ["Phone", "电话", "تلفن", "ફોન"]),
    (
        "error_fix",
        [
            "Please check the marked answers.",
            "请检查标出的答案。",
            "لطفاً پاسخ‌های مشخص‌شده را بررسی کنید.",
            "કૃપા કરીને ચિહ્નિત જવાબો તપાસો.",
        ],
    ),
    (
        "answer_required",
        [
            "Please answer this question.",
            "请回答此问题。",
            "لطفاً به این پرسش پاسخ دهید.",
            "કૃપા કરીને આ પ્રશ્નનો જવાબ આપો.",
        ],
    ),
    (
        "answer_invalid",
        [
            "Please choose one of the answers.",
            "请选择一个答案。",
            "لطفاً یکی از پاسخ‌ها را انتخاب کنید.",
            "કૃપા કરીને એક જવાબ પસંદ કરો.",
        ],
    ),
    (
        "answer_none",
        [
            "Please answer at least one question.",
            "请至少回答一个问题。",
            "لطفاً دست‌کم به یک پرسش پاسخ دهید.",
            "કૃપા કરીને ઓછામાં ઓછા એક પ્રશ્નનો જવાબ આપો.",
        ],
    ),
    (
        "link_used",
        [
            "This link has already been used. Thank you!",
            "此链接已被使用。谢谢!",
            "از این پیوند قبلاً استفاده شده است. سپاسگزاریم!",
            "આ લિંકનો ઉપયોગ થઈ ચૂક્યો છે. આભાર!",
        ],
    ),
    (
        "link_invalid",
        [
            "This link is not valid. Please use the link from your invitation.",
            "此链接无效。请使用邀请中的链接。",
            "این پیوند معتبر نیست. لطفاً از پیوند دعوت‌نامه استفاده کنید.",
            "આ લિંક માન્ય નથી. કૃપા કરીને આમંત્રણમાંની લિંકનો ઉપયોગ કરો.",
        ],
    ),
    (
        "closed",
        [
            "This survey is closed.",
            "此调查已关闭。",
            "این نظرسنجی بسته شده است.",
            "આ સર્વે બંધ છે.",
        ],
    ),
    (
        "not_found",
        [
            "This page does not exist.",
            "此页面不存在。",
            "این صفحه وجود ندارد.",
            "આ પાનું અસ્તિત્વમાં નથી.",
        ],
    ),
    (
        "too_many",
        [
            "Too many answers from your network. Please try again in a minute.",
            "您的网络提交次数过多,请一分钟后再试。",
            "تعداد ارسال‌ها از شبکه شما زیاد است. لطفاً یک دقیقه دیگر دوباره تلاش کنید.",
            "તમારા નેટવર્કથી ઘણા બધા જવાબો આવ્યા છે. કૃપા કરીને એક મિનિટ પછી ફરી પ્રયાસ કરો.",
        ],
    ),
    ("language", ["Language", "语言", "زبان", "ભાષા"]),
    (
        "honeypot",
        [
            "Leave this field empty",
            "请留空此字段",
            "این فیلد را خالی بگذارید",
            "આ ક્ષેત્ર ખાલી રાખો",
        ],
    ),
    (
        "privacy",
        [
            "How we handle your data",
            "我们如何处理您的数据",
            "نحوه رسیدگی ما به داده‌های شما",
            "અમે તમારા ડેટાને કેવી રીતે સંભાળીએ છીએ",
        ],
    ),
    (
        "anonymous",
        [
            "Your answers are anonymous unless you choose to leave your contact details.",
            "除非您选择留下联系方式,否则您的回答是匿名的。",
            "پاسخ‌های شما ناشناس است، مگر اینکه خودتان اطلاعات تماس بگذارید.",
            "તમે સંપર્ક વિગતો આપવાનું પસંદ ન કરો ત્યાં સુધી તમારા જવાબો અનામી છે.",
        ],
    ),
    // The status page.
    (
        "st_title",
        ["System status", "系统状态", "وضعیت سامانه", "સિસ્ટમ સ્થિતિ"],
    ),
    (
        "st_none",
        [
            "All systems operational",
            "所有系统运行正常",
            "همه سامانه‌ها فعال هستند",
            "બધી સિસ્ટમ કાર્યરત છે",
        ],
    ),
    (
        "st_minor",
        [
            "Minor service outage",
            "轻微服务中断",
            "اختلال جزئی در سرویس",
            "સેવામાં નાનો વિક્ષેપ",
        ],
    ),
    (
        "st_major",
        [
            "Partial system outage",
            "部分系统中断",
            "قطعی بخشی از سامانه",
            "સિસ્ટમમાં આંશિક વિક્ષેપ",
        ],
    ),
    (
        "st_critical",
        [
            "Major system outage",
            "系统严重中断",
            "قطعی گسترده سامانه",
            "સિસ્ટમમાં મોટો વિક્ષેપ",
        ],
    ),
    (
        "st_maintenance",
        [
            "Service under maintenance",
            "服务维护中",
            "سرویس در حال نگهداری است",
            "સેવા જાળવણી હેઠળ છે",
        ],
    ),
    (
        "cs_operational",
        ["Operational", "正常运行", "فعال", "કાર્યરત"],
    ),
    (
        "cs_degraded_performance",
        [
            "Degraded performance",
            "性能下降",
            "کاهش کارایی",
            "કામગીરી ઘટી છે",
        ],
    ),
    (
        "cs_partial_outage",
        ["Partial outage", "部分中断", "قطعی جزئی", "આંશિક વિક્ષેપ"],
    ),
    (
        "cs_major_outage",
        ["Major outage", "严重中断", "قطعی کامل", "મોટો વિક્ષેપ"],
    ),
    (
        "cs_under_maintenance",
        [
            "Under maintenance",
            "维护中",
            "در حال نگهداری",
            "જાળવણી હેઠળ",
        ],
    ),
    (
        "cs_no_data",
        ["No data", "无数据", "بدون داده", "માહિતી નથી"],
    ),
    (
        "is_investigating",
        ["Investigating", "调查中", "در حال بررسی", "તપાસ ચાલુ છે"],
    ),
    (
        "is_identified",
        ["Identified", "已查明原因", "علت شناسایی شد", "કારણ ઓળખાયું"],
    ),
    (
        "is_monitoring",
        ["Monitoring", "监控中", "در حال پایش", "નિરીક્ષણ હેઠળ"],
    ),
    ("is_resolved", ["Resolved", "已解决", "برطرف شد", "ઉકેલાયું"]),
    (
        "is_postmortem",
        [
            "Postmortem",
            "事后分析",
            "گزارش پس از رخداد",
            "ઘટના પછીનું વિશ્લેષણ",
        ],
    ),
    (
        "ms_scheduled",
        ["Scheduled", "已计划", "زمان‌بندی‌شده", "નિર્ધારિત"],
    ),
    (
        "ms_in_progress",
        ["In progress", "进行中", "در حال انجام", "ચાલુ છે"],
    ),
    (
        "ms_verifying",
        ["Verifying", "验证中", "در حال راستی‌آزمایی", "ચકાસણી ચાલુ છે"],
    ),
    ("ms_completed", ["Completed", "已完成", "انجام شد", "પૂર્ણ"]),
    (
        "st_active_incidents",
        [
            "Current incidents",
            "当前事件",
            "رخدادهای جاری",
            "હાલની ઘટનાઓ",
        ],
    ),
    (
        "st_no_incidents",
        [
            "No incidents right now.",
            "目前没有事件。",
            "در حال حاضر رخدادی وجود ندارد.",
            "હાલમાં કોઈ ઘટના નથી.",
        ],
    ),
    (
        "st_maintenance_heading",
        [
            "Scheduled maintenance",
            "计划维护",
            "نگهداری برنامه‌ریزی‌شده",
            "નિર્ધારિત જાળવણી",
        ],
    ),
    ("st_components", ["Components", "组件", "اجزا", "ઘટકો"]),
    (
        "st_history",
        ["Last 90 days", "过去 90 天", "۹۰ روز گذشته", "છેલ્લા 90 દિવસ"],
    ),
    (
        "st_days_ok",
        [
            "days without disruption",
            "天无中断",
            "روز بدون اختلال",
            "દિવસ વિક્ષેપ વિના",
        ],
    ),
    (
        "st_90_ago",
        ["90 days ago", "90 天前", "۹۰ روز پیش", "90 દિવસ પહેલાં"],
    ),
    ("st_today", ["Today", "今天", "امروز", "આજે"]),
    (
        "st_feeds",
        [
            "Follow updates",
            "关注更新",
            "دنبال کردن به‌روزرسانی‌ها",
            "અપડેટ્સ અનુસરો",
        ],
    ),
    (
        "st_past_incidents",
        [
            "Past incidents (14 days)",
            "过去的事件(14 天)",
            "رخدادهای گذشته (۱۴ روز)",
            "પાછલી ઘટનાઓ (14 દિવસ)",
        ],
    ),
    (
        "st_updated",
        ["Last updated", "最后更新", "آخرین به‌روزرسانی", "છેલ્લે અપડેટ"],
    ),
    // Tickets: the support form and the tracking page.
    (
        "tk_support_title",
        [
            "Contact support",
            "联系客服",
            "تماس با پشتیبانی",
            "સપોર્ટનો સંપર્ક કરો",
        ],
    ),
    (
        "tk_support_intro",
        [
            "Tell us what happened. You get a private link to follow your request and write to us; no account needed.",
            "告诉我们发生了什么。您会得到一个私人链接,用来跟进您的请求并给我们留言,无需注册账户。",
            "بگویید چه اتفاقی افتاده است. یک پیوند خصوصی می‌گیرید تا درخواستتان را پیگیری کنید و برای ما بنویسید؛ بدون نیاز به حساب کاربری.",
            "શું થયું તે અમને જણાવો. તમારી વિનંતી જોવા અને અમને લખવા માટે તમને એક ખાનગી લિંક મળશે; કોઈ એકાઉન્ટની જરૂર નથી.",
        ],
    ),
    (
        "tk_subject",
        [
            "Subject",
            "主题",
            "موضوع",
            "વિષય",
        ],
    ),
    (
        "tk_description",
        [
            "What happened?",
            "发生了什么?",
            "چه اتفاقی افتاده است؟",
            "શું થયું?",
        ],
    ),
    (
        "tk_reach",
        [
            "How can we reach you?",
            "我们如何联系您?",
            "چگونه با شما تماس بگیریم؟",
            "અમે તમારો સંપર્ક કેવી રીતે કરીએ?",
        ],
    ),
    (
        "tk_reach_note",
        [
            "Kept encrypted and used only to answer this request.",
            "加密保存,仅用于答复此请求。",
            "به‌صورت رمزنگاری‌شده نگهداری می‌شود و فقط برای پاسخ به این درخواست به کار می‌رود.",
            "એન્ક્રિપ્ટ કરીને રાખવામાં આવે છે અને ફક્ત આ વિનંતીનો જવાબ આપવા માટે વપરાય છે.",
        ],
    ),
    (
        "tk_bad_email",
        [
            "That email address does not look right.",
            "该电子邮件地址似乎不正确。",
            "این نشانی ایمیل درست به نظر نمی‌رسد.",
            "આ ઇમેઇલ સરનામું યોગ્ય લાગતું નથી.",
        ],
    ),
    (
        "tk_missing",
        [
            "Please give a subject (one line) and tell us what happened.",
            "请填写主题(一行)并告诉我们发生了什么。",
            "لطفاً یک موضوع (یک خط) بنویسید و بگویید چه اتفاقی افتاده است.",
            "કૃપા કરીને વિષય (એક લીટી) આપો અને શું થયું તે જણાવો.",
        ],
    ),
    (
        "tk_received",
        [
            "We got your request.",
            "我们已收到您的请求。",
            "درخواست شما را دریافت کردیم.",
            "અમને તમારી વિનંતી મળી ગઈ છે.",
        ],
    ),
    (
        "tk_status",
        [
            "Status",
            "状态",
            "وضعیت",
            "સ્થિતિ",
        ],
    ),
    (
        "tk_s_new",
        [
            "Received",
            "已收到",
            "دریافت شد",
            "મળી ગઈ",
        ],
    ),
    (
        "tk_s_open",
        [
            "We are working on it",
            "我们正在处理",
            "در حال رسیدگی هستیم",
            "અમે તેના પર કામ કરી રહ્યા છીએ",
        ],
    ),
    (
        "tk_s_pending",
        [
            "Waiting for your reply",
            "等待您的回复",
            "در انتظار پاسخ شما",
            "તમારા જવાબની રાહ",
        ],
    ),
    (
        "tk_s_on_hold",
        [
            "On hold: we are waiting on someone else",
            "暂停:我们正在等待他人",
            "در انتظار: منتظر دیگران هستیم",
            "રોકાયેલ: અમે બીજા કોઈની રાહ જોઈ રહ્યા છીએ",
        ],
    ),
    (
        "tk_s_solved",
        [
            "Solved",
            "已解决",
            "حل شد",
            "ઉકેલાઈ ગઈ",
        ],
    ),
    (
        "tk_s_closed",
        [
            "Closed",
            "已关闭",
            "بسته شد",
            "બંધ",
        ],
    ),
    (
        "tk_keep",
        [
            "Keep this link",
            "请保存此链接",
            "این پیوند را نگه دارید",
            "આ લિંક સાચવી રાખો",
        ],
    ),
    (
        "tk_keep_body",
        [
            "it is the only way to see this request and write to us.",
            "这是查看此请求并给我们留言的唯一途径。",
            "تنها راه دیدن این درخواست و نوشتن برای ما است.",
            "આ વિનંતી જોવાનો અને અમને લખવાનો આ એકમાત્ર રસ્તો છે.",
        ],
    ),
    (
        "tk_from_support",
        [
            "Support",
            "客服",
            "پشتیبانی",
            "સપોર્ટ",
        ],
    ),
    (
        "tk_from_you",
        [
            "You",
            "您",
            "شما",
            "તમે",
        ],
    ),
    (
        "tk_csat_q",
        [
            "How satisfied are you with the help you got?",
            "您对获得的帮助满意吗?",
            "از کمکی که دریافت کردید چقدر راضی هستید؟",
            "તમને મળેલી મદદથી તમે કેટલા સંતુષ્ટ છો?",
        ],
    ),
    (
        "tk_csat_comment",
        [
            "Anything to add?",
            "还有什么要补充的吗?",
            "نکته‌ای برای افزودن دارید؟",
            "કંઈ ઉમેરવું છે?",
        ],
    ),
    (
        "tk_send_rating",
        [
            "Send rating",
            "提交评分",
            "ارسال امتیاز",
            "રેટિંગ મોકલો",
        ],
    ),
    (
        "tk_rated",
        [
            "Thank you for rating our help.",
            "感谢您为我们的帮助评分。",
            "از اینکه به کمک ما امتیاز دادید سپاسگزاریم.",
            "અમારી મદદને રેટિંગ આપવા બદલ આભાર.",
        ],
    ),
    (
        "tk_write",
        [
            "Write to us",
            "给我们留言",
            "برای ما بنویسید",
            "અમને લખો",
        ],
    ),
    (
        "tk_closed_body",
        [
            "This request is closed.",
            "此请求已关闭。",
            "این درخواست بسته شده است.",
            "આ વિનંતી બંધ છે.",
        ],
    ),
    (
        "tk_new_request",
        [
            "Ask something new",
            "提出新的问题",
            "پرسش تازه‌ای بفرستید",
            "કંઈક નવું પૂછો",
        ],
    ),
    (
        "tk_sent",
        [
            "Thank you: your message was sent.",
            "谢谢,您的留言已发送。",
            "سپاسگزاریم: پیام شما فرستاده شد.",
            "આભાર: તમારો સંદેશ મોકલાઈ ગયો છે.",
        ],
    ),
    (
        "tk_thanks_rating",
        [
            "Thank you for your rating.",
            "感谢您的评分。",
            "از امتیاز شما سپاسگزاریم.",
            "તમારા રેટિંગ બદલ આભાર.",
        ],
    ),
    (
        "tk_err_message",
        [
            "Please write a message (up to 10,000 characters).",
            "请填写留言(最多 10,000 个字符)。",
            "لطفاً پیامی بنویسید (حداکثر ۱۰٬۰۰۰ نویسه).",
            "કૃપા કરીને સંદેશ લખો (વધુમાં વધુ 10,000 અક્ષરો).",
        ],
    ),
    (
        "tk_err_rating",
        [
            "Please choose a rating from 1 to 5.",
            "请选择 1 到 5 的评分。",
            "لطفاً امتیازی از ۱ تا ۵ انتخاب کنید.",
            "કૃપા કરીને 1 થી 5 માંથી રેટિંગ પસંદ કરો.",
        ],
    ),
    (
        "tk_not_found_title",
        [
            "Link not found",
            "找不到链接",
            "پیوند پیدا نشد",
            "લિંક મળી નથી",
        ],
    ),
    (
        "tk_not_found",
        [
            "This tracking link is not valid. Check that you copied all of it.",
            "此跟踪链接无效。请检查是否完整复制。",
            "این پیوند پیگیری معتبر نیست. بررسی کنید که همه آن را کپی کرده باشید.",
            "આ ટ્રેકિંગ લિંક માન્ય નથી. તમે આખી લિંક કૉપિ કરી છે કે નહીં તે તપાસો.",
        ],
    ),
    (
        "tk_closed_title",
        [
            "This request is closed",
            "此请求已关闭",
            "این درخواست بسته شده است",
            "આ વિનંતી બંધ છે",
        ],
    ),
    (
        "tk_closed_again",
        [
            "To ask something new, please contact support again.",
            "如有新问题,请再次联系客服。",
            "برای پرسش تازه، لطفاً دوباره با پشتیبانی تماس بگیرید.",
            "કંઈક નવું પૂછવા માટે, કૃપા કરીને ફરીથી સપોર્ટનો સંપર્ક કરો.",
        ],
    ),
    (
        "tk_no_rating_title",
        [
            "No rating asked",
            "无需评分",
            "امتیازی خواسته نشده است",
            "કોઈ રેટિંગ માગ્યું નથી",
        ],
    ),
    (
        "tk_no_rating",
        [
            "This request is not waiting for a rating.",
            "此请求不需要评分。",
            "این درخواست منتظر امتیاز نیست.",
            "આ વિનંતી રેટિંગની રાહ જોતી નથી.",
        ],
    ),
    (
        "tk_already_title",
        [
            "Already rated",
            "已评分",
            "قبلاً امتیاز داده شده است",
            "પહેલેથી રેટિંગ અપાયું છે",
        ],
    ),
    (
        "tk_already",
        [
            "Thank you: this request was rated already.",
            "谢谢,此请求已评过分。",
            "سپاسگزاریم: به این درخواست قبلاً امتیاز داده شده است.",
            "આભાર: આ વિનંતીને પહેલેથી રેટિંગ અપાયું છે.",
        ],
    ),
    (
        "tk_check",
        [
            "Please check your answer",
            "请检查您的回答",
            "لطفاً پاسخ خود را بررسی کنید",
            "કૃપા કરીને તમારો જવાબ તપાસો",
        ],
    ),
    (
        "tk_too_many_title",
        [
            "Too many requests",
            "请求过多",
            "درخواست‌های بیش از حد",
            "ઘણી બધી વિનંતીઓ",
        ],
    ),
    (
        "tk_wait",
        [
            "Please wait a minute and try again.",
            "请等一分钟后再试。",
            "لطفاً یک دقیقه صبر کنید و دوباره تلاش کنید.",
            "કૃપા કરીને એક મિનિટ રાહ જુઓ અને ફરી પ્રયાસ કરો.",
        ],
    ),
    (
        "tk_error_title",
        [
            "Something went wrong",
            "出了点问题",
            "مشکلی پیش آمد",
            "કંઈક ખોટું થયું",
        ],
    ),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_come_from_the_link_then_the_ticket_then_the_browser() {
        assert_eq!(choose(Some("fa"), Some("zh"), Some("gu")), "fa");
        assert_eq!(choose(Some("xx"), Some("zh-CN"), Some("gu")), "zh");
        assert_eq!(choose(None, None, Some("de-DE, gu;q=0.8, fa;q=0.9")), "fa");
        assert_eq!(choose(None, Some("de"), Some("fa;q=0, gu")), "gu");
        assert_eq!(choose(None, None, Some("de, fr;q=0.5")), "en");
        assert_eq!(choose(None, None, None), "en");
        assert_eq!(from_accept_language("zh-Hans-CN,en;q=0.5"), Some("zh"));
        assert_eq!(from_accept_language("*;q=x"), None);
    }

    #[test]
    fn every_phrase_has_every_language() {
        for (key, texts) in PHRASES {
            for (i, text) in texts.iter().enumerate() {
                assert!(!text.is_empty(), "{key} in {}", LANGUAGES[i].0);
            }
        }
    }
}
