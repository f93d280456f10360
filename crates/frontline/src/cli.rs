//! The command line: serve, demo, migrate, config, user, token, role, audit.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Parser, Subcommand};

use crate::auth::cli_actor;
use crate::config::Config;
use crate::domain::access::BUILTIN_ROLES;
use crate::domain::user::Email;
use crate::domain::DataClass;
use crate::storage::{Store, Verification};

#[derive(Parser)]
#[command(
    name = "frontline",
    version,
    about = "Customer experience and security response on one frontline"
)]
struct Cli {
    /// A TOML file overriding the compiled-in defaults (FRONTLINE_* variables override both).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve,
    /// Run a server on a fresh embedded database with demo accounts.
    Demo {
        /// Where to listen (default: http.addr, 127.0.0.1:8080).
        #[arg(long)]
        addr: Option<std::net::SocketAddr>,
        /// Data directory to create (default: a new temporary directory).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// Pace of the story: 1 plays it in about four minutes, 2 twice as
        /// fast, 0.5 half as fast (0.1 to 100).
        #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
        speed: f64,
        /// Serve the demo data without playing the story.
        #[arg(long)]
        no_story: bool,
    },
    /// Bring the database schema up to date and exit.
    Migrate,
    /// Print the effective configuration, secrets masked.
    Config,
    /// Manage staff users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Show roles and their grants.
    #[command(subcommand)]
    Role(RoleCommand),
    /// Check the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Redact personal data: standard input to standard output.
    Redact {
        /// Print {"text", "findings"} as JSON instead.
        #[arg(long)]
        json: bool,
    },
    /// Import feedback from a CSV, JSON or NDJSON export.
    Import(crate::import::ImportArgs),
    /// Recount the scorecard's daily rollups from the stored feedback and tickets.
    #[command(name = "scorecard-rebuild")]
    ScorecardRebuild,
    /// The weekly scorecard email.
    #[command(subcommand)]
    Report(ReportCommand),
    /// Purge what is past its retention period (retention.*_days).
    Purge {
        /// Report what would be purged; change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Data requests: export or erase everything held about one person.
    #[command(subcommand)]
    Subject(crate::privacy::commands::SubjectCommand),
    /// Sealing keys: rotate, status.
    #[command(subcommand)]
    Keys(crate::privacy::commands::KeysCommand),
}

#[derive(Subcommand)]
enum ReportCommand {
    /// Queue a week's report for every stakeholder now (sent by a running
    /// server's delivery worker).
    Send {
        /// An ISO week such as 2026-W48; default: the last week due.
        #[arg(long)]
        week: Option<String>,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. Prints a generated password unless --password-stdin is given.
    Add {
        email: String,
        #[arg(long)]
        name: String,
        /// One of the roles from `frontline role list`.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Disable a user and end their sessions.
    Disable { email: String },
    /// Enable a disabled user.
    Enable { email: String },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token bound to a role; the secret is printed once.
    Create {
        #[arg(long)]
        name: String,
        #[arg(long)]
        role: String,
        #[arg(long, default_value_t = 90)]
        expires_in_days: i64,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id (tok_...).
    Revoke { id: String },
}

#[derive(Subcommand)]
enum RoleCommand {
    /// List roles and their grants.
    List,
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the hash chain; exit 1 and name the first broken entry if any.
    Verify,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn open(config: &Config) -> anyhow::Result<Store> {
    let store = Store::connect(config)
        .await
        .context("cannot open the database (check database.url / FRONTLINE_DATABASE_URL)")?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (0.1..=100.0).contains(&x) => Ok(x),
        _ => Err(format!(
            "{s:?} is not a speed: give a number from 0.1 to 100 (1 plays the story in about four minutes)"
        )),
    }
}

/// API tokens for the people in the demo's story, one per role.
async fn story_cast(store: &Store) -> anyhow::Result<crate::demo::story::Cast> {
    let mut tokens = Vec::new();
    for role in [
        "admin",
        "security_analyst",
        "communications",
        "legal",
        "cx_agent",
    ] {
        let (_, secret) = store
            .create_token(
                crate::storage::tokens::NewToken {
                    name: format!("demo story ({role})"),
                    role: role.into(),
                    expires_at: crate::storage::now_ms() + 86_400_000,
                    created_by: None,
                },
                cli_actor("token.create", DataClass::Settings, None),
            )
            .await?;
        tokens.push(secret);
    }
    let mut t = tokens.into_iter();
    let mut next = || t.next().unwrap_or_default();
    Ok(crate::demo::story::Cast {
        admin: next(),
        analyst: next(),
        communications: next(),
        legal: next(),
        cx: next(),
    })
}

/// Plays the demo's story, printing each chapter as it ends.
async fn tell(
    base: &str,
    cast: crate::demo::story::Cast,
    mailbox: std::sync::Arc<crate::notify::catcher::MailCatcher>,
    speed: f64,
) -> anyhow::Result<()> {
    use crate::demo::story::{Story, CHAPTERS};
    let mut story = Story::new(base, cast, mailbox, speed);
    story.prepare().await?;
    println!(
        "\nThe story ({} chapters; --speed {speed}). Sign in as admin@frontline.demo to watch it live at {base}/",
        CHAPTERS.len()
    );
    story.pause(5.0).await;
    let mut n = 0;
    while let Some(chapter) = story.play_next().await? {
        n += 1;
        println!("\n{n}. {}", chapter.title);
        for line in chapter.lines.iter().filter(|l| !l.is_empty()) {
            println!("   {line}");
        }
        println!("   See {base}{}", chapter.page);
        story.pause(6.0).await;
    }
    println!("\nThe story is over; the server keeps running for you to look around.");
    Ok(())
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(cli.config.as_deref())?;
    match cli.command {
        Command::Config => {
            print!("{}", config.to_masked_toml());
        }
        Command::Serve => {
            crate::telemetry::init(&config);
            let running = crate::start(config, true).await?;
            tracing::info!(addr = %running.addr, backend = running.state.store.backend(), "frontline listening");
            running.wait().await?;
        }
        Command::Demo {
            addr,
            data_dir,
            speed,
            no_story,
        } => {
            let dir = match data_dir {
                Some(d) => {
                    if d.exists() && std::fs::read_dir(&d)?.next().is_some() {
                        bail!(
                            "--data-dir {} is not empty; the demo needs a fresh directory",
                            d.display()
                        );
                    }
                    d
                }
                None => tempfile::Builder::new()
                    .prefix("frontline-demo-")
                    .tempdir()?
                    .keep(),
            };
            config.data_dir = dir.clone();
            config.database.url = crate::config::Secret::default();
            if let Some(a) = addr {
                config.http.addr = a;
                // Links the demo prints and pages show point where it listens.
                config.http.public_url = format!("http://{a}");
            }
            // The story is told on standard output; the log says only what
            // goes wrong unless asked for more (RUST_LOG or log.level).
            if !no_story && config.log.level == "info" {
                config.log.level = "warn".into();
            }
            crate::telemetry::init(&config);
            // Mail the demo sends (confirmations, notices) goes to a local
            // catcher, unless an SMTP server is configured.
            let catcher = if config.notify.smtp_url.is_empty() {
                let c = crate::notify::catcher::MailCatcher::start("127.0.0.1:0", true).await?;
                config.notify.smtp_url = crate::config::Secret::new(c.url());
                Some(std::sync::Arc::new(c))
            } else {
                None
            };
            let store = open(&config).await?;
            let password = crate::storage::tokens::new_secret("")[..16].to_owned();
            let mut accounts = Vec::new();
            for role in BUILTIN_ROLES {
                let email = format!("{}@frontline.demo", role.name.replace('_', "-"));
                let name = role.name.replace('_', " ");
                crate::http::api::add_user(
                    &store,
                    &email,
                    &name,
                    role.name,
                    &password,
                    cli_actor("user.create", DataClass::Settings, None),
                )
                .await
                .map_err(|e| anyhow::anyhow!("cannot create demo user: {e}"))?;
                accounts.push((role.name, email));
            }
            let ring = std::sync::Arc::new(config.key_ring()?);
            let seeded = crate::demo::seed(&store, ring, 3000).await?;
            let cast = if no_story || catcher.is_none() {
                None
            } else {
                Some(story_cast(&store).await?)
            };
            let running = crate::start_with_store(config, store, true).await?;
            if let Some(c) = &catcher {
                let _ = running.state.mailbox.set(c.clone());
            }
            println!("Frontline demo is running.\n");
            println!("  Open:      http://{}/", running.addr);
            println!("  Data:      {}", dir.display());
            println!("  Password:  {password}  (every demo account)\n");
            println!("  Accounts, one per built-in role:");
            for (role, email) in &accounts {
                println!("    {email:<36} {role}");
            }
            println!(
                "\n  {} feedback items from the last 30 days, in English, Chinese, Persian and Gujarati.",
                seeded.feedback
            );
            println!("  Surveys customers answer (no sign-in):");
            for slug in &seeded.surveys {
                println!("    http://{}/f/{slug}   (?lang=zh, fa, gu)", running.addr);
            }
            println!("  Privacy notice:  http://{}/privacy", running.addr);
            if let Some(c) = &catcher {
                println!(
                    "  Mail catcher:    {} (mail the demo sends stays here; read it at http://{}/mail)",
                    c.url(),
                    running.addr
                );
            }
            let story = match (cast, &catcher) {
                (Some(cast), Some(mailbox)) => {
                    let base = format!("http://{}", running.addr);
                    let mailbox = mailbox.clone();
                    Some(tokio::spawn(async move {
                        if let Err(e) = tell(&base, cast, mailbox, speed).await {
                            eprintln!("\nThe story stopped: {e:#}");
                        }
                    }))
                }
                _ if no_story => None,
                _ => {
                    println!("\n  (notify.smtp_url is set, so the story, which reads the demo's mail catcher, is not played)");
                    None
                }
            };
            println!("\nPress Ctrl-C to stop.");
            running.wait().await?;
            if let Some(s) = story {
                s.abort();
            }
        }
        Command::Migrate => {
            let store = open(&config).await?;
            println!("database is up to date ({})", store.backend());
        }
        Command::User(cmd) => return user(&config, cmd).await,
        Command::Token(cmd) => return token(&config, cmd).await,
        Command::Role(RoleCommand::List) => {
            let store = open(&config).await?;
            for r in store.list_roles().await? {
                let grants: Vec<_> = r.grants.iter().map(ToString::to_string).collect();
                println!(
                    "{:<18} {}\n{:<18} {}",
                    r.name,
                    r.description,
                    "",
                    grants.join(" ")
                );
            }
        }
        Command::Redact { json } => return crate::privacy::commands::redact(json),
        Command::Import(args) => {
            let store = open(&config).await?;
            return crate::import::run(&config, &store, args).await;
        }
        Command::ScorecardRebuild => {
            let store = open(&config).await?;
            let started = std::time::Instant::now();
            store.rebuild_rollups().await?;
            println!(
                "rollups rebuilt in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            return Ok(std::process::ExitCode::SUCCESS);
        }
        Command::Report(ReportCommand::Send { week }) => {
            let store = open(&config).await?;
            let week = match week {
                Some(w) => crate::reports::Week::parse(&w).map_err(|e| anyhow::anyhow!("{e}"))?,
                None => crate::reports::Week::due(
                    chrono::Utc::now(),
                    config
                        .reports
                        .weekly_timezone
                        .parse()
                        .unwrap_or(chrono_tz::UTC),
                    config.reports.weekly_hour,
                ),
            };
            let q = crate::reports::queue(
                &store,
                &config,
                week,
                false,
                crate::auth::cli_actor(
                    "report.weekly.send",
                    DataClass::Reports,
                    Some(week.label()),
                ),
            )
            .await?;
            println!("{}: queued for {} stakeholder(s)", q.week, q.recipients);
            return Ok(std::process::ExitCode::SUCCESS);
        }
        Command::Purge { dry_run } => {
            let store = open(&config).await?;
            return crate::privacy::commands::purge(&config, &store, dry_run).await;
        }
        Command::Subject(cmd) => {
            let store = open(&config).await?;
            return crate::privacy::commands::subject(&config, &store, cmd).await;
        }
        Command::Keys(cmd) => {
            let store = open(&config).await?;
            return crate::privacy::commands::keys(&config, &store, cmd).await;
        }
        Command::Audit(AuditCommand::Verify) => {
            let store = open(&config).await?;
            match store.audit_verify().await? {
                Verification::Intact { entries } => {
                    println!("audit trail intact: {entries} entries verified")
                }
                Verification::Broken { seq, reason } => {
                    eprintln!("audit trail BROKEN at entry {seq}: {reason}");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn user(config: &Config, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    match cmd {
        UserCommand::Add {
            email,
            name,
            role,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                let mut line = String::new();
                std::io::stdin().lock().read_line(&mut line)?;
                (line.trim_end_matches(['\r', '\n']).to_owned(), false)
            } else {
                (
                    crate::storage::tokens::new_secret("")[..20].to_owned(),
                    true,
                )
            };
            let user = crate::http::api::add_user(
                &store,
                &email,
                &name,
                &role,
                &password,
                cli_actor("user.create", DataClass::Settings, None),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("added {} ({})", user.id, user.role);
            if generated {
                println!("password: {password}");
            }
        }
        UserCommand::List => {
            for u in store.list_users().await? {
                println!(
                    "{}  {:<32} {:<18} {}",
                    u.id,
                    u.email,
                    u.role,
                    if u.disabled { "disabled" } else { "active" }
                );
            }
        }
        UserCommand::Disable { email } | UserCommand::Enable { email }
            if Email::parse(&email).is_err() =>
        {
            bail!("{email:?} is not an email address");
        }
        UserCommand::Disable { email } => set_disabled(&store, &email, true).await?,
        UserCommand::Enable { email } => set_disabled(&store, &email, false).await?,
    }
    Ok(ExitCode::SUCCESS)
}

async fn set_disabled(store: &Store, email: &str, disabled: bool) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(|e| anyhow::anyhow!("{e}"))?;
    let Some(user) = store.user_by_email(&email).await? else {
        bail!("no user with that email (see `frontline user list`)");
    };
    store
        .update_user(
            user.id.as_str(),
            None,
            Some(disabled),
            None,
            cli_actor(
                "user.update",
                DataClass::Settings,
                Some(user.id.to_string()),
            ),
        )
        .await?;
    println!(
        "{} {}",
        user.id,
        if disabled { "disabled" } else { "enabled" }
    );
    Ok(())
}

async fn token(config: &Config, cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let store = open(config).await?;
    match cmd {
        TokenCommand::Create {
            name,
            role,
            expires_in_days,
        } => {
            let (t, secret) = crate::http::api::create_token(
                &store,
                &name,
                &role,
                Some(expires_in_days),
                None,
                cli_actor("token.create", DataClass::Settings, None),
            )
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("created {} ({}, expires {})", t.id, t.role, t.expires_at);
            println!("secret (shown once): {secret}");
        }
        TokenCommand::List => {
            for t in store.list_tokens().await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else {
                    "live"
                };
                println!(
                    "{}  {:<24} {:<18} expires {}  {state}",
                    t.id, t.name, t.role, t.expires_at
                );
            }
        }
        TokenCommand::Revoke { id } => {
            store
                .revoke_token(
                    &id,
                    cli_actor("token.revoke", DataClass::Settings, Some(id.clone())),
                )
                .await
                .map_err(|e| match e {
                    crate::storage::StoreError::NotFound => {
                        anyhow::anyhow!("no live token {id} (see `frontline token list`)")
                    }
                    e => e.into(),
                })?;
            println!("revoked {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
