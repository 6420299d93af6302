//! The `roster` client commands: the counterparts of the Partner Center PowerShell cmdlets,
//! built on the SDK (crates/client) alone. A login is kept per profile in the user's config
//! directory (a file of mode 0600 holding the server's address, the user name and the latest
//! refresh token; never a password); `ROSTER_URL` with `ROSTER_TOKEN` works without one.

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use futures_util::TryStreamExt;
use roster_client::wire::{
    CompanyProfileRequest, CustomerBody, CustomerRequest, CustomerUserBody, CustomerUserRequest,
    PasswordProfileRequest,
};
use roster_client::{Credentials, CustomerQuery, Partner, UserQuery};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// How a command prints what it got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// Columns for a person (the default on a terminal).
    Table,
    /// The wire JSON, one document (the default when stdout is not a terminal).
    Json,
    /// Comma-separated values, for lists.
    Csv,
}

/// Options every client command takes.
#[derive(Args, Debug, Clone)]
pub struct Common {
    /// table, json or csv (default: table on a terminal, json otherwise).
    #[arg(long, short = 'o', global = true, value_enum)]
    output: Option<Output>,
    /// The saved login to use.
    #[arg(long, global = true, default_value = "default", env = "ROSTER_PROFILE")]
    profile: String,
}

impl Common {
    pub(crate) fn output(&self) -> Output {
        self.output.unwrap_or_else(|| {
            if std::io::stdout().is_terminal() {
                Output::Table
            } else {
                Output::Json
            }
        })
    }
}

