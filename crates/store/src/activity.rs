//! The activity history of partner account users.

use roster_domain::activity::Activity;
use roster_domain::{Timestamp, UserId};

use crate::rows;
use crate::{Db, Result};

impl Db<'_> {
    pub async fn insert_activity(&mut self, a: &Activity) -> Result<()> {
        sqlx::query("INSERT INTO activity (id, user_id, at, method, path, status) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(&a.id)
            .bind(a.user.to_string())
            .bind(a.at.unix_millis())
            .bind(&a.method)
            .bind(&a.path)
            .bind(i64::from(a.status))
            .execute(&mut *self.conn)
            .await?;
        Ok(())
    }

    /// One page (plus one row) of a user's activity since `since`, newest first, strictly
    /// after (time, id).
    pub async fn list_activity(
        &mut self,
        user: UserId,
        since: Timestamp,
        after: Option<(i64, String)>,
        size: u32,
    ) -> Result<Vec<Activity>> {
        let rows = match after {
            None => {
                sqlx::query(
                    "SELECT id, user_id, at, method, path, status FROM activity WHERE user_id = $1 AND at >= $2 \
                     ORDER BY at DESC, id DESC LIMIT $3",
                )
                .bind(user.to_string())
                .bind(since.unix_millis())
                .bind(i64::from(size) + 1)
                .fetch_all(&mut *self.conn)
                .await?
            }
            Some((at, id)) => {
                sqlx::query(
                    "SELECT id, user_id, at, method, path, status FROM activity WHERE user_id = $1 AND at >= $2 \
                     AND (at, id) < ($3, $4) ORDER BY at DESC, id DESC LIMIT $5",
                )
                .bind(user.to_string())
                .bind(since.unix_millis())
                .bind(at)
                .bind(id)
                .bind(i64::from(size) + 1)
                .fetch_all(&mut *self.conn)
                .await?
            }
        };
        rows.iter()
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
    pub async fn last_activity(&mut self, user: UserId) -> Result<Option<Timestamp>> {
        let row = sqlx::query("SELECT MAX(at) AS at FROM activity WHERE user_id = $1")
            .bind(user.to_string())
            .fetch_one(&mut *self.conn)
            .await?;
        rows::opt_time(&row, "at")
    }

    /// Forgets activity older than `before`.
    pub async fn forget_activity_before(&mut self, before: Timestamp) -> Result<u64> {
        let done = sqlx::query("DELETE FROM activity WHERE at < $1")
            .bind(before.unix_millis())
            .execute(&mut *self.conn)
            .await?;
        Ok(done.rows_affected())
    }
}
