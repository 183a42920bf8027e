//! Staff accounts as pure logic: who a staff member is, what their roles let them do, how their
//! password is checked and stored, and the tokens a login hands out. No I/O: storage keeps the
//! accounts, the web edge reads credentials from requests.
//!
//! - Passwords are hashed with argon2id and kept as a PHC string (`$argon2id$v=19$m=...`), so
//!   the parameters travel with the hash and can be raised later without breaking old hashes.
//! - Session and API tokens are 256 random bits from the operating system. Only their SHA-256 is
//!   stored: a copy of the database does not let anyone act as the staff member.
//! - Roles are named sets of [`Permission`]s; an account's permissions are the union of its roles.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use catalog::Code;
use circulation::{Permission, Staff, StaffId};
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters long")]
    PasswordTooShort,
    #[error("the password must be at most {MAX_PASSWORD_CHARS} characters long")]
    PasswordTooLong,
    #[error("the password must not be the login name")]
    PasswordIsLogin,
    #[error("the password must not be the same character repeated")]
    PasswordRepetitive,
    #[error("a login is 1 to 64 lower-case letters, digits, '.', '-' or '_'; {0:?} is not")]
    InvalidLogin(String),
    #[error("there is no role {0:?}; the roles are admin, clerk, supervisor, cataloger, volunteer and selfcheck")]
    UnknownRole(String),
    #[error("the password could not be hashed: {0}")]
    Hashing(String),
    #[error("the operating system gave no random bytes: {0}")]
    Randomness(String),
}

pub const MIN_PASSWORD_CHARS: usize = 10;
/// Argon2 hashes any length, but a megabyte "password" is a denial of service, not a secret.
pub const MAX_PASSWORD_CHARS: usize = 256;

/// The password policy: long enough to resist guessing (NIST SP 800-63B: length over
/// composition rules), not the login, not one character repeated.
pub fn check_password(login: &str, password: &str) -> Result<(), AccountError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooLong);
    }
    if password.eq_ignore_ascii_case(login) {
        return Err(AccountError::PasswordIsLogin);
    }
    let mut it = password.chars();
    if let Some(first) = it.next() {
        if it.all(|c| c == first) {
            return Err(AccountError::PasswordRepetitive);
        }
    }
    Ok(())
}

/// A login name: 1-64 of `a-z 0-9 . - _`, so it reads the same in a URL path, a log line and
/// the audit log.
pub fn check_login(login: &str) -> Result<(), AccountError> {
    let ok = (1..=64).contains(&login.len())
        && login.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(())
    } else {
        Err(AccountError::InvalidLogin(login.to_string()))
    }
}

/// Hashes a password with argon2id (the crate's defaults: 19 MiB, 2 passes, OWASP's minimum)
/// and a fresh random salt, as a PHC string.
pub fn hash_password(password: &str) -> Result<String, AccountError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AccountError::Randomness(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccountError::Hashing(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Hashing(e.to_string()))
}

/// True when `password` matches the stored PHC string. A malformed stored hash verifies nothing.
pub fn verify_password(password: &str, phc: &str) -> bool {
    match PasswordHash::new(phc) {
        Ok(hash) => Argon2::default().verify_password(password.as_bytes(), &hash).is_ok(),
        Err(_) => false,
    }
}

/// A hash to verify against when the login does not exist, so that a wrong login costs the same
/// time as a wrong password and the answer's timing does not tell which it was.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("decoy password, never matches").unwrap_or_default())
}

/// What a token starts with: a scanner for leaked secrets (or a person) can tell it is ours.
pub const TOKEN_PREFIX: &str = "smk_";

/// A new random token (256 bits, hex, prefixed) and the SHA-256 to store in its place.
pub fn new_token() -> Result<(String, String), AccountError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AccountError::Randomness(e.to_string()))?;
    let token = format!("{TOKEN_PREFIX}{}", hex(&bytes));
    let hash = token_hash(&token);
    Ok((token, hash))
}

