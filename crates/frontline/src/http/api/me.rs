use axum::http::Method;
use axum::Json;
use serde::Serialize;

use crate::http::guard::{Auth, Need, Route};

#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    /// `usr_...` for a person, `tok_...` for an API token.
    pub actor: String,
    pub name: String,
    pub role: String,
    /// `class:action` pairs this caller holds.
    pub grants: Vec<String>,
}

pub fn routes() -> Vec<Route> {
    vec![Route::new(Method::GET, "/api/v1/me", Need::SignedIn, me)
        .doc("access", "Who am I, and what may I do")
        .response::<Me>()]
}

async fn me(Auth(p): Auth) -> Json<Me> {
    Json(Me {
        actor: p.actor,
        name: p.display_name,
        role: p.role,
        grants: p.grants.iter().map(ToString::to_string).collect(),
    })
}
