//! Sealing: authenticated encryption under a versioned key ring.
//!
//! - Key-encryption keys (KEKs) are versioned; the newest seals, every
//!   version still present opens. Rotation adds a version; subject keys
//!   wrapped under older versions are re-wrapped in the background.
//! - Each person (subject) has a data key (DEK), stored wrapped by a KEK.
//!   Their contact details and raw text are sealed under it, so erasing a
//!   person is deleting one row: what was sealed under it is unreadable.
//! - A keyed hash (blind index) of an email address or phone number finds a
//!   person's records without decrypting anything. Its key never rotates.
//!
//! Format of a sealed value: 24-byte XChaCha20 nonce, then ciphertext and
//! tag. The associated data binds it to its record and field, so a sealed
//! value copied to another row does not open.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};

const NONCE: usize = 24;

#[derive(Debug, thiserror::Error)]
pub enum SealError {
    #[error("sealed value does not open (wrong key, or altered)")]
    Open,
    #[error("no key version {0} in the key ring; was a key removed?")]
    MissingVersion(u32),
    #[error("key ring: {0}")]
    Ring(String),
}

#[derive(Clone)]
struct Key([u8; 32]);

impl Key {
    fn random() -> Self {
        let mut k = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut k);
        Self(k)
    }
    fn parse(s: &str) -> Result<Self, SealError> {
        let bytes = B64
            .decode(s.trim())
            .map_err(|_| SealError::Ring("a key is not valid base64".into()))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| SealError::Ring("a key must be 32 bytes".into()))?;
        Ok(Self(arr))
    }
    fn encode(&self) -> String {
        B64.encode(self.0)
    }
    fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let mut nonce = [0u8; NONCE];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let ct = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap_or_default();
        let mut out = Vec::with_capacity(NONCE + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }
    fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE + 16 {
            return Err(SealError::Open);
        }
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let (nonce, ct) = sealed.split_at(NONCE);
        cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| SealError::Open)
    }
}

/// The key file, as stored on disk.
#[derive(Serialize, Deserialize)]
struct KeyFile {
    index_key: String,
    current: u32,
    keys: BTreeMap<String, String>,
}

/// All key-encryption keys and the blind-index key.
#[derive(Clone)]
pub struct KeyRing {
    keks: BTreeMap<u32, Key>,
    current: u32,
    index_key: Key,
    /// The key file this ring came from, if any: versions added to it
    /// later (`frontline keys rotate` while a server runs) are picked up.
    file: Option<PathBuf>,
    /// Versions read from the file after loading, shared by clones.
    later: Arc<RwLock<BTreeMap<u32, Key>>>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyRing")
            .field("versions", &self.versions())
            .field("current", &self.current_version())
            .finish_non_exhaustive()
    }
}

/// A subject's data key, unwrapped, for sealing and opening their data.
pub struct SubjectKey(Key);

impl fmt::Debug for SubjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SubjectKey(***)")
    }
}

impl SubjectKey {
    pub fn seal(&self, plaintext: &[u8], record: &str, field: &str) -> Vec<u8> {
        self.0.seal(plaintext, aad(record, field).as_bytes())
    }
    pub fn open(&self, sealed: &[u8], record: &str, field: &str) -> Result<Vec<u8>, SealError> {
        self.0.open(sealed, aad(record, field).as_bytes())
    }
}

fn aad(record: &str, field: &str) -> String {
    format!("frontline:{record}:{field}")
}

impl KeyRing {
    /// A new ring with one key version.
    pub fn generate() -> Self {
        Self {
            keks: BTreeMap::from([(1, Key::random())]),
            current: 1,
            index_key: Key::random(),
            file: None,
            later: Arc::default(),
        }
    }

