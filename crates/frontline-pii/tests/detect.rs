//! Behaviour of each detector, positive and negative, in several languages
//! and digit scripts.

use frontline_pii::{Config, ConfigError, EntityKind, Finding, Redactor};
use EntityKind::*;

fn redactor() -> Redactor {
    Redactor::new()
}

/// The (kind, matched text) pairs found in `text`.
fn found(text: &str) -> Vec<(EntityKind, &str)> {
    redactor()
        .find(text)
        .into_iter()
        .map(|f| (f.kind, &text[f.range()]))
        .collect()
}

fn assert_one(text: &str, kind: EntityKind, value: &str) {
    assert_eq!(found(text), vec![(kind, value)], "in {text:?}");
}

fn assert_none(text: &str) {
    assert_eq!(found(text), vec![], "in {text:?}");
}

#[test]
fn email_in_running_text_of_any_language() {
    assert_one(
        "write to jane.doe+cx@example.co.uk please",
        Email,
        "jane.doe+cx@example.co.uk",
    );
    assert_one(
        "我的邮箱是zhang.wei@example.cn谢谢",
        Email,
        "zhang.wei@example.cn",
    );
    assert_one(
        "ایمیل من ali.rezaei@mail.ir است",
        Email,
        "ali.rezaei@mail.ir",
    );
    assert_none("meet me @ the office, or @home");
    assert_none("user@localhost is not an address");
}

#[test]
fn phones_of_each_region_and_international_form() {
    assert_one("我的电话是13812345678", Phone, "13812345678");
    assert_one("手机：138-1234-5678", Phone, "138-1234-5678");
    assert_one("call +86 138 1234 5678 now", Phone, "+86 138 1234 5678");
    assert_one("شماره من ۰۹۱۲ ۳۴۵ ۶۷۸۹ است", Phone, "۰۹۱۲ ۳۴۵ ۶۷۸۹");
    assert_one("تلفن: ٠٩١٢٣٤٥٦٧٨٩", Phone, "٠٩١٢٣٤٥٦٧٨٩");
    assert_one(
        "reach me at (+98) 21 8888 7777",
        Phone,
        "(+98) 21 8888 7777",
    );
    assert_one("મારો ફોન નંબર ૯૮૭૬૫ ૪૩૨૧૦ છે", Phone, "૯૮૭૬૫ ૪૩૨૧૦");
    assert_one("मेरा नंबर +९१ ९८७६५ ४३२१० है", Phone, "+९१ ९८७६५ ४३२१०");
    assert_one("call me on (415) 555-2671", Phone, "(415) 555-2671");
    assert_one("Phone: 415.555.2671", Phone, "415.555.2671");
    assert_one("ring 07700 900123 after 5", Phone, "07700 900123");
    assert_one("UK office +44 20 7946 0958", Phone, "+44 20 7946 0958");
    assert_one("Telefon 030 12345678", Phone, "030 12345678");
    assert_one("Handy: +49 151 23456789", Phone, "+49 151 23456789");
    assert_one(
        "电话：＋８６　１３８－１２３４－５６７８",
        Phone,
        "＋８６　１３８－１２３４－５６７８",
    );
    assert_one("or 0049 30 1234567 in Berlin", Phone, "0049 30 1234567");
}

#[test]
fn numbers_that_are_not_phones() {
    assert_none("order 12345678 has not arrived");
    assert_none("Order #4410293847 was charged twice");
    assert_none("订单号 13812345678 还没发货");
    assert_none("it cost 1500 dollars on 2023-05-12 at 10:30");
    assert_none("version 2.13.1 and build 20230512");
    assert_none("see https://example.com/orders/13812345678");
    assert_none("the 12.05.2023 delivery");
    assert_none("ID abc13812345678");
}

#[test]
fn phone_after_a_quantity_is_still_found() {
    assert_one("I called 3 times 0912 345 6789", Phone, "0912 345 6789");
}

#[test]
fn payment_cards_need_luhn_and_a_card_prefix() {
    assert_one(
        "card 4111 1111 1111 1111 was charged",
        Card,
        "4111 1111 1111 1111",
    );
    assert_one("卡号6222020200112233446", Card, "6222020200112233446");
    assert_one("amex 3782-822463-10005", Card, "3782-822463-10005");
    assert_one("کارت ۵۵۵۵ ۵۵۵۵ ۵۵۵۵ ۴۴۴۴", Card, "۵۵۵۵ ۵۵۵۵ ۵۵۵۵ ۴۴۴۴");
    // Luhn-invalid.
    assert_none("card 4111 1111 1111 1112 was charged");
    assert_none("number 4111-1111-1111-1112");
}

