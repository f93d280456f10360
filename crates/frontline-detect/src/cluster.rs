//! Near-duplicate clustering: MinHash over character shingles with LSH
//! banding, and an incremental [`ClusterIndex`] that puts each new text in an
//! existing cluster or a new one, so that many customers forwarding the same
//! scam message show up as one growing cluster.
//!
//! Texts are normalised first (lower case, punctuation and spaces collapsed,
//! digits mapped to `0` so that per-victim codes and amounts do not split a
//! campaign). Shingles are characters, so Chinese works without a word
//! segmenter: 3 characters for mostly unspaced scripts, 5 otherwise.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::text::{is_unspaced_script, normalize};

/// Clustering settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClusterConfig {
    /// Number of LSH bands; `bands * rows` hash functions in all.
    pub bands: usize,
    /// Rows (hash values) per band.
    pub rows: usize,
    /// Estimated Jaccard similarity needed to join a cluster.
    pub threshold: f32,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        // With 20 bands of 4 rows, a pair at Jaccard 0.5 shares a band with
        // probability 1 - (1 - 0.5^4)^20 = 0.73, at 0.7 with 0.99.
        Self {
            bands: 20,
            rows: 4,
            threshold: 0.5,
        }
    }
}

fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Canonical form used for shingling.
fn canonical(text: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(text.len());
    let mut space = true;
    for c in normalize(text).chars() {
        if c.is_ascii_digit() {
            out.push('0');
            space = false;
        } else if c.is_alphanumeric() || crate::text::is_word_char(c) {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    while out.last() == Some(&' ') {
        out.pop();
    }
    out
}

/// MinHash signature of a text (`bands * rows` values).
pub fn signature(text: &str, config: &ClusterConfig) -> Vec<u64> {
    let n = config.bands * config.rows;
    let chars = canonical(text);
    let unspaced = chars.iter().filter(|c| is_unspaced_script(**c)).count();
    let k = if unspaced * 2 >= chars.len() { 3 } else { 5 };
    let mut sig = vec![u64::MAX; n];
    if chars.is_empty() {
        return sig;
    }
    let k = k.min(chars.len());
    for w in chars.windows(k) {
        let mut h = 0x9e37_79b9_7f4a_7c15u64;
        for c in w {
            h = mix64(h ^ u64::from(u32::from(*c)));
        }
        // Kirsch-Mitzenmacher: g_i = h1 + i * h2 behaves as independent hashes.
        let h1 = h;
        let h2 = mix64(h ^ 0x5851_f42d_4c95_7f2d) | 1;
        for (i, s) in sig.iter_mut().enumerate() {
            let g = h1.wrapping_add((i as u64).wrapping_mul(h2));
            if g < *s {
                *s = g;
            }
        }
    }
    sig
}

/// Estimated Jaccard similarity of two signatures.
pub fn similarity(a: &[u64], b: &[u64]) -> f32 {
    if a.is_empty() || a.len() != b.len() {
        return 0.0;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    same as f32 / a.len() as f32
}

/// Identifier of a cluster within one index.
pub type ClusterId = u32;

/// One cluster of near-duplicate texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cluster {
    /// Its identifier.
    pub id: ClusterId,
    /// Number of texts assigned.
    pub size: u64,
    /// Signature of the first text (the representative).
    signature: Vec<u64>,
}

/// Where a text went.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Assignment {
    /// The cluster.
    pub cluster: ClusterId,
    /// True when the text started a new cluster.
    pub is_new: bool,
    /// Estimated similarity to the cluster's representative (1 when new).
    pub similarity: f32,
    /// Size of the cluster after this text.
    pub size: u64,
}

/// Incremental near-duplicate index. Serialisable; to bound memory, keep one
/// index per time window and drop old ones.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterIndex {
    config: ClusterConfig,
    clusters: Vec<Cluster>,
    buckets: HashMap<u64, Vec<ClusterId>>,
}

impl ClusterIndex {
    /// An empty index.
    pub fn new(config: ClusterConfig) -> Self {
        Self {
            config,
            clusters: Vec::new(),
            buckets: HashMap::new(),
        }
    }

    fn band_keys(&self, sig: &[u64]) -> Vec<u64> {
        sig.chunks(self.config.rows.max(1))
            .enumerate()
            .map(|(b, rows)| rows.iter().fold(mix64(b as u64 + 1), |h, v| mix64(h ^ v)))
            .collect()
    }

