//! Black-box tests: the real server on port 0, its own database (SQLite by
//! default; PostgreSQL when FRONTLINE_TEST_DATABASE_URL is set), driven over
//! HTTP, the command line and a real browser as its users would.

mod helpers;

mod access;
mod alerts;
mod audit;
mod auth;
mod browser;
mod cli;
mod dashboard;
mod durability;
mod feedback;
mod health;
mod incidents;
mod notify;
mod permissions;
mod privacy;
mod reports;
mod response;
mod routes;
mod serve;
mod signals;
mod status;
mod story;
mod surveys;
mod tickets;