/// The stored form of a token: its SHA-256 in hex. Tokens are random, so no salt or slow hash
/// is needed: there is nothing to guess.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The built-in roles. Each is a fixed set of permissions; a library that needs another mix
/// gives an account several roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    Admin,
    /// The circulation desk: check out, check in, renew, register patrons, take money.
    Clerk,
    /// A clerk who may also override refusals and read reports.
    Supervisor,
    Cataloger,
    /// Check-in and shelving only: the book drop, shelf lists, inventories.
    Volunteer,
    /// A self-check kiosk or book sorter speaking SIP2: check out, renew, check in, take a
    /// payment. Never an override or the library's set-up: a kiosk answers to no one who could
    /// give a reason.
    Selfcheck,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::Admin, Role::Clerk, Role::Supervisor, Role::Cataloger, Role::Volunteer, Role::Selfcheck];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Clerk => "clerk",
            Role::Supervisor => "supervisor",
            Role::Cataloger => "cataloger",
            Role::Volunteer => "volunteer",
            Role::Selfcheck => "selfcheck",
        }
    }

    pub fn parse(s: &str) -> Result<Role, AccountError> {
        let s = s.trim().to_ascii_lowercase();
        Role::ALL.into_iter().find(|r| r.as_str() == s).ok_or(AccountError::UnknownRole(s))
    }

    pub fn permissions(self) -> &'static [Permission] {
        use Permission as P;
        match self {
            Role::Admin => &[P::Admin],
            Role::Clerk => &[P::Circulate, P::CheckIn, P::ManagePatrons, P::HandleMoney, P::Shelve],
            Role::Supervisor => {
                &[P::Circulate, P::CheckIn, P::ManagePatrons, P::HandleMoney, P::Shelve, P::Override, P::Reports]
            }
            Role::Cataloger => &[P::Catalog, P::Shelve],
            Role::Volunteer => &[P::CheckIn, P::Shelve],
            Role::Selfcheck => &[P::Circulate, P::CheckIn, P::HandleMoney],
        }
    }
}

/// A staff account as the rest of the system needs it: who, what they may do, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub roles: BTreeSet<Role>,
    /// The branches the account may act at; empty: every branch.
    pub branches: BTreeSet<Code>,
    pub active: bool,
}

impl Account {
    pub fn permissions(&self) -> BTreeSet<Permission> {
        self.roles.iter().flat_map(|r| r.permissions().iter().copied()).collect()
    }

    /// The account as circulation's decisions see it (overrides check `Permission::Override`).
    pub fn staff(&self) -> Staff {
        Staff::new(StaffId(self.id), self.permissions())
    }

