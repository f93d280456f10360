//! The playbooks and notice templates Frontline ships with. They are added
//! to the database when missing; admins may edit them there.

use std::collections::BTreeMap;

use crate::domain::incident::{IncidentStatus, TeamRole};
use crate::domain::response::{PlaybookItem, PlaybookSpec, TemplateSpec, TemplateText};

fn item(title: &str, seat: TeamRole) -> PlaybookItem {
    PlaybookItem {
        title: title.to_owned(),
        seat: Some(seat),
    }
}

pub fn playbooks() -> Vec<PlaybookSpec> {
    use TeamRole::*;
    vec![
        PlaybookSpec {
            slug: "customer-data-breach".into(),
            name: "Customer data theft or breach".into(),
            description: "Someone got at data they should not have, or may have: customer data, accounts, or the systems holding them.".into(),
            items: vec![
                item("Assemble the response team: technical (security), customer service and communications, with an incident lead", IncidentLead),
                item("Investigate how it happened: the way in, and whether it is still open", Security),
                item("Establish what data was taken and how much, and whether customer data is involved", Security),
                item("Legal assessment: obligations to customers and partners, and whether (and by when) to report to the data protection authority or other authorities", Legal),
                item("Send an emergency notice to affected customers: what happened, what it means for them, what to do", Communications),
                item("Publish regular progress updates on the status page, on the cadence", Communications),
                item("Offer remedies such as free account monitoring, and send security advice: change password, turn on two-factor sign-in, beware of messages pretending to be us", Cx),
                item("Brief customer service: what to tell customers, answers to the expected questions, staffing for the rise in contacts", Cx),
                item("Review the root cause and how the response went; agree improvements with owners and dates (postmortem)", IncidentLead),
            ],
        },
        PlaybookSpec {
            slug: "service-outage".into(),
            name: "Service outage".into(),
            description: "A service is down or badly degraded for customers.".into(),
            items: vec![
                item("Name an incident lead and gather the people who run the affected service", IncidentLead),
                item("Confirm the impact: which components, regions and customers", IncidentLead),
                item("Post the first public update on the status page, and set the affected components' status", Communications),
                item("Find the cause; restore the service or give customers a workaround", IncidentLead),
                item("Brief customer service with what to tell customers", Cx),
                item("Update customers on the cadence until it is resolved", Communications),
                item("Confirm recovery, set the components operational and publish the resolved notice", Communications),
                item("Postmortem: root cause, what went well, what to improve, action items with owners", IncidentLead),
            ],
        },
    ]
}

fn text(subject: &str, body: &str, sms: &str) -> TemplateText {
    TemplateText {
        subject: subject.to_owned(),
        body: body.to_owned(),
        sms: sms.to_owned(),
    }
}

const BREACH_EN: &str = "What happened
{{ what_happened }}

What this means for you
{{ impact }}

What we are doing
{{ actions }}

{% if remedy %}
What we are offering you
{{ remedy }}

{% endif %}
What you should do
- Change your {{ company }} password now, and change it anywhere else you use the same password.
- Turn on two-factor sign-in in your account settings, so that a password alone is not enough to get into your account.
- Be wary of emails, text messages and calls that claim to be from us. We will never ask you for your password or a sign-in code. If in doubt, do not follow links in a message: open our website or app yourself.
{% if advice %}
- {{ advice }}
{% endif %}

How to reach us
{{ contact }}

When we will update you next
By {{ next_update }}, on {{ status_url }}.";

const BREACH_ZH: &str = "发生了什么
{{ what_happened }}

这对您意味着什么
{{ impact }}

我们正在采取的措施
{{ actions }}

{% if remedy %}
我们为您提供的补救措施
{{ remedy }}

{% endif %}
您需要做什么
- 请立即修改您的 {{ company }} 密码；如果您在其他网站或应用中也使用了相同的密码，请一并修改。
- 请在账户设置中开启两步验证，这样仅凭密码无法登录您的账户。
- 请警惕自称来自我们的电子邮件、短信和电话。我们绝不会向您索要密码或登录验证码。如有疑问，请不要点击消息中的链接，而是自行打开我们的网站或应用。
{% if advice %}
- {{ advice }}
{% endif %}

如何联系我们
{{ contact }}

下次更新时间
我们将在 {{ next_update }} 之前在 {{ status_url }} 发布下一次更新。";

