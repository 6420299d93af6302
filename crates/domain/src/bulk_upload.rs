//! Bulk upload of customer users from a CSV file (directory.md, "Bulk upload"): the file's
//! format, every rule a row must meet, and the result file with the temporary passwords.
//!
//! Rows are counted as a spreadsheet counts them: the header is row 1, the first user row 2.

use std::collections::HashMap;

use crate::customer::{DomainKind, TenantDomain};
use crate::customer_user::{domain_type_for_new, UserDomainType};
use crate::text;
use crate::upn::Upn;

/// The header row, exactly, in this order (names compared case-insensitively and trimmed).
pub const COLUMNS: [&str; 5] = [
    "First name",
    "Last name",
    "Display name",
    "Email",
    "Status update",
];
/// The column the result file adds.
pub const PASSWORD_COLUMN: &str = "Temporary password";
/// The most user rows one upload may hold.
pub const MAX_ROWS: usize = 100;
/// The longest first, last and display name in an upload.
pub const NAME_MAX: usize = 50;
/// What `Status update` says of a created user in the result file.
pub const CREATED: &str = "Created";

/// One problem of a file, as the answer lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkProblem {
    /// The spreadsheet row (the header is row 1); `None` for the file or the upload as a
    /// whole.
    pub row: Option<usize>,
    /// The column, by its header name; `None` when the problem is the row's or the file's.
    pub column: Option<String>,
    /// What is wrong and what is allowed.
    pub message: String,
}

impl BulkProblem {
    pub fn file(message: impl Into<String>) -> Self {
        Self {
            row: None,
            column: None,
            message: message.into(),
        }
    }
    pub fn at(row: usize, column: Option<&str>, message: impl Into<String>) -> Self {
        Self {
            row: Some(row),
            column: column.map(str::to_string),
            message: message.into(),
        }
    }
}

/// A valid user row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkRow {
    /// Its spreadsheet row.
    pub row: usize,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: String,
    /// The `Email` column: the user's UPN.
    pub upn: Upn,
    pub domain_type: UserDomainType,
}

/// A valid file: its rows, and the separator it uses (the result file uses it too, so that a
/// spreadsheet that saved `;` opens the result as it opened the input).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BulkFile {
    pub delimiter: u8,
    pub rows: Vec<BulkRow>,
}

const SAVE_AS_UTF8: &str = "the file is not UTF-8 text: in Excel, save it with \"Save as\" and the type \"CSV UTF-8 (Comma delimited) (*.csv)\", then upload that file";

/// Reads and checks a whole file against the customer's domains; every problem is reported
/// together. Whether an address is already taken by an active user only the store knows: the
/// caller checks that, with [`parse_all`]'s rows.
pub fn parse(bytes: &[u8], domains: &[TenantDomain]) -> Result<BulkFile, Vec<BulkProblem>> {
    match parse_all(bytes, domains)? {
        (file, problems) if problems.is_empty() => Ok(file),
        (_, problems) => Err(problems),
    }
}

/// [`parse`], answering the rows that are valid beside the problems of the others; `Err` when
/// the file cannot be read as rows at all (its encoding, its header, no rows).
pub fn parse_all(
    bytes: &[u8],
    domains: &[TenantDomain],
) -> Result<(BulkFile, Vec<BulkProblem>), Vec<BulkProblem>> {
    let (delimiter, rows) = read_rows(bytes)?;
    let mut problems = Vec::new();
    if rows.len() > MAX_ROWS {
        problems.push(BulkProblem::file(format!(
            "the file has {} users: an upload holds at most {MAX_ROWS}: split it into files of {MAX_ROWS} users or fewer",
            rows.len()
        )));
    }
    let mut valid = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, fields) in rows.iter().enumerate() {
        let row = index + 2;
        if let Some(r) = check_row(row, fields, Some(domains), &mut seen, &mut problems) {
            valid.push(r);
        }
    }
    Ok((
        BulkFile {
            delimiter,
            rows: valid,
        },
        problems,
    ))
}

/// The file's separator and its user rows (the header checked and left out, trailing blank
/// rows dropped); `Err` when the file cannot be read as rows at all (its encoding, its
/// quoting, its header, no rows).
fn read_rows(bytes: &[u8]) -> Result<(u8, Vec<Vec<String>>), Vec<BulkProblem>> {
    let text = decode(bytes).map_err(|p| vec![p])?;
    if text.trim().is_empty() {
        return Err(vec![BulkProblem::file(format!(
            "the file is empty: give a header row ({}) and one row per user",
            COLUMNS.join(",")
        ))]);
    }
    let delimiter = delimiter_of(text);
    let mut reader = reader(text, delimiter);
    let mut records = Vec::new();
    for (index, record) in reader.records().enumerate() {
        match record {
            Ok(r) => records.push(r.iter().map(str::to_string).collect::<Vec<_>>()),
            Err(e) => {
                return Err(vec![BulkProblem::at(
                    index + 1,
                    None,
                    format!("is not well-formed CSV ({e}): a field with a quote must be quoted as a whole, its quotes doubled"),
                )])
            }
        }
    }
    // A spreadsheet often saves trailing rows of empty fields: they are not users.
    while records.last().is_some_and(|r| is_blank(r)) {
        records.pop();
    }
    if records.is_empty() {
        return Err(vec![BulkProblem::file("the file is empty")]);
    }
    let rows = records.split_off(1);
    let problems = check_header(&records[0]);
    if !problems.is_empty() {
        return Err(problems);
    }
    if rows.is_empty() {
        return Err(vec![BulkProblem::file(
            "the file has a header row but no users: add one row per user below it",
        )]);
    }
    Ok((delimiter, rows))
}