#[test]
fn iban_needs_mod97_and_the_country_length() {
    assert_one(
        "IBAN DE89 3704 0044 0532 0130 00 bitte",
        Iban,
        "DE89 3704 0044 0532 0130 00",
    );
    assert_one(
        "pay GB82WEST12345698765432.",
        Iban,
        "GB82WEST12345698765432",
    );
    assert_one(
        "شبا IR062960000000100324200001",
        Iban,
        "IR062960000000100324200001",
    );
    assert_none("IBAN DE89 3704 0044 0532 0130 01");
    assert_none("code DE12 is a postcode-ish thing");
}

#[test]
fn ip_addresses() {
    assert_one("from 192.168.10.254 yesterday", Ip, "192.168.10.254");
    assert_one(
        "server 2001:db8::8a2e:370:7334 down",
        Ip,
        "2001:db8::8a2e:370:7334",
    );
    assert_one(
        "fe80::1ff:fe23:4567:890a is link-local",
        Ip,
        "fe80::1ff:fe23:4567:890a",
    );
    assert_none("version 1.2.3.4.5 and 300.1.1.1");
    assert_none("at 12:30:45 the time was odd");
    assert_none("MAC 00:1A:2B:3C:4D:5E");
}

#[test]
fn urls_only_when_they_carry_credentials() {
    assert_one(
        "see https://bob:hunter2@example.com/x",
        Url,
        "https://bob:hunter2@example.com/x",
    );
    assert_one(
        "link https://example.com/reset?user=1&token=abcdef123456.",
        Url,
        "https://example.com/reset?user=1&token=abcdef123456",
    );
    assert_one(
        "点击https://s3.example.com/f?X-Amz-Signature=abc123谢谢",
        Url,
        "https://s3.example.com/f?X-Amz-Signature=abc123",
    );
    assert_one(
        "https://api.example.com/v1?api_key=XYZ123abc",
        Url,
        "https://api.example.com/v1?api_key=XYZ123abc",
    );
    assert_none("see https://example.com/help?lang=fa for help");
}

#[test]
fn provider_secrets() {
    for s in [
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUV",
        "xoxb-1234567890-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "rk_live_51H8aBcDeFgHiJkLmNoPqRsT",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "sk-proj-Ab3De6Gh9Jk2Mn5Pq8St1Vw4Yz7Bc0Ef",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ] {
        let text = format!("my key is {s} oops");
        assert_one(&text, Secret, s);
    }
    let pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA1234\nabcd==\n-----END RSA PRIVATE KEY-----";
    assert_one(&format!("here:\n{pem}\nthanks"), Secret, pem);
    assert_none("the sky is blue and skills matter; AKIA is a prefix");
    assert_none("-----BEGIN PUBLIC KEY----- is fine");
}

#[test]
fn us_ssn() {
    assert_one("SSN 078-05-1120 on file", Ssn, "078-05-1120");
    assert_none("SSN 666-05-1120 on file");
    assert_none("part 078-00-1120");
}

#[test]
fn chinese_resident_id() {
    assert_one("身份证号11010519491231002X", CnId, "11010519491231002X");
    assert_one(
        "身份证 440524198001010013 请保密",
        CnId,
        "440524198001010013",
    );
    assert_one(
        "身份证：４４０５２４１９８００１０１００１３",
        CnId,
        "４４０５２４１９８００１０１００１３",
    );
    // Wrong check digit.
    assert_none("身份证号110105194912310021");
    assert_none("身份证号110105194912310023");
}

#[test]
fn iranian_national_id() {
    assert_one("کد ملی من ۰۴۹۹۳۷۰۸۹۹ است", IrId, "۰۴۹۹۳۷۰۸۹۹");
    assert_one("national id 0499370899", IrId, "0499370899");
    // Wrong check digit.
    assert_none("کد ملی من ۰۴۹۹۳۷۰۸۹۸ است");
    assert_none("کد ملی ۱۱۱۱۱۱۱۱۱۱");
}

#[test]
fn aadhaar_and_pan() {
    assert_one("Aadhaar 4991 1866 5246 linked", Aadhaar, "4991 1866 5246");
    assert_one("આધાર ૪૯૯૧ ૧૮૬૬ ૫૨૪૬", Aadhaar, "૪૯૯૧ ૧૮૬૬ ૫૨૪૬");
    // Verhoeff fails.
    assert_none("Aadhaar 4991 1866 5247 linked");
    // Starts with 1.
    assert_none("Aadhaar 1991 1866 5246 linked");
    assert_one("PAN ABCPE1234F please update", Pan, "ABCPE1234F");
    assert_none("code ABCDE1234F has holder type D, not a PAN");
}

