//! `/api/v1`: JSON for everything. Each file owns one resource.

pub(crate) mod alerts;
mod audiences;
mod audit;
mod components;
pub(crate) mod feedback;
pub(crate) mod incidents;
mod indicators;
mod lexicon;
mod me;
pub(crate) mod playbooks;
mod reports;
pub(crate) mod response;
mod roles;
pub(crate) mod routes;
mod signals;
mod subjects;
pub(crate) mod subscribers;
mod surveys;
pub(crate) mod tickets;
mod tokens;
mod users;

use super::guard::Route;

pub(crate) use roles::parse_grants;
pub(crate) use tokens::create_token;
pub(crate) use users::{add_user, present as users_present};

/// Every API route with the grant it needs. The router, the OpenAPI
/// document and the permission tests are all built from this one list.
pub fn routes() -> Vec<Route> {
    [
        me::routes(),
        users::routes(),
        roles::routes(),
        tokens::routes(),
        audit::routes(),
        feedback::routes(),
        signals::routes(),
        indicators::routes(),
        lexicon::routes(),
        alerts::routes(),
        routes::routes(),
        surveys::routes(),
        response::routes(),
        incidents::routes(),
        playbooks::routes(),
        components::routes(),
        audiences::routes(),
        subjects::routes(),
        subscribers::routes(),
        tickets::routes(),
        reports::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