const BREACH_FA: &str = "چه اتفاقی افتاد
{{ what_happened }}

این رخداد چه تأثیری بر شما دارد
{{ impact }}

اقدامات ما
{{ actions }}

{% if remedy %}
آنچه به شما پیشنهاد می‌کنیم
{{ remedy }}

{% endif %}
چه کاری باید انجام دهید
- همین حالا رمز عبور حساب {{ company }} خود را تغییر دهید؛ اگر همین رمز را جای دیگری هم به کار می‌برید، آن را هم تغییر دهید.
- ورود دومرحله‌ای را در تنظیمات حساب خود فعال کنید تا رمز عبور به‌تنهایی برای ورود به حساب شما کافی نباشد.
- مراقب ایمیل‌ها، پیامک‌ها و تماس‌هایی باشید که ادعا می‌کنند از طرف ما هستند. ما هرگز رمز عبور یا کد ورود شما را درخواست نمی‌کنیم. اگر مطمئن نیستید، روی پیوندهای داخل پیام نزنید و خودتان وب‌سایت یا برنامهٔ ما را باز کنید.
{% if advice %}
- {{ advice }}
{% endif %}

راه‌های تماس با ما
{{ contact }}

به‌روزرسانی بعدی
به‌روزرسانی بعدی را تا {{ next_update }} در {{ status_url }} منتشر می‌کنیم.";

const BREACH_GU: &str = "શું થયું
{{ what_happened }}

તમારા માટે આનો અર્થ શું છે
{{ impact }}

અમે શું કરી રહ્યા છીએ
{{ actions }}

{% if remedy %}
અમે તમને શું આપી રહ્યા છીએ
{{ remedy }}

{% endif %}
તમારે શું કરવું જોઈએ
- હમણાં જ તમારો {{ company }} પાસવર્ડ બદલો, અને જ્યાં પણ તમે આ જ પાસવર્ડ વાપરો છો ત્યાં પણ તેને બદલો.
- તમારા એકાઉન્ટ સેટિંગ્સમાં ટુ-ફેક્ટર સાઇન-ઇન ચાલુ કરો, જેથી ફક્ત પાસવર્ડથી કોઈ તમારા એકાઉન્ટમાં પ્રવેશી ન શકે.
- અમારા નામે આવતા ઇમેઇલ, SMS અને ફોન કૉલથી સાવધ રહો. અમે ક્યારેય તમારો પાસવર્ડ કે સાઇન-ઇન કોડ માંગતા નથી. શંકા હોય તો સંદેશમાંની લિંક પર ક્લિક ન કરો: અમારી વેબસાઇટ કે ઍપ જાતે ખોલો.
{% if advice %}
- {{ advice }}
{% endif %}

અમારો સંપર્ક કેવી રીતે કરવો
{{ contact }}

આગલી અપડેટ ક્યારે
અમે {{ next_update }} સુધીમાં {{ status_url }} પર આગલી અપડેટ આપીશું.";

const OUTAGE_EN: &str = "What happened
{{ what_happened }}

What this means for you
{{ impact }}

What we are doing
{{ actions }}

What you should do
{% if advice %}
{{ advice }}
{% else %}
You do not need to do anything. We will let you know when the service is back to normal.
{% endif %}
Please be careful with messages about this disruption that claim to be from us: we will never ask for your password or a sign-in code.

How to reach us
{{ contact }}

When we will update you next
By {{ next_update }}, on {{ status_url }}.";

const OUTAGE_ZH: &str = "发生了什么
{{ what_happened }}

这对您意味着什么
{{ impact }}

我们正在采取的措施
{{ actions }}

您需要做什么
{% if advice %}
{{ advice }}
{% else %}
您无需采取任何行动。服务恢复正常后，我们会通知您。
{% endif %}
请警惕以此次故障为由、自称来自我们的消息：我们绝不会向您索要密码或登录验证码。

如何联系我们
{{ contact }}

下次更新时间
我们将在 {{ next_update }} 之前在 {{ status_url }} 发布下一次更新。";

const OUTAGE_FA: &str = "چه اتفاقی افتاد
{{ what_happened }}

این اختلال چه تأثیری بر شما دارد
{{ impact }}

اقدامات ما
{{ actions }}

