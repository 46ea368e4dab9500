//! A real headless Chromium, driven over the W3C WebDriver protocol by
//! Debian's chromedriver (started on a free port): a few commands, spoken
//! as plain HTTP/1.1 JSON.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::http::exchange;
use super::redis_server::free_port;

/// Chromium, through chromedriver; quits and stops it when dropped.
pub struct Browser {
    driver: Child,
    addr: SocketAddr,
    session: String,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub async fn start() -> Browser {
        Browser::start_with(&[]).await
    }

    /// The same, with extra Chromium flags (e.g. JavaScript off, dark).
    pub async fn start_with(flags: &[&str]) -> Browser {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver is installed (scripts/install-prerequisites.sh)");
        let addr: SocketAddr = ([127, 0, 0, 1], port).into();
        let started = Instant::now();
        while tokio::net::TcpStream::connect(addr).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver never listened"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let mut browser = Browser {
            driver,
            addr,
            session: String::new(),
        };
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1000,1400",
        ];
        args.extend_from_slice(flags);
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": { "binary": "/usr/bin/chromium", "args": args }
        }}});
        let created = browser
            .command("POST", "/session", Some(capabilities))
            .await;
        browser.session = created["sessionId"].as_str().expect("a session").to_owned();
        browser
    }

    /// Sends one WebDriver command; returns its `value`.
    pub async fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let path = if path.starts_with("/session/") || path == "/session" {
            path.to_owned()
        } else {
            format!("/session/{}{path}", self.session)
        };
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let response = exchange(self.addr, request.as_bytes()).await;
        let value: Value = serde_json::from_slice(&response.body).expect("JSON from chromedriver");
        assert!(response.status < 400, "{method} {path}: {value}");
        value["value"].clone()
    }

    /// Opens `url`.
    pub async fn go(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })))
            .await;
    }

    /// Runs `script` (a function body) in the page; returns its value.
    pub async fn eval(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// Runs `script` (a function body whose last argument is the callback
    /// to call with the result) in the page; returns what it passed.
    pub async fn eval_async(&self, script: &str) -> Value {
        self.command(
            "POST",
            "/execute/async",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// The page's accessibility violations of any impact (minor to
    /// critical), by axe-core's rules (WCAG 2.x A and AA, and best
    /// practices), each as
    /// `rule (impact): help: the elements`. axe-core is the one
    /// `scripts/install-prerequisites.sh` installs in tests/web.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        let axe = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/web/node_modules/axe-core/axe.min.js");
        let source = std::fs::read_to_string(&axe).unwrap_or_else(|error| {
            panic!(
                "{}: {error}: run scripts/install-prerequisites.sh (npm ci in tests/web)",
                axe.display()
            )
        });
        if self.eval("return typeof window.axe").await != "object" {
            self.eval(&source).await;
        }
        let found = self
            .eval_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done(r.violations.map(v => `${v.id} (${v.impact}): ${v.help}: ${v.nodes.map(n => n.target.join(' ')).join(', ')}`)))
                   .catch(e => done([`axe failed: ${e}`]));",
            )
            .await;
        found
            .as_array()
            .expect("a list from axe")
            .iter()
            .map(|violation| violation.as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// The element `css` selects.
    pub async fn find(&self, css: &str) -> String {
        let found = self
            .command(
                "POST",
                "/element",
                Some(json!({ "using": "css selector", "value": css })),
            )
            .await;
        found
            .as_object()
            .and_then(|element| element.values().next())
            .and_then(Value::as_str)
            .expect("an element")
            .to_owned()
    }

    /// Clears the input `css` and types `text` into it.
    pub async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.command(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        )
        .await;
        self.command(
            "POST",
            &format!("/element/{element}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Clicks `css`.
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Waits until `script` returns true, or panics with `what`.
    pub async fn wait_for(&self, script: &str, what: &str) {
        let started = Instant::now();
        while self.eval(script).await != Value::Bool(true) {
            assert!(started.elapsed() < Duration::from_secs(10), "never: {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The console's errors so far (CSP violations included).
    pub async fn console_errors(&self) -> Vec<String> {
        let log = self
            .command("POST", "/se/log", Some(json!({ "type": "browser" })))
            .await;
        log.as_array()
            .into_iter()
            .flatten()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Resizes the window.
    pub async fn resize(&self, width: u32, height: u32) {
        self.command(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        )
        .await;
    }

    /// A PNG screenshot of the page.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine as _;
        let png = self.command("GET", "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64"))
            .expect("a PNG")
    }
}

impl Browser {
    /// Ends the session (Chromium quits), then chromedriver.
    pub async fn quit(self) {
        let path = format!("/session/{}", self.session);
        self.command("DELETE", &path, None).await;
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
