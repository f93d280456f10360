//! Surveys, their single-use links, and their results.

use serde::Serialize;

use super::tokens::{hash_secret, new_secret};
use super::users::rfc3339;
use super::{now_ms, AuditRecord, Result, Row, Store, StoreError};
use crate::args;
use crate::domain::survey::SurveyDefinition;
use crate::domain::{id::Kind, DataClass, Id};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Survey {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub definition: SurveyDefinition,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}

impl Survey {
    fn from_row(r: &Row) -> Result<Self> {
        let def: String = r.get("definition")?;
        Ok(Self {
            id: r.get("id")?,
            slug: r.get("slug")?,
            title: r.get("title")?,
            definition: serde_json::from_str(&def)
                .map_err(|e| StoreError::Corrupt(format!("survey definition: {e}")))?,
            active: r.get("active")?,
            created_at: rfc3339(r.get("created_at")?),
            updated_at: rfc3339(r.get("updated_at")?),
        })
    }
}

/// Scores of one question.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuestionResult {
    pub question_id: String,
    pub kind: String,
    pub responses: i64,
    /// NPS: % promoters (9-10) minus % detractors (0-6), -100 to 100.
    pub nps: Option<f64>,
    /// CSAT: % of answers 4 or 5.
    pub csat: Option<f64>,
    /// CES and scales: the mean answer.
    pub mean: Option<f64>,
    /// CES: % of answers 5 to 7 (easy).
    pub ces_easy: Option<f64>,
    /// Answers per score, index = score.
    pub distribution: Vec<i64>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SurveyResults {
    pub survey_id: String,
    pub submissions: i64,
    pub questions: Vec<QuestionResult>,
    /// Answers by language.
    pub languages: Vec<(String, i64)>,
}

const COLUMNS: &str = "id, slug, title, definition, active, created_at, updated_at";

