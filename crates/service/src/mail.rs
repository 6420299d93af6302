//! Outgoing mail. The outbox writes each message as an RFC 5322 `.eml` file into
//! `<data-dir>/outbox` (SMTP delivery is not built yet). Messages may carry secrets (an
//! invitation link): they are never logged.

use std::path::{Path, PathBuf};

use roster_domain::Timestamp;

use crate::{Result, ServiceError};

/// The sender of Roster's mail.
pub const FROM: &str = "Roster <no-reply@roster.invalid>";

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
    pub fn to_eml(&self, message_id: &str) -> String {
        let mut out = String::new();
        for (name, value) in [
            ("From", FROM.to_string()),
            ("To", one_line(&self.to)),
            ("Subject", one_line(&self.subject)),
            ("Date", rfc5322_date(self.date)),
            ("Message-ID", format!("<{message_id}@roster.invalid>")),
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
/// that a reader never sees half a message); returns the file's path.
pub async fn write_to_outbox(dir: &Path, message: &Message) -> Result<PathBuf> {
    let id = uuid::Uuid::new_v4().to_string();
    let text = message.to_eml(&id);
    let dir = dir.to_path_buf();
    let name = format!("{}-{id}.eml", message.date.unix_millis());
    let written = tokio::task::spawn_blocking(move || -> std::io::Result<PathBuf> {
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".{name}.tmp"));
        let path = dir.join(&name);
        std::fs::write(&tmp, text.as_bytes())?;
        std::fs::rename(&tmp, &path)?;
        Ok(path)
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("the mail writer stopped: {e}")))?;
    written.map_err(|e| ServiceError::Internal(format!("cannot write to the mail outbox: {e}")))
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
        let eml = m.to_eml("id");
        assert!(!eml.contains("\r\nBcc:"));
        assert!(eml.ends_with("\r\n\r\nline one\r\nline two\r\n"));
    }
}
