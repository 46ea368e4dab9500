//! At rest: after a run that generated many secrets with a small cap (so
//! most were trimmed), none of the secrets the server returned is anywhere
//! in Redis — every key, every value — nor in its append-only files, read
//! raw from disk; in both history modes. And a reader in one mode skips the
//! other mode's entries, counted, never returned as passwords.

mod support;

use std::path::Path;
use std::time::Duration;

use giropops_senhas::config::ServerConfig;
use giropops_senhas::generator::Secret;
use giropops_senhas::history::{History, HistoryConfig, HistoryMode, Record, RedisTarget, Skip};
use giropops_senhas::keyring::KeyRing;
use giropops_senhas::proto::v1::{
    GeneratePassphraseRequest, GeneratePasswordRequest, ListPasswordsRequest, PasswordRecord,
};
use redis::Value;
use support::{HISTORY_KEY, RedisServer, TestServer, redis_config};

/// The history cap of these runs: most of what is generated is trimmed.
const CAP: usize = 5;

/// A redis-server that appends every write to its AOF, synced at once.
fn redis_with_aof() -> RedisServer {
    RedisServer::start_with(&["--appendonly", "yes", "--appendfsync", "always"], None)
}

fn config(redis: &RedisServer, mode: HistoryMode) -> ServerConfig {
    let mut config = redis_config(&redis.url(), CAP);
    config.history.as_mut().expect("history on").mode = mode;
    config
}