چه کاری باید انجام دهید
{% if advice %}
{{ advice }}
{% else %}
لازم نیست کاری انجام دهید. وقتی سرویس به حالت عادی برگشت، به شما خبر می‌دهیم.
{% endif %}
مراقب پیام‌هایی باشید که به بهانهٔ این اختلال ادعا می‌کنند از طرف ما هستند: ما هرگز رمز عبور یا کد ورود شما را درخواست نمی‌کنیم.

راه‌های تماس با ما
{{ contact }}

به‌روزرسانی بعدی
به‌روزرسانی بعدی را تا {{ next_update }} در {{ status_url }} منتشر می‌کنیم.";

const OUTAGE_GU: &str = "શું થયું
{{ what_happened }}

તમારા માટે આનો અર્થ શું છે
{{ impact }}

અમે શું કરી રહ્યા છીએ
{{ actions }}

તમારે શું કરવું જોઈએ
{% if advice %}
{{ advice }}
{% else %}
તમારે કંઈ કરવાની જરૂર નથી. સેવા સામાન્ય થશે ત્યારે અમે તમને જાણ કરીશું.
{% endif %}
આ ખલેલ વિશે અમારા નામે આવતા સંદેશાઓથી સાવધ રહો: અમે ક્યારેય તમારો પાસવર્ડ કે સાઇન-ઇન કોડ માંગતા નથી.

અમારો સંપર્ક કેવી રીતે કરવો
{{ contact }}

આગલી અપડેટ ક્યારે
અમે {{ next_update }} સુધીમાં {{ status_url }} પર આગલી અપડેટ આપીશું.";

const RESOLVED_EN: &str = "What happened
{{ what_happened }}

What this meant for you
{{ impact }}

What we did
{{ actions }}

{% if remedy %}
What we are offering you
{{ remedy }}

{% endif %}
What you should do
{% if advice %}
{{ advice }}
{% else %}
Nothing more is needed. If something still does not work as it should, please tell us.
{% endif %}
Stay alert to messages that claim to be from us: we will never ask for your password or a sign-in code.

How to reach us
{{ contact }}

This is our final update on this incident.{% if next_update %} We will publish a review of what happened by {{ next_update }}.{% endif %}";

const RESOLVED_ZH: &str = "发生了什么
{{ what_happened }}

这对您造成了什么影响
{{ impact }}

我们采取了哪些措施
{{ actions }}

{% if remedy %}
我们为您提供的补救措施
{{ remedy }}

{% endif %}
您需要做什么
{% if advice %}
{{ advice }}
{% else %}
您无需再采取任何行动。如果仍有功能无法正常使用，请告诉我们。
{% endif %}
请继续警惕自称来自我们的消息：我们绝不会向您索要密码或登录验证码。

如何联系我们
{{ contact }}

这是我们关于此次事件的最后一次更新。{% if next_update %}我们将在 {{ next_update }} 之前发布事件回顾报告。{% endif %}";

const RESOLVED_FA: &str = "چه اتفاقی افتاد
{{ what_happened }}

این رخداد چه تأثیری بر شما داشت
{{ impact }}

اقداماتی که انجام دادیم
{{ actions }}

{% if remedy %}
آنچه به شما پیشنهاد می‌کنیم
{{ remedy }}

{% endif %}
چه کاری باید انجام دهید
{% if advice %}
{{ advice }}
{% else %}
کار دیگری لازم نیست. اگر چیزی هنوز درست کار نمی‌کند، لطفاً به ما بگویید.
{% endif %}
همچنان مراقب پیام‌هایی باشید که ادعا می‌کنند از طرف ما هستند: ما هرگز رمز عبور یا کد ورود شما را درخواست نمی‌کنیم.

راه‌های تماس با ما
{{ contact }}

این آخرین به‌روزرسانی ما دربارهٔ این رخداد است.{% if next_update %} گزارش بررسی این رخداد را تا {{ next_update }} منتشر می‌کنیم.{% endif %}";

const RESOLVED_GU: &str = "શું થયું
{{ what_happened }}

તમારા પર તેની શું અસર થઈ
{{ impact }}

અમે શું કર્યું
{{ actions }}

{% if remedy %}
અમે તમને શું આપી રહ્યા છીએ
{{ remedy }}

{% endif %}
તમારે શું કરવું જોઈએ
{% if advice %}
{{ advice }}
{% else %}
હવે વધુ કંઈ કરવાની જરૂર નથી. જો હજુ પણ કંઈક બરાબર કામ ન કરતું હોય, તો કૃપા કરીને અમને જણાવો.
{% endif %}
અમારા નામે આવતા સંદેશાઓથી સાવધ રહેજો: અમે ક્યારેય તમારો પાસવર્ડ કે સાઇન-ઇન કોડ માંગતા નથી.

