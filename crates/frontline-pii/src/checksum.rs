//! Check-digit algorithms. Inputs are ASCII digit bytes (`b'0'..=b'9'`),
//! already normalised from whatever script the text used.

/// Luhn (payment cards).
pub(crate) fn luhn(digits: &[u8]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let mut sum = 0u32;
    for (i, &d) in digits.iter().rev().enumerate() {
        let mut v = u32::from(d.wrapping_sub(b'0'));
        if v > 9 {
            return false;
        }
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum % 10 == 0
}

/// ISO 7064 MOD 11-2, as used by the Chinese resident identity card.
/// `id` is 18 bytes: 17 digits and a check character (digit or `X`).
pub(crate) fn cn_resident_id(id: &[u8]) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    if id.len() != 18 {
        return false;
    }
    let mut sum = 0u32;
    for (d, w) in id[..17].iter().zip(WEIGHTS) {
        if !d.is_ascii_digit() {
            return false;
        }
        sum += u32::from(d - b'0') * w;
    }
    let expected = CHECK[(sum % 11) as usize];
    id[17].to_ascii_uppercase() == expected
}

/// Iranian national identification number (کد ملی): 10 digits, the last is
/// a check digit over the first nine with weights 10..2, modulo 11.
pub(crate) fn ir_national_id(id: &[u8]) -> bool {
    if id.len() != 10 || !id.iter().all(u8::is_ascii_digit) {
        return false;
    }
    // 0000000000, 1111111111, ... satisfy the formula but are never issued.
    if id.iter().all(|&d| d == id[0]) {
        return false;
    }
    let sum: u32 = id[..9]
        .iter()
        .zip((2..=10u32).rev())
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let r = sum % 11;
    let check = u32::from(id[9] - b'0');
    if r < 2 {
        check == r
    } else {
        check == 11 - r
    }
}

/// Verhoeff (Indian Aadhaar).
pub(crate) fn verhoeff(digits: &[u8]) -> bool {
    const D: [[u8; 10]; 10] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 2, 3, 4, 0, 6, 7, 8, 9, 5],
        [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
        [3, 4, 0, 1, 2, 8, 9, 5, 6, 7],
        [4, 0, 1, 2, 3, 9, 5, 6, 7, 8],
        [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
        [6, 5, 9, 8, 7, 1, 0, 4, 3, 2],
        [7, 6, 5, 9, 8, 2, 1, 0, 4, 3],
        [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
        [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
    ];
    const P: [[u8; 10]; 8] = [
        [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
        [1, 5, 7, 6, 2, 8, 3, 0, 9, 4],
        [5, 8, 0, 3, 7, 9, 6, 1, 4, 2],
        [8, 9, 1, 6, 0, 4, 3, 5, 2, 7],
        [9, 4, 5, 3, 1, 2, 6, 8, 7, 0],
        [4, 2, 8, 6, 5, 7, 3, 9, 0, 1],
        [2, 7, 9, 3, 8, 0, 6, 4, 1, 5],
        [7, 0, 4, 6, 9, 1, 3, 2, 5, 8],
    ];
    if digits.is_empty() {
        return false;
    }
    let mut c = 0u8;
    for (i, &d) in digits.iter().rev().enumerate() {
        let v = d.wrapping_sub(b'0');
        if v > 9 {
            return false;
        }
        c = D[usize::from(c)][usize::from(P[i % 8][usize::from(v)])];
    }
    c == 0
}

/// IBAN mod-97 check. `iban` is the compact form (no spaces), upper case.
pub(crate) fn iban_mod97(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let mut rem = 0u32;
    let rearranged = iban[4..].iter().chain(&iban[..4]);
    for &c in rearranged {
        match c {
            b'0'..=b'9' => rem = (rem * 10 + u32::from(c - b'0')) % 97,
            b'A'..=b'Z' => rem = (rem * 100 + u32::from(c - b'A' + 10)) % 97,
            _ => return false,
        }
    }
    rem == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_values() {
        assert!(luhn(b"4111111111111111"));
        assert!(luhn(b"378282246310005"));
        assert!(!luhn(b"4111111111111112"));
        assert!(!luhn(b""));
    }

    #[test]
    fn cn_id_check_character() {
        assert!(cn_resident_id(b"11010519491231002X"));
        assert!(cn_resident_id(b"11010519491231002x"));
        assert!(!cn_resident_id(b"110105194912310021"));
        assert!(cn_resident_id(b"440524188001010014"));
    }

    #[test]
    fn iranian_national_id() {
        assert!(ir_national_id(b"0499370899"));
        assert!(ir_national_id(b"0790419904"));
        assert!(!ir_national_id(b"0499370898"));
        assert!(!ir_national_id(b"1111111111"));
    }

    #[test]
    fn verhoeff_known_values() {
        assert!(verhoeff(b"2363"));
        assert!(!verhoeff(b"2364"));
        assert!(verhoeff(b"499118665246"));
    }

    #[test]
    fn iban_known_values() {
        assert!(iban_mod97(b"DE89370400440532013000"));
        assert!(iban_mod97(b"GB82WEST12345698765432"));
        assert!(!iban_mod97(b"DE89370400440532013001"));
    }
}