    /// Parses the compact form `index=B64;1=B64;2=B64` (the newest version
    /// seals), as given in `privacy.keys` / `FRONTLINE_PRIVACY_KEYS`.
    pub fn parse_compact(s: &str) -> Result<Self, SealError> {
        let mut index_key = None;
        let mut keks = BTreeMap::new();
        for part in s.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = part
                .split_once('=')
                .ok_or_else(|| SealError::Ring("expected index=KEY;1=KEY;...".into()))?;
            if name == "index" {
                index_key = Some(Key::parse(value)?);
            } else {
                let v: u32 = name
                    .parse()
                    .map_err(|_| SealError::Ring(format!("{name:?} is not a key version")))?;
                keks.insert(v, Key::parse(value)?);
            }
        }
        let index_key = index_key.ok_or_else(|| SealError::Ring("no index key".into()))?;
        let current = *keks
            .keys()
            .next_back()
            .ok_or_else(|| SealError::Ring("no key versions".into()))?;
        Ok(Self {
            keks,
            current,
            index_key,
            file: None,
            later: Arc::default(),
        })
    }

    /// Reads the key file, creating it (readable by the owner only) when it
    /// does not exist yet.
    pub fn load_or_create(path: &Path) -> Result<Self, SealError> {
        let mut ring = Self::load_or_create_file(path)?;
        ring.file = Some(path.to_owned());
        Ok(ring)
    }

    fn load_or_create_file(path: &Path) -> Result<Self, SealError> {
        if path.exists() {
            let text = std::fs::read_to_string(path)
                .map_err(|e| SealError::Ring(format!("cannot read {}: {e}", path.display())))?;
            let file: KeyFile = toml::from_str(&text).map_err(|e| {
                SealError::Ring(format!("{} is not a key file: {e}", path.display()))
            })?;
            let mut keks = BTreeMap::new();
            for (v, k) in &file.keys {
                let v: u32 = v
                    .parse()
                    .map_err(|_| SealError::Ring(format!("{v:?} is not a key version")))?;
                keks.insert(v, Key::parse(k)?);
            }
            if !keks.contains_key(&file.current) {
                return Err(SealError::MissingVersion(file.current));
            }
            return Ok(Self {
                keks,
                current: file.current,
                index_key: Key::parse(&file.index_key)?,
                file: None,
                later: Arc::default(),
            });
        }
        let ring = Self::generate();
        ring.save(path)?;
        Ok(ring)
    }

    /// Writes the ring to `path` atomically, mode 0600.
    pub fn save(&self, path: &Path) -> Result<(), SealError> {
        let file = KeyFile {
            index_key: self.index_key.encode(),
            current: self.current_version(),
            keys: self
                .all_keks()
                .iter()
                .map(|(v, k)| (v.to_string(), k.encode()))
                .collect(),
        };
        let text = format!(
            "# Frontline sealing keys. Keep this file secret and backed up:\n\
             # without it, sealed contact details and raw text cannot be read.\n{}",
            toml::to_string(&file).map_err(|e| SealError::Ring(e.to_string()))?
        );
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)
            .map_err(|e| SealError::Ring(format!("cannot create {}: {e}", dir.display())))?;
        let tmp = path.with_extension("tmp");
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt;
                opts.mode(0o600);
            }
            let mut f = opts.open(&tmp)?;
            f.write_all(text.as_bytes())?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| SealError::Ring(format!("cannot write {}: {e}", path.display())))
    }

    /// Adds a new key version, which seals from now on.
    pub fn rotate(&mut self) -> u32 {
        let next = self.current_version() + 1;
        self.keks.insert(next, Key::random());
        self.current = next;
        next
    }

    /// The version that wraps new data keys: the newest one known.
    pub fn current_version(&self) -> u32 {
        let later = self
            .later
            .read()
            .ok()
            .and_then(|l| l.keys().next_back().copied());
        later.map_or(self.current, |v| v.max(self.current))
    }

    /// Every key version in the ring, oldest first.
    pub fn versions(&self) -> Vec<u32> {
        self.all_keks().into_keys().collect()
    }

    fn all_keks(&self) -> BTreeMap<u32, Key> {
        let mut all = self.keks.clone();
        if let Ok(later) = self.later.read() {
            for (v, k) in later.iter() {
                all.entry(*v).or_insert_with(|| k.clone());
            }
        }
        all
    }

    fn kek(&self, version: u32) -> Option<Key> {
        self.keks.get(&version).cloned().or_else(|| {
            self.later
                .read()
                .ok()
                .and_then(|l| l.get(&version).cloned())
        })
    }

    /// Re-reads the key file this ring came from and takes in versions
    /// added since (by `frontline keys rotate`). Returns whether any were.
    pub fn refresh(&self) -> Result<bool, SealError> {
        let Some(path) = &self.file else {
            return Ok(false);
        };
        let on_disk = Self::load_or_create_file(path)?;
        if on_disk.index_key.0 != self.index_key.0 {
            return Err(SealError::Ring(format!(
                "{} now holds a different index key; restart to use it",
                path.display()
            )));
        }
        let mut added = false;
        let mut later = self
            .later
            .write()
            .map_err(|_| SealError::Ring("key ring lock poisoned".into()))?;
        for (v, k) in on_disk.keks {
            if !self.keks.contains_key(&v) && !later.contains_key(&v) {
                later.insert(v, k);
                added = true;
            }
        }
        Ok(added)
    }

    /// A fresh data key for a new subject: (the key, its wrapped form, the
    /// KEK version that wrapped it).
    pub fn new_subject_key(&self, subject: &str) -> (SubjectKey, Vec<u8>, u32) {
        let dek = Key::random();
        let (wrapped, version) = self.wrap(&dek, subject);
        (SubjectKey(dek), wrapped, version)
    }

    /// Wraps under the current version: (wrapped, version).
    fn wrap(&self, dek: &Key, subject: &str) -> (Vec<u8>, u32) {
        let aad = aad(subject, "dek");
        let version = self.current_version();
        match self.kek(version) {
            Some(kek) => (kek.seal(&dek.0, aad.as_bytes()), version),
            None => (
                self.keks[&self.current].seal(&dek.0, aad.as_bytes()),
                self.current,
            ),
        }
    }

    pub fn unwrap_subject_key(
        &self,
        subject: &str,
        wrapped: &[u8],
        version: u32,
    ) -> Result<SubjectKey, SealError> {
        let kek = match self.kek(version) {
            Some(k) => k,
            // Perhaps rotated while we run: look at the key file again.
            None => {
                self.refresh()?;
                self.kek(version)
                    .ok_or(SealError::MissingVersion(version))?
            }
        };
        let raw = kek.open(wrapped, aad(subject, "dek").as_bytes())?;
        let arr: [u8; 32] = raw.try_into().map_err(|_| SealError::Open)?;
        Ok(SubjectKey(Key(arr)))
    }

    /// Re-wraps a subject key under the current version (for rotation):
    /// (wrapped, version).
    pub fn rewrap(
        &self,
        subject: &str,
        wrapped: &[u8],
        version: u32,
    ) -> Result<(Vec<u8>, u32), SealError> {
        let key = self.unwrap_subject_key(subject, wrapped, version)?;
        Ok(self.wrap(&key.0, subject))
    }

    /// The keyed hash of an identifier (`email`, `phone`) after
    /// normalisation by the caller.
    pub fn blind_index(&self, kind: &str, normalised: &str) -> String {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.index_key.0)
            .expect("HMAC takes any key length");
        mac.update(kind.as_bytes());
        mac.update(b":");
        mac.update(normalised.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_with_their_key_record_and_field() {
        let ring = KeyRing::generate();
        let (key, wrapped, v) = ring.new_subject_key("sbj_1");
        let sealed = key.seal(b"ana@example.com", "fb_1", "contact");
        assert!(!sealed.windows(3).any(|w| w == b"ana"));
        let again = ring.unwrap_subject_key("sbj_1", &wrapped, v).unwrap();
        assert_eq!(
            again.open(&sealed, "fb_1", "contact").unwrap(),
            b"ana@example.com"
        );
        assert!(
            again.open(&sealed, "fb_2", "contact").is_err(),
            "bound to its record"
        );
        assert!(
            again.open(&sealed, "fb_1", "raw_text").is_err(),
            "bound to its field"
        );
        assert!(
            ring.unwrap_subject_key("sbj_2", &wrapped, v).is_err(),
            "bound to its subject"
        );
        let (other, _, _) = ring.new_subject_key("sbj_1");
        assert!(other.open(&sealed, "fb_1", "contact").is_err());
    }

    #[test]
    fn rotation_keeps_old_data_readable_and_rewraps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.toml");
        let mut ring = KeyRing::load_or_create(&path).unwrap();
        let (key, wrapped, v1) = ring.new_subject_key("sbj_1");
        let sealed = key.seal(b"secret", "r", "f");
        let index_before = ring.blind_index("email", "a@b.c");
        let v2 = ring.rotate();
        ring.save(&path).unwrap();
        let ring = KeyRing::load_or_create(&path).unwrap();
        assert_eq!(ring.current_version(), v2);
        let (rewrapped, v) = ring.rewrap("sbj_1", &wrapped, v1).unwrap();
        assert_eq!(v, v2);
        let key = ring.unwrap_subject_key("sbj_1", &rewrapped, v2).unwrap();
        assert_eq!(key.open(&sealed, "r", "f").unwrap(), b"secret");
        assert_eq!(
            ring.blind_index("email", "a@b.c"),
            index_before,
            "index key never rotates"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn compact_form_parses_and_rejects_nonsense() {
        let k = B64.encode([7u8; 32]);
        let ring = KeyRing::parse_compact(&format!("index={k};1={k};3={k}")).unwrap();
        assert_eq!(ring.current_version(), 3);
        assert!(KeyRing::parse_compact(&format!("1={k}")).is_err());
        assert!(KeyRing::parse_compact("index=short;1=short").is_err());
        assert!(!format!("{ring:?}").contains(&k));
    }
}