/// UTF-8, with or without its byte-order mark; anything else is refused with how to fix it.
fn decode(bytes: &[u8]) -> Result<&str, BulkProblem> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    // Excel's "Unicode text" is UTF-16 (with a byte-order mark, and a NUL beside each ASCII
    // character), which is valid UTF-8 byte for byte often enough to slip through.
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") || bytes.contains(&0) {
        return Err(BulkProblem::file(SAVE_AS_UTF8));
    }
    std::str::from_utf8(bytes).map_err(|_| BulkProblem::file(SAVE_AS_UTF8))
}

/// `;` when the header row uses it (Excel in many European locales), `,` otherwise.
fn delimiter_of(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    }
}

/// A reader of records as the file has them: no header taken apart, any number of fields.
fn reader(text: &str, delimiter: u8) -> csv::Reader<&[u8]> {
    csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes())
}

fn is_blank(fields: &[String]) -> bool {
    fields.iter().all(|f| f.trim().is_empty())
}

fn check_header(header: &[String]) -> Vec<BulkProblem> {
    let expected = COLUMNS.join(",");
    let mut problems = Vec::new();
    for (i, want) in COLUMNS.iter().enumerate() {
        match header.get(i) {
            None => problems.push(BulkProblem::at(
                1,
                Some(want),
                format!("the column '{want}' is missing: the header row must be exactly {expected}"),
            )),
            Some(got) if !got.trim().eq_ignore_ascii_case(want) => {
                problems.push(BulkProblem::at(
                    1,
                    Some(want),
                    format!(
                        "column {} is '{}' where '{want}' belongs: the header row must be exactly {expected}",
                        i + 1,
                        got.trim()
                    ),
                ))
            }
            Some(_) => {}
        }
    }
    for extra in header.iter().skip(COLUMNS.len()) {
        problems.push(BulkProblem::at(
            1,
            None,
            format!(
                "the extra column '{}' is not allowed: the header row must be exactly {expected}",
                extra.trim()
            ),
        ));
    }
    problems
}

/// The row's problems added to `problems`; the row when it has none (never without
/// `domains`, which a [`BulkRow`] needs).
fn check_row(
    row: usize,
    fields: &[String],
    domains: Option<&[TenantDomain]>,
    seen: &mut HashMap<String, usize>,
    problems: &mut Vec<BulkProblem>,
) -> Option<BulkRow> {
    if is_blank(fields) {
        problems.push(BulkProblem::at(
            row,
            None,
            "is empty: remove the blank row, or fill it in",
        ));
        return None;
    }
    if fields.len() != COLUMNS.len() && fields.iter().any(|f| f.contains(['\n', '\r'])) {
        // An opening quote that is never closed reads the lines after it into one field.
        problems.push(BulkProblem::at(
            row,
            None,
            "opens a quote that is not closed, so the lines after it were read as one field: put a field in quotes as a whole and double a quote inside it (\"Alan \"\"Prof\"\" Turing\")",
        ));
        return None;
    }
    if fields.len() != COLUMNS.len() {
        problems.push(BulkProblem::at(
            row,
            None,
            format!(
                "has {} fields where the header has {}: give First name, Last name, Display name, Email and an empty Status update, separated as in the header (quote a field that holds the separator)",
                fields.len(),
                COLUMNS.len()
            ),
        ));
        return None;
    }
    let before = problems.len();
    let mut check = |column: &str, result: Result<Option<String>, String>| match result {
        Ok(v) => v,
        Err(message) => {
            problems.push(BulkProblem::at(row, Some(column), message));
            None
        }
    };
    let first_name = check(COLUMNS[0], text::optional(Some(&fields[0]), NAME_MAX));
    let last_name = check(COLUMNS[1], text::optional(Some(&fields[1]), NAME_MAX));
    let display_name = check(
        COLUMNS[2],
        text::bounded(&fields[2], NAME_MAX, true).map(Some),
    );
    let upn = match Upn::parse(&fields[3]) {
        Ok(u) => Some(u),
        Err(message) => {
            problems.push(BulkProblem::at(row, Some(COLUMNS[3]), message));
            None
        }
    };
    // Without the directory (a long file checked before it is split into uploads), the
    // domain is left to each upload to check.
    let domain_type = match (upn.as_ref(), domains) {
        (Some(u), Some(domains)) => match domain_type_for_new(u, domains) {
            Ok(t) => Some(t),
            Err(message) => {
                let names: Vec<String> = domains
                    .iter()
                    .filter(|d| d.kind != DomainKind::Federated)
                    .map(|d| d.name.to_string())
                    .collect();
                problems.push(BulkProblem::at(
                    row,
                    Some(COLUMNS[3]),
                    format!("{message}: use one of its domains ({})", names.join(", ")),
                ));
                None
            }
        },
        _ => None,
    };
    if let Some(u) = &upn {
        match seen.get(&u.key()) {
            Some(first) => problems.push(BulkProblem::at(
                row,
                Some(COLUMNS[3]),
                format!("'{u}' is in row {first} already (addresses are compared without regard to case): give each user once"),
            )),
            None => {
                seen.insert(u.key(), row);
            }
        }
    }
    if !fields[4].trim().is_empty() {
        problems.push(BulkProblem::at(
            row,
            Some(COLUMNS[4]),
            "must be empty: Roster fills it in the result file",
        ));
    }
    match (display_name, upn, domain_type) {
        (Some(display_name), Some(upn), Some(domain_type)) if problems.len() == before => {
            Some(BulkRow {
                row,
                first_name,
                last_name,
                display_name,
                upn,
                domain_type,
            })
        }
        _ => None,
    }
}

