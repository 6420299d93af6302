//! The activity history of partner account users.

use roster_domain::activity::Activity;
use roster_domain::{Timestamp, UserId};

use crate::rows;
use crate::rows::Param;
use crate::sql::SyncDb;
use crate::Result;

impl SyncDb<'_> {
    pub fn insert_activity(&mut self, a: &Activity) -> Result<()> {
        self.sql.execute(
            "INSERT INTO activity (id, user_id, at, method, path, status) VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                a.id.as_str().into(),
                a.user.to_string().into(),
                a.at.unix_millis().into(),
                a.method.as_str().into(),
                a.path.as_str().into(),
                i64::from(a.status).into(),
            ],
        )?;
        Ok(())
    }
}

impl SyncDb<'_> {
    /// One page (plus one row) of a user's activity since `since`, newest first, strictly
    /// after (time, id).
    pub fn list_activity(
        &mut self,
        user: UserId,
        since: Timestamp,
        after: Option<(i64, String)>,
        size: u32,
    ) -> Result<Vec<Activity>> {
        let mut params = vec![user.to_string().into(), since.unix_millis().into()];
        let seek = match after {
            None => "",
            Some((at, id)) => {
                params.extend([at.into(), id.into()]);
                " AND (at, id) < ($3, $4)"
            }
        };
        params.push((i64::from(size) + 1).into());
        let sql = format!(
            "SELECT id, user_id, at, method, path, status FROM activity \
             WHERE user_id = $1 AND at >= $2{seek} ORDER BY at DESC, id DESC LIMIT ${}",
            params.len()
        );
        self.sql
            .query(&sql, &params)?
            .iter()
            .map(|r| {
                Ok(Activity {
                    id: rows::text(r, "id")?,
                    user: rows::user_id(r, "user_id")?,
                    at: rows::time(r, "at")?,
                    method: rows::text(r, "method")?,
                    path: rows::text(r, "path")?,
                    status: u16::try_from(rows::int(r, "status")?).unwrap_or(0),
                })
            })
            .collect()
    }

    /// When the user last made a request, if it did in the kept history.
    pub fn last_activity(&mut self, user: UserId) -> Result<Option<Timestamp>> {
        match self.query_opt(
            "SELECT MAX(at) AS at FROM activity WHERE user_id = $1",
            &[user.to_string().into()],
        )? {
            Some(row) => rows::opt_time(&row, "at"),
            None => Ok(None),
        }
    }
}

impl SyncDb<'_> {
    /// Forgets activity older than `before`.
    pub fn forget_activity_before(&mut self, before: Timestamp) -> Result<u64> {
        let done = self.sql.execute(
            "DELETE FROM activity WHERE at < $1",
            &[Param::from(before.unix_millis())],
        )?;
        Ok(done)
    }
}
