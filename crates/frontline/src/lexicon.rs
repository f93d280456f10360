//! The lexicon analysis runs on: the built-in one from `frontline-detect`,
//! with admins' own terms on top (stored in `lexicon_terms`). An admin's
//! word on a term (language + term) replaces every built-in entry for it;
//! `removed` takes the term out.
//!
//! Every node reloads the terms when they change here, and checks for
//! changes made on other nodes every [`REFRESH`].

use std::sync::{Arc, RwLock};
use std::time::Duration;

use frontline_detect::{Analyzer, Lexicon, LexiconEntry, TermRole, Topic};
use serde::Serialize;

use crate::args;
use crate::domain::{DataClass, DomainError};
use crate::storage::{now_ms, AuditRecord, Store, StoreError};

/// How often a node looks for terms changed elsewhere.
pub const REFRESH: Duration = Duration::from_secs(30);

/// Languages with a built-in lexicon; admins may add others.
pub const BUILTIN_LANGUAGES: &[&str] = &["en", "zh", "fa", "gu"];

/// The analyzer in use, shared by every clone; swapped when terms change.
#[derive(Clone)]
pub struct Lexicons {
    current: Arc<RwLock<Current>>,
}

struct Current {
    analyzer: Arc<Analyzer>,
    /// (custom terms, latest change): what the analyzer was built from.
    version: (i64, i64),
}

impl Default for Lexicons {
    /// The built-in lexicon alone.
    fn default() -> Self {
        static BUILTIN: std::sync::OnceLock<Arc<Analyzer>> = std::sync::OnceLock::new();
        Self {
            current: Arc::new(RwLock::new(Current {
                analyzer: BUILTIN
                    .get_or_init(|| Arc::new(Analyzer::builtin()))
                    .clone(),
                version: (0, 0),
            })),
        }
    }
}

/// One admin's word on a term.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CustomTerm {
    pub lang: String,
    pub term: String,
    /// A topic name, `sentiment`, `negator`, `intensifier`, or `removed`.
    pub role: String,
    pub weight: f64,
    pub updated_at: String,
}

/// An entry of the lexicon in use.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Term {
    pub lang: String,
    pub term: String,
    pub role: String,
    pub weight: f64,
    /// `builtin` or `custom`.
    pub source: &'static str,
}

fn role_of(role: &TermRole) -> (String, f64) {
    match role {
        TermRole::Topic { topic, weight } => (topic.as_str().to_owned(), f64::from(*weight)),
        TermRole::Sentiment { weight } => ("sentiment".into(), f64::from(*weight)),
        TermRole::Negator => ("negator".into(), 1.0),
        TermRole::Intensifier { factor } => ("intensifier".into(), f64::from(*factor)),
    }
}

/// The role a stored or submitted term has; `None` for `removed`.
pub fn parse_role(role: &str, weight: f64) -> Result<Option<TermRole>, DomainError> {
    if !weight.is_finite() {
        return Err(DomainError::invalid("weight", "must be a number"));
    }
    let w = weight as f32;
    Ok(Some(match role {
        "removed" => return Ok(None),
        "sentiment" => {
            if !(-5.0..=5.0).contains(&weight) {
                return Err(DomainError::invalid("weight", "sentiment is -5 to 5"));
            }
            TermRole::Sentiment { weight: w }
        }
        "negator" => TermRole::Negator,
        "intensifier" => {
            if !(0.1..=5.0).contains(&weight) {
                return Err(DomainError::invalid("weight", "an intensifier's factor is 0.1 to 5"));
            }
            TermRole::Intensifier { factor: w }
        }
        t => match Topic::parse(t) {
            Some(topic) => {
                if !(0.0..=10.0).contains(&weight) || weight == 0.0 {
                    return Err(DomainError::invalid("weight", "a topic term's weight is above 0, at most 10"));
                }
                TermRole::Topic { topic, weight: w }
            }
            None => {
                return Err(DomainError::invalid(
                    "role",
                    "a topic (account_access, phishing_scam, fraud, data_exposure, malware, outage, performance, billing, other), sentiment, negator, intensifier or removed",
                ))
            }
        },
    }))
}