impl Store {
    pub async fn create_survey(
        &self,
        slug: &str,
        def: &SurveyDefinition,
        by: AuditRecord,
    ) -> Result<Survey> {
        let id = Id::new(Kind::Survey).to_string();
        let now = now_ms();
        let lang = def.languages.first().cloned().unwrap_or_default();
        let title = def.title.get(&lang).cloned().unwrap_or_default();
        let json = serde_json::to_string(def).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin().await?;
        tx.execute(
            &format!("INSERT INTO surveys ({COLUMNS}) VALUES ($1, $2, $3, $4, TRUE, $5, $5)"),
            args![&id, slug, title, json, now],
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => StoreError::Conflict("a survey with this slug"),
            e => e,
        })?;
        tx.audit(AuditRecord {
            action: "survey.create".into(),
            class: DataClass::Feedback,
            record: Some(id.clone()),
            detail: serde_json::json!({ "slug": slug }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.survey(&id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn update_survey(
        &self,
        id: &str,
        def: &SurveyDefinition,
        active: bool,
        by: AuditRecord,
    ) -> Result<Survey> {
        let lang = def.languages.first().cloned().unwrap_or_default();
        let title = def.title.get(&lang).cloned().unwrap_or_default();
        let json = serde_json::to_string(def).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.begin().await?;
        let n = tx
            .execute(
                "UPDATE surveys SET title = $1, definition = $2, active = $3, updated_at = $4 WHERE id = $5",
                args![title, json, active, now_ms(), id],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound);
        }
        tx.audit(AuditRecord {
            action: "survey.update".into(),
            class: DataClass::Feedback,
            record: Some(id.to_owned()),
            detail: serde_json::json!({ "active": active }),
            ..by
        })
        .await?;
        tx.commit().await?;
        self.survey(id).await?.ok_or(StoreError::NotFound)
    }

    pub async fn survey(&self, id: &str) -> Result<Option<Survey>> {
        self.fetch_optional(
            &format!("SELECT {COLUMNS} FROM surveys WHERE id = $1"),
            args![id],
        )
        .await?
        .as_ref()
        .map(Survey::from_row)
        .transpose()
    }

    pub async fn survey_by_slug(&self, slug: &str) -> Result<Option<Survey>> {
        self.fetch_optional(
            &format!("SELECT {COLUMNS} FROM surveys WHERE slug = $1"),
            args![slug],
        )
        .await?
        .as_ref()
        .map(Survey::from_row)
        .transpose()
    }

    pub async fn list_surveys(&self) -> Result<Vec<Survey>> {
        self.fetch_all(
            &format!("SELECT {COLUMNS} FROM surveys ORDER BY id DESC"),
            vec![],
        )
        .await?
        .iter()
        .map(Survey::from_row)
        .collect()
    }

    /// Creates single-use links; returns their tokens (shown once).
    pub async fn create_survey_links(
        &self,
        survey: &str,
        count: usize,
        by: AuditRecord,
    ) -> Result<Vec<String>> {
        let mut tx = self.begin().await?;
        let now = now_ms();
        let mut tokens = Vec::with_capacity(count);
        for _ in 0..count {
            let t = new_secret("");
            tx.execute(
                "INSERT INTO survey_links (token_hash, survey_id, created_at) VALUES ($1, $2, $3)",
                args![hash_secret(&t), survey, now],
            )
            .await?;
            tokens.push(t);
        }
        tx.audit(AuditRecord {
            action: "survey.links".into(),
            class: DataClass::Feedback,
            record: Some(survey.to_owned()),
            detail: serde_json::json!({ "count": count }),
            ..by
        })
        .await?;
        tx.commit().await?;
        Ok(tokens)
    }

    /// Whether a single-use link exists for this survey and is unused.
    pub async fn survey_link_open(&self, survey: &str, token: &str) -> Result<bool> {
        Ok(self
            .fetch_optional(
                "SELECT used_at FROM survey_links WHERE token_hash = $1 AND survey_id = $2",
                args![hash_secret(token), survey],
            )
            .await?
            .map(|r| r.get::<Option<i64>>("used_at"))
            .transpose()?
            .is_some_and(|used| used.is_none()))
    }

    pub async fn survey_results(&self, survey: &Survey) -> Result<SurveyResults> {
        let rows = self
            .fetch_all(
                "SELECT question_id, kind, score, COUNT(*) AS n FROM feedback
                 WHERE survey_id = $1 AND score IS NOT NULL GROUP BY question_id, kind, score",
                args![&survey.id],
            )
            .await?;
        let mut questions = Vec::new();
        for q in &survey.definition.questions {
            let Some((_, max)) = crate::domain::feedback::FeedbackKind::parse(&q.kind)
                .ok()
                .and_then(|k| k.range())
            else {
                continue;
            };
            let mut dist = vec![0i64; usize::from(max) + 1];
            for r in &rows {
                if r.get::<Option<String>>("question_id")?.as_deref() == Some(q.id.as_str()) {
                    let score: i64 = r.get("score")?;
                    if let Some(slot) = dist.get_mut(score as usize) {
                        *slot += r.get::<i64>("n")?;
                    }
                }
            }
            questions.push(score_question(&q.id, &q.kind, dist));
        }
        let submissions = self
            .fetch_optional(
                "SELECT COUNT(DISTINCT submission_id) AS n FROM feedback WHERE survey_id = $1",
                args![&survey.id],
            )
            .await?
            .map(|r| r.get::<i64>("n"))
            .transpose()?
            .unwrap_or(0);
        let languages = self
            .fetch_all(
                "SELECT COALESCE(language, 'und') AS language, COUNT(DISTINCT submission_id) AS n FROM feedback
                 WHERE survey_id = $1 GROUP BY COALESCE(language, 'und') ORDER BY n DESC",
                args![&survey.id],
            )
            .await?
            .iter()
            .map(|r| Ok((r.get("language")?, r.get("n")?)))
            .collect::<Result<_>>()?;
        Ok(SurveyResults {
            survey_id: survey.id.clone(),
            submissions,
            questions,
            languages,
        })
    }
}

/// The standard scores from a distribution of answers (index = score).
pub fn score_question(id: &str, kind: &str, dist: Vec<i64>) -> QuestionResult {
    let n: i64 = dist.iter().sum();
    let pct = |k: i64| (n > 0).then(|| 100.0 * k as f64 / n as f64);
    let between = |lo: usize, hi: usize| {
        dist.iter()
            .enumerate()
            .filter(|(s, _)| (lo..=hi).contains(s))
            .map(|(_, c)| c)
            .sum::<i64>()
    };
    let mean = (n > 0).then(|| {
        dist.iter()
            .enumerate()
            .map(|(s, c)| s as f64 * *c as f64)
            .sum::<f64>()
            / n as f64
    });
    let (nps, csat, ces_easy, mean) = match kind {
        "nps" => (
            pct(between(9, 10))
                .zip(pct(between(0, 6)))
                .map(|(p, d)| p - d),
            None,
            None,
            mean,
        ),
        "csat" => (None, pct(between(4, 5)), None, mean),
        "ces" => (None, None, pct(between(5, 7)), mean),
        _ => (None, None, None, mean),
    };
    QuestionResult {
        question_id: id.to_owned(),
        kind: kind.to_owned(),
        responses: n,
        nps,
        csat,
        mean,
        ces_easy,
        distribution: dist,
    }
}

#[cfg(test)]
mod tests {
    use super::score_question;

    #[test]
    fn nps_csat_and_ces_follow_their_definitions() {
        // 3 promoters, 1 passive, 2 detractors: (3 - 2) / 6 = +16.7
        let mut d = vec![0; 11];
        d[10] = 2;
        d[9] = 1;
        d[8] = 1;
        d[6] = 1;
        d[0] = 1;
        let r = score_question("q", "nps", d);
        assert!((r.nps.unwrap() - 16.666).abs() < 0.01);
        let r = score_question("q", "csat", vec![0, 1, 0, 1, 1, 1]);
        assert_eq!(r.csat, Some(50.0));
        let r = score_question("q", "ces", vec![0, 0, 0, 0, 0, 1, 0, 1]);
        assert_eq!(r.ces_easy, Some(100.0));
        assert_eq!(r.mean, Some(6.0));
        assert_eq!(score_question("q", "nps", vec![0; 11]).nps, None);
    }
}
