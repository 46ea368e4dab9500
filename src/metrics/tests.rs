//! The metrics' labels and their text exposition.

use super::*;

#[test]
fn renders_calls_latency_gauges_kinds_and_redis() {
    let metrics = Metrics::new();
    let generate = Method::from_path("/giropops.v1.PasswordService/GeneratePassword");
    metrics.call_started(generate);
    metrics.call_finished(
        generate,
        Protocol::Connect,
        Code::InvalidArgument,
        Duration::from_millis(2),
        None,
    );
    metrics.call_started(generate);
    metrics.call_started(generate);
    metrics.call_finished(
        generate,
        Protocol::Grpc,
        Code::Ok,
        Duration::from_millis(1),
        None,
    );
    let _connection = metrics.connection_opened();
    metrics.generated(SecretKind::Password, 5);
    metrics.set_redis_up(true);
    let text = metrics.render();
    let service = "service=\"giropops.v1.PasswordService\",method=\"GeneratePassword\"";
    for line in [
        format!(
            "giropops_rpc_calls_total{{{service},code=\"INVALID_ARGUMENT\",protocol=\"connect\"}} 1"
        ),
        format!("giropops_rpc_calls_total{{{service},code=\"OK\",protocol=\"grpc\"}} 1"),
        format!("giropops_rpc_in_flight{{{service}}} 1"),
        format!("giropops_rpc_duration_seconds_count{{{service}}} 2"),
        "giropops_open_connections 1".to_owned(),
        "giropops_blocking_threads_busy 0".to_owned(),
        "giropops_secrets_generated_total{kind=\"password\"} 5".to_owned(),
        "giropops_redis_up 1".to_owned(),
        // The original app's counter, under its own name.
        "senha_gerada_total 5".to_owned(),
    ] {
        assert!(text.contains(&line), "missing {line} in\n{text}");
    }
    assert!(!text.contains("principal="), "{text}");
}

#[test]
fn the_principal_label_is_last_and_only_when_given() {
    let metrics = Metrics::new();
    let generate = Method::from_path("/giropops.v1.PasswordService/GeneratePassword");
    let elapsed = Duration::from_millis(1);
    for principal in [
        PrincipalLabel::Named(Arc::from("ci")),
        PrincipalLabel::Named(Arc::from("ci")),
        PrincipalLabel::Other,
        PrincipalLabel::NoPrincipal,
    ] {
        metrics.call_started(generate);
        metrics.call_finished(generate, Protocol::Grpc, Code::Ok, elapsed, Some(principal));
    }
    let text = metrics.render();
    let service = "service=\"giropops.v1.PasswordService\",method=\"GeneratePassword\"";
    for line in [
        format!(
            "giropops_rpc_calls_total{{{service},code=\"OK\",protocol=\"grpc\",principal=\"ci\"}} 2"
        ),
        format!(
            "giropops_rpc_calls_total{{{service},code=\"OK\",protocol=\"grpc\",principal=\"other\"}} 1"
        ),
        format!(
            "giropops_rpc_calls_total{{{service},code=\"OK\",protocol=\"grpc\",principal=\"-\"}} 1"
        ),
        format!("giropops_rpc_duration_seconds_count{{{service},principal=\"ci\"}} 2"),
        format!("giropops_rpc_duration_seconds_count{{{service},principal=\"-\"}} 1"),
        // Calls in flight are not by principal (unknown when a call starts).
        format!("giropops_rpc_in_flight{{{service}}} 0"),
    ] {
        assert!(text.contains(&line), "missing {line} in\n{text}");
    }
}

#[test]
fn only_known_paths_become_labels() {
    assert_eq!(
        Method::from_path("/grpc.health.v1.Health/Check"),
        Method::new("grpc.health.v1.Health", "Check")
    );
    for path in [
        "/",
        "",
        "/x/y",
        "/grpc.health.v1.Health/Nope",
        "/giropops.v1.PasswordService/",
    ] {
        assert_eq!(Method::from_path(path), Method::UNKNOWN, "{path}");
    }
}

#[test]
fn tokens_are_a_kind_of_their_own_outside_the_originals_counter() {
    let metrics = Metrics::new();
    metrics.generated(SecretKind::Password, 2);
    metrics.generated(SecretKind::Token, 3);
    let text = metrics.render();
    assert!(
        text.contains("giropops_secrets_generated_total{kind=\"token\"} 3"),
        "{text}"
    );
    assert!(text.contains("senha_gerada_total 2\n"), "{text}");
    for method in ["GenerateToken", "CheckToken"] {
        let path = format!("/giropops.v1.PasswordService/{method}");
        assert_eq!(Method::from_path(&path).method, method);
    }
}
