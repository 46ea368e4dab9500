//! `--shutdown-delay`: after SIGTERM the binary reports NOT_SERVING at once
//! but keeps serving calls — new connections included — for the delay (so
//! Kubernetes can take the pod out of its endpoints first), then drains and
//! exits 0.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use giropops_senhas::proto::v1::GeneratePasswordRequest;
use giropops_senhas::proto::v1::password_service_client::PasswordServiceClient;
use support::process::{ServerProcess, health};
use support::wait_until;
use tonic_health::pb::health_check_response::ServingStatus;

#[tokio::test]
async fn serves_through_the_shutdown_delay_while_not_serving() {
    let mut server =
        ServerProcess::start(&["--shutdown-delay", "3s", "--drain-timeout", "1s"]).await;
    let sigterm = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(
        wait_until(Duration::from_secs(2), || async {
            health(&server.uri, "", Duration::from_millis(500)).await
                == Ok(ServingStatus::NotServing)
        })
        .await,
        "readiness turns NOT_SERVING at once"
    );
    // A new connection, during the delay: served.
    let mut client = PasswordServiceClient::connect(server.uri.clone())
        .await
        .expect("still accepting during the delay");
    client
        .generate_password(GeneratePasswordRequest::default())
        .await
        .expect("a call during the delay succeeds");
    assert!(
        sigterm.elapsed() < Duration::from_secs(3),
        "checked within the delay"
    );
    assert!(server.is_running(), "still up during the delay");
    let deadline = Instant::now() + Duration::from_secs(8);
    while server.is_running() {
        assert!(
            Instant::now() < deadline,
            "exits after the delay and the drain; log:\n{}",
            server.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        sigterm.elapsed() >= Duration::from_secs(3),
        "not before the delay: exited after {:?}",
        sigterm.elapsed()
    );
}
