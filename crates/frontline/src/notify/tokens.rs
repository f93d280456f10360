//! Signed links for subscribers: confirm a sign-up, manage or end a
//! subscription. A token names the subscriber (an id, never an address),
//! what it allows and until when, with a MAC under the key ring's index
//! key, which never rotates (old emails' links keep working).

use subtle::ConstantTimeEq;

use crate::privacy::KeyRing;

/// What a link lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Confirm a sign-up (expires).
    Confirm,
    /// Change or end the subscription (no expiry: unsubscribe links in
    /// old emails must keep working).
    Manage,
}

impl Purpose {
    fn tag(self) -> &'static str {
        match self {
            Purpose::Confirm => "c",
            Purpose::Manage => "m",
        }
    }
}

/// How long a confirmation link works.
pub const CONFIRM_TTL_MS: i64 = 7 * 24 * 3600 * 1000;

fn mac(ring: &KeyRing, body: &str) -> String {
    let full = ring.blind_index("notify-link", body);
    full[..32].to_owned()
}

/// A token for `subscriber`, valid until `expires_ms` (0: no expiry).
pub fn sign(ring: &KeyRing, purpose: Purpose, subscriber: &str, expires_ms: i64) -> String {
    let body = format!("{}.{subscriber}.{expires_ms}", purpose.tag());
    let m = mac(ring, &body);
    format!("{body}.{m}")
}

/// The subscriber a token is for, if it is genuine, of this purpose, and
/// not expired.
pub fn verify(ring: &KeyRing, purpose: Purpose, token: &str, now_ms: i64) -> Option<String> {
    if token.len() > 200 {
        return None;
    }
    let (body, m) = token.rsplit_once('.')?;
    let expected = mac(ring, body);
    if !bool::from(expected.as_bytes().ct_eq(m.as_bytes())) {
        return None;
    }
    let mut parts = body.splitn(3, '.');
    let (tag, id, exp) = (parts.next()?, parts.next()?, parts.next()?);
    if tag != purpose.tag() {
        return None;
    }
    let exp: i64 = exp.parse().ok()?;
    if exp != 0 && exp < now_ms {
        return None;
    }
    Some(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_verify_only_for_their_purpose_and_time() {
        let ring = KeyRing::generate();
        let t = sign(&ring, Purpose::Manage, "sub_1", 0);
        assert_eq!(
            verify(&ring, Purpose::Manage, &t, 5).as_deref(),
            Some("sub_1")
        );
        assert_eq!(verify(&ring, Purpose::Confirm, &t, 5), None);
        let c = sign(&ring, Purpose::Confirm, "sub_1", 100);
        assert_eq!(
            verify(&ring, Purpose::Confirm, &c, 50).as_deref(),
            Some("sub_1")
        );
        assert_eq!(verify(&ring, Purpose::Confirm, &c, 150), None);
        let forged = t.replace("sub_1", "sub_2");
        assert_eq!(verify(&ring, Purpose::Manage, &forged, 5), None);
        let other = KeyRing::generate();
        assert_eq!(verify(&other, Purpose::Manage, &t, 5), None);
    }
}
