//! Property tests: whatever a stranger sends, the parsers answer with a
//! value or an error, never a panic, and what they accept holds its promise.

use frontline::domain::feedback::{
    parse_label, parse_language, parse_text, Contact, FeedbackKind, Score, MAX_TEXT_CHARS,
};
use frontline::domain::user::Email;
use frontline::domain::Grant;
use frontline::search::normalise;
use proptest::prelude::*;

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 @.+\\-_:/]{0,40}",
        "[\\u{0600}-\\u{06FF}\\u{200C} ]{0,30}",
        "[\\u{0A80}-\\u{0AFF} ]{0,30}",
        "[\\u{4E00}-\\u{4FFF}\\u{FF01}-\\u{FF5E}\\u{3000}]{0,30}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn normalising_twice_changes_nothing(s in any_text()) {
        let once = normalise(&s);
        prop_assert_eq!(normalise(&once), once.clone());
        prop_assert!(!once.starts_with(' ') && !once.ends_with(' '));
    }

    #[test]
    fn accepted_text_is_trimmed_bounded_and_clean(s in any_text()) {
        if let Ok(t) = parse_text(&s) {
            prop_assert!(!t.is_empty());
            prop_assert!(t.chars().count() <= MAX_TEXT_CHARS);
            prop_assert!(t.chars().all(|c| !c.is_control() || c == '\n' || c == '\t'));
        }
    }

    #[test]
    fn accepted_labels_are_short_and_plain(s in any_text()) {
        if let Ok(l) = parse_label("component", &s) {
            prop_assert!(!l.is_empty() && l.chars().count() <= 64);
            prop_assert!(!l.contains('<') && !l.contains('"'));
        }
    }

    #[test]
    fn scores_are_in_range_or_refused(v in any::<i64>(), k in 0usize..6) {
        let kind = FeedbackKind::ALL[k];
        match (Score::parse(kind, v), kind.range()) {
            (Ok(s), Some((lo, hi))) => prop_assert!((lo..=hi).contains(&s.get())),
            (Ok(_), None) => prop_assert!(false, "free text has no score"),
            (Err(_), Some((lo, hi))) => prop_assert!(v < i64::from(lo) || v > i64::from(hi)),
            (Err(_), None) => {}
        }
    }

    #[test]
    fn contacts_and_emails_never_panic(a in any_text(), b in any_text(), c in any_text()) {
        let _ = Contact::parse(Some(&a), Some(&b), Some(&c), "IR");
        let _ = Email::parse(&a);
        let _ = parse_language(&a);
        let _ = a.parse::<Grant>();
    }

    #[test]
    fn grants_round_trip(class in 0usize..11, action in 0usize..4) {
        let g = Grant::new(frontline::domain::DataClass::ALL[class], frontline::domain::Action::ALL[action]);
        prop_assert_eq!(g.to_string().parse::<Grant>().unwrap(), g);
    }
}