/// One line of the result file.
pub struct ResultRow<'a> {
    pub row: &'a BulkRow,
    /// The temporary password; `None` where it is not shown (a replay of the upload).
    pub password: Option<&'a str>,
}

/// The result file: the input's columns with `Status update` filled, and the temporary
/// passwords, in the input's order and with its separator; a UTF-8 byte-order mark first, so
/// that Excel reads the file as UTF-8; CRLF line ends; quoted where a field needs it.
pub fn result_csv(delimiter: u8, rows: &[ResultRow<'_>]) -> String {
    let lines: Vec<ResultLine> = rows
        .iter()
        .map(|r| ResultLine {
            first_name: r.row.first_name.clone().unwrap_or_default(),
            last_name: r.row.last_name.clone().unwrap_or_default(),
            display_name: r.row.display_name.clone(),
            email: r.row.upn.to_string(),
            status: CREATED.to_string(),
            password: r.password.unwrap_or_default().to_string(),
        })
        .collect();
    result_file(delimiter, &lines)
}

/// A file of any length, read and checked as far as it can be without the customer's
/// directory, ready to be sent in uploads of at most [`MAX_ROWS`] (`roster customer-user
/// import`): every rule but the domain's and the active users', which each upload checks.
pub struct Split {
    pub delimiter: u8,
    /// The rows without problems, in the file's order.
    pub rows: Vec<SplitRow>,
    /// The other rows' problems, with the rows counted in the whole file.
    pub problems: Vec<BulkProblem>,
    /// How many rows were left out because their address is in `done`.
    pub done: usize,
}

/// One row of a [`Split`]: its row in the whole file and its fields.
pub struct SplitRow {
    pub row: usize,
    pub fields: Vec<String>,
}

/// Reads `bytes` as a [`Split`], leaving out the rows whose address (compared as [`Upn::key`]
/// compares) is in `done`: the users an earlier run created. `Err` as [`parse_all`].
pub fn split(
    bytes: &[u8],
    done: &std::collections::HashSet<String>,
) -> Result<Split, Vec<BulkProblem>> {
    let (delimiter, rows) = read_rows(bytes)?;
    let mut split = Split {
        delimiter,
        rows: Vec::new(),
        problems: Vec::new(),
        done: 0,
    };
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (index, fields) in rows.into_iter().enumerate() {
        let row = index + 2;
        let key = fields
            .get(3)
            .and_then(|f| Upn::parse(f).ok())
            .map(|u| u.key());
        if key.is_some_and(|k| done.contains(&k)) {
            split.done += 1;
            continue;
        }
        let before = split.problems.len();
        check_row(row, &fields, None, &mut seen, &mut split.problems);
        if split.problems.len() == before {
            split.rows.push(SplitRow { row, fields });
        }
    }
    Ok(split)
}

/// An upload of `rows`: the header row and the rows, with `delimiter` between fields.
pub fn part_csv(delimiter: u8, rows: &[SplitRow]) -> Vec<u8> {
    let records = std::iter::once(COLUMNS.map(str::to_string).to_vec())
        .chain(rows.iter().map(|r| r.fields.clone()));
    write_records(delimiter, records).into_bytes()
}

/// One line of a result file, as [`read_result`] reads it back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResultLine {
    pub first_name: String,
    pub last_name: String,
    pub display_name: String,
    pub email: String,
    pub status: String,
    pub password: String,
}

impl ResultLine {
    fn record(&self) -> Vec<String> {
        vec![
            self.first_name.clone(),
            self.last_name.clone(),
            self.display_name.clone(),
            self.email.clone(),
            self.status.clone(),
            self.password.clone(),
        ]
    }
}