/// The lexicon in use: the built-in entries an admin has not spoken for,
/// and the admins' terms.
pub fn effective(custom: &[CustomTerm]) -> Lexicon {
    let spoken: std::collections::HashSet<(&str, &str)> = custom
        .iter()
        .map(|c| (c.lang.as_str(), c.term.as_str()))
        .collect();
    let mut lex = Lexicon::builtin();
    lex.entries
        .retain(|e| !spoken.contains(&(e.lang.as_str(), e.term.as_str())));
    for c in custom {
        if let Ok(Some(role)) = parse_role(&c.role, c.weight) {
            lex.entries.push(LexiconEntry {
                lang: c.lang.clone(),
                term: c.term.clone(),
                role,
            });
        }
    }
    lex
}

/// Every entry in use, optionally of one language, builtin and custom.
pub fn entries(custom: &[CustomTerm], lang: Option<&str>) -> Vec<Term> {
    let spoken: std::collections::HashSet<(&str, &str)> = custom
        .iter()
        .map(|c| (c.lang.as_str(), c.term.as_str()))
        .collect();
    let mut out: Vec<Term> = Lexicon::builtin()
        .entries
        .into_iter()
        .filter(|e| lang.is_none_or(|l| e.lang == l))
        .filter(|e| !spoken.contains(&(e.lang.as_str(), e.term.as_str())))
        .map(|e| {
            let (role, weight) = role_of(&e.role);
            Term {
                lang: e.lang,
                term: e.term,
                role,
                weight,
                source: "builtin",
            }
        })
        .collect();
    out.extend(
        custom
            .iter()
            .filter(|c| c.role != "removed" && lang.is_none_or(|l| c.lang == l))
            .map(|c| Term {
                lang: c.lang.clone(),
                term: c.term.clone(),
                role: c.role.clone(),
                weight: c.weight,
                source: "custom",
            }),
    );
    out
}

impl Lexicons {
    /// The analyzer to use now.
    pub fn analyzer(&self) -> Arc<Analyzer> {
        match self.current.read() {
            Ok(c) => c.analyzer.clone(),
            Err(poisoned) => poisoned.into_inner().analyzer.clone(),
        }
    }

    /// Loads the admins' terms if they changed since the analyzer was built.
    pub async fn refresh(&self, store: &Store) -> Result<(), StoreError> {
        let version = store.lexicon_version().await?;
        let known = match self.current.read() {
            Ok(c) => c.version,
            Err(p) => p.into_inner().version,
        };
        if version == known {
            return Ok(());
        }
        let custom = store.custom_terms().await?;
        match Analyzer::new(&effective(&custom)) {
            Ok(a) => {
                if let Ok(mut c) = self.current.write() {
                    *c = Current {
                        analyzer: Arc::new(a),
                        version,
                    };
                }
                tracing::info!(custom_terms = custom.len(), "lexicon loaded");
            }
            // Terms are checked before they are stored; keep the last good one.
            Err(e) => tracing::warn!(error = %e, "stored lexicon unusable; keeping the previous"),
        }
        Ok(())
    }

    /// Refreshes every [`REFRESH`] until `closing` turns true.
    pub fn spawn_refresh(
        &self,
        store: Store,
        mut closing: tokio::sync::watch::Receiver<bool>,
    ) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH);
            loop {
                tokio::select! {
                    _ = tick.tick() => {
                        if let Err(e) = me.refresh(&store).await {
                            tracing::warn!(error = %e, "cannot refresh the lexicon");
                        }
                    }
                    changed = closing.changed() => {
                        if changed.is_err() || *closing.borrow() {
                            break;
                        }
                    }
                }
            }
        })
    }
}

impl Store {
    async fn lexicon_version(&self) -> Result<(i64, i64), StoreError> {
        let r = self
            .fetch_optional(
                "SELECT COUNT(*) AS n, COALESCE(MAX(updated_at), 0) AS at FROM lexicon_terms",
                vec![],
            )
            .await?;
        Ok(match r {
            Some(r) => (r.get("n")?, r.get("at")?),
            None => (0, 0),
        })
    }