    /// Assigns a text to its cluster, creating one if needed.
    pub fn assign(&mut self, text: &str) -> Assignment {
        let sig = signature(text, &self.config);
        let keys = self.band_keys(&sig);
        let mut best: Option<(ClusterId, f32)> = None;
        let mut seen: Vec<ClusterId> = Vec::new();
        for k in &keys {
            let Some(ids) = self.buckets.get(k) else {
                continue;
            };
            for &id in ids {
                if seen.contains(&id) {
                    continue;
                }
                seen.push(id);
                let Some(c) = self.clusters.get(id as usize) else {
                    continue;
                };
                let s = similarity(&sig, &c.signature);
                if best.is_none_or(|(_, b)| s > b) {
                    best = Some((id, s));
                }
            }
        }
        if let Some((id, s)) = best.filter(|(_, s)| *s >= self.config.threshold) {
            if let Some(c) = self.clusters.get_mut(id as usize) {
                c.size += 1;
                return Assignment {
                    cluster: id,
                    is_new: false,
                    similarity: s,
                    size: c.size,
                };
            }
        }
        let id = self.clusters.len() as ClusterId;
        for k in keys {
            self.buckets.entry(k).or_default().push(id);
        }
        self.clusters.push(Cluster {
            id,
            size: 1,
            signature: sig,
        });
        Assignment {
            cluster: id,
            is_new: true,
            similarity: 1.0,
            size: 1,
        }
    }

    /// The cluster with this identifier.
    pub fn cluster(&self, id: ClusterId) -> Option<&Cluster> {
        self.clusters.get(id as usize)
    }

    /// Number of clusters.
    pub fn len(&self) -> usize {
        self.clusters.len()
    }

    /// True when no text has been assigned.
    pub fn is_empty(&self) -> bool {
        self.clusters.is_empty()
    }

    /// The `n` largest clusters, largest first.
    pub fn largest(&self, n: usize) -> Vec<&Cluster> {
        let mut v: Vec<&Cluster> = self.clusters.iter().collect();
        v.sort_by(|a, b| b.size.cmp(&a.size).then(a.id.cmp(&b.id)));
        v.truncate(n);
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_of_one_scam_message_cluster_together() {
        let mut idx = ClusterIndex::new(ClusterConfig::default());
        let a = idx.assign("Your account has been suspended. Verify now at http://secure-bank.top/v?id=1234 to avoid closure");
        let b = idx.assign("your account has been SUSPENDED!! verify now at http://secure-bank.top/v?id=9876 to avoid closure.");
        let c = idx.assign("FWD: Your account has been suspended. Verify now at http://secure-bank.top/v?id=5555 to avoid closure");
        let other = idx.assign("The app is very slow today when I open my statements");
        assert!(a.is_new);
        assert_eq!(b.cluster, a.cluster);
        assert_eq!(c.cluster, a.cluster);
        assert_eq!(c.size, 3);
        assert_ne!(other.cluster, a.cluster);
        assert!(other.is_new);
        assert_eq!(idx.len(), 2);
        assert_eq!(idx.largest(1)[0].size, 3);
    }

    #[test]
    fn chinese_messages_cluster_by_characters() {
        let mut idx = ClusterIndex::new(ClusterConfig::default());
        let a =
            idx.assign("【银行】您的账户存在异常，请点击链接 http://abc.top 核实身份，否则将冻结");
        let b = idx
            .assign("【银行】您的账户存在异常，请点击链接http://abc.top核实身份，否则将被冻结。");
        let c = idx.assign("我的信用卡昨天晚上被盗刷了两千块");
        assert_eq!(a.cluster, b.cluster);
        assert_ne!(a.cluster, c.cluster);
    }

    #[test]
    fn similarity_estimates_jaccard() {
        let cfg = ClusterConfig::default();
        let s1 = signature("the quick brown fox jumps over the lazy dog", &cfg);
        let s2 = signature("the quick brown fox jumps over the lazy dog", &cfg);
        let s3 = signature("completely unrelated text about billing refunds", &cfg);
        assert_eq!(similarity(&s1, &s2), 1.0);
        assert!(similarity(&s1, &s3) < 0.2);
        assert_eq!(signature("", &cfg).len(), 80);
    }

    #[test]
    fn index_survives_serialisation() {
        let mut idx = ClusterIndex::new(ClusterConfig::default());
        let a = idx.assign("Call 0800 123 456 now to unlock your account, bank security team");
        let json = serde_json::to_string(&idx).expect("serialises");
        let mut back: ClusterIndex = serde_json::from_str(&json).expect("deserialises");
        let b = back.assign("Call 0800 999 111 now to unlock your account, bank security team");
        assert_eq!(a.cluster, b.cluster);
        assert_eq!(b.size, 2);
    }
}
