//! `shelfmark staff`: staff accounts and API tokens from the command line (the first
//! administrator of a new library has no one to log in as), and the demo's administrator.

use anyhow::{bail, Context};
use std::io::Read;
use storage::staff::NewStaff;
use storage::Database;

/// Creates an account; the password is read from standard input (one line), never from an
/// argument, which other users of the machine could read in the process list.
pub fn add(
    db: &dyn Database,
    login: &str,
    name: &str,
    roles: &[String],
    branches: &[String],
    password_stdin: bool,
) -> anyhow::Result<()> {
    if !password_stdin {
        bail!("give the password on standard input with --password-stdin");
    }
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).context("cannot read the password from standard input")?;
    let password = input.lines().next().unwrap_or("").to_string();
    accounts::check_login(login)?;
    accounts::check_password(login, &password)?;
    let roles = roles
        .iter()
        .map(|r| accounts::Role::parse(r).map(|r| r.as_str().to_string()))
        .collect::<Result<Vec<_>, _>>()?;
    let branches = branches
        .iter()
        .map(|b| catalog::Code::parse(b).with_context(|| format!("--branch {b:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let password_hash = accounts::hash_password(&password)?;
    let account = db.create_staff(
        &NewStaff { login: login.to_string(), name: name.to_string(), roles, branches, password_hash },
        chrono::Utc::now(),
    )?;
    eprintln!("staff account {} created (roles: {})", account.login, account.roles.join(", "));
    Ok(())
}

/// Makes a named API token for the account and returns it (shown this once).
pub fn token(db: &dyn Database, login: &str, name: &str) -> anyhow::Result<String> {
    let (token, hash) = accounts::new_token()?;
    db.create_api_token(login, name, &hash, chrono::Utc::now())?;
    Ok(token)
}

/// The demo library's administrator, `admin`, with the configured password or a new random
/// one; the password when the account was made now (`None`: it existed already).
pub fn demo_admin(db: &dyn Database, configured: Option<&str>) -> anyhow::Result<Option<String>> {
    if db.staff_account("admin")?.is_some() {
        return Ok(None);
    }
    let password = match configured {
        Some(p) => {
            accounts::check_password("admin", p).context("admin_password in the settings file")?;
            p.to_string()
        }
        None => {
            // 96 random bits as 24 hex digits: strong, and typeable from the terminal.
            let (token, _) = accounts::new_token()?;
            token.trim_start_matches(accounts::TOKEN_PREFIX)[..24].to_string()
        }
    };
    let account = NewStaff {
        login: "admin".into(),
        name: "Demo administrator".into(),
        roles: vec!["admin".into()],
        branches: vec![],
        password_hash: accounts::hash_password(&password)?,
    };
    db.create_staff(&account, chrono::Utc::now())?;
    Ok(Some(password))
}
