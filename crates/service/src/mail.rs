//! Outgoing mail. Every message is first written as an RFC 5322 `.eml` file into
//! `<data-dir>/outbox`: that write is what makes it durable. When SMTP is configured, the
//! delivery task ([`crate::smtp`]) sends the files from there. Messages may carry secrets (an
//! invitation link): they are never logged.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use roster_domain::Timestamp;

use crate::{Result, ServiceError};

/// The sender of Roster's mail unless `mail_from` says otherwise.
pub const FROM: &str = "Roster <no-reply@roster.invalid>";

/// The sender of Roster's mail: the `From:` header, and its address, which is also the SMTP
/// envelope sender.
#[derive(Clone, PartialEq, Eq)]
pub struct Sender {
    header: String,
    address: lettre::Address,
}

impl Sender {
    /// `Name <address@example.com>` or `address@example.com`.
    pub fn parse(text: &str) -> std::result::Result<Self, String> {
        let text = text.trim();
        if text.chars().any(char::is_control) {
            return Err("mail_from must be one line".into());
        }
        let (name, address) = match text.split_once('<') {
            Some((name, rest)) => match rest.strip_suffix('>') {
                Some(address) if !address.contains(['<', '>']) => (name.trim(), address.trim()),
                _ => {
                    return Err(format!(
                        "mail_from '{text}' is not like 'Roster <no-reply@example.com>'"
                    ))
                }
            },
            None => ("", text),
        };
        let address = lettre::Address::from_str(address).map_err(|e| {
            format!("mail_from '{text}' has no valid address such as no-reply@example.com: {e}")
        })?;
        if name.contains(['"', '\\', ',', ';', ':', '@', '(', ')', '[', ']']) {
            return Err(format!(
                "mail_from's name '{name}' may not contain quotes or any of , ; : @ ( ) [ ] \\"
            ));
        }
        let header = if name.is_empty() {
            address.to_string()
        } else {
            format!("{name} <{address}>")
        };
        Ok(Self { header, address })
    }

    /// The `From:` header's value.
    pub fn header(&self) -> &str {
        &self.header
    }

    /// The address alone (the SMTP envelope sender).
    pub fn address(&self) -> &lettre::Address {
        &self.address
    }
}

impl Default for Sender {
    fn default() -> Self {
        // The address of FROM, checked by the `senders` test.
        let address = lettre::Address::new_dangerous("no-reply", "roster.invalid");
        Self {
            header: FROM.to_string(),
            address,
        }
    }
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.header)
    }
}

/// One plain-text message.
pub struct Message {
    pub to: String,
    pub subject: String,
    pub body: String,
    pub date: Timestamp,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("to", &self.to)
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

/// RFC 5322 date-time in UTC: `Mon, 05 Jan 2026 09:00:00 +0000`.
pub fn rfc5322_date(t: Timestamp) -> String {
    let secs = t.unix_seconds();
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    const WEEKDAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let weekday = WEEKDAYS[usize::try_from(days.rem_euclid(7)).unwrap_or(0)];
    let month = MONTHS[usize::try_from(m - 1).unwrap_or(0)];
    format!(
        "{weekday}, {d:02} {month} {y} {:02}:{:02}:{:02} +0000",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month 1–12, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// A header value without line breaks (no header injection).
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

impl Message {
    /// The message as RFC 5322 text with CRLF line ends.
    pub fn to_eml(&self, from: &Sender, message_id: &str) -> String {
        let mut out = String::new();
        for (name, value) in [
            ("From", from.header().to_string()),
            ("To", one_line(&self.to)),
            ("Subject", one_line(&self.subject)),
            ("Date", rfc5322_date(self.date)),
            (
                "Message-ID",
                format!("<{message_id}@{}>", from.address().domain()),
            ),
            ("MIME-Version", "1.0".into()),
            ("Content-Type", "text/plain; charset=utf-8".into()),
            ("Content-Transfer-Encoding", "8bit".into()),
        ] {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(&value);
            out.push_str("\r\n");
        }
        out.push_str("\r\n");
        for line in self.body.lines() {
            out.push_str(line);
            out.push_str("\r\n");
        }
        out
    }
}

/// Writes `message` into `dir` as `<unix-ms>-<id>.eml` (written to a temporary name first, so
/// that a reader, such as the delivery task, never sees half a message); returns the file's
/// path.
pub async fn write_to_outbox(dir: &Path, from: &Sender, message: &Message) -> Result<PathBuf> {
    let id = uuid::Uuid::new_v4().to_string();
    let text = message.to_eml(from, &id);
    let dir = dir.to_path_buf();
    let name = format!("{}-{id}.eml", message.date.unix_millis());
    let written = tokio::task::spawn_blocking(move || -> std::io::Result<PathBuf> {
        // An invitation mail holds a link that signs its reader in: owner only.
        crate::files::create_private_dir(&dir)?;
        let tmp = dir.join(format!(".{name}.tmp"));
        let path = dir.join(&name);
        crate::files::write_private_file(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    })
    .await
    .map_err(|e| ServiceError::internal(format!("the mail writer stopped: {e}")))?;
    written.map_err(|e| ServiceError::internal(format!("cannot write to the mail outbox: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_rfc5322() {
        let t = Timestamp::parse_rfc3339("2026-01-05T09:00:00Z").unwrap();
        assert_eq!(rfc5322_date(t), "Mon, 05 Jan 2026 09:00:00 +0000");
        let t = Timestamp::parse_rfc3339("2024-02-29T23:59:59Z").unwrap();
        assert_eq!(rfc5322_date(t), "Thu, 29 Feb 2024 23:59:59 +0000");
        assert_eq!(
            rfc5322_date(Timestamp::from_unix_millis(0)),
            "Thu, 01 Jan 1970 00:00:00 +0000"
        );
    }

    #[test]
    fn headers_cannot_be_injected() {
        let m = Message {
            to: "a@x.com\r\nBcc: evil@y.com".into(),
            subject: "Hi".into(),
            body: "line one\nline two".into(),
            date: Timestamp::from_unix_millis(0),
        };
        let eml = m.to_eml(&Sender::default(), "id");
        assert!(eml.starts_with("From: Roster <no-reply@roster.invalid>\r\n"));
        assert!(eml.contains("\r\nMessage-ID: <id@roster.invalid>\r\n"));
        assert!(!eml.contains("\r\nBcc:"));
        assert!(eml.ends_with("\r\n\r\nline one\r\nline two\r\n"));
    }

    #[test]
    fn senders() {
        assert_eq!(Sender::parse(FROM).unwrap(), Sender::default());
        let s = Sender::parse("  Contoso IT <it@contoso.com> ").unwrap();
        assert_eq!(s.header(), "Contoso IT <it@contoso.com>");
        assert_eq!(s.address().to_string(), "it@contoso.com");
        let s = Sender::parse("it@contoso.com").unwrap();
        assert_eq!(s.header(), "it@contoso.com");
        for bad in [
            "",
            "Contoso",
            "Contoso <it>",
            "Contoso <it@contoso.com",
            "Contoso <it@contoso.com> x",
            "a@b.com\r\nBcc: evil@y.com",
            "Smith, Ann <ann@contoso.com>",
            "<a@b.com> <c@d.com>",
        ] {
            assert!(Sender::parse(bad).is_err(), "{bad:?}");
        }
    }
}
