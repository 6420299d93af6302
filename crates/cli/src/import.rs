//! `roster customer-user import`: a CSV file of any length, checked whole first, then created
//! through the bulk-upload operation 100 users at a time, with a result file that a rerun
//! with `--resume` goes on from.
//!
//! The file is read here with the same reader the server uses (roster-domain's), so that
//! every problem names its row in the whole file; the rules that need the customer's
//! directory (its domains, the addresses its active users hold) are the server's, asked part
//! by part with `validateOnly=true` before anything is created.

use std::collections::HashSet;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::Args;
use roster_domain::bulk_upload::{self, BulkProblem, ResultLine, SplitRow, CREATED, MAX_ROWS};
use roster_domain::upn::Upn;
use serde_json::Value;

use roster_client::Partner;

use crate::client::{customer_of, write_private, CustomerArg, Done, Failure, Output, Profile};

/// `roster customer-user import`.
#[derive(Args, Debug)]
pub struct ImportArgs {
    /// The CSV file: the header row `First name,Last name,Display name,Email,Status update`
    /// and any number of users (docs/BULK_UPLOAD.md).
    pub file: PathBuf,
    #[command(flatten)]
    pub customer: CustomerArg,
    /// The country every user is in (ISO 3166 two-letter code, such as US).
    #[arg(long)]
    pub usage_location: String,
    /// The result file to write (mode 0600): every created user with its temporary password.
    #[arg(long)]
    pub out: PathBuf,
    /// Go on with the import that --out records: the users it lists as created are left out.
    #[arg(long)]
    pub resume: bool,
}

/// Why a run stopped, for the exit code and the message.
fn invalid(message: String) -> Failure {
    Failure { code: 6, message }
}

pub async fn import(
    output: Output,
    partner: &Partner,
    profile: &Profile,
    args: ImportArgs,
) -> Done {
    let bytes = std::fs::read(&args.file)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", args.file.display())))?;
    let mut lines = earlier_run(&args.out, args.resume)?;
    let done: HashSet<String> = lines
        .iter()
        .filter(|l| l.status == CREATED)
        .filter_map(|l| Upn::parse(&l.email).ok())
        .map(|u| u.key())
        .collect();
    let split = bulk_upload::split(&bytes, &done).map_err(|p| refused(&args.file, p))?;
    let customer = customer_of(partner, profile, &args.customer).await?;
    let users = partner.customers().by_id(&customer).users();
    let parts: Vec<&[SplitRow]> = split.rows.chunks(MAX_ROWS).collect();

    // Every part as its upload would find it, before any is made.
    let mut problems = split.problems;
    for part in &parts {
        let csv = bulk_upload::part_csv(split.delimiter, part);
        if let Err(e) = users.validate_bulk_upload(csv, &args.usage_location).await {
            if e.status != Some(400) || e.data.is_empty() {
                return Err(e.into());
            }
            for p in e.data.iter().filter_map(|d| problem_in(part, d)) {
                if !problems.contains(&p) {
                    problems.push(p);
                }
            }
        }
    }
    if !problems.is_empty() {
        return Err(refused(&args.file, problems));
    }
    let total = split.rows.len();
    if total == 0 {
        summary(output, 0, split.done, 0, &args.out);
        return Ok(());
    }
    if split.done > 0 {
        eprintln!(
            "{} users of the file were created by the earlier run ({}): left out.",
            split.done,
            args.out.display()
        );
    }

    // The result file is written before anyone is created: a place it cannot go stops the
    // run while no password can be lost.
    write_private(
        &args.out,
        bulk_upload::result_file(split.delimiter, &lines).as_bytes(),
    )
    .map_err(|e| Failure::usage(format!("cannot write {}: {e:#}", args.out.display())))?;
    let progress = Progress::new(total as u64);
    let mut created = 0;
    let mut withheld = 0;
    for (i, part) in parts.iter().enumerate() {
        let csv = bulk_upload::part_csv(split.delimiter, part);
        let made = match users.bulk_upload_users(csv, &args.usage_location).await {
            Ok(made) => made,
            Err(e) => {
                progress.stop();
                let f = Failure::from(e);
                let first = part.first().map_or(0, |r| r.row);
                let last = part.last().map_or(0, |r| r.row);
                let before = if created == 0 {
                    "No user was created.".to_string()
                } else {
                    format!(
                        "The {created} users before it were created: they and their temporary passwords are in {}.",
                        args.out.display()
                    )
                };
                return Err(Failure {
                    code: f.code,
                    message: format!(
                        "upload {} of {} (rows {first} to {last}) failed, and created no one: {}\n{before}\nFix what stopped it, then run the same command with --resume to import the rest.",
                        i + 1,
                        parts.len(),
                        f.message
                    ),
                });
            }
        };
        for u in made {
            let password = u.password_profile.and_then(|p| p.password);
            withheld += usize::from(password.is_none());
            lines.push(ResultLine {
                first_name: u.first_name.unwrap_or_default(),
                last_name: u.last_name.unwrap_or_default(),
                display_name: u.display_name,
                email: u.user_principal_name,
                status: CREATED.to_string(),
                password: password.unwrap_or_default(),
            });
            created += 1;
        }
        write_private(
            &args.out,
            bulk_upload::result_file(split.delimiter, &lines).as_bytes(),
        )
        .map_err(|e| Failure {
            code: 1,
            message: format!(
                "{created} users were created, but their result file {} could not be written ({e:#}): reset their passwords",
                args.out.display()
            ),
        })?;
        progress.advance(part.len() as u64);
    }
    progress.finish();
    if withheld > 0 {
        eprintln!(
            "{withheld} users were created by an upload whose answer was lost and retried: the retry cannot show their passwords again, so their lines in {} have none. Reset them with roster customer-user reset-password.",
            args.out.display()
        );
    }
    summary(output, created, split.done, parts.len(), &args.out);
    Ok(())
}

