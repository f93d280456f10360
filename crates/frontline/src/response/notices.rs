//! Notices from templates: sandboxed minijinja (no loader, so no files or
//! includes; a fuel budget, so no runaway loops), one variant per language,
//! and what each channel shows of a variant.

use std::collections::{BTreeMap, HashSet};

use minijinja::Environment;
use serde::Serialize;

use crate::domain::response::{
    language_dir, FieldText, SmsEncoding, TemplateText, NOTICE_LANGUAGES, OPTIONAL_FIELDS,
    REQUIRED_FIELDS,
};
use crate::domain::DomainError;
use crate::storage::response::{NoticeTemplate, UpdateVariant};

/// What every template may use besides the fields.
const CONTEXT_NAMES: &[&str] = &["company", "incident_title", "status_url"];

/// Every name a template may use: the context, then the required and the
/// optional fields, in that order.
pub fn template_names() -> impl Iterator<Item = &'static str> {
    CONTEXT_NAMES
        .iter()
        .chain(REQUIRED_FIELDS)
        .chain(OPTIONAL_FIELDS)
        .copied()
}

/// The longest a rendered notice may be (as an update's body).
const MAX_BODY: usize = 5_000;

fn sandbox() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_fuel(Some(50_000));
    env.set_recursion_limit(16);
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    env
}

/// What a template is rendered about.
#[derive(Debug, Clone)]
pub struct NoticeContext {
    pub company: String,
    pub incident_title: String,
    pub status_url: String,
    /// When the next update is due, already formatted; used when the
    /// fields do not say.
    pub next_update: Option<String>,
}

/// "2026-12-01 10:30 UTC": the same unambiguous form in every language.
pub fn format_due(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
        .unwrap_or_default()
}

fn template_error(field: String, e: &minijinja::Error) -> DomainError {
    let reason = match e.line() {
        Some(line) => format!("line {line}: {}", e.kind()),
        None => e.kind().to_string(),
    };
    DomainError::Invalid {
        field: "texts",
        reason: format!("{field}: {reason}"),
    }
}

