//! The `/metrics` HTTP endpoint: hyper's HTTP/1 server with a timer, so a
//! slow or silent scraper is cut.

use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use super::{CONTENT_TYPE, Metrics};

/// Most connections open at once; more wait in the listen backlog. Far
/// above any number of scrapers (200 clients that never finish their
/// headers must not make a real scrape wait), far below the descriptors.
const MAX_SCRAPE_CONNECTIONS: usize = 256;
/// Time a scraper has to send its request headers (slowloris bound).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest a scrape connection stays open, whatever the client does.
const SCRAPE_CONNECTION_TIMEOUT: Duration = Duration::from_secs(30);

/// Serves `GET /metrics` on `listener` until the task is aborted: HTTP/1
/// only, one request per connection, a header-read timeout, a bound on
/// each connection's life and on how many are open.
pub async fn serve(listener: TcpListener, metrics: Metrics) -> std::io::Result<()> {
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};

    let connections = Arc::new(tokio::sync::Semaphore::new(MAX_SCRAPE_CONNECTIONS));
    loop {
        let permit = connections
            .clone()
            .acquire_owned()
            .await
            .expect("never closed");
        let (stream, _) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::debug!(%error, "metrics accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let metrics = metrics.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let service = hyper::service::service_fn(move |request| {
                let metrics = metrics.clone();
                async move { Ok::<_, std::convert::Infallible>(respond(&request, &metrics)) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .keep_alive(false)
                .serve_connection(TokioIo::new(stream), service);
            // Errors are the client's (timeouts, resets): nothing to report.
            let _ = tokio::time::timeout(SCRAPE_CONNECTION_TIMEOUT, connection).await;
        });
    }
}

/// `GET /metrics` → the exposition; anything else → 404 or 405.
fn respond<B>(
    request: &http::Request<B>,
    metrics: &Metrics,
) -> http::Response<http_body_util::Full<bytes::Bytes>> {
    let (status, content_type, body) = match (request.method(), request.uri().path()) {
        (&http::Method::GET, "/metrics") => (http::StatusCode::OK, CONTENT_TYPE, metrics.render()),
        (_, "/metrics") => (
            http::StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "GET only\n".to_owned(),
        ),
        _ => (
            http::StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: metrics are at /metrics\n".to_owned(),
        ),
    };
    let mut response = http::Response::new(http_body_util::Full::new(bytes::Bytes::from(body)));
    *response.status_mut() = status;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static(content_type),
    );
    response
}