#[test]
fn uk_national_insurance() {
    assert_one("NI number AB 12 34 56 C", Nino, "AB 12 34 56 C");
    assert_one("my NINO is AB123456D.", Nino, "AB123456D");
    assert_none("NI number GB123456A");
    assert_none("code AB123456E");
}

#[test]
fn redaction_replaces_spans_with_placeholders() {
    let out = redactor().redact("Email a@b.com, card 4111111111111111, IP 10.0.0.1.");
    assert_eq!(out.text, "Email [EMAIL], card [CARD], IP [IP].");
    let kinds: Vec<_> = out.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [Email, Card, Ip]);
    let out = redactor().redact("no personal data here, 谢谢");
    assert_eq!(out.text, "no personal data here, 谢谢");
    assert!(out.findings.is_empty());
}

#[test]
fn overlapping_findings_keep_the_longest() {
    let text = "https://u:p4ss@example.com/cb?access_token=eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc 10.0.0.1";
    let f = found(text);
    assert_eq!(f.len(), 2, "{f:?}");
    assert_eq!(f[0].0, Url);
    assert_eq!(f[1], (Ip, "10.0.0.1"));
}

#[test]
fn confidence_reflects_validation_and_context() {
    let r = redactor();
    let plain = r.find("13812345678");
    let with_word = r.find("电话 13812345678");
    assert_eq!(plain.len(), 1);
    assert_eq!(with_word.len(), 1);
    assert!(with_word[0].confidence > plain[0].confidence);
    let card = r.find("4111 1111 1111 1111");
    assert!(card[0].confidence >= 0.9);
    for f in r.find("a@b.com 4111111111111111 +86 138 1234 5678 PAN ABCPE1234F") {
        assert!((0.0..=1.0).contains(&f.confidence), "{f:?}");
    }
}

#[test]
fn config_selects_kinds_and_regions() {
    let r = Redactor::with_config(Config {
        enabled: vec![Email],
        ..Config::default()
    })
    .expect("valid config");
    let f: Vec<Finding> = r.find("a@b.com 4111111111111111");
    assert_eq!(f.len(), 1);
    assert_eq!(f[0].kind, Email);

    // Without IN among the regions, a bare Indian mobile number is not a phone.
    let r = Redactor::with_config(Config {
        phone_regions: vec!["US".into()],
        ..Config::default()
    })
    .expect("valid config");
    assert!(r.find("9876543210").is_empty());
    assert_eq!(redactor().find("9876543210")[0].kind, Phone);

    assert_eq!(
        Redactor::with_config(Config {
            phone_regions: vec!["XX".into()],
            ..Config::default()
        })
        .err(),
        Some(ConfigError::UnknownRegion("XX".into()))
    );
    assert!(Redactor::with_config(Config {
        min_confidence: 1.5,
        ..Config::default()
    })
    .is_err());
}

#[test]
fn entity_kind_names_round_trip() {
    for k in EntityKind::ALL {
        assert_eq!(k.as_str().parse::<EntityKind>(), Ok(k));
        assert_eq!(k.placeholder(), format!("[{}]", k.as_str().to_uppercase()));
        let json = serde_json::to_string(&k).expect("serialise");
        assert_eq!(json, format!("\"{}\"", k.as_str()));
    }
    assert!("passport".parse::<EntityKind>().is_err());
}

#[test]
fn odd_inputs_do_not_panic() {
    let r = redactor();
    for s in [
        "",
        "@",
        ":",
        "://",
        "-----BEGIN ",
        "-----BEGIN RSA PRIVATE KEY-----",
        "+",
        "(",
        "۰",
        "\u{FF10}",
        "\u{E0}",
        "a@",
        "@b.c",
        "1.1.1.",
        "AKIA",
        "eyJ.eyJ.",
        "DE89",
        "https://",
        "x://@",
        "::",
        "9999999999999999999999999999999999999999999999999999999999999999999999999999",
        "1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0",
    ] {
        let out = r.redact(s);
        for f in &out.findings {
            assert!(s.is_char_boundary(f.start) && s.is_char_boundary(f.end));
        }
    }
}

#[test]
fn redactor_can_be_shared_across_threads() {
    fn assert_shareable<T: Send + Sync + Clone + 'static>() {}
    assert_shareable::<Redactor>();
    let r = std::sync::Arc::new(redactor());
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let r = std::sync::Arc::clone(&r);
            std::thread::spawn(move || r.redact("call 13812345678").text)
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().expect("thread"), "call [PHONE]");
    }
}