/// Generates 40 passwords (10 calls of 4) and 3 passphrases, all stored;
/// returns every secret the server returned, and the listed history.
async fn run(server: &TestServer) -> (Vec<String>, Vec<PasswordRecord>) {
    let mut client = server.client().await;
    let mut secrets = Vec::new();
    for _ in 0..10 {
        let reply = client
            .generate_password(GeneratePasswordRequest {
                length: 20,
                include_numbers: true,
                include_special_chars: true,
                count: 4,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(reply.stored);
        secrets.extend(reply.passwords);
    }
    for _ in 0..3 {
        let reply = client
            .generate_passphrase(GeneratePassphraseRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert!(reply.stored);
        secrets.push(reply.passphrase);
    }
    let listed = client
        .list_passwords(ListPasswordsRequest { page_size: 100 })
        .await
        .unwrap()
        .into_inner()
        .passwords;
    (secrets, listed)
}

/// Every key in Redis with every value it holds, whatever its type.
fn everything_in(redis: &RedisServer) -> Vec<(String, Vec<Vec<u8>>)> {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_connection().unwrap();
    let keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut conn).unwrap();
    keys.into_iter()
        .map(|key| {
            let kind: String = redis::cmd("TYPE").arg(&key).query(&mut conn).unwrap();
            let mut command = match kind.as_str() {
                "list" | "zset" => redis::cmd(if kind == "list" { "LRANGE" } else { "ZRANGE" }),
                "set" => redis::cmd("SMEMBERS"),
                "string" => redis::cmd("GET"),
                "hash" => redis::cmd("HGETALL"),
                other => panic!("unexpected key type {other} of {key}"),
            };
            command.arg(&key);
            if kind == "list" || kind == "zset" {
                command.arg(0).arg(-1);
            }
            let values: Value = command.query(&mut conn).unwrap();
            (key, flatten(values))
        })
        .collect()
}

fn flatten(value: Value) -> Vec<Vec<u8>> {
    match value {
        Value::BulkString(bytes) => vec![bytes],
        Value::SimpleString(text) => vec![text.into_bytes()],
        Value::Array(items) | Value::Set(items) => items.into_iter().flat_map(flatten).collect(),
        Value::Map(pairs) => pairs
            .into_iter()
            .flat_map(|(k, v)| flatten(k).into_iter().chain(flatten(v)))
            .collect(),
        Value::Nil => Vec::new(),
        other => panic!("unexpected reply {other:?}"),
    }
}

/// Every byte of every file under `dir` (the AOF base, increments and
/// manifest, and the log).
fn files_under(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// No secret in any key, value or file; and, so that this can fail, every
/// value in Redis is found in the AOF as it was read.
fn assert_no_secret_at_rest(redis: &RedisServer, secrets: &[String], entry_prefix: &str) {
    let stored = everything_in(redis);
    let list = format!("{{{HISTORY_KEY}}}:anonymous");
    let entries = &stored
        .iter()
        .find(|(key, _)| *key == list)
        .unwrap_or_else(|| panic!("{list} missing: {stored:?}"))
        .1;
    assert_eq!(entries.len(), CAP, "the cap trims the list");
    for entry in entries {
        assert!(
            entry.starts_with(entry_prefix.as_bytes()),
            "{}",
            String::from_utf8_lossy(entry)
        );
    }
    let files = files_under(redis.dir());
    let aof: Vec<u8> = files
        .iter()
        .filter(|(path, _)| path.contains("appendonly"))
        .flat_map(|(_, bytes)| bytes.clone())
        .collect();
    assert!(
        entries.iter().all(|entry| contains(&aof, entry)),
        "the AOF as read holds what Redis holds ({} bytes read from {:?})",
        aof.len(),
        files.iter().map(|(path, _)| path).collect::<Vec<_>>()
    );
    for secret in secrets {
        for (key, values) in &stored {
            assert!(!contains(key.as_bytes(), secret.as_bytes()), "in a key");
            for value in values {
                assert!(!contains(value, secret.as_bytes()), "a secret in {key}");
            }
        }
        for (path, bytes) in &files {
            assert!(!contains(bytes, secret.as_bytes()), "a secret in {path}");
        }
    }
}

#[tokio::test]
async fn encrypted_history_leaves_only_ciphertext_in_redis_and_the_aof() {
    let redis = redis_with_aof();
    let server = TestServer::start(config(&redis, HistoryMode::Encrypted)).await;
    let (secrets, listed) = run(&server).await;
    assert_eq!(secrets.len(), 43);
    // The history still works: the newest CAP, with their metadata.
    let newest: Vec<&String> = secrets.iter().rev().take(CAP).collect();
    let passwords: Vec<&String> = listed.iter().map(|r| &r.password).collect();
    assert_eq!(passwords, newest);
    for record in &listed {
        assert_eq!(record.length as usize, record.password.len());
        assert_eq!(record.principal, "anonymous");
    }
    server.shutdown().await;
    assert_no_secret_at_rest(&redis, &secrets, "g1:");
}

#[tokio::test]
async fn metadata_history_stores_no_secret_at_all() {
    let redis = redis_with_aof();
    let server = TestServer::start(config(&redis, HistoryMode::Metadata)).await;
    let (secrets, listed) = run(&server).await;
    assert_eq!(listed.len(), CAP);
    for record in &listed {
        assert_eq!(record.password, "", "no secret is kept, none returned");
        assert_eq!(record.principal, "anonymous");
        assert!(record.created_at.is_some());
        assert!(record.entropy_bits > 0.0);
    }
    // Newest first: three passphrases (lengths vary), then passwords of 20.
    assert!(listed[3..].iter().all(|record| record.length == 20));
    let lengths: Vec<u32> = listed[..3].iter().map(|r| r.length).collect();
    let expected: Vec<u32> = secrets[40..].iter().rev().map(|s| s.len() as u32).collect();
    assert_eq!(lengths, expected);
    server.shutdown().await;
    assert_no_secret_at_rest(&redis, &secrets, "m1:");
}

fn history(redis: &RedisServer, mode: HistoryMode, keys: &KeyRing) -> History {
    history_capped(redis, mode, keys, 10)
}

fn history_capped(redis: &RedisServer, mode: HistoryMode, keys: &KeyRing, cap: usize) -> History {
    History::new(HistoryConfig {
        target: RedisTarget::url(&redis.url()).expect("a redis url"),
        tls_roots: None,
        key: HISTORY_KEY.to_owned(),
        cap,
        pool_size: 2,
        connect_timeout: Duration::from_millis(500),
        response_timeout: Duration::from_millis(500),
        command_timeout: Duration::from_millis(500),
        min_replicas_ack: 0,
        wait_timeout: Duration::from_millis(200),
        keys: keys.clone(),
        mode,
        ttl: Duration::from_secs(3600),
    })
    .unwrap()
}

#[tokio::test]
async fn each_mode_skips_the_other_modes_entries() {
    let redis = RedisServer::start();
    let keys = KeyRing::ephemeral();
    let encrypted = history(&redis, HistoryMode::Encrypted, &keys);
    let metadata = history(&redis, HistoryMode::Metadata, &keys);
    let record = |secret: &str| {
        Record::new(
            Secret::new(secret.to_owned()),
            10.0,
            std::time::SystemTime::now(),
        )
    };
    encrypted.push("p", &[record("kept-secret")]).await.unwrap();
    metadata.push("p", &[record("gone-secret")]).await.unwrap();

    let read = encrypted.recent("p", 10).await.unwrap();
    let passwords: Vec<&str> = read.records.iter().map(|r| r.password.expose()).collect();
    assert_eq!(passwords, ["kept-secret"]);
    assert_eq!(read.skipped, [Skip::OtherMode]);

    let read = metadata.recent("p", 10).await.unwrap();
    assert_eq!(read.records.len(), 1);
    assert_eq!(read.records[0].password.expose(), "", "never the secret");
    assert_eq!(read.records[0].length, "gone-secret".len());
    assert_eq!(read.records[0].principal, "p");
    assert_eq!(read.skipped, [Skip::OtherMode]);
}

fn raw(redis: &RedisServer) -> redis::Connection {
    redis::Client::open(redis.url())
        .unwrap()
        .get_connection()
        .unwrap()
}

fn secret(text: &str) -> Record {
    Record::new(
        Secret::new(text.to_owned()),
        10.0,
        std::time::SystemTime::now(),
    )
}

/// The review's attack on lengths: passwords of 8, 20, 64 and 100
/// characters were told apart by their size in Redis. Now every entry of
/// the list is the same size.
#[tokio::test]
async fn a_reader_of_redis_cannot_tell_password_lengths_apart() {
    let redis = RedisServer::start();
    let history = history(&redis, HistoryMode::Encrypted, &KeyRing::ephemeral());
    for length in [8, 20, 64, 100] {
        history
            .push("p", &[secret(&"x".repeat(length))])
            .await
            .unwrap();
    }
    let entries: Vec<String> = redis::cmd("LRANGE")
        .arg(format!("{{{HISTORY_KEY}}}:p"))
        .arg(0)
        .arg(-1)
        .query(&mut raw(&redis))
        .unwrap();
    let sizes: Vec<usize> = entries.iter().map(String::len).collect();
    assert_eq!(sizes.len(), 4);
    assert!(sizes.iter().all(|&size| size == sizes[0]), "{sizes:?}");
}

/// The review's attack on replays, by someone who can write Redis: an
/// entry pushed again into its own list was listed once more per copy, and
/// one the cap had trimmed came back from an old AOF. Now each entry's
/// number is sealed with it: copies and trimmed entries are skipped,
/// counted by reason.
#[tokio::test]
async fn copies_and_trimmed_entries_pushed_back_are_not_returned() {
    let redis = RedisServer::start();
    let history = history(&redis, HistoryMode::Encrypted, &KeyRing::ephemeral());
    let list = format!("{{{HISTORY_KEY}}}:p");
    let mut conn = raw(&redis);
    for n in 0..10 {
        history
            .push("p", &[secret(&format!("secret-{n}"))])
            .await
            .unwrap();
    }
    let oldest: String = redis::cmd("LINDEX")
        .arg(&list)
        .arg(-1)
        .query(&mut conn)
        .unwrap();
    let newest: String = redis::cmd("LINDEX")
        .arg(&list)
        .arg(0)
        .query(&mut conn)
        .unwrap();
    history.push("p", &[secret("secret-10")]).await.unwrap();
    // The attack: the trimmed entry back (as from an old AOF), and two
    // copies of a listed one.
    let _: () = redis::cmd("LPUSH")
        .arg(&list)
        .arg(&oldest)
        .arg(&newest)
        .arg(&newest)
        .query(&mut conn)
        .unwrap();
    let read = history.recent("p", 10).await.unwrap();
    let passwords: Vec<&str> = read.records.iter().map(|r| r.password.expose()).collect();
    assert!(
        !passwords.contains(&"secret-0"),
        "the trimmed entry stays out"
    );
    assert_eq!(
        passwords.iter().filter(|p| **p == "secret-9").count(),
        1,
        "each entry once: {passwords:?}"
    );
    let mut skipped = read.skipped.clone();
    skipped.sort_by_key(|skip| skip.label());
    assert_eq!(skipped, [Skip::Duplicate, Skip::Duplicate, Skip::Replayed]);
    // What the attacker pushed takes room at the head of the list (a
    // writer of Redis can always delete); the next push trims it away.
    history.push("p", &[secret("secret-11")]).await.unwrap();
    let read = history.recent("p", 10).await.unwrap();
    assert_eq!(read.records.len(), 7, "{:?}", read.skipped);
}

/// Three replicas writing one list at once, 20 pushes each in flight
/// together: every entry gets its own number (the push script refuses
/// stale numbers; the batch waits a random moment and is sealed again), so
/// every call is stored and nothing is lost as a "duplicate" or a "replay".
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_writing_one_list_number_every_entry_once() {
    let redis = RedisServer::start();
    let keys = KeyRing::ephemeral();
    // A cap above the 60 entries: every one stays, and is listed.
    let replicas: Vec<History> = (0..3)
        .map(|_| history_capped(&redis, HistoryMode::Encrypted, &keys, 100))
        .collect();
    let mut writes = Vec::new();
    for (r, replica) in replicas.iter().enumerate() {
        for n in 0..20 {
            let replica = replica.clone();
            writes.push(tokio::spawn(async move {
                replica.push("p", &[secret(&format!("r{r}-{n}"))]).await
            }));
        }
    }
    for write in writes {
        write.await.unwrap().expect("every push is stored");
    }
    let read = replicas[0].recent("p", 100).await.unwrap();
    assert_eq!(read.skipped, [], "every entry numbered once");
    let mut passwords: Vec<&str> = read.records.iter().map(|r| r.password.expose()).collect();
    passwords.sort_unstable();
    passwords.dedup();
    assert_eq!(passwords.len(), 60);
    let last: u64 = redis::cmd("HGET")
        .arg(format!("{{{HISTORY_KEY}}}:sequences"))
        .arg("p")
        .query(&mut raw(&redis))
        .unwrap();
    assert_eq!(last, 60, "no gap, no repeat");
}