#[derive(Subcommand, Debug)]
pub enum CustomerCommand {
    /// Add a customer (New-PartnerCustomer).
    ///
    /// Example: roster customer new --domain contoso.onmicrosoft.com --name Contoso --country US
    New {
        #[arg(long)]
        domain: String,
        #[arg(long)]
        name: String,
        /// ISO 3166 two-letter code (default: the partner's country).
        #[arg(long)]
        country: Option<String>,
    },
    /// The partner's customers (Get-PartnerCustomer).
    ///
    /// Example: roster customer list --search conto
    List {
        /// Part of the company name.
        #[arg(long)]
        search: Option<String>,
    },
    /// One customer, by its id or one of its domains (Get-PartnerCustomer -CustomerId).
    ///
    /// Example: roster customer get contoso.onmicrosoft.com
    Get { customer: String },
    /// Make a customer the current one: later commands take it when --customer is not given
    /// (Select-PCCustomer).
    ///
    /// Example: roster customer use contoso.onmicrosoft.com
    Use { customer: String },
    /// The customer's seats of each product (Get-PartnerCustomerSubscribedSku).
    License {
        #[command(subcommand)]
        command: CustomerLicenseCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum CustomerLicenseCommand {
    /// Total, assigned and available seats of each product.
    ///
    /// Example: roster customer license list --customer contoso.onmicrosoft.com
    List {
        #[command(flatten)]
        customer: CustomerArg,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserLicenseCommand {
    /// The licences a user holds (Get-PartnerCustomerUserLicense).
    ///
    /// Example: roster customer-user license get ada@contoso.onmicrosoft.com
    Get {
        #[command(flatten)]
        customer: CustomerArg,
        user: String,
    },
    /// Assign and remove licences in one step, all or nothing (Set-PartnerCustomerUserLicense).
    ///
    /// Example: roster customer-user license set ada@contoso.onmicrosoft.com --add 05e9a617-0261-4cee-bb44-138d3ef5d965
    Set {
        #[command(flatten)]
        customer: CustomerArg,
        user: String,
        /// A product SKU id to assign, with service plans to leave off after a colon:
        /// SKU[:PLAN,PLAN]. Repeat for more.
        #[arg(long)]
        add: Vec<String>,
        /// A product SKU id to remove. Repeat for more.
        #[arg(long)]
        remove: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum UserRoleCommand {
    /// The directory roles a user holds (Get-PartnerCustomerUserRole).
    ///
    /// Example: roster customer-user role list ada@contoso.onmicrosoft.com
    List {
        #[command(flatten)]
        customer: CustomerArg,
        user: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum DirectoryRoleCommand {
    /// The customer's directory roles (Get-PartnerCustomerDirectoryRole).
    ///
    /// Example: roster directory-role list --customer contoso.onmicrosoft.com
    List {
        #[command(flatten)]
        customer: CustomerArg,
    },
    /// The users holding a role (Get-PartnerCustomerDirectoryRoleMember).
    ///
    /// Example: roster directory-role members "User Administrator"
    Members {
        #[command(flatten)]
        customer: CustomerArg,
        /// The role's id or its name ("User Administrator").
        role: String,
    },
    /// Give a user a role (Add-PartnerCustomerUserRoleMember).
    ///
    /// Example: roster directory-role add-member "User Administrator" ada@contoso.onmicrosoft.com
    AddMember {
        #[command(flatten)]
        customer: CustomerArg,
        role: String,
        user: String,
    },
    /// Take a role from a user (Remove-PartnerCustomerUserRoleMember).
    ///
    /// Example: roster directory-role remove-member "User Administrator" ada@contoso.onmicrosoft.com --yes
    RemoveMember {
        #[command(flatten)]
        customer: CustomerArg,
        role: String,
        user: String,
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum CustomerUserCommand {
    /// Create a user (New-PartnerCustomerUser). Without --password-stdin, prints the
    /// temporary password Roster generates, once.
    ///
    /// Example: roster customer-user new --customer contoso.onmicrosoft.com --upn ada@contoso.onmicrosoft.com --display-name "Ada Lovelace" --usage-location GB
    New {
        #[command(flatten)]
        customer: CustomerArg,
        #[arg(long)]
        upn: String,
        #[arg(long)]
        display_name: String,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long)]
        usage_location: Option<String>,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
        /// Do not make the user change the password at its first sign-in.
        #[arg(long)]
        no_force_change: bool,
    },
    /// The customer's users (Get-PartnerCustomerUser [-ReturnDeletedUsers]).
    ///
    /// Example: roster customer-user list --customer contoso.onmicrosoft.com --deleted
    List {
        #[command(flatten)]
        customer: CustomerArg,
        /// The soft-deleted users instead of the active ones.
        #[arg(long)]
        deleted: bool,
        /// Part of the display name.
        #[arg(long, conflicts_with = "deleted")]
        search: Option<String>,
    },
    /// One user, by its id or user principal name (Get-PartnerCustomerUser -UserId).
    ///
    /// Example: roster customer-user get ada@contoso.onmicrosoft.com -o json
    Get {
        #[command(flatten)]
        customer: CustomerArg,
        user: String,
    },
    /// Change a user's properties (Set-PartnerCustomerUser).
    ///
    /// Example: roster customer-user set ada@contoso.onmicrosoft.com --display-name "Ada King" --usage-location US
    Set {
        #[command(flatten)]
        customer: CustomerArg,
        user: String,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        #[arg(long)]
        usage_location: Option<String>,
        #[arg(long)]
        upn: Option<String>,
    },
    /// A new password (Set-PartnerCustomerUser -Password): generated and printed once, or
    /// read from standard input.
    ///
    /// Example: roster customer-user reset-password ada@contoso.onmicrosoft.com
    ResetPassword {
        #[command(flatten)]
        customer: CustomerArg,
        user: String,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        no_force_change: bool,
    },
    /// Delete softly: restorable for 30 days (Remove-PartnerCustomerUser).
    ///
    /// Example: roster customer-user remove ada@contoso.onmicrosoft.com --yes
    Remove {
        #[command(flatten)]
        customer: CustomerArg,
        user: String,
        /// Do not ask (needed when standard input is not a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Create the users of a CSV file of any length (Partner Center's "Upload users",
    /// without its 100-row limit): the whole file is checked first (every problem printed
    /// with its row and column, nobody created), then uploaded 100 users at a time. The
    /// result file (mode 0600) lists every created user with its temporary password; if an
    /// upload fails, the users before it stay created, and the same command with --resume
    /// imports the rest.
    ///
    /// Example: roster customer-user import users.csv --customer contoso.onmicrosoft.com --usage-location US --out users-created.csv
    Import(crate::import::ImportArgs),
    /// Bring a deleted user back (Restore-PartnerCustomerUser).
    ///
    /// Example: roster customer-user restore ada@contoso.onmicrosoft.com
    Restore {
        #[command(flatten)]
        customer: CustomerArg,
        user: String,
    },
    /// A user's licences.
    License {
        #[command(subcommand)]
        command: UserLicenseCommand,
    },
    /// A user's directory roles.
    Role {
        #[command(subcommand)]
        command: UserRoleCommand,
    },
}

#[derive(Args, Debug, Clone)]
pub struct CustomerArg {
    /// The customer: its id or one of its domains (default: the one `roster customer use`
    /// chose).
    #[arg(long)]
    customer: Option<String>,
}

/// A saved login.
#[derive(Serialize, Deserialize, Default, Debug, Clone)]
pub(crate) struct Profile {
    url: String,
    /// The user signed in; empty for an application signed in alone.
    username: String,
    refresh_token: Option<String>,
    customer: Option<String>,
    /// The application a user signed in through (App+User), or that signed in alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    /// An application signed in alone has no refresh token: its access token, until it
    /// expires (the client secret is never kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access_token: Option<String>,
}

#[derive(Serialize, Deserialize, Default, Debug)]
struct Profiles {
    #[serde(default)]
    profiles: std::collections::BTreeMap<String, Profile>,
}

/// The file of saved logins: `$XDG_CONFIG_HOME/roster/logins.json`, else
/// `~/.config/roster/logins.json`; `ROSTER_CONFIG_DIR` overrides the folder.
fn logins_file() -> PathBuf {
    let dir = std::env::var_os("ROSTER_CONFIG_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CONFIG_HOME").map(|d| PathBuf::from(d).join("roster")))
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config/roster")))
        .unwrap_or_else(|| PathBuf::from(".roster"));
    dir.join("logins.json")
}

fn load_profiles() -> Profiles {
    std::fs::read(logins_file())
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

fn save_profiles(p: &Profiles) -> anyhow::Result<()> {
    let path = logins_file();
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    write_private(&path, &serde_json::to_vec_pretty(p)?)
}

/// Replaces `path` with `bytes` in a file only its owner may read (mode 0600), whole or not
/// at all: written beside it, flushed to disk, then renamed over it.
pub(crate) fn write_private(path: &std::path::Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// A failure of a command, with the exit code of its class.
pub struct Failure {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }
    fn not_signed_in(message: impl Into<String>) -> Self {
        Self {
            code: 3,
            message: message.into(),
        }
    }
    pub fn exit(self) -> ExitCode {
        eprintln!("roster: {}", self.message);
        ExitCode::from(self.code)
    }
}

impl From<roster_client::Error> for Failure {
    fn from(e: roster_client::Error) -> Self {
        let code = if e.is_unauthorized() || e.is_forbidden() {
            3
        } else if e.is_not_found() {
            4
        } else if e.is_conflict() {
            5
        } else if e.is_invalid() {
            6
        } else {
            1
        };
        let mut message = match (e.status, e.code) {
            (Some(s), Some(c)) => format!("{} (HTTP {s}, code {c})", e.description),
            (Some(s), None) => format!("{} (HTTP {s})", e.description),
            _ => e.description.clone(),
        };
        for d in &e.data {
            match d {
                Value::String(s) => message.push_str(&format!("\n  - {s}")),
                Value::Object(o) => message.push_str(&format!(
                    "\n  - row {}, {}: {}",
                    o.get("row").map_or("-".into(), |r| r.to_string()),
                    o.get("column").and_then(Value::as_str).unwrap_or("file"),
                    o.get("message").and_then(Value::as_str).unwrap_or_default()
                )),
                other => message.push_str(&format!("\n  - {other}")),
            }
        }
        if e.status == Some(401) {
            message.push_str("\nSign in again: roster login");
        }
        Self { code, message }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self {
            code: 1,
            message: format!("{e:#}"),
        }
    }
}

pub(crate) type Done = Result<(), Failure>;

/// Reads a secret: from standard input when asked or when it is not a terminal, else from
/// a prompt that does not echo.
pub(crate) fn read_secret(prompt: &str, from_stdin: bool) -> Result<String, Failure> {
    if from_stdin || !std::io::stdin().is_terminal() {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Failure::usage(format!("cannot read standard input: {e}")))?;
        return Ok(s.trim_end_matches(['\r', '\n']).to_string());
    }
    rpassword::prompt_password(prompt)
        .map_err(|e| Failure::usage(format!("cannot read the password: {e}")))
}

/// How `roster login` signs in.
pub struct LoginArgs {
    pub url: String,
    pub username: Option<String>,
    pub client_id: Option<String>,
    pub password_stdin: bool,
    pub client_secret_stdin: bool,
}

/// `roster login`: a user (with its password; through an application with --client-id), or
/// an application alone (--client-id and its secret, no user).
pub async fn login(common: &Common, args: LoginArgs) -> Done {
    let url = args.url.trim_end_matches('/').to_string();
    let (credentials, who) = match (&args.username, &args.client_id) {
        (Some(username), client_id) => {
            let password = match std::env::var("ROSTER_PASSWORD") {
                Ok(p) if !args.password_stdin => p,
                _ => read_secret("Password: ", args.password_stdin)?,
            };
            let credentials = match client_id {
                Some(id) => Credentials::app_user(id, username, password),
                None => Credentials::password(username, password),
            };
            (credentials, username.clone())
        }
        (None, Some(id)) => {
            let secret = match std::env::var("ROSTER_CLIENT_SECRET") {
                Ok(s) if !args.client_secret_stdin => s,
                _ => read_secret("Client secret: ", args.client_secret_stdin)?,
            };
            (
                Credentials::application(id, secret),
                format!("the application {id}"),
            )
        }
        (None, None) => {
            return Err(Failure::usage(
                "give --username UPN (a user), or --client-id ID with --client-secret-stdin (an application)",
            ))
        }
    };
    let partner = Partner::connect(&url, credentials).await?;
    let mut profiles = load_profiles();
    let entry = profiles.profiles.entry(common.profile.clone()).or_default();
    entry.url = url.clone();
    entry.username = args.username.clone().unwrap_or_default();
    entry.client_id = args.client_id.clone();
    entry.refresh_token = partner.refresh_token().await;
    entry.access_token = if args.username.is_none() {
        Some(partner.access_token().await?)
    } else {
        None
    };
    save_profiles(&profiles)?;
    println!("Signed in to {url} as {who} (profile {}).", common.profile);
    Ok(())
}

/// `roster logout`.
pub fn logout(common: &Common) -> Done {
    let mut profiles = load_profiles();
    let gone = profiles.profiles.remove(&common.profile).is_some();
    save_profiles(&profiles)?;
    if gone {
        println!("Signed out (profile {}).", common.profile);
    } else {
        println!("Profile {} was not signed in.", common.profile);
    }
    Ok(())
}

/// The connection of a command: `ROSTER_URL` + `ROSTER_TOKEN`, else the saved login (its
/// refresh token replaced by the new one it comes with).
pub(crate) async fn connect(common: &Common) -> Result<(Partner, Profile), Failure> {
    if let (Ok(url), Ok(token)) = (std::env::var("ROSTER_URL"), std::env::var("ROSTER_TOKEN")) {
        let partner = Partner::connect(&url, Credentials::token(token)).await?;
        let profile = load_profiles()
            .profiles
            .get(&common.profile)
            .cloned()
            .unwrap_or_default();
        return Ok((partner, profile));
    }
    let mut profiles = load_profiles();
    let Some(profile) = profiles.profiles.get(&common.profile).cloned() else {
        return Err(Failure::not_signed_in(format!(
            "not signed in (profile {}): run roster login --url URL --username UPN, or set ROSTER_URL and ROSTER_TOKEN",
            common.profile
        )));
    };
    let credentials = match (&profile.refresh_token, &profile.access_token) {
        (Some(refresh), _) => Credentials::refresh(refresh.clone()),
        // An application alone: its token works until it expires, then it signs in again.
        (None, Some(token)) => Credentials::token(token.clone()),
        (None, None) => {
            return Err(Failure::not_signed_in(
                "the saved login has expired: run roster login again",
            ))
        }
    };
    let partner = Partner::connect(&profile.url, credentials)
        .await
        .map_err(|e| {
            if e.is_unauthorized() {
                Failure::not_signed_in(
                    "the saved login has expired or was revoked: run roster login again",
                )
            } else {
                e.into()
            }
        })?;
    if let Some(p) = profiles.profiles.get_mut(&common.profile) {
        p.refresh_token = partner.refresh_token().await;
    }
    save_profiles(&profiles)?;
    Ok((partner, profile))
}

/// `roster whoami`.
pub async fn whoami(common: &Common) -> Done {
    let (partner, profile) = connect(common).await?;
    let out = serde_json::json!({
        "url": partner.base_url(),
        "username": profile.username,
        "application": profile.client_id,
        "profile": common.profile,
        "customer": profile.customer,
    });
    print_one(
        common.output(),
        &out,
        &[
            ("Server", "url"),
            ("User", "username"),
            ("Application", "application"),
            ("Profile", "profile"),
            ("Current customer", "customer"),
        ],
    );
    Ok(())
}

/// A customer named by its id or one of its domains.
async fn find_customer(partner: &Partner, given: &str) -> Result<CustomerBody, Failure> {
    let given = given.trim();
    if given.len() == 36 && given.chars().filter(|c| *c == '-').count() == 4 {
        return Ok(partner.customers().by_id(given).get().await?);
    }
    let found: Vec<CustomerBody> = partner
        .customers()
        .query(CustomerQuery::domain(given))
        .try_collect()
        .await?;
    found
        .into_iter()
        .find(|c| c.company_profile.domain.eq_ignore_ascii_case(given))
        .ok_or_else(|| Failure {
            code: 4,
            message: format!("no customer has the id or domain '{given}'"),
        })
}

pub(crate) async fn customer_of(
    partner: &Partner,
    profile: &Profile,
    arg: &CustomerArg,
) -> Result<String, Failure> {
    match arg.customer.as_deref().or(profile.customer.as_deref()) {
        Some(c) => Ok(find_customer(partner, c).await?.id),
        None => Err(Failure::usage(
            "give --customer (an id or a domain), or choose one with roster customer use",
        )),
    }
}

/// A user named by its id or its user principal name.
async fn find_user(
    users: &roster_client::CustomerUsers,
    given: &str,
) -> Result<CustomerUserBody, Failure> {
    let given = given.trim();
    if !given.contains('@') {
        return Ok(users.by_id(given).get().await?);
    }
    for q in [
        UserQuery::active().upn_starts_with(given),
        UserQuery::deleted(),
    ] {
        let found: Vec<CustomerUserBody> = users.list(q).try_collect().await?;
        if let Some(u) = found
            .into_iter()
            .find(|u| u.user_principal_name.eq_ignore_ascii_case(given))
        {
            return Ok(u);
        }
    }
    Err(Failure {
        code: 4,
        message: format!("no user of this customer has the id or user name '{given}'"),
    })
}

const CUSTOMER_COLUMNS: &[(&str, &str)] = &[
    ("Id", "/id"),
    ("Company name", "/companyProfile/companyName"),
    ("Domain", "/companyProfile/domain"),
    ("Country", "/billingProfile/defaultAddress/country"),
];

const USER_COLUMNS: &[(&str, &str)] = &[
    ("Id", "/id"),
    ("Display name", "/displayName"),
    ("User principal name", "/userPrincipalName"),
    ("Usage location", "/usageLocation"),
    ("State", "/state"),
];

fn cell(v: &Value, pointer: &str) -> String {
    match v.pointer(pointer) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| match i {
                Value::String(s) => s.clone(),
                // A role as a relationship lists it: its name.
                other => other
                    .get("displayName")
                    .and_then(Value::as_str)
                    .map_or_else(|| other.to_string(), str::to_string),
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Prints a list: a table, the wire JSON (one array), or CSV.
pub(crate) fn print_list<T: Serialize>(output: Output, items: &[T], columns: &[(&str, &str)]) {
    let values: Vec<Value> = items
        .iter()
        .map(|i| serde_json::to_value(i).unwrap_or(Value::Null))
        .collect();
    match output {
        // The items as the server sent them (in its field order).
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(items).unwrap_or_default()
        ),
        Output::Csv => {
            let quote = |s: &str| {
                if s.contains([',', '"', '\n']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_string()
                }
            };
            println!(
                "{}",
                columns
                    .iter()
                    .map(|(h, _)| quote(h))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            for v in &values {
                println!(
                    "{}",
                    columns
                        .iter()
                        .map(|(_, p)| quote(&cell(v, p)))
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
        }
        Output::Table => {
            let mut table = comfy_table::Table::new();
            table
                .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
                .set_header(columns.iter().map(|(h, _)| *h));
            for v in &values {
                table.add_row(columns.iter().map(|(_, p)| cell(v, p)));
            }
            println!("{table}");
            println!("{} item(s)", values.len());
        }
    }
}

/// Prints one resource: as `Name: value` lines, or its wire JSON.
pub(crate) fn print_one<T: Serialize>(output: Output, item: &T, fields: &[(&str, &str)]) {
    let v = serde_json::to_value(item).unwrap_or(Value::Null);
    match output {
        Output::Json => println!("{}", serde_json::to_string_pretty(item).unwrap_or_default()),
        Output::Table | Output::Csv => {
            let width = fields.iter().map(|(h, _)| h.len()).max().unwrap_or(0);
            for (h, p) in fields {
                let p = if p.starts_with('/') {
                    (*p).to_string()
                } else {
                    format!("/{p}")
                };
                println!("{h:width$}  {}", cell(&v, &p));
            }
        }
    }
}

/// `roster customer …`.
pub async fn customer(common: &Common, command: CustomerCommand) -> Done {
    let (partner, profile) = connect(common).await?;
    let output = common.output();
    match command {
        CustomerCommand::New {
            domain,
            name,
            country,
        } => {
            let created = partner
                .customers()
                .create(&CustomerRequest {
                    company_profile: Some(CompanyProfileRequest {
                        domain: Some(domain),
                        company_name: Some(name.clone()),
                    }),
                    billing_profile: Some(roster_client::wire::BillingProfileRequest {
                        company_name: Some(name),
                        default_address: country.map(|c| roster_client::wire::AddressRequest {
                            country: Some(c),
                            ..Default::default()
                        }),
                        ..Default::default()
                    }),
                })
                .await?;
            print_one(output, &created, CUSTOMER_COLUMNS);
        }
        CustomerCommand::List { search } => {
            let q = search.map_or_else(CustomerQuery::all, CustomerQuery::search);
            let all: Vec<CustomerBody> = partner.customers().query(q).try_collect().await?;
            print_list(output, &all, CUSTOMER_COLUMNS);
        }
        CustomerCommand::Get { customer } => {
            let c = find_customer(&partner, &customer).await?;
            print_one(output, &c, CUSTOMER_COLUMNS);
        }
        CustomerCommand::Use { customer } => {
            let c = find_customer(&partner, &customer).await?;
            let mut profiles = load_profiles();
            if let Some(p) = profiles.profiles.get_mut(&common.profile) {
                p.customer = Some(c.id.clone());
                save_profiles(&profiles)?;
            }
            println!(
                "Current customer: {} ({})",
                c.company_profile.company_name, c.id
            );
        }
        CustomerCommand::License {
            command: CustomerLicenseCommand::List { customer },
        } => {
            let cid = customer_of(&partner, &profile, &customer).await?;
            let skus = partner.customers().by_id(&cid).subscribed_skus().await?;
            print_list(output, &skus, SEAT_COLUMNS);
        }
    }
    Ok(())
}

const SEAT_COLUMNS: &[(&str, &str)] = &[
    ("SKU id", "/productSku/id"),
    ("Product", "/productSku/name"),
    ("Total", "/totalUnits"),
    ("Assigned", "/consumedUnits"),
    ("Available", "/availableUnits"),
];

const LICENCE_COLUMNS: &[(&str, &str)] = &[
    ("SKU id", "/productSku/id"),
    ("Product", "/productSku/name"),
    ("Part number", "/productSku/skuPartNumber"),
];

const ROLE_COLUMNS: &[(&str, &str)] = &[("Id", "/id"), ("Name", "/name")];

const MEMBER_COLUMNS: &[(&str, &str)] = &[
    ("Id", "/id"),
    ("Display name", "/displayName"),
    ("User principal name", "/userPrincipalName"),
];

/// A directory role named by its id or its name.
pub(crate) async fn find_role(
    ops: &roster_client::CustomerOps,
    given: &str,
) -> Result<String, Failure> {
    let roles = ops.directory_roles().await?;
    roles
        .into_iter()
        .find(|r| {
            r.id.eq_ignore_ascii_case(given.trim()) || r.name.eq_ignore_ascii_case(given.trim())
        })
        .map(|r| r.id)
        .ok_or_else(|| Failure {
            code: 4,
            message: format!("no directory role has the id or name '{given}'"),
        })
}

/// `roster directory-role …`.
pub async fn directory_role(common: &Common, command: DirectoryRoleCommand) -> Done {
    let (partner, profile) = connect(common).await?;
    let output = common.output();
    match command {
        DirectoryRoleCommand::List { customer } => {
            let cid = customer_of(&partner, &profile, &customer).await?;
            let roles = partner.customers().by_id(&cid).directory_roles().await?;
            print_list(output, &roles, ROLE_COLUMNS);
        }
        DirectoryRoleCommand::Members { customer, role } => {
            let cid = customer_of(&partner, &profile, &customer).await?;
            let ops = partner.customers().by_id(&cid);
            let role = find_role(&ops, &role).await?;
            let members: Vec<_> = ops.directory_role(&role).members().try_collect().await?;
            print_list(output, &members, MEMBER_COLUMNS);
        }
        DirectoryRoleCommand::AddMember {
            customer,
            role,
            user,
        } => {
            let cid = customer_of(&partner, &profile, &customer).await?;
            let ops = partner.customers().by_id(&cid);
            let role = find_role(&ops, &role).await?;
            let u = find_user(&ops.users(), &user).await?;
            let member = ops.directory_role(&role).add_member(&u.id).await?;
            print_one(output, &member, MEMBER_COLUMNS);
        }
        DirectoryRoleCommand::RemoveMember {
            customer,
            role,
            user,
            yes,
        } => {
            let cid = customer_of(&partner, &profile, &customer).await?;
            let ops = partner.customers().by_id(&cid);
            let role = find_role(&ops, &role).await?;
            let u = find_user(&ops.users(), &user).await?;
            confirm(
                &format!(
                    "Take the role from {} ({})?",
                    u.display_name, u.user_principal_name
                ),
                yes,
            )?;
            ops.directory_role(&role).remove_member(&u.id).await?;
            if output == Output::Json {
                println!("{}", serde_json::json!({"removed": u.id, "roleId": role}));
            } else {
                println!("Removed {} from the role.", u.user_principal_name);
            }
        }
    }
    Ok(())
}

/// `--add SKU[:PLAN,PLAN]` and `--remove SKU` as the licence update's body.
fn licence_update(
    add: &[String],
    remove: &[String],
) -> Result<roster_client::wire::LicenseUpdateRequest, Failure> {
    let assign: Vec<Value> = add
        .iter()
        .map(|a| match a.split_once(':') {
            Some((sku, plans)) => serde_json::json!({
                "skuId": sku.trim(),
                "excludedPlans": plans.split(',').map(str::trim).filter(|p| !p.is_empty()).collect::<Vec<_>>(),
            }),
            None => serde_json::json!({"skuId": a.trim()}),
        })
        .collect();
    if assign.is_empty() && remove.is_empty() {
        return Err(Failure::usage("give --add SKU or --remove SKU (or both)"));
    }
    serde_json::from_value(serde_json::json!({
        "licensesToAssign": assign,
        "licensesToRemove": remove,
    }))
    .map_err(|e| Failure::usage(format!("cannot build the licence update: {e}")))
}

/// Asks on a terminal; without one, `--yes` must say it.
pub(crate) fn confirm(question: &str, yes: bool) -> Done {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(format!(
            "{question} Give --yes to do it without a terminal."
        )));
    }
    eprint!("{question} [y/N] ");
    let mut answer = String::new();
    std::io::stdin()
        .read_line(&mut answer)
        .map_err(|e| Failure::usage(e.to_string()))?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(Failure::usage("not done"))
    }
}

/// Prints a user, and its password when the answer shows one (once).
fn print_user(output: Output, user: &CustomerUserBody) {
    print_one(output, user, USER_COLUMNS);
    if output != Output::Json {
        if let Some(p) = user
            .password_profile
            .as_ref()
            .and_then(|p| p.password.as_ref())
        {
            println!("Temporary password (shown once): {p}");
        }
    }
}

/// `roster customer-user …`.
pub async fn customer_user(common: &Common, command: CustomerUserCommand) -> Done {
    let (partner, profile) = connect(common).await?;
    let output = common.output();
    let users_of = |cid: String| partner.customers().by_id(&cid).users();
    match command {
        CustomerUserCommand::Import(args) => {
            return crate::import::import(output, &partner, &profile, args).await
        }
        CustomerUserCommand::New {
            customer,
            upn,
            display_name,
            first_name,
            last_name,
            usage_location,
            password_stdin,
            no_force_change,
        } => {
            let password = if password_stdin {
                Some(read_secret("Password: ", true)?)
            } else {
                None
            };
            let users = users_of(customer_of(&partner, &profile, &customer).await?);
            let created = users
                .create(&CustomerUserRequest {
                    user_principal_name: Some(upn),
                    display_name: Some(display_name),
                    first_name,
                    last_name,
                    usage_location,
                    password_profile: Some(PasswordProfileRequest {
                        password,
                        force_change_password: Some(!no_force_change),
                    }),
                    ..Default::default()
                })
                .await?;
            print_user(output, &created);
        }
        CustomerUserCommand::List {
            customer,
            deleted,
            search,
        } => {
            let users = users_of(customer_of(&partner, &profile, &customer).await?);
            let q = if deleted {
                UserQuery::deleted()
            } else {
                search.map_or_else(UserQuery::active, |s| UserQuery::active().search(s))
            };
            let all: Vec<CustomerUserBody> = users.list(q).try_collect().await?;
            print_list(output, &all, USER_COLUMNS);
        }
        CustomerUserCommand::Get { customer, user } => {
            let users = users_of(customer_of(&partner, &profile, &customer).await?);
            print_user(output, &find_user(&users, &user).await?);
        }
        CustomerUserCommand::Set {
            customer,
            user,
            display_name,
            first_name,
            last_name,
            usage_location,
            upn,
        } => {
            let users = users_of(customer_of(&partner, &profile, &customer).await?);
            let u = find_user(&users, &user).await?;
            let changed = users
                .by_id(&u.id)
                .patch(&CustomerUserRequest {
                    user_principal_name: upn,
                    display_name,
                    first_name,
                    last_name,
                    usage_location,
                    ..Default::default()
                })
                .await?;
            print_user(output, &changed);
        }
        CustomerUserCommand::ResetPassword {
            customer,
            user,
            password_stdin,
            no_force_change,
        } => {
            let users = users_of(customer_of(&partner, &profile, &customer).await?);
            let u = find_user(&users, &user).await?;
            let done = if password_stdin {
                let password = read_secret("New password: ", true)?;
                users
                    .by_id(&u.id)
                    .patch(&CustomerUserRequest {
                        password_profile: Some(PasswordProfileRequest {
                            password: Some(password),
                            force_change_password: Some(!no_force_change),
                        }),
                        ..Default::default()
                    })
                    .await?
            } else {
                users
                    .by_id(&u.id)
                    .reset_password(Some(!no_force_change))
                    .await?
            };
            print_user(output, &done);
        }
        CustomerUserCommand::Remove {
            customer,
            user,
            yes,
        } => {
            let users = users_of(customer_of(&partner, &profile, &customer).await?);
            let u = find_user(&users, &user).await?;
            confirm(
                &format!(
                    "Delete {} ({})? It can be restored for 30 days.",
                    u.display_name, u.user_principal_name
                ),
                yes,
            )?;
            users.by_id(&u.id).delete().await?;
            if output == Output::Json {
                println!("{}", serde_json::json!({"deleted": u.id}));
            } else {
                println!("Deleted {} ({}).", u.display_name, u.user_principal_name);
            }
        }
        CustomerUserCommand::Restore { customer, user } => {
            let users = users_of(customer_of(&partner, &profile, &customer).await?);
            let u = find_user(&users, &user).await?;
            print_user(output, &users.by_id(&u.id).restore().await?);
        }
        CustomerUserCommand::License {
            command: UserLicenseCommand::Get { customer, user },
        } => {
            let users = users_of(customer_of(&partner, &profile, &customer).await?);
            let u = find_user(&users, &user).await?;
            let held = users.by_id(&u.id).licenses().await?;
            print_list(output, &held, LICENCE_COLUMNS);
        }
        CustomerUserCommand::License {
            command:
                UserLicenseCommand::Set {
                    customer,
                    user,
                    add,
                    remove,
                },
        } => {
            let update = licence_update(&add, &remove)?;
            let users = users_of(customer_of(&partner, &profile, &customer).await?);
            let u = find_user(&users, &user).await?;
            users.by_id(&u.id).update_licenses(&update).await?;
            let held = users.by_id(&u.id).licenses().await?;
            print_list(output, &held, LICENCE_COLUMNS);
        }
        CustomerUserCommand::Role {
            command: UserRoleCommand::List { customer, user },
        } => {
            let users = users_of(customer_of(&partner, &profile, &customer).await?);
            let u = find_user(&users, &user).await?;
            let roles = users.by_id(&u.id).directory_roles().await?;
            print_list(output, &roles, ROLE_COLUMNS);
        }
    }
    Ok(())
}
