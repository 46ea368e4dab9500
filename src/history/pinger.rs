//! The health check's PING, on a connection of its own.

use deadpool_redis::redis;

use super::{History, HistoryError};

/// Checks that Redis answers, on a connection of its own: a PING never
/// waits behind the traffic in the pool. With Sentinel it follows the
/// current master: the check includes `ROLE`, and a connection to a server
/// that is no longer the master is dropped; the next one is made to the
/// master the Sentinels name.
pub struct Pinger {
    pub(super) history: History,
    pub(super) connection: Option<redis::aio::MultiplexedConnection>,
}

impl std::fmt::Debug for Pinger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pinger").finish_non_exhaustive()
    }
}

impl Pinger {
    /// PINGs Redis within the command timeout, (re)connecting as needed.
    pub async fn ping(&mut self) -> Result<(), HistoryError> {
        let history = self.history.clone();
        let manager = history.pool.manager();
        let result = history
            .bounded(async {
                let connection = match &mut self.connection {
                    Some(connection) => connection,
                    None => self.connection.insert(manager.connect().await?),
                };
                manager.check(connection).await?;
                Ok(())
            })
            .await;
        if result.is_err() {
            // Reconnect next time: the connection may be the problem.
            self.connection = None;
        }
        result
    }
}