    pub async fn custom_terms(&self) -> Result<Vec<CustomTerm>, StoreError> {
        self.fetch_all(
            "SELECT lang, term, role, weight, updated_at FROM lexicon_terms ORDER BY lang, term",
            vec![],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(CustomTerm {
                lang: r.get("lang")?,
                term: r.get("term")?,
                role: r.get("role")?,
                weight: r.get("weight")?,
                updated_at: crate::storage::users::rfc3339(r.get("updated_at")?),
            })
        })
        .collect()
    }

    /// Stores an admin's word on a term, with its audit entry.
    pub async fn put_term(&self, t: &CustomTerm, by: AuditRecord) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        // Two changes in one millisecond must still change the version.
        let at = now_ms().max(
            tx.fetch_optional(
                "SELECT COALESCE(MAX(updated_at), 0) + 1 AS at FROM lexicon_terms",
                vec![],
            )
            .await?
            .map(|r| r.get::<i64>("at"))
            .transpose()?
            .unwrap_or(0),
        );
        tx.execute(
            "INSERT INTO lexicon_terms (lang, term, role, weight, updated_by, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (lang, term) DO UPDATE SET role = EXCLUDED.role, weight = EXCLUDED.weight,
                 updated_by = EXCLUDED.updated_by, updated_at = EXCLUDED.updated_at",
            args![&t.lang, &t.term, &t.role, t.weight, &by.actor, at],
        )
        .await?;
        tx.audit(AuditRecord {
            action: "lexicon.term".into(),
            class: DataClass::Settings,
            record: None,
            detail: serde_json::json!({ "lang": t.lang, "term": t.term, "role": t.role, "weight": t.weight }),
            ..by
        })
        .await?;
        tx.commit().await
    }

    /// Forgets an admin's word on a term: the built-in entries (if any) apply again.
    pub async fn reset_term(
        &self,
        lang: &str,
        term: &str,
        by: AuditRecord,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "DELETE FROM lexicon_terms WHERE lang = $1 AND term = $2",
                args![lang, term],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(AuditRecord {
            action: "lexicon.reset".into(),
            class: DataClass::Settings,
            record: None,
            detail: serde_json::json!({ "lang": lang, "term": term }),
            ..by
        })
        .await?;
        tx.commit().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(lang: &str, term: &str, role: &str, weight: f64) -> CustomTerm {
        CustomTerm {
            lang: lang.into(),
            term: term.into(),
            role: role.into(),
            weight,
            updated_at: String::new(),
        }
    }

    #[test]
    fn an_admins_term_changes_what_analysis_finds() {
        let text = "the zorblax page keeps asking me again";
        let before = Analyzer::new(&effective(&[])).unwrap().analyze(text);
        assert_ne!(before.topic, Topic::PhishingScam);
        let custom = [term("en", "zorblax", "phishing_scam", 6.0)];
        let after = Analyzer::new(&effective(&custom)).unwrap().analyze(text);
        assert_eq!(after.topic, Topic::PhishingScam);
    }

    #[test]
    fn removing_a_builtin_term_takes_it_out() {
        let builtin = Lexicon::builtin();
        let e = builtin
            .entries
            .iter()
            .find(|e| e.lang == "en")
            .expect("an English entry");
        let custom = [term("en", &e.term, "removed", 0.0)];
        let lex = effective(&custom);
        assert!(!lex
            .entries
            .iter()
            .any(|x| x.lang == "en" && x.term == e.term));
        assert!(!entries(&custom, Some("en"))
            .iter()
            .any(|x| x.term == e.term));
    }

    #[test]
    fn roles_and_weights_are_checked() {
        assert!(parse_role("phishing_scam", 3.0).unwrap().is_some());
        assert!(parse_role("removed", 0.0).unwrap().is_none());
        assert!(parse_role("gossip", 1.0).is_err());
        assert!(parse_role("phishing_scam", 0.0).is_err());
        assert!(parse_role("sentiment", f64::NAN).is_err());
        assert!(parse_role("intensifier", 9.0).is_err());
    }
}
