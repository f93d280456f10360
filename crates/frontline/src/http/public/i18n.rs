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
];