/// Checks a template's texts: known languages, every part compiles, uses
/// only known names, and renders with sample fields.
pub fn check_texts(texts: &BTreeMap<String, TemplateText>) -> Result<(), DomainError> {
    if texts.is_empty() {
        return Err(DomainError::invalid("texts", "give at least one language"));
    }
    let env = sandbox();
    let known: HashSet<&str> = template_names().collect();
    let sample: BTreeMap<&str, &str> = known.iter().map(|k| (*k, "sample")).collect();
    for (lang, t) in texts {
        crate::domain::response::parse_notice_language(lang)?;
        for (part, src, max) in [
            ("subject", &t.subject, 500),
            ("body", &t.body, 20_000),
            ("sms", &t.sms, 1_000),
        ] {
            let name = format!("{lang}.{part}");
            if src.trim().is_empty() || src.chars().count() > max {
                return Err(DomainError::invalid(
                    "texts",
                    format!("{name}: 1-{max} characters"),
                ));
            }
            let tpl = env
                .template_from_str(src)
                .map_err(|e| template_error(name.clone(), &e))?;
            let mut unknown: Vec<String> = tpl
                .undeclared_variables(false)
                .into_iter()
                .filter(|v| !known.contains(v.as_str()))
                .collect();
            unknown.sort();
            if let Some(u) = unknown.first() {
                return Err(DomainError::invalid(
                    "texts",
                    format!(
                        "{name}: unknown name {u:?}; use {}",
                        template_names().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
            tpl.render(&sample)
                .map_err(|e| template_error(name.clone(), &e))?;
        }
    }
    Ok(())
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Cuts `text` so that it takes at most `budget` units in `enc`, ending it
/// with an ellipsis the encoding can carry.
fn cut(text: &str, budget: usize, enc: SmsEncoding) -> String {
    if enc.length(text) <= budget {
        return text.to_owned();
    }
    let ellipsis = match enc {
        SmsEncoding::Gsm7 => "...",
        SmsEncoding::Ucs2 => "…",
    };
    let room = budget.saturating_sub(enc.length(ellipsis));
    let mut out = String::new();
    for c in text.chars() {
        let mut next = out.clone();
        next.push(c);
        if enc.length(&next) > room {
            break;
        }
        out = next;
    }
    let trimmed = out.trim_end();
    format!("{trimmed}{ellipsis}")
}

/// Renders one language of a template with the fields.
fn render_one(
    env: &Environment<'_>,
    lang: &str,
    t: &TemplateText,
    fields: &BTreeMap<String, FieldText>,
    ctx: &NoticeContext,
    resolved: bool,
) -> Result<UpdateVariant, DomainError> {
    let mut values: BTreeMap<&str, String> = BTreeMap::new();
    values.insert("company", ctx.company.clone());
    values.insert("incident_title", ctx.incident_title.clone());
    values.insert("status_url", ctx.status_url.clone());
    for f in REQUIRED_FIELDS {
        let v = fields.get(*f).and_then(|v| v.get(lang)).ok_or_else(|| {
            DomainError::invalid("fields", format!("{f}: missing the {lang} text"))
        })?;
        if v.chars().count() > 2_000 {
            return Err(DomainError::invalid(
                "fields",
                format!("{f}: 2,000 characters at most"),
            ));
        }
        values.insert(f, v.to_owned());
    }
    for f in OPTIONAL_FIELDS {
        if let Some(v) = fields.get(*f).and_then(|v| v.get(lang)) {
            if v.chars().count() > 2_000 {
                return Err(DomainError::invalid(
                    "fields",
                    format!("{f}: 2,000 characters at most"),
                ));
            }
            values.insert(f, v.to_owned());
        }
    }
    if !values.contains_key("next_update") && !resolved {
        if let Some(n) = &ctx.next_update {
            values.insert("next_update", n.clone());
        }
    }
    let headline = one_line(
        values
            .get("headline")
            .or(values.get("what_happened"))
            .map_or("", String::as_str),
    );
    let render = |src: &str, values: &BTreeMap<&str, String>, part: &str| {
        env.render_str(src, values)
            .map_err(|e| template_error(format!("{lang}.{part}"), &e))
    };
    let subject = one_line(&render(&t.subject, &values, "subject")?);
    let body = render(&t.body, &values, "body")?.trim().to_owned();
    if body.chars().count() > MAX_BODY {
        return Err(DomainError::invalid(
            "fields",
            format!("the {lang} notice is longer than {MAX_BODY} characters"),
        ));
    }
    // The SMS: the headline shortened so that the whole fits one message.
    let mut sms_values = values.clone();
    // The frame is measured around a one-letter headline, so that the
    // spaces on either side of it count.
    sms_values.insert("headline", "x".into());
    let frame = one_line(&render(&t.sms, &sms_values, "sms")?);
    let enc = SmsEncoding::of(&format!("{frame}{headline}"));
    let budget = (enc.fit_limit() + 1).saturating_sub(enc.length(&frame));
    sms_values.insert("headline", cut(&headline, budget, enc));
    let sms = one_line(&render(&t.sms, &sms_values, "sms")?);
    Ok(UpdateVariant {
        language: lang.to_owned(),
        subject,
        body,
        sms,
    })
}

/// Renders a template into variants: the languages asked for, or else the
/// languages `what_happened` is written in (its first language when it is
/// one text for all).
pub fn render_variants(
    template: &NoticeTemplate,
    languages: Option<&[String]>,
    fields: &BTreeMap<String, FieldText>,
    ctx: &NoticeContext,
    resolved: bool,
) -> Result<Vec<UpdateVariant>, DomainError> {
    for k in fields.keys() {
        if !REQUIRED_FIELDS.contains(&k.as_str()) && !OPTIONAL_FIELDS.contains(&k.as_str()) {
            return Err(DomainError::invalid(
                "fields",
                format!(
                    "unknown field {k:?}; fields: {}",
                    REQUIRED_FIELDS
                        .iter()
                        .chain(OPTIONAL_FIELDS)
                        .copied()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    let env = sandbox();
    let wanted: Vec<String> = match languages {
        Some(list) if !list.is_empty() => {
            let mut out = Vec::new();
            for l in list {
                let l = crate::domain::response::parse_notice_language(l)?;
                if !template.texts.contains_key(l) {
                    return Err(DomainError::invalid(
                        "languages",
                        format!("the template has no {l} text"),
                    ));
                }
                if !out.iter().any(|o: &String| o == l) {
                    out.push(l.to_owned());
                }
            }
            out
        }
        // The languages "what happened" is written in; one text for all
        // languages writes the template's first language only.
        _ => match fields.get("what_happened") {
            Some(FieldText::PerLanguage(m)) => {
                for l in m.keys() {
                    crate::domain::response::parse_notice_language(l)?;
                }
                NOTICE_LANGUAGES
                    .iter()
                    .map(|(l, _)| *l)
                    .filter(|l| m.contains_key(*l) && template.texts.contains_key(*l))
                    .map(str::to_owned)
                    .collect()
            }
            _ => NOTICE_LANGUAGES
                .iter()
                .map(|(l, _)| *l)
                .chain(template.texts.keys().map(String::as_str))
                .find(|l| template.texts.contains_key(*l))
                .map(str::to_owned)
                .into_iter()
                .collect(),
        },
    };
    if wanted.is_empty() {
        let missing: Vec<&str> = REQUIRED_FIELDS
            .iter()
            .copied()
            .filter(|f| !fields.contains_key(*f))
            .collect();
        return Err(DomainError::invalid(
            "fields",
            if missing.is_empty() {
                "no language has all of what_happened, impact, actions and contact".to_owned()
            } else {
                format!("missing {}", missing.join(", "))
            },
        ));
    }
    wanted
        .iter()
        .map(|l| {
            let t = template
                .texts
                .get(l)
                .ok_or_else(|| DomainError::invalid("languages", format!("no {l} text")))?;
            render_one(&env, l, t, fields, ctx, resolved)
        })
        .collect()
}

/// The channels a notice goes out on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    StatusPage,
    Email,
    Sms,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct EmailPreview {
    pub subject: String,
    pub text: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SmsPreview {
    pub text: String,
    pub encoding: SmsEncoding,
    /// Characters as the network counts them (septets or UTF-16 units).
    pub length: usize,
    /// What one message holds in this encoding (160 or 70).
    pub limit: usize,
    pub segments: usize,
}

/// One language of an update as each channel shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Preview {
    pub language: String,
    /// ltr or rtl.
    pub dir: &'static str,
    /// The update as the status page renders it (escaped HTML).
    pub status_page_html: String,
    pub email: EmailPreview,
    pub sms: SmsPreview,
    /// The bodies Slack, Teams and webhook subscribers receive (JSON),
    /// rendered by the function delivery renders them with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slack: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teams: Option<serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webhook: Option<serde_json::Value>,
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The status page's HTML for a notice: paragraphs, line breaks kept.
pub fn status_page_html(lang: &str, title: &str, body: &str) -> String {
    let paragraphs: Vec<String> = body
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let lines: Vec<String> = p.trim().lines().map(escape).collect();
            format!("<p>{}</p>", lines.join("<br>"))
        })
        .collect();
    format!(
        "<article class=\"update\" lang=\"{lang}\" dir=\"{}\"><h3>{}</h3>{}</article>",
        language_dir(lang),
        escape(title),
        paragraphs.join("")
    )
}

/// What a channel shows of one variant: the function delivery renders
/// messages with.
pub fn render_channel(
    v: &UpdateVariant,
    channel: Channel,
    title: &str,
    status_url: &str,
) -> String {
    match channel {
        Channel::StatusPage => status_page_html(&v.language, title, &v.body),
        Channel::Email => format!("{}\n\n-- \n{status_url}\n", v.body),
        Channel::Sms => v.sms.clone(),
    }
}

pub fn preview(v: &UpdateVariant, title: &str, status_url: &str) -> Preview {
    let enc = SmsEncoding::of(&v.sms);
    Preview {
        language: v.language.clone(),
        dir: language_dir(&v.language),
        status_page_html: render_channel(v, Channel::StatusPage, title, status_url),
        email: EmailPreview {
            subject: v.subject.clone(),
            text: render_channel(v, Channel::Email, title, status_url),
        },
        sms: SmsPreview {
            text: v.sms.clone(),
            encoding: enc,
            length: enc.length(&v.sms),
            limit: enc.single_limit(),
            segments: enc.segments(&v.sms),
        },
        slack: None,
        teams: None,
        webhook: None,
    }
}

/// [`preview`], with the Slack, Teams and webhook bodies of `notice` (the
/// update as delivery will tell it) in the variant's language.
pub fn preview_all(
    v: &UpdateVariant,
    status_url: &str,
    notice: &crate::notify::render::Notice,
) -> Preview {
    use crate::notify::render::render;
    let mut p = preview(v, &notice.incident_title, status_url);
    let mut notice = notice.clone();
    notice.body = v.body.clone();
    notice.variants = BTreeMap::from([(v.language.clone(), v.body.clone())]);
    let lang = v.language.as_str();
    use crate::notify::Channel as To;
    p.slack = render(&notice, lang, To::Slack).json;
    p.teams = render(&notice, lang, To::Teams).json;
    p.webhook = render(&notice, lang, To::Webhook).json;
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incident::IncidentStatus;
    use crate::storage::incidents::Time;

    fn builtin(slug: &str) -> NoticeTemplate {
        let spec = crate::response::builtin::templates()
            .into_iter()
            .find(|t| t.slug == slug)
            .unwrap();
        NoticeTemplate {
            id: "tpl_x".into(),
            slug: spec.slug,
            name: spec.name,
            status: spec.status,
            texts: spec.texts,
            builtin: true,
            created_at: Time(0),
            updated_at: Time(0),
        }
    }

    fn ctx() -> NoticeContext {
        NoticeContext {
            company: "status.example.com".into(),
            incident_title: "Sign-in problems".into(),
            status_url: "https://status.example.com/status".into(),
            next_update: Some("2026-12-01 10:30 UTC".into()),
        }
    }

    #[test]
    fn every_builtin_template_compiles_and_names_only_known_fields() {
        for t in crate::response::builtin::templates() {
            check_texts(&t.texts).unwrap_or_else(|e| panic!("{}: {e}", t.slug));
            assert_eq!(t.texts.len(), 4, "{} has en, zh, fa and gu", t.slug);
        }
    }

    #[test]
    fn a_breach_notice_has_every_section_and_the_security_advice() {
        let fields: BTreeMap<String, FieldText> = [
            (
                "what_happened",
                FieldText::Same("Someone copied a customer table.".into()),
            ),
            (
                "impact",
                FieldText::Same("Your email address may be known.".into()),
            ),
            ("actions", FieldText::Same("We closed the hole.".into())),
            ("contact", FieldText::Same("support@example.com".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let vs = render_variants(
            &builtin("breach"),
            Some(&["en".into()]),
            &fields,
            &ctx(),
            false,
        )
        .unwrap();
        let en = &vs[0].body;
        for s in [
            "What happened",
            "What this means for you",
            "What we are doing",
            "What you should do",
            "Change your status.example.com password",
            "two-factor sign-in",
            "claim to be from us",
            "How to reach us",
            "support@example.com",
            "By 2026-12-01 10:30 UTC",
        ] {
            assert!(en.contains(s), "missing {s:?} in\n{en}");
        }
        assert!(
            !en.contains("What we are offering"),
            "no remedy, no section"
        );
        assert!(!en.contains("\n\n\n"), "no blank runs:\n{en}");
    }

    #[test]
    fn sms_fits_one_message_in_each_script() {
        let long = "Between 02:00 and 04:00 UTC someone used stolen staff credentials to read customer names, email addresses and order histories; passwords are stored hashed.";
        let fields: BTreeMap<String, FieldText> = [
            ("what_happened", FieldText::Same(long.into())),
            ("impact", FieldText::Same("x".into())),
            ("actions", FieldText::Same("x".into())),
            ("contact", FieldText::Same("x".into())),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
        let all: Vec<String> = ["en", "zh", "fa", "gu"].map(String::from).to_vec();
        let one = render_variants(&builtin("breach"), None, &fields, &ctx(), false).unwrap();
        assert_eq!(one.len(), 1, "one text for all: the first language only");
        let vs = render_variants(&builtin("breach"), Some(&all), &fields, &ctx(), false).unwrap();
        assert_eq!(vs.len(), 4);
        for v in &vs {
            let p = preview(v, "t", "https://status.example.com/status");
            let parts = if p.sms.encoding == SmsEncoding::Gsm7 {
                1
            } else {
                2
            };
            assert_eq!(p.sms.segments, parts, "{}: {:?}", v.language, p.sms);
            assert!(p.sms.text.ends_with("https://status.example.com/status"));
        }
        assert_eq!(preview(&vs[0], "t", "u").sms.encoding, SmsEncoding::Gsm7);
        assert_eq!(preview(&vs[2], "t", "u").sms.encoding, SmsEncoding::Ucs2);
        assert_eq!(preview(&vs[2], "t", "u").dir, "rtl");
    }

    #[test]
    fn templates_cannot_reach_outside_or_run_forever() {
        let with_body = |body: &str| {
            let mut texts = builtin("outage").texts;
            if let Some(en) = texts.get_mut("en") {
                en.body = body.into();
            }
            check_texts(&texts)
        };
        assert!(with_body("{% include 'x' %}").is_err());
        let e = with_body("{{ secret }}").unwrap_err().to_string();
        assert!(e.contains("unknown name"), "{e}");
        assert!(
            with_body(
                "{% for a in range(10000) %}{% for b in range(10000) %}x{% endfor %}{% endfor %}"
            )
            .is_err(),
            "out of fuel"
        );
        let _ = IncidentStatus::Resolved;
    }
}
