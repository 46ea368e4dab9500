//! Group commit against a real Redis: concurrent pushes all stored, in
//! order, the cap exact; a failed write fails its callers; a caller that
//! left while queued is never written; a full queue sheds.

mod support;

use std::time::{Duration, SystemTime};

use giropops_senhas::generator::Secret;
use giropops_senhas::history::{
    History, HistoryConfig, HistoryError, HistoryMode, Record, RedisTarget,
};
use giropops_senhas::keyring::KeyRing;
use support::{HISTORY_KEY, RedisServer};

fn history(redis: &RedisServer, cap: usize) -> History {
    History::new(HistoryConfig {
        target: RedisTarget::url(&redis.url()).unwrap(),
        tls_roots: None,
        key: HISTORY_KEY.to_owned(),
        cap,
        pool_size: 4,
        connect_timeout: Duration::from_millis(500),
        response_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(500),
        min_replicas_ack: 0,
        wait_timeout: Duration::from_millis(200),
        keys: KeyRing::ephemeral(),
        mode: HistoryMode::Encrypted,
        ttl: Duration::from_secs(3600),
    })
    .unwrap()
}

/// The principal whose list the tests write.
const WHO: &str = "tester";
/// Its Redis list.
const LIST: &str = "{giropops-senhas:history}:tester";

fn record(password: String) -> Record {
    Record::new(Secret::new(password), 1.0, SystemTime::now())
}

/// The passwords in the list, newest first, read back (and decrypted) as
/// ListPasswords reads them; the raw list holds exactly as many entries.
async fn stored(redis: &RedisServer, history: &History) -> Vec<String> {
    let listing = history.recent(WHO, 10_000).await.unwrap();
    assert!(listing.skipped.is_empty(), "{:?}", listing.skipped);
    assert_eq!(redis.list(LIST).len(), listing.records.len());
    listing
        .records
        .into_iter()
        .map(|record| record.password.expose().to_owned())
        .collect()
}

#[tokio::test]
async fn concurrent_pushes_are_all_stored_newest_first() {
    let redis = RedisServer::start();
    let history = history(&redis, 1000);
    // 200 calls at once, each with 3 records (oldest first).
    let calls = (0..200).map(|call| {
        let history = history.clone();
        tokio::spawn(async move {
            let records: Vec<Record> = (0..3).map(|i| record(format!("c{call}-r{i}"))).collect();
            history.push(WHO, &records).await
        })
    });
    for call in futures_join(calls).await {
        call.expect("every call is acknowledged");
    }
    let list = stored(&redis, &history).await;
    assert_eq!(list.len(), 600, "every acknowledged record is stored");
    for call in 0..200 {
        // Within a call, newest first: r2, r1, r0 next to each other.
        let at = list
            .iter()
            .position(|p| p == &format!("c{call}-r2"))
            .unwrap();
        assert_eq!(list[at + 1], format!("c{call}-r1"));
        assert_eq!(list[at + 2], format!("c{call}-r0"));
    }
}

#[tokio::test]
async fn the_cap_holds_exactly_under_concurrency() {
    let redis = RedisServer::start();
    let history = history(&redis, 10);
    let calls = (0..100).map(|call| {
        let history = history.clone();
        tokio::spawn(async move { history.push(WHO, &[record(format!("p{call}"))]).await })
    });
    for call in futures_join(calls).await {
        call.unwrap();
    }
    assert_eq!(redis.list(LIST).len(), 10);
}

#[tokio::test]
async fn a_failed_write_fails_its_calls_and_stores_nothing_of_them() {
    let mut redis = RedisServer::start();
    let history = history(&redis, 100);
    history.push(WHO, &[record("before".into())]).await.unwrap();
    redis.stop();
    let calls = (0..20).map(|call| {
        let history = history.clone();
        tokio::spawn(async move { history.push(WHO, &[record(format!("lost{call}"))]).await })
    });
    for call in futures_join(calls).await {
        let error = call.expect_err("redis is down");
        assert!(
            !matches!(
                error.cause(),
                HistoryError::QueueFull | HistoryError::Config(_)
            ),
            "{error}"
        );
    }
    redis.restart();
    history.push(WHO, &[record("after".into())]).await.unwrap();
    assert_eq!(
        stored(&redis, &history).await,
        ["after"],
        "the list starts anew: nothing of the failed batch"
    );
}

#[tokio::test]
async fn a_caller_that_left_while_queued_is_never_written() {
    let redis = RedisServer::start();
    let history = history(&redis, 100);
    history.push(WHO, &[record("warm".into())]).await.unwrap();
    // Redis hangs: the next batch is stuck in its write.
    redis.pause();
    let stuck = {
        let history = history.clone();
        tokio::spawn(async move { history.push(WHO, &[record("stuck".into())]).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    // This one queues behind it, and its caller gives up.
    let gave_up = tokio::time::timeout(
        Duration::from_millis(50),
        history.push(WHO, &[record("abandoned".into())]),
    )
    .await;
    assert!(gave_up.is_err(), "still queued");
    redis.resume();
    let _ = stuck.await.unwrap();
    history.push(WHO, &[record("later".into())]).await.unwrap();
    let list = stored(&redis, &history).await;
    assert!(!list.contains(&"abandoned".to_owned()), "{list:?}");
    assert_eq!(list[0], "later");
}

#[tokio::test]
async fn a_full_queue_sheds() {
    let redis = RedisServer::start();
    let history = history(&redis, 10_000);
    history.push(WHO, &[record("warm".into())]).await.unwrap();
    redis.pause();
    // More pushes than the queue holds, while the writer is stuck.
    let calls: Vec<_> = (0..1100)
        .map(|call| {
            let history = history.clone();
            tokio::spawn(async move { history.push(WHO, &[record(format!("q{call}"))]).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    redis.resume();
    let mut full = 0;
    for call in futures_join(calls).await {
        if call.is_err_and(|error| matches!(error.cause(), HistoryError::QueueFull)) {
            full += 1;
        }
    }
    assert!(full > 0, "some pushes were shed with QueueFull");
}

/// Awaits every task, in order.
async fn futures_join<T>(tasks: impl IntoIterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("task ran"));
    }
    results
}