અમારો સંપર્ક કેવી રીતે કરવો
{{ contact }}

આ ઘટના વિશે આ અમારી છેલ્લી અપડેટ છે.{% if next_update %} શું થયું તેની સમીક્ષા અમે {{ next_update }} સુધીમાં પ્રકાશિત કરીશું.{% endif %}";

pub fn templates() -> Vec<TemplateSpec> {
    let breach: BTreeMap<String, TemplateText> = [
        ("en", text("Security incident at {{ company }}: what happened and what to do", BREACH_EN,
            "{{ company }} security notice: {{ headline }} Please change your password. Details: {{ status_url }}")),
        ("zh", text("{{ company }} 安全事件通知：发生了什么，您需要做什么", BREACH_ZH,
            "{{ company }}安全通知：{{ headline }} 请立即修改密码。{{ status_url }}")),
        ("fa", text("رخداد امنیتی در {{ company }}: چه اتفاقی افتاد و چه باید کرد", BREACH_FA,
            "{{ company }}: {{ headline }} رمز عبور خود را تغییر دهید. {{ status_url }}")),
        ("gu", text("{{ company }} પર સુરક્ષા ઘટના: શું થયું અને તમારે શું કરવું જોઈએ", BREACH_GU,
            "{{ company }}: {{ headline }} તમારો પાસવર્ડ બદલો. {{ status_url }}")),
    ]
    .into_iter()
    .map(|(l, t)| (l.to_owned(), t))
    .collect();
    let outage: BTreeMap<String, TemplateText> = [
        (
            "en",
            text(
                "{{ company }}: {{ incident_title }}",
                OUTAGE_EN,
                "{{ company }}: {{ headline }} Updates: {{ status_url }}",
            ),
        ),
        (
            "zh",
            text(
                "{{ company }}：{{ incident_title }}",
                OUTAGE_ZH,
                "{{ company }}：{{ headline }} 最新进展：{{ status_url }}",
            ),
        ),
        (
            "fa",
            text(
                "{{ company }}: {{ incident_title }}",
                OUTAGE_FA,
                "{{ company }}: {{ headline }} آخرین وضعیت: {{ status_url }}",
            ),
        ),
        (
            "gu",
            text(
                "{{ company }}: {{ incident_title }}",
                OUTAGE_GU,
                "{{ company }}: {{ headline }} તાજી માહિતી: {{ status_url }}",
            ),
        ),
    ]
    .into_iter()
    .map(|(l, t)| (l.to_owned(), t))
    .collect();
    let resolved: BTreeMap<String, TemplateText> = [
        (
            "en",
            text(
                "Resolved: {{ incident_title }}",
                RESOLVED_EN,
                "{{ company }}: resolved. {{ headline }} Details: {{ status_url }}",
            ),
        ),
        (
            "zh",
            text(
                "已解决：{{ incident_title }}",
                RESOLVED_ZH,
                "{{ company }}：问题已解决。{{ headline }} 详情：{{ status_url }}",
            ),
        ),
        (
            "fa",
            text(
                "برطرف شد: {{ incident_title }}",
                RESOLVED_FA,
                "{{ company }}: مشکل برطرف شد. {{ headline }} جزئیات: {{ status_url }}",
            ),
        ),
        (
            "gu",
            text(
                "ઉકેલાઈ ગયું: {{ incident_title }}",
                RESOLVED_GU,
                "{{ company }}: સમસ્યા ઉકેલાઈ ગઈ. {{ headline }} વિગતો: {{ status_url }}",
            ),
        ),
    ]
    .into_iter()
    .map(|(l, t)| (l.to_owned(), t))
    .collect();
    vec![
        TemplateSpec {
            slug: "breach".into(),
            name: "Customer data breach".into(),
            status: IncidentStatus::Identified,
            texts: breach,
        },
        TemplateSpec {
            slug: "outage".into(),
            name: "Service outage".into(),
            status: IncidentStatus::Investigating,
            texts: outage,
        },
        TemplateSpec {
            slug: "resolved".into(),
            name: "Resolved".into(),
            status: IncidentStatus::Resolved,
            texts: resolved,
        },
    ]
}
