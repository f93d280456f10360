//! Whatever the input: no panic, spans on char boundaries, in order and not
//! overlapping, and the redacted text is the original with exactly the
//! found spans replaced.

use frontline_pii::{Redacted, Redactor};
use proptest::prelude::*;

/// Pieces that look like PII or nearly so, and the separators and scripts
/// around them, so that generated texts exercise the detectors and not
/// only the fast path.
const PIECES: &[&str] = &[
    "a@b.co",
    "@",
    ".",
    "-",
    " ",
    "+",
    "(",
    ")",
    "/",
    ":",
    "://",
    "?token=",
    "https://u:p@h.io/",
    "4111 1111 1111 1111",
    "4111111111111111",
    "13812345678",
    "+86 ",
    "0912 345 6789",
    "۰۹۱۲",
    "٣٤٥",
    "૯૮૭૬૫",
    "९१",
    "１３８",
    "－",
    "\u{3000}",
    "11010519491231002X",
    "0499370899",
    "4991 1866 5246",
    "ABCPE1234F",
    "AB 12 34 56 C",
    "078-05-1120",
    "DE89 3704 0044 0532 0130 00",
    "192.168.1.1",
    "2001:db8::1",
    "::",
    "AKIAIOSFODNN7EXAMPLE",
    "ghp_",
    "xoxb-",
    "sk-",
    "eyJhbGciOiJIUzI1NiJ9.",
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----END RSA PRIVATE KEY-----",
    "电话",
    "phone ",
    "تلفن ",
    "ફોન ",
    "订单",
    "order #",
    "谢谢",
    "است",
    "\u{200c}",
    "X",
    "x",
];

fn text_strategy() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        3 => proptest::sample::select(PIECES).prop_map(str::to_owned),
        1 => any::<String>(),
        1 => "[0-9 ۰-۹٠-٩૦-૯०-९０-９.()+/-]{1,20}",
    ];
    proptest::collection::vec(piece, 0..12).prop_map(|v| v.concat())
}

fn check(text: &str, out: &Redacted) {
    let mut rebuilt = String::new();
    let mut pos = 0;
    for f in &out.findings {
        assert!(f.start < f.end, "empty span {f:?}");
        assert!(pos <= f.start, "overlap or disorder at {f:?}");
        assert!(
            text.is_char_boundary(f.start) && text.is_char_boundary(f.end),
            "{f:?}"
        );
        assert!((0.0..=1.0).contains(&f.confidence), "{f:?}");
        rebuilt.push_str(&text[pos..f.start]);
        rebuilt.push_str(f.kind.placeholder());
        pos = f.end;
    }
    rebuilt.push_str(&text[pos..]);
    assert_eq!(rebuilt, out.text);
    // No detected value survives, unless the same characters also occur
    // elsewhere in the input outside any finding.
    for f in &out.findings {
        let value = &text[f.range()];
        if value.chars().count() >= 6 && text.matches(value).count() == 1 {
            assert!(
                !out.text.contains(value),
                "{value:?} left in {:?}",
                out.text
            );
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn redact_never_panics_and_spans_are_sound(text in text_strategy()) {
        let r = Redactor::new();
        let out = r.redact(&text);
        check(&text, &out);
        prop_assert_eq!(r.find(&text), out.findings);
    }

    #[test]
    fn arbitrary_strings(text in any::<String>()) {
        let out = Redactor::new().redact(&text);
        check(&text, &out);
    }

    #[test]
    fn arbitrary_bytes_as_lossy_utf8(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let text = String::from_utf8_lossy(&bytes);
        let out = Redactor::new().redact(&text);
        check(&text, &out);
    }
}