/// What a run did, on standard output.
fn summary(output: Output, created: usize, left_out: usize, uploads: usize, out: &Path) {
    if output == Output::Json {
        let v = serde_json::json!({
            "created": created,
            "leftOut": left_out,
            "uploads": uploads,
            "resultFile": out.display().to_string(),
        });
        println!("{v}");
    } else if created == 0 {
        println!(
            "Nothing to import: the file's {left_out} users are in {} already.",
            out.display()
        );
    } else {
        println!(
            "Created {created} users in {uploads} uploads. Their temporary passwords are in {} (readable by you alone): hand them over, then delete the file.",
            out.display()
        );
    }
}

/// The lines of the result file an earlier run wrote, when `--resume` asks to go on from it.
fn earlier_run(out: &Path, resume: bool) -> Result<Vec<ResultLine>, Failure> {
    let bytes = match std::fs::read(out) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Failure::usage(format!(
                "cannot read {}: {e}",
                out.display()
            )))
        }
    };
    if !resume {
        return Err(Failure::usage(format!(
            "{} exists: give --resume to go on with the import it records, or another --out (an import never overwrites the passwords of an earlier one)",
            out.display()
        )));
    }
    bulk_upload::read_result(&bytes)
        .map(|(_, lines)| lines)
        .map_err(|why| {
            invalid(format!(
                "{} is not the result file of an import: {why}",
                out.display()
            ))
        })
}

/// A problem the server found in a part, with its row counted in the whole file.
fn problem_in(part: &[SplitRow], d: &Value) -> Option<BulkProblem> {
    let message = d.get("message")?.as_str()?.to_string();
    let column = d.get("column").and_then(Value::as_str).map(str::to_string);
    let row = match d.get("row").and_then(Value::as_u64) {
        // The part's header is its row 1, its first user row 2.
        Some(r) => Some(part.get(usize::try_from(r).ok()?.checked_sub(2)?)?.row),
        None => None,
    };
    Some(BulkProblem {
        row,
        column,
        message,
    })
}

/// Every problem of the file, sorted by row; nothing was created.
fn refused(file: &Path, mut problems: Vec<BulkProblem>) -> Failure {
    problems.sort_by_key(|p| p.row.unwrap_or(0));
    let mut message = format!(
        "{} has {} problem{}, so no user was created:",
        file.display(),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" }
    );
    for p in &problems {
        let at = match (p.row, &p.column) {
            (Some(r), Some(c)) => format!("row {r}, {c}"),
            (Some(r), None) => format!("row {r}"),
            (None, Some(c)) => c.clone(),
            (None, None) => "the file".into(),
        };
        message.push_str(&format!("\n  - {at}: {}", p.message));
    }
    invalid(message)
}

/// A bar on a terminal; a line per upload otherwise (a log, a CI job).
enum Progress {
    Bar(indicatif::ProgressBar),
    Lines {
        total: u64,
        done: std::cell::Cell<u64>,
    },
}

impl Progress {
    fn new(total: u64) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{spinner} [{bar:40}] {pos}/{len} users created ({elapsed})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            Self::Bar(bar)
        } else {
            Self::Lines {
                total,
                done: std::cell::Cell::new(0),
            }
        }
    }
    fn advance(&self, n: u64) {
        match self {
            Self::Bar(bar) => bar.inc(n),
            Self::Lines { total, done } => {
                done.set(done.get() + n);
                eprintln!("{} of {total} users created", done.get());
            }
        }
    }
    fn stop(&self) {
        if let Self::Bar(bar) = self {
            bar.abandon();
        }
    }
    fn finish(&self) {
        if let Self::Bar(bar) = self {
            bar.finish();
        }
    }
}
