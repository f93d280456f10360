//! The privacy operations: retention purge, data requests (export, erase),
//! key rotation, import and redaction, over the command line and the API.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

use frontline::args;
use frontline::intake::{FeedbackInput, Policy, Preparer};
use serde_json::{json, Value};

use crate::helpers::{cli_audit, create_token, json, spawn_app, TestApp};

/// Runs the real binary against the test's database: (exit code, stdout, stderr).
fn frontline(
    env: &BTreeMap<String, String>,
    args: &[&str],
    stdin: Option<&str>,
) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_frontline"))
        .args(args)
        .env_remove("FRONTLINE_DATABASE_URL")
        .env_remove("FRONTLINE_PRIVACY_KEYS")
        .envs(env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run frontline");
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(s) = stdin {
            input.write_all(s.as_bytes()).expect("write stdin");
        }
    }
    let out = child.wait_with_output().expect("frontline finishes");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The number after `label` at the start of a line of command output.
fn count(out: &str, label: &str) -> u64 {
    out.lines()
        .map(str::trim)
        .find_map(|l| {
            let rest = l.strip_prefix(label)?;
            rest.trim_start_matches(':')
                .split_whitespace()
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no {label:?} count in:\n{out}"))
}

async fn post(app: &TestApp, body: Value) -> String {
    let (s, b) = json(
        app.post_json("/api/v1/feedback", &app.admin_token, &body)
            .await,
    )
    .await;
    assert_eq!(s, 201, "{b}");
    b["id"].as_str().expect("id").to_owned()
}

fn with_contact(kind: &str, text: &str, email: &str, phone: Option<&str>) -> Value {
    let mut contact = json!({"name": "Jo Doe", "email": email});
    if let Some(p) = phone {
        contact["phone"] = json!(p);
    }
    let mut body = json!({
        "kind": kind,
        "text": text,
        "contact": contact,
        "consent": {"given": true, "text": "You may contact me about this."},
    });
    if kind == "csat" {
        body["score"] = json!(2);
    }
    body
}

async fn scalar_i64(app: &TestApp, sql: &str, args: Vec<frontline::storage::Value>) -> i64 {
    app.store
        .fetch_optional(sql, args)
        .await
        .expect("query")
        .expect("a row")
        .get::<i64>("n")
        .expect("n")
}

async fn make_old(app: &TestApp, id: &str, days: i64) {
    let at = frontline::storage::now_ms() - days * 86_400_000;
    app.store
        .execute(
            "UPDATE feedback SET received_at = $1 WHERE id = $2",
            args![at, id],
        )
        .await
        .expect("age the row");
}

async fn audit_actions(app: &TestApp, n: i64) -> Vec<(String, String, Value)> {
    app.store
        .audit_page(None, n)
        .await
        .expect("audit")
        .entries
        .into_iter()
        .map(|e| (e.action, e.class, e.detail))
        .collect()
}

#[tokio::test]
async fn purge_removes_exactly_what_is_past_retention_and_dry_run_changes_nothing() {
    let app = spawn_app().await;
    // A: kept raw text (as a survey may), 40 days old: raw text expires.
    let ring = frontline::Config::load_from(None, &app.env)
        .unwrap()
        .key_ring()
        .unwrap();
    let policy = Policy {
        keep_raw_text: true,
        ..Policy::default()
    };
    let item = Preparer::default()
        .prepare(
            FeedbackInput {
                kind: "comment".into(),
                text: Some("Call me on +1 415 555 2671 about the refund".into()),
                contact: Some(frontline::intake::ContactInput {
                    email: Some("ana@example.com".into()),
                    ..Default::default()
                }),
                consent: Some(frontline::intake::ConsentInput {
                    given: true,
                    text: "ok".into(),
                }),
                ..Default::default()
            },
            &policy,
            None,
        )
        .unwrap();
    let a = app
        .store
        .store_feedback(&ring, &[item], cli_audit(), None)
        .await
        .unwrap()[0]
        .id()
        .to_owned();
    // B: contact, 200 days old: contact expires, and with it the person.
    let b = post(&app, with_contact("csat", "Slow", "bo@example.com", None)).await;
    // C: 800 days old: the whole item expires.
    let c = post(&app, json!({"kind": "nps", "score": 9})).await;
    // D: fresh, untouched.
    let d = post(
        &app,
        with_contact("comment", "Fine", "di@example.com", None),
    )
    .await;
    make_old(&app, &a, 40).await;
    make_old(&app, &b, 200).await;
    make_old(&app, &c, 800).await;

    let subjects = |app: &TestApp| {
        let app = app.store.clone();
        async move {
            app.fetch_optional("SELECT COUNT(*) AS n FROM subjects", vec![])
                .await
                .unwrap()
                .unwrap()
                .get::<i64>("n")
                .unwrap()
        }
    };
    assert_eq!(subjects(&app).await, 3);
    let audit_before = app.store.audit_page(None, 1).await.unwrap().entries[0].seq;

    let (code, out, err) = frontline(&app.env, &["purge", "--dry-run"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("dry run"), "{out}");
    assert_eq!(count(&out, "raw_text"), 1, "{out}");
    assert_eq!(count(&out, "contact"), 1, "{out}");
    assert_eq!(count(&out, "feedback"), 1, "{out}");
    assert_eq!(count(&out, "subjects"), 1, "{out}");
    // Nothing changed, nothing audited.
    assert_eq!(subjects(&app).await, 3);
    let row = app.store.feedback(&a).await.unwrap().unwrap();
    assert!(row.raw_text_sealed.is_some());
    assert!(app.store.feedback(&c).await.unwrap().is_some());
    assert_eq!(
        app.store.audit_page(None, 1).await.unwrap().entries[0].seq,
        audit_before
    );

    let (code, out, err) = frontline(&app.env, &["purge"], None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count(&out, "raw_text"), 1, "{out}");
    assert_eq!(count(&out, "contact"), 1, "{out}");
    assert_eq!(count(&out, "feedback"), 1, "{out}");
    assert_eq!(count(&out, "subjects"), 1, "{out}");

    let a_row = app.store.feedback(&a).await.unwrap().unwrap();
    assert!(a_row.raw_text_sealed.is_none(), "raw text purged");
    assert!(a_row.contact_sealed.is_some(), "contact still in retention");
    assert!(a_row.subject_id.is_some());
    let b_row = app.store.feedback(&b).await.unwrap().unwrap();
    assert!(b_row.contact_sealed.is_none() && b_row.consent_text.is_none());
    assert!(b_row.consent_at.is_none());
    assert!(b_row.subject_id.is_none(), "its subject went");
    assert_eq!(b_row.score, Some(2), "the anonymous feedback stays");
    assert!(app.store.feedback(&c).await.unwrap().is_none());
    let d_row = app.store.feedback(&d).await.unwrap().unwrap();
    assert!(d_row.contact_sealed.is_some() && d_row.subject_id.is_some());
    assert_eq!(subjects(&app).await, 2);
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT COUNT(*) AS n FROM subject_index WHERE subject_id NOT IN (SELECT id FROM subjects)",
            vec![]
        )
        .await,
        0
    );

    let entries = audit_actions(&app, 4).await;
    let mut classes: Vec<&str> = entries
        .iter()
        .map(|(action, class, _)| {
            assert_eq!(action, "retention.purge");
            class.as_str()
        })
        .collect();
    classes.sort_unstable();
    assert_eq!(classes, ["contact", "contact", "feedback", "raw_text"]);
    let page = app.store.audit_page(None, 4).await.unwrap();
    assert!(page.entries.iter().all(|e| e.actor == "cli"));
    assert_eq!(page.entries[3].seq, audit_before + 1);

    // Again: nothing left to purge, nothing audited.
    let (code, out, _) = frontline(&app.env, &["purge"], None);
    assert_eq!(code, 0);
    assert_eq!(count(&out, "raw_text"), 0, "{out}");
    assert_eq!(count(&out, "subjects"), 0, "{out}");
    assert_eq!(
        app.store.audit_page(None, 1).await.unwrap().entries[0].seq,
        audit_before + 4
    );
    let (code, out, err) = frontline(&app.env, &["audit", "verify"], None);
    assert_eq!(code, 0, "{out}{err}");
    app.stop().await;
}

#[tokio::test]
async fn a_person_is_exported_and_erased_by_email_or_phone() {
    let app = spawn_app().await;
    let jo1 = post(
        &app,
        with_contact(
            "csat",
            "Refund slow",
            "Jo@Example.com",
            Some("(415) 555-2671"),
        ),
    )
    .await;
    let jo2 = post(
        &app,
        with_contact("comment", "Still waiting", "jo@example.com", None),
    )
    .await;
    let other = post(
        &app,
        with_contact("comment", "Great support", "max@example.com", None),
    )
    .await;
    let anon = post(&app, json!({"kind": "nps", "score": 3})).await;

    // Over the command line, by email in any case.
    let (code, out, err) = frontline(
        &app.env,
        &["subject", "export", "--email", "JO@example.COM"],
        None,
    );
    assert_eq!(code, 0, "{err}");
    let export: Value = serde_json::from_str(&out).expect("JSON export");
    assert!(export["subject_id"].as_str().unwrap().starts_with("sbj_"));
    let items = export["items"].as_array().unwrap();
    let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
    assert_eq!(ids.len(), 2, "{export}");
    assert!(ids.contains(&jo1.as_str()) && ids.contains(&jo2.as_str()));
    let first = items.iter().find(|i| i["id"] == jo1.as_str()).unwrap();
    assert_eq!(first["contact"]["email"], "jo@example.com");
    assert_eq!(first["contact"]["phone"], "+14155552671");
    assert_eq!(first["contact"]["name"], "Jo Doe");
    assert_eq!(first["consent_text"], "You may contact me about this.");
    assert!(first["consent_at"].is_string());
    assert_eq!(first["text"], "Refund slow");
    assert_eq!(first["score"], 2);

    // Over the API, by phone written the local way.
    let (s, body) = json(
        app.post_json(
            "/api/v1/subjects/export",
            &app.admin_token,
            &json!({"phone": "415-555-2671", "region": "US"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["subject_id"], export["subject_id"]);
    assert_eq!(body["items"].as_array().unwrap().len(), 2);
    assert!(body.to_string().contains("jo@example.com"));

    // Bad requests are 400 and name the field; strangers are 404.
    for bad in [
        json!({}),
        json!({"email": "not-an-address"}),
        json!({"email": "jo@example.com", "phone": "+14155552671"}),
        json!({"phone": "12"}),
        json!({"emial": "jo@example.com"}),
    ] {
        let (s, b) = json(
            app.post_json("/api/v1/subjects/export", &app.admin_token, &bad)
                .await,
        )
        .await;
        assert_eq!(s, 400, "{bad} -> {b}");
        assert!(!b.to_string().contains("jo@example"), "{b}");
    }
    let (s, b) = json(
        app.post_json(
            "/api/v1/subjects/export",
            &app.admin_token,
            &json!({"email": "nobody@example.com"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 404, "{b}");
    assert_eq!(b["code"], "not_found");
    assert!(!b.to_string().contains("nobody@"), "{b}");

    // A CX agent may look (contact:view) but not erase (contact:delete).
    let agent = create_token(&app.store, "cx_agent").await;
    let (s, _) = json(
        app.post_json(
            "/api/v1/subjects/export",
            &agent,
            &json!({"email": "jo@example.com"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200);
    let (s, b) = json(
        app.post_json(
            "/api/v1/subjects/erase",
            &agent,
            &json!({"email": "jo@example.com"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 403, "{b}");
    assert!(b["detail"].as_str().unwrap().contains("contact:delete"));
    let (s, _) = json(
        app.post_json("/api/v1/subjects/erase", &app.admin_token, &json!({}))
            .await,
    )
    .await;
    assert_eq!(s, 400);

    // Erase Jo over the API: feedback kept anonymous.
    let (s, report) = json(
        app.post_json(
            "/api/v1/subjects/erase",
            &app.admin_token,
            &json!({"email": "jo@example.com"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["subject_id"], export["subject_id"]);
    assert_eq!(report["feedback_anonymised"], 2);
    assert_eq!(report["feedback_deleted"], 0);
    assert_eq!(report["identifiers_removed"], 2, "email and phone");
    assert_eq!(report["key_deleted"], true);
    for id in [&jo1, &jo2] {
        let row = app.store.feedback(id).await.unwrap().unwrap();
        assert!(row.contact_sealed.is_none() && row.raw_text_sealed.is_none());
        assert!(row.consent_text.is_none() && row.consent_at.is_none());
        assert!(row.subject_id.is_none());
        assert!(row.text.is_some(), "the redacted text stays");
    }
    let (_, item) = json(
        app.get(&format!("/api/v1/feedback/{jo1}"), &app.admin_token)
            .await,
    )
    .await;
    assert!(item["contact"].is_null(), "{item}");
    assert_eq!(item["score"], 2);
    // Afterwards Jo is not found, by email or phone.
    let (code, out, err) = frontline(
        &app.env,
        &["subject", "export", "--email", "jo@example.com"],
        None,
    );
    assert_eq!(code, 1, "{out}");
    assert!(err.contains("no one with that email or phone"), "{err}");
    assert!(!err.contains("jo@example"), "{err}");
    let (s, _) = json(
        app.post_json(
            "/api/v1/subjects/export",
            &app.admin_token,
            &json!({"phone": "+1 415 555 2671"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 404);
    let (code, _, _) = frontline(
        &app.env,
        &["subject", "erase", "--phone", "4155552671"],
        None,
    );
    assert_eq!(code, 1);

    // Erase Max over the command line, feedback and all.
    let (code, out, err) = frontline(
        &app.env,
        &[
            "subject",
            "erase",
            "--email",
            "max@example.com",
            "--delete-feedback",
        ],
        None,
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(count(&out, "feedback deleted"), 1, "{out}");
    assert_eq!(count(&out, "identifiers removed"), 1, "{out}");
    assert!(app.store.feedback(&other).await.unwrap().is_none());
    assert!(app.store.feedback(&anon).await.unwrap().is_some());
    assert_eq!(
        scalar_i64(&app, "SELECT COUNT(*) AS n FROM subjects", vec![]).await,
        0
    );

    // Audited by subject id, never by the address or number.
    let page = app.store.audit_page(None, 50).await.unwrap();
    let requests: Vec<_> = page
        .entries
        .iter()
        .filter(|e| e.action.starts_with("subject."))
        .collect();
    let actions: Vec<&str> = requests.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "subject.erase",
            "subject.erase",
            "subject.export",
            "subject.export",
            "subject.export"
        ]
    );
    for e in &requests {
        assert_eq!(e.class, "contact");
        assert!(e.record.as_deref().unwrap().starts_with("sbj_"));
        let text = serde_json::to_string(e).unwrap();
        assert!(
            !text.contains("@example.com") && !text.contains("4155552671"),
            "{text}"
        );
    }
    assert_eq!(requests[0].actor, "cli");
    assert!(requests[1].actor.starts_with("tok_"));
    app.stop().await;
}

#[tokio::test]
async fn a_person_under_two_subjects_is_exported_and_erased_whole() {
    let app = spawn_app().await;
    let consent = json!({"given": true, "text": "ok"});
    // An email alone, a phone alone, then both together: two subjects.
    for contact in [
        json!({"email": "lee@example.com"}),
        json!({"phone": "+14155552690"}),
        json!({"email": "lee@example.com", "phone": "+14155552690"}),
    ] {
        post(
            &app,
            json!({"kind": "comment", "text": "Hi", "contact": contact, "consent": consent}),
        )
        .await;
    }
    assert_eq!(
        scalar_i64(&app, "SELECT COUNT(*) AS n FROM subjects", vec![]).await,
        2
    );
    let (s, body) = json(
        app.post_json(
            "/api/v1/subjects/export",
            &app.admin_token,
            &json!({"email": "lee@example.com"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(body["subject_ids"].as_array().unwrap().len(), 2, "{body}");
    assert_eq!(body["items"].as_array().unwrap().len(), 3, "{body}");
    let (s, report) = json(
        app.post_json(
            "/api/v1/subjects/erase",
            &app.admin_token,
            &json!({"email": "lee@example.com"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["subjects_erased"], 2);
    assert_eq!(report["feedback_anonymised"], 3);
    assert_eq!(report["identifiers_removed"], 2);
    let (s, _) = json(
        app.post_json(
            "/api/v1/subjects/export",
            &app.admin_token,
            &json!({"phone": "+14155552690"}),
        )
        .await,
    )
    .await;
    assert_eq!(s, 404);
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT COUNT(*) AS n FROM feedback WHERE contact_sealed IS NOT NULL",
            vec![]
        )
        .await,
        0
    );
    app.stop().await;
}

#[tokio::test]
async fn keys_rotate_rewraps_every_subject_and_contacts_still_open() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for who in ["a", "b", "c"] {
        ids.push(
            post(
                &app,
                with_contact("comment", "Hello", &format!("{who}@example.com"), None),
            )
            .await,
        );
    }
    let (code, out, err) = frontline(&app.env, &["keys", "status"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("current key version: 1"), "{out}");
    assert_eq!(count(&out, "version   1"), 3, "{out}");

    let (code, out, err) = frontline(&app.env, &["keys", "rotate"], None);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("added key version 2"), "{out}");
    assert!(out.contains("re-wrapped 3 subjects"), "{out}");
    assert_eq!(
        scalar_i64(
            &app,
            "SELECT COUNT(*) AS n FROM subjects WHERE key_version = 2",
            vec![]
        )
        .await,
        3
    );
    let (_, out, _) = frontline(&app.env, &["keys", "status"], None);
    assert!(out.contains("current key version: 2"), "{out}");
    assert_eq!(count(&out, "version   1"), 0, "{out}");
    assert_eq!(count(&out, "version   2"), 3, "{out}");

    // The running server reads contacts wrapped under the new version...
    for (id, who) in ids.iter().zip(["a", "b", "c"]) {
        let (s, item) = json(
            app.get(&format!("/api/v1/feedback/{id}"), &app.admin_token)
                .await,
        )
        .await;
        assert_eq!(s, 200, "{item}");
        assert_eq!(item["contact"]["email"], format!("{who}@example.com"));
    }
    // ...and new people get keys under it.
    let id = post(
        &app,
        with_contact("comment", "After", "d@example.com", None),
    )
    .await;
    let row = app.store.feedback(&id).await.unwrap().unwrap();
    let v = scalar_i64(
        &app,
        "SELECT key_version AS n FROM subjects WHERE id = $1",
        args![row.subject_id.unwrap()],
    )
    .await;
    assert_eq!(v, 2);
    let audit = audit_actions(&app, 10).await;
    assert!(audit
        .iter()
        .any(|(a, _, d)| a == "keys.rewrap" && d["subjects"] == 3));

    // Keys given in the configuration are not the command's to change.
    let mut env = app.env.clone();
    let k = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    env.insert("FRONTLINE_PRIVACY_KEYS".into(), format!("index={k};1={k}"));
    let (code, _, err) = frontline(&env, &["keys", "rotate"], None);
    assert_eq!(code, 1);
    assert!(
        err.contains("privacy.keys") && err.contains("add a version"),
        "{err}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_csv_import_keeps_good_rows_reports_bad_ones_by_line_and_never_duplicates() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.csv");
    std::fs::write(
        &file,
        "ID,Kind,Score,Comment,Email,Consent,Created_At,Component\n\
         1,csat,4,\"Card declined, call me at +1 415 555 2671\",ana@example.com,yes,2026-01-05 10:00:00,payments\n\
         2,csat,9,Too high,,,2026-01-05 10:00:00,\n\
         3,nps,8,Bad date,,,05/01/2026,\n\
         1,csat,4,The same row again,ana@example.com,yes,2026-01-05 10:00:00,payments\n\
         4,comment,,\"Login fails, write to bo@example.com\",bo@example.com,no,2026-01-06T09:00:00Z,login\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let args = ["import", path, "--consent-text", "You may contact me."];
    let (code, out, err) = frontline(&app.env, &args, None);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(count(&out, "read"), 5, "{out}");
    assert_eq!(count(&out, "imported"), 2, "{out}");
    assert_eq!(count(&out, "duplicates"), 1, "{out}");
    assert_eq!(count(&out, "rejected"), 2, "{out}");
    assert!(err.contains("line 3: rejected: score"), "{err}");
    assert!(err.contains("line 4: rejected: occurred_at"), "{err}");
    assert!(
        !err.contains("line 2:") && !err.contains("line 6:"),
        "{err}"
    );
    assert!(
        !err.contains("@example.com"),
        "no personal data in errors: {err}"
    );

    let row = |key: &'static str| {
        let store = app.store.clone();
        async move {
            let r = store
                .fetch_optional(
                    "SELECT id FROM feedback WHERE idempotency_key = $1",
                    args![key],
                )
                .await
                .unwrap()
                .unwrap_or_else(|| panic!("{key} stored"));
            let id: String = r.get("id").unwrap();
            store.feedback(&id).await.unwrap().unwrap()
        }
    };
    let one = row("import:1").await;
    assert_eq!(one.kind, "csat");
    assert_eq!(one.score, Some(4));
    assert_eq!(one.channel, "import");
    assert_eq!(one.component.as_deref(), Some("payments"));
    let text = one.text.clone().unwrap();
    assert!(text.contains("[PHONE]") && !text.contains("555"), "{text}");
    assert_eq!(
        one.occurred_at,
        chrono::DateTime::parse_from_rfc3339("2026-01-05T10:00:00Z")
            .unwrap()
            .timestamp_millis()
    );
    assert!(
        one.contact_sealed.is_some(),
        "consent and consent text given"
    );
    assert_eq!(one.consent_text.as_deref(), Some("You may contact me."));
    let four = row("import:4").await;
    assert!(four.text.unwrap().contains("[EMAIL]"));
    assert!(four.contact_sealed.is_none(), "no consent: no contact");
    // The contact opens for those allowed to see it.
    let (_, item) = json(
        app.get(&format!("/api/v1/feedback/{}", one.id), &app.admin_token)
            .await,
    )
    .await;
    assert_eq!(item["contact"]["email"], "ana@example.com");

    // Once more: nothing new.
    let (code, out, err) = frontline(&app.env, &args, None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count(&out, "imported"), 0, "{out}");
    assert_eq!(count(&out, "duplicates"), 3, "{out}");
    assert_eq!(count(&out, "rejected"), 2, "{out}");
    assert_eq!(
        scalar_i64(&app, "SELECT COUNT(*) AS n FROM feedback", vec![]).await,
        2
    );
    // One audit entry per batch, by the command line.
    let imports: Vec<_> = app
        .store
        .audit_page(None, 50)
        .await
        .unwrap()
        .entries
        .into_iter()
        .filter(|e| e.action == "feedback.import")
        .collect();
    assert_eq!(imports.len(), 2);
    assert!(imports.iter().all(|e| e.actor == "cli"));

    // A file of nothing but bad rows fails.
    let bad = dir.path().join("bad.ndjson");
    std::fs::write(
        &bad,
        "{\"kind\": \"nps\", \"score\": 11}\n\n{\"kind\": \"csat\"}\n",
    )
    .unwrap();
    let (code, out, err) = frontline(&app.env, &["import", bad.to_str().unwrap()], None);
    assert_eq!(code, 1, "{out}");
    assert!(
        err.contains("line 1: rejected") && err.contains("line 3: rejected"),
        "{err}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_zendesk_satisfaction_export_imports_as_csat_without_requesters() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ratings.json");
    std::fs::write(
        &file,
        json!([
            {"id": 101, "score": "good", "comment": "Quick fix", "created_at": "2026-03-01T10:00:00Z",
             "ticket_id": 555, "requester_id": 9, "requester_email": "req@example.com"},
            {"id": 102, "score": "bad", "comment": "", "created_at": "2026-03-02 11:00:00", "ticket_id": 556},
            {"id": 103, "score": "offered", "ticket_id": 557},
            {"id": 104, "score": "meh", "ticket_id": 558}
        ])
        .to_string(),
    )
    .unwrap();
    let args = ["import", file.to_str().unwrap(), "--mapping", "zendesk"];
    let (code, out, err) = frontline(&app.env, &args, None);
    assert_eq!(code, 0, "{err}");
    assert_eq!(count(&out, "read"), 4, "{out}");
    assert_eq!(count(&out, "imported"), 2, "{out}");
    assert_eq!(count(&out, "rejected"), 1, "{out}");
    assert_eq!(count(&out, "skipped"), 1, "{out}");
    assert!(err.contains("item 2: skipped"), "{err}");
    assert!(err.contains("item 3: rejected: score"), "{err}");
    let rows = app
        .store
        .fetch_all(
            "SELECT idempotency_key, kind, score, text, touchpoint, subject_id FROM feedback ORDER BY idempotency_key",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 2);
    let get = |i: usize, c: &str| rows[i].get::<Option<String>>(c).unwrap();
    assert_eq!(get(0, "idempotency_key").as_deref(), Some("zendesk:101"));
    assert_eq!(rows[0].get::<Option<i64>>("score").unwrap(), Some(5));
    assert_eq!(get(0, "text").as_deref(), Some("Quick fix"));
    assert_eq!(get(0, "touchpoint").as_deref(), Some("ticket:555"));
    assert_eq!(get(0, "kind").as_deref(), Some("csat"));
    assert!(
        get(0, "subject_id").is_none(),
        "requesters are not imported"
    );
    assert_eq!(rows[1].get::<Option<i64>>("score").unwrap(), Some(1));
    assert!(get(1, "text").is_none());
    let (code, out, _) = frontline(&app.env, &args, None);
    assert_eq!(code, 0);
    assert_eq!(count(&out, "duplicates"), 2, "{out}");
    app.stop().await;
}

#[test]
fn redact_filters_standard_input() {
    let env = BTreeMap::new();
    let (code, out, err) = frontline(
        &env,
        &["redact"],
        Some("Mail ana@example.com or call +1 415 555 2671"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, "Mail [EMAIL] or call [PHONE]");
    let (code, out, err) = frontline(&env, &["redact", "--json"], Some("Mail ana@example.com"));
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["text"], "Mail [EMAIL]");
    assert_eq!(v["findings"][0]["kind"], "email");
    assert_eq!(v["findings"][0]["start"], 5);
    assert_eq!(v["findings"][0]["end"], 20);
    assert!(v["findings"][0]["confidence"].as_f64().unwrap() > 0.5);
}