/// A result file of these lines, as [`result_csv`] writes one.
pub fn result_file(delimiter: u8, lines: &[ResultLine]) -> String {
    let header = COLUMNS.iter().copied().chain([PASSWORD_COLUMN]);
    let records = std::iter::once(header.map(str::to_string).collect())
        .chain(lines.iter().map(ResultLine::record));
    format!("\u{feff}{}", write_records(delimiter, records))
}

/// Reads back a result file that [`result_file`] or [`result_csv`] wrote; `Err` says why the
/// file is not one.
pub fn read_result(bytes: &[u8]) -> Result<(u8, Vec<ResultLine>), String> {
    let text = decode(bytes).map_err(|p| p.message)?;
    let delimiter = delimiter_of(text);
    let mut reader = reader(text, delimiter);
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(r)) => r.iter().map(|f| f.trim().to_string()).collect(),
        _ => return Err("it is empty".into()),
    };
    let expected: Vec<&str> = COLUMNS.iter().copied().chain([PASSWORD_COLUMN]).collect();
    if header.len() != expected.len()
        || header
            .iter()
            .zip(&expected)
            .any(|(h, e)| !h.eq_ignore_ascii_case(e))
    {
        return Err(format!("its header row is not {}", expected.join(",")));
    }
    let mut lines = Vec::new();
    for (index, record) in records.enumerate() {
        let fields: Vec<String> = match record {
            Ok(r) => r.iter().map(str::to_string).collect(),
            Err(e) => return Err(format!("row {} is not well-formed CSV ({e})", index + 2)),
        };
        let [first_name, last_name, display_name, email, status, password]: [String; 6] = fields
            .try_into()
            .map_err(|_| format!("row {} does not have 6 fields", index + 2))?;
        lines.push(ResultLine {
            first_name,
            last_name,
            display_name,
            email,
            status,
            password,
        });
    }
    Ok((delimiter, lines))
}