    /// Whether the account may act at `branch`. An administrator is never limited: whoever
    /// grants branch limits must not be able to lock themselves out of a branch.
    pub fn may_act_at(&self, branch: &Code) -> bool {
        self.branches.is_empty() || self.branches.contains(branch) || self.roles.contains(&Role::Admin)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_argon2id_phc_and_verifies_only_the_password() {
        let h = hash_password("correct horse battery").expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m="), "{h}");
        assert!(verify_password("correct horse battery", &h));
        assert!(!verify_password("correct horse batterY", &h));
        assert!(!verify_password("", &h));
        // Two hashes of one password differ: each has its own salt.
        assert_ne!(h, hash_password("correct horse battery").expect("hash"));
    }

    #[test]
    fn malformed_stored_hash_verifies_nothing() {
        assert!(!verify_password("anything", "not a phc string"));
        assert!(!verify_password("anything", ""));
        assert!(!verify_password("decoy password, never matches", "$argon2id$v=19$broken"));
    }

    #[test]
    fn decoy_never_matches_a_real_attempt() {
        assert!(decoy_hash().starts_with("$argon2id$"));
        assert!(!verify_password("password123", decoy_hash()));
    }

    #[test]
    fn password_policy() {
        assert_eq!(check_password("ann", "short"), Err(AccountError::PasswordTooShort));
        assert_eq!(check_password("longlogin1", "LONGLOGIN1"), Err(AccountError::PasswordIsLogin));
        assert_eq!(check_password("ann", "aaaaaaaaaaaa"), Err(AccountError::PasswordRepetitive));
        assert_eq!(check_password("ann", &"ab".repeat(200)), Err(AccountError::PasswordTooLong));
        assert_eq!(check_password("ann", "a sensible passphrase"), Ok(()));
        // Length is counted in characters, not bytes.
        assert_eq!(check_password("ann", "ééééé"), Err(AccountError::PasswordTooShort));
    }

    #[test]
    fn logins() {
        assert!(check_login("m.jones").is_ok());
        assert!(check_login("vol_3").is_ok());
        for bad in ["", "Ann", "a b", "a/b", &"x".repeat(65)] {
            assert!(check_login(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn tokens_are_256_bits_prefixed_and_stored_as_sha256() {
        let (token, hash) = new_token().expect("token");
        assert!(token.starts_with(TOKEN_PREFIX));
        assert_eq!(token.len(), TOKEN_PREFIX.len() + 64);
        assert_eq!(hash.len(), 64);
        assert_eq!(hash, token_hash(&token));
        assert_ne!(hash, token_hash(&format!("{token}x")));
        let (other, _) = new_token().expect("token");
        assert_ne!(token, other);
        // The known SHA-256 of "abc", so the stored form is the standard digest.
        assert_eq!(token_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    fn account(roles: &[Role], branches: &[&str]) -> Account {
        Account {
            id: 1,
            login: "x".into(),
            name: "X".into(),
            roles: roles.iter().copied().collect(),
            branches: branches.iter().map(|b| Code::parse(b).expect("code")).collect(),
            active: true,
        }
    }

    #[test]
    fn roles_grant_what_the_library_expects() {
        use Permission as P;
        let volunteer = account(&[Role::Volunteer], &[]).staff();
        assert!(volunteer.may(P::CheckIn) && volunteer.may(P::Shelve));
        for p in [P::Circulate, P::Override, P::HandleMoney, P::ManagePatrons, P::Catalog, P::Configure, P::Reports] {
            assert!(!volunteer.may(p), "volunteer {p:?}");
        }
        let clerk = account(&[Role::Clerk], &[]).staff();
        assert!(clerk.may(P::Circulate) && clerk.may(P::HandleMoney) && clerk.may(P::ManagePatrons));
        assert!(!clerk.may(P::Override) && !clerk.may(P::Reports) && !clerk.may(P::Catalog));
        let supervisor = account(&[Role::Supervisor], &[]).staff();
        assert!(supervisor.may(P::Override) && supervisor.may(P::Reports) && supervisor.may(P::Circulate));
        assert!(!supervisor.may(P::Configure) && !supervisor.may(P::Admin));
        let cataloger = account(&[Role::Cataloger], &[]).staff();
        assert!(cataloger.may(P::Catalog) && !cataloger.may(P::Circulate));
        let admin = account(&[Role::Admin], &[]).staff();
        assert!(P::ALL.iter().all(|p| admin.may(*p)));
        let kiosk = account(&[Role::Selfcheck], &["CEN"]).staff();
        assert!(
            kiosk.may(Permission::Circulate) && kiosk.may(Permission::CheckIn) && kiosk.may(Permission::HandleMoney)
        );
        for never in [Permission::Override, Permission::Configure, Permission::ManagePatrons, Permission::Admin] {
            assert!(!kiosk.may(never), "{never:?}");
        }
        // Several roles: the union.
        let both = account(&[Role::Volunteer, Role::Cataloger], &[]).staff();
        assert!(both.may(P::Catalog) && both.may(P::CheckIn) && !both.may(P::Circulate));
    }

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert_eq!(Role::parse(" Clerk "), Ok(Role::Clerk));
        assert!(matches!(Role::parse("janitor"), Err(AccountError::UnknownRole(_))));
    }

    #[test]
    fn branch_limits() {
        let cen = Code::parse("CEN").expect("code");
        let oak = Code::parse("OAK").expect("code");
        let limited = account(&[Role::Clerk], &["CEN"]);
        assert!(limited.may_act_at(&cen) && !limited.may_act_at(&oak));
        assert!(account(&[Role::Clerk], &[]).may_act_at(&oak));
        assert!(account(&[Role::Admin], &["CEN"]).may_act_at(&oak));
    }

    proptest::proptest! {
        #[test]
        fn a_token_hash_is_64_hex_digits(s in ".*") {
            let h = token_hash(&s);
            proptest::prop_assert_eq!(h.len(), 64);
            proptest::prop_assert!(h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        }
    }
}