fn write_records(delimiter: u8, records: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut writer = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for record in records {
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(&record);
    }
    let bytes = writer.into_inner().unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The header row alone, as a template to fill in.
pub fn template_csv() -> String {
    format!("\u{feff}{}\r\n", COLUMNS.join(","))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::upn::DomainName;

    fn domains() -> Vec<TenantDomain> {
        vec![
            TenantDomain {
                name: DomainName::parse("contoso.onmicrosoft.com").unwrap(),
                kind: DomainKind::Initial,
            },
            TenantDomain {
                name: DomainName::parse("contoso.com").unwrap(),
                kind: DomainKind::Managed,
            },
            TenantDomain {
                name: DomainName::parse("fed.contoso.com").unwrap(),
                kind: DomainKind::Federated,
            },
        ]
    }

    const HEADER: &str = "First name,Last name,Display name,Email,Status update";

    fn file(rows: &[&str]) -> String {
        std::iter::once(HEADER)
            .chain(rows.iter().copied())
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn problems(text: &str) -> Vec<(Option<usize>, Option<String>, String)> {
        parse(text.as_bytes(), &domains())
            .unwrap_err()
            .into_iter()
            .map(|p| (p.row, p.column, p.message))
            .collect()
    }

    #[test]
    fn the_forms_a_file_comes_in() {
        let rows = "Ada,Lovelace,\"Lovelace, Ada \"\"the Countess\"\"\",ada@contoso.com,";
        for (name, text) in [
            ("plain", format!("{HEADER}\n{rows}\n")),
            ("BOM and CRLF", format!("\u{feff}{HEADER}\r\n{rows}\r\n")),
            (
                "header in other case, padded",
                format!(" first NAME ,LAST name,display name , EMAIL,status update\n{rows}"),
            ),
            (
                "trailing blank lines",
                format!("{HEADER}\n{rows}\n\n\n,,,,\n"),
            ),
            (
                "semicolons",
                format!(
                    "{}\n{}",
                    HEADER.replace(',', ";"),
                    "Ada;Lovelace;\"Lovelace; Ada \"\"the Countess\"\"\";ada@contoso.com;"
                ),
            ),
        ] {
            let f = parse(text.as_bytes(), &domains()).unwrap_or_else(|p| panic!("{name}: {p:?}"));
            assert_eq!(f.rows.len(), 1, "{name}");
            let r = &f.rows[0];
            assert_eq!(r.row, 2);
            assert_eq!(r.first_name.as_deref(), Some("Ada"));
            assert!(
                r.display_name.contains("the Countess\""),
                "{name}: {}",
                r.display_name
            );
            assert_eq!(r.upn.as_str(), "ada@contoso.com");
            assert_eq!(f.delimiter, if name == "semicolons" { b';' } else { b',' });
        }
    }

    #[test]
    fn every_problem_with_its_row_and_column() {
        let long = "x".repeat(51);
        let text = file(&[
            &format!("{long},Ok,Name,a@contoso.com,"),
            "Ok,Ok,,b@contoso.com,",
            "Ok,Ok,Name,not an address,",
            "Ok,Ok,Name,c@fabrikam.com,",
            "Ok,Ok,Name,d@fed.contoso.com,",
            "Ok,Ok,Name,A@CONTOSO.COM,",
            "Ok,Ok,Name,e@contoso.com,done",
            "Ok,Ok,Name",
            "Ok,Ok,Name,f@contoso.com,,extra",
            "Ok,O\u{7}k,Name,g@contoso.com,",
            "Ok,Ok,\"Unclosed,h@contoso.com,",
            "Ok,Ok,Name,i@contoso.com,",
        ]);
        let got = problems(&text);
        let at = |row: usize, column: Option<&str>| {
            got.iter()
                .find(|(r, c, _)| *r == Some(row) && c.as_deref() == column)
                .unwrap_or_else(|| panic!("row {row} {column:?} in {got:?}"))
                .2
                .clone()
        };
        assert!(at(2, Some("First name")).contains("at most 50"));
        assert!(at(3, Some("Display name")).contains("is required"));
        assert!(at(4, Some("Email")).contains("alias@domain"), "{got:?}");
        assert!(at(5, Some("Email")).contains("not a domain of this customer"));
        assert!(at(5, Some("Email")).ends_with("(contoso.onmicrosoft.com, contoso.com)"));
        assert!(at(6, Some("Email")).contains("federated"));
        assert!(at(7, Some("Email")).contains("row 2 already"));
        assert!(at(8, Some("Status update")).contains("must be empty"));
        assert!(at(9, None).contains("has 3 fields"));
        assert!(at(10, None).contains("has 6 fields"));
        assert!(at(11, Some("Last name")).contains("control characters"));
        assert!(at(12, None).contains("quote that is not closed"));
        assert_eq!(got.len(), 11, "{got:?}");
    }

    #[test]
    fn the_header_and_the_size() {
        let wrong = problems("First name,Surname,Display name,Email\nA,B,C,d@contoso.com");
        assert!(wrong.iter().any(|(r, c, m)| *r == Some(1)
            && c.as_deref() == Some("Last name")
            && m.contains("'Surname'")));
        assert!(wrong
            .iter()
            .any(|(_, c, m)| c.as_deref() == Some("Status update") && m.contains("missing")));
        let extra = problems(&format!("{HEADER},Phone\nA,B,C,d@contoso.com,,1"));
        assert!(extra
            .iter()
            .any(|(_, _, m)| m.contains("extra column 'Phone'")));
        assert!(problems("")[0].2.contains("empty"));
        assert!(problems(" \r\n ")[0].2.contains("empty"));
        assert!(problems(HEADER)[0].2.contains("no users"));
        let rows: Vec<String> = (0..MAX_ROWS)
            .map(|i| format!("F,L,User {i},u{i}@contoso.com,"))
            .collect();
        let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
        assert_eq!(
            parse(file(&refs).as_bytes(), &domains())
                .unwrap()
                .rows
                .len(),
            MAX_ROWS
        );
        let mut more = refs.clone();
        more.push("F,L,One more,more@contoso.com,");
        let too_many = problems(&file(&more));
        assert_eq!(too_many.len(), 1);
        assert!(too_many[0].2.contains("101 users") && too_many[0].0.is_none());
    }

    #[test]
    fn files_that_are_not_utf8() {
        let utf16: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(HEADER.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let latin1 = b"First name,Last name,Display name,Email,Status update\nRen\xe9,D,Ren\xe9 D,r@contoso.com,".to_vec();
        for bytes in [utf16, latin1] {
            let p = parse(&bytes, &domains()).unwrap_err();
            assert_eq!(p.len(), 1);
            assert!(p[0].message.contains("CSV UTF-8"), "{p:?}");
        }
    }

    #[test]
    fn the_result_file_reads_back() {
        let f = parse(
            file(&[
                "Ada,Lovelace,\"Lovelace, Ada\",ada@contoso.com,",
                ",,Bob,bob@contoso.com,",
            ])
            .as_bytes(),
            &domains(),
        )
        .unwrap();
        let out = result_csv(
            f.delimiter,
            &[
                ResultRow {
                    row: &f.rows[0],
                    password: Some("Pw\"1,x"),
                },
                ResultRow {
                    row: &f.rows[1],
                    password: None,
                },
            ],
        );
        assert!(out.starts_with('\u{feff}') && out.contains("\r\n"));
        let mut reader = csv::Reader::from_reader(out.trim_start_matches('\u{feff}').as_bytes());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        assert_eq!(
            header,
            [
                "First name",
                "Last name",
                "Display name",
                "Email",
                "Status update",
                "Temporary password"
            ]
        );
        let rows: Vec<Vec<String>> = reader
            .records()
            .map(|r| r.unwrap().iter().map(str::to_string).collect())
            .collect();
        assert_eq!(
            rows[0],
            [
                "Ada",
                "Lovelace",
                "Lovelace, Ada",
                "ada@contoso.com",
                "Created",
                "Pw\"1,x"
            ]
        );
        assert_eq!(rows[1], ["", "", "Bob", "bob@contoso.com", "Created", ""]);
        assert_eq!(template_csv(), format!("\u{feff}{HEADER}\r\n"));
    }

    #[test]
    fn a_long_file_splits_with_rows_counted_in_the_whole_file() {
        let mut rows: Vec<String> = (0..250)
            .map(|i| format!("F{i},L{i},User {i},user{i}@elsewhere.example,"))
            .collect();
        rows[178] = "F,L,,nobody@contoso.com,".into(); // row 180: no display name
        rows[200] = "F,L,Again,USER3@elsewhere.example,".into(); // row 202: row 5's address
        let text = file(&rows.iter().map(String::as_str).collect::<Vec<_>>());
        let done = ["user0@elsewhere.example".to_string()]
            .into_iter()
            .collect();
        let found_split = super::split(text.as_bytes(), &done).unwrap();
        assert_eq!(found_split.done, 1);
        assert_eq!(found_split.rows.len(), 247);
        assert_eq!(found_split.rows[0].row, 3);
        let found: Vec<_> = found_split
            .problems
            .iter()
            .map(|p| (p.row, p.column.as_deref()))
            .collect();
        assert_eq!(
            found,
            [
                (Some(180), Some("Display name")),
                (Some(202), Some("Email"))
            ]
        );
        assert!(
            found_split.problems[1].message.contains("row 5"),
            "{:?}",
            found_split.problems
        );
        // A part is an upload of its own: the header, then its rows renumbered from 2.
        let part = part_csv(b',', &found_split.rows[..100]);
        let (_, reread) = read_rows(&part).unwrap();
        assert_eq!(reread.len(), 100);
        assert_eq!(reread[0], found_split.rows[0].fields);
        // The domain is each upload's to check: a file without the directory cannot.
        let odd = file(&["A,B,C,c@unknown.example,"]);
        assert!(super::split(odd.as_bytes(), &Default::default())
            .unwrap()
            .problems
            .is_empty());
        assert!(super::split(b"Name,Email\n", &Default::default()).is_err());
    }

    #[test]
    fn a_result_file_reads_back_as_it_was_written() {
        let lines = vec![
            ResultLine {
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
                display_name: "Lovelace; Ada \"A\"".into(),
                email: "ada@contoso.com".into(),
                status: CREATED.into(),
                password: "Xy7!long-enough".into(),
            },
            ResultLine {
                first_name: String::new(),
                last_name: String::new(),
                display_name: "Bob".into(),
                email: "bob@contoso.com".into(),
                status: CREATED.into(),
                password: String::new(),
            },
        ];
        for delimiter in [b',', b';'] {
            let text = result_file(delimiter, &lines);
            assert!(text.starts_with('\u{feff}'));
            assert_eq!(
                read_result(text.as_bytes()).unwrap(),
                (delimiter, lines.clone())
            );
        }
        assert!(read_result(HEADER.as_bytes())
            .unwrap_err()
            .contains("header row"));
        assert!(read_result(b"").is_err());
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::upn::DomainName;
    use proptest::prelude::*;

    fn domains() -> Vec<TenantDomain> {
        [
            ("contoso.onmicrosoft.com", DomainKind::Initial),
            ("contoso.com", DomainKind::Managed),
            ("fed.contoso.com", DomainKind::Federated),
        ]
        .into_iter()
        .map(|(name, kind)| TenantDomain {
            name: DomainName::parse(name).unwrap_or_else(|e| panic!("{e}")),
            kind,
        })
        .collect()
    }

    /// A user as a spreadsheet holds one: names as typed (maybe padded), an address on one
    /// of the customer's own domains in any case.
    #[derive(Clone, Debug)]
    struct User {
        first: String,
        last: String,
        display: String,
        alias: String,
        domain: String,
    }

    /// A name of up to 50 characters of any script, without control characters.
    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            "[^\\x00-\\x1f\\x7f]{0,50}",
            "[ ]{0,2}[A-Za-z ,;\"'.-]{0,46}[ ]{0,2}",
            Just(String::new()),
        ]
    }

    fn user() -> impl Strategy<Value = User> {
        (
            name(),
            name(),
            name().prop_filter("a display name", |d| !d.trim().is_empty()),
            "[A-Za-z0-9_-]([A-Za-z0-9'._!#^~-]{0,40}[A-Za-z0-9])?",
            prop_oneof![Just("contoso.com"), Just("contoso.onmicrosoft.com")],
            proptest::collection::vec(any::<bool>(), 23),
        )
            .prop_map(|(first, last, display, alias, domain, upper)| User {
                first,
                last,
                display,
                alias,
                domain: domain
                    .chars()
                    .zip(upper)
                    .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                    .collect(),
            })
    }

    /// How a spreadsheet may save the file.
    #[derive(Clone, Copy, Debug)]
    struct Style {
        delimiter: u8,
        crlf: bool,
        bom: bool,
        quote_all: bool,
        trailing_blank_lines: usize,
    }

    fn style() -> impl Strategy<Value = Style> {
        (
            prop_oneof![Just(b','), Just(b';')],
            any::<bool>(),
            any::<bool>(),
            any::<bool>(),
            0..3usize,
        )
            .prop_map(
                |(delimiter, crlf, bom, quote_all, trailing_blank_lines)| Style {
                    delimiter,
                    crlf,
                    bom,
                    quote_all,
                    trailing_blank_lines,
                },
            )
    }

    /// The address of the `index`th user: the index keeps every address its own.
    fn email(u: &User, index: usize) -> String {
        format!("{}.{index}@{}", u.alias, u.domain)
    }

    /// CSV written by hand (not by the csv crate that reads it): fields quoted where they
    /// must be, or always.
    fn write(style: Style, users: &[User]) -> Vec<u8> {
        let d = char::from(style.delimiter);
        let field = |f: &str| {
            if style.quote_all || f.contains([d, '"', '\r', '\n']) {
                format!("\"{}\"", f.replace('"', "\"\""))
            } else {
                f.to_string()
            }
        };
        let end = if style.crlf { "\r\n" } else { "\n" };
        let mut lines = vec![COLUMNS.map(&field).join(&d.to_string())];
        for (i, u) in users.iter().enumerate() {
            let email = email(u, i);
            let fields = [u.first.as_str(), &u.last, &u.display, &email, ""];
            lines.push(fields.map(&field).join(&d.to_string()));
        }
        for _ in 0..style.trailing_blank_lines {
            lines.push(d.to_string().repeat(4));
        }
        let text = lines.join(end) + end;
        let bom = if style.bom { "\u{feff}" } else { "" };
        format!("{bom}{text}").into_bytes()
    }

    fn expected(users: &[User]) -> Vec<BulkRow> {
        let domains = domains();
        users
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let upn = Upn::parse(&email(u, i)).unwrap_or_else(|e| panic!("{e}"));
                let kind = domains
                    .iter()
                    .find(|d| d.name == upn.domain())
                    .map_or(DomainKind::Federated, |d| d.kind);
                let optional = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
                BulkRow {
                    row: i + 2,
                    first_name: optional(&u.first),
                    last_name: optional(&u.last),
                    display_name: u.display.trim().to_string(),
                    upn,
                    domain_type: UserDomainType::of(kind),
                }
            })
            .collect()
    }

    /// The most rows a problem can name: every line break may end a row.
    fn last_row(bytes: &[u8]) -> usize {
        bytes.iter().filter(|b| matches!(b, b'\r' | b'\n')).count() + 1
    }

    fn within_the_file(bytes: &[u8], problems: &[BulkProblem]) -> Result<(), TestCaseError> {
        for p in problems {
            if let Some(row) = p.row {
                prop_assert!((1..=last_row(bytes)).contains(&row), "{p:?}");
            }
            if let Some(column) = &p.column {
                prop_assert!(COLUMNS.contains(&column.as_str()), "{p:?}");
            }
            prop_assert!(!p.message.trim().is_empty(), "{p:?}");
        }
        Ok(())
    }

    /// Bytes that are a file or almost one: anything, text, a header and rows of fields that
    /// are often valid, with stray quotes, separators and line breaks.
    fn any_file() -> impl Strategy<Value = Vec<u8>> {
        let field = prop_oneof![
            "[A-Za-z ]{0,8}",
            "[a-z]{1,5}@(contoso\\.com|fabrikam\\.com|fed\\.contoso\\.com|CONTOSO\\.onmicrosoft\\.com)",
            "[\"a-z,; \r\n\t\u{7}é]{0,6}",
            "\"[a-z,;\"\n]{0,6}\"?",
            "x{51,60}",
        ];
        let row = proptest::collection::vec(field, 0..8);
        let rows = proptest::collection::vec(row, 0..12);
        prop_oneof![
            proptest::collection::vec(any::<u8>(), 0..400),
            any::<String>().prop_map(String::into_bytes),
            (
                prop_oneof![
                    Just(COLUMNS.join(",")),
                    Just(COLUMNS.join(";")),
                    "[A-Za-z ,;]{0,60}"
                ],
                rows,
                prop_oneof![Just(","), Just(";")],
                prop_oneof![Just("\n"), Just("\r\n"), Just("\r")],
            )
                .prop_map(|(header, rows, d, end)| {
                    std::iter::once(header)
                        .chain(rows.iter().map(|r| r.join(d)))
                        .collect::<Vec<_>>()
                        .join(end)
                        .into_bytes()
                }),
        ]
    }

    proptest! {
        /// A file written from valid users, in any of the ways a spreadsheet saves one, parses
        /// to exactly those users, and its result file reads back with their passwords.
        #[test]
        fn written_users_parse_back_exactly(
            users in proptest::collection::vec(user(), 1..=20),
            style in style(),
            passwords in proptest::collection::vec("[^\\x00]{0,20}", 20),
        ) {
            let bytes = write(style, &users);
            let file = parse(&bytes, &domains()).map_err(|p| {
                TestCaseError::fail(format!("{p:?} in {:?}", String::from_utf8_lossy(&bytes)))
            })?;
            prop_assert_eq!(file.delimiter, style.delimiter);
            prop_assert_eq!(&file.rows, &expected(&users));
            let results: Vec<ResultRow<'_>> = file
                .rows
                .iter()
                .zip(&passwords)
                .map(|(row, p)| ResultRow { row, password: Some(p) })
                .collect();
            let out = result_csv(file.delimiter, &results);
            let (delimiter, lines) = read_result(out.as_bytes())
                .map_err(TestCaseError::fail)?;
            prop_assert_eq!(delimiter, style.delimiter);
            prop_assert_eq!(lines.len(), users.len());
            for ((line, row), password) in lines.iter().zip(&file.rows).zip(&passwords) {
                prop_assert_eq!(&line.first_name, row.first_name.as_deref().unwrap_or(""));
                prop_assert_eq!(&line.last_name, row.last_name.as_deref().unwrap_or(""));
                prop_assert_eq!(&line.display_name, &row.display_name);
                prop_assert_eq!(&line.email, row.upn.as_str());
                prop_assert_eq!(&line.status, CREATED);
                prop_assert_eq!(&line.password, password);
            }
        }

        /// Whatever the bytes, reading answers, and every problem names a row inside the
        /// file (or none) and a column of the header (or none); valid rows are inside the
        /// file too, in order, and have no problem of their own.
        #[test]
        fn every_problem_names_a_row_and_column_of_the_file(bytes in any_file()) {
            match parse_all(&bytes, &domains()) {
                Err(problems) => {
                    prop_assert!(!problems.is_empty());
                    within_the_file(&bytes, &problems)?;
                    prop_assert!(parse(&bytes, &domains()).is_err());
                }
                Ok((file, problems)) => {
                    within_the_file(&bytes, &problems)?;
                    prop_assert!(file.delimiter == b',' || file.delimiter == b';');
                    let rows: Vec<usize> = file.rows.iter().map(|r| r.row).collect();
                    prop_assert!(rows.windows(2).all(|w| w[0] < w[1]), "{rows:?}");
                    for r in &file.rows {
                        prop_assert!((2..=last_row(&bytes)).contains(&r.row));
                        prop_assert!(!problems.iter().any(|p| p.row == Some(r.row)), "{problems:?}");
                    }
                    prop_assert_eq!(parse(&bytes, &domains()).is_ok(), problems.is_empty());
                }
            }
        }

        /// Whatever the bytes, splitting and reading a result file answer; a split's
        /// problems name rows inside the file.
        #[test]
        fn split_and_read_result_never_panic(bytes in any_file()) {
            if let Ok(s) = split(&bytes, &Default::default()) {
                within_the_file(&bytes, &s.problems)?;
            }
            if let Ok((_, lines)) = read_result(&bytes) {
                prop_assert!(lines.len() < last_row(&bytes));
            }
        }

        /// Any lines (any text but NUL, which no text file holds) written as a result file
        /// read back exactly, with the separator they were written with.
        #[test]
        fn result_files_read_back_as_written(
            fields in proptest::collection::vec(proptest::collection::vec("[^\\x00]{0,12}", 6), 0..10),
            delimiter in prop_oneof![Just(b','), Just(b';')],
        ) {
            let lines: Vec<ResultLine> = fields
                .into_iter()
                .map(|f| ResultLine {
                    first_name: f[0].clone(),
                    last_name: f[1].clone(),
                    display_name: f[2].clone(),
                    email: f[3].clone(),
                    status: f[4].clone(),
                    password: f[5].clone(),
                })
                .collect();
            let text = result_file(delimiter, &lines);
            prop_assert_eq!(read_result(text.as_bytes()), Ok((delimiter, lines)));
        }
    }

    proptest! {
        // Files of up to 150 rows: fewer cases.
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// A file of any length splits into its rows, counted in the whole file, leaving out
        /// the users already created (in any case), and its parts parse as uploads.
        #[test]
        fn a_file_splits_into_its_rows_without_the_done_ones(
            users in proptest::collection::vec(user(), 1..=150),
            style in style(),
            done_mask in proptest::collection::vec(any::<bool>(), 150),
        ) {
            let bytes = write(style, &users);
            let done: std::collections::HashSet<String> = users
                .iter()
                .enumerate()
                .filter(|(i, _)| done_mask[*i])
                .map(|(i, u)| email(u, i).to_lowercase())
                .collect();
            let split = split(&bytes, &done).map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
            prop_assert!(split.problems.is_empty(), "{:?}", split.problems);
            prop_assert_eq!(split.done, done.len());
            let want: Vec<usize> = (0..users.len()).filter(|i| !done_mask[*i]).map(|i| i + 2).collect();
            prop_assert_eq!(split.rows.iter().map(|r| r.row).collect::<Vec<_>>(), want);
            for part in split.rows.chunks(MAX_ROWS) {
                let file = parse(&part_csv(split.delimiter, part), &domains())
                    .map_err(|p| TestCaseError::fail(format!("{p:?}")))?;
                prop_assert_eq!(file.rows.len(), part.len());
                for (row, sent) in file.rows.iter().zip(part) {
                    prop_assert_eq!(row.upn.as_str(), sent.fields[3].trim());
                }
            }
        }
    }
}
