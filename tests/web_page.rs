//! The page at `/`, in a real headless Chromium (Debian's chromium and
//! chromedriver): generate, options, errors beside their field, strength,
//! copy, passphrases, API keys, the check box, the history with and without a token;
//! the same form without JavaScript (curl), escaped; off with `web_ui`;
//! no accessibility violation (axe-core) in each state, light and dark.

mod support;

use giropops_senhas::auth::{Scopes, TokenTable, format_line, new_token};
use giropops_senhas::config::{ServerConfig, WebConfig};
use support::http::curl;
use support::webdriver::Browser;
use support::{RedisServer, TestServer, redis_config, stateless_config};

const SECRET: &str = "document.querySelector('#senha').textContent";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_in_a_real_browser() {
    let redis = RedisServer::start();
    let server = TestServer::start(redis_config(&redis.url(), 20)).await;
    let browser = Browser::start().await;
    // A password on arrival, from the Connect API, with its strength.
    open_with_a_password(&browser, server.addr).await;
    assert_eq!(
        browser.eval("return document.styleSheets.length").await,
        1,
        "the CSS loads under the CSP"
    );
    let strength = browser
        .eval("return document.querySelector('#strength').textContent")
        .await;
    assert!(strength.as_str().unwrap().contains("bits"), "{strength}");
    accessible(&browser, "on arrival").await;

    // Options, then Generate.
    browser.type_into("#tamanho", "24").await;
    browser.click("#incluir_numeros").await;
    browser.click("#generator button[type=submit]").await;
    browser
        .wait_for(
            &format!("const s = {SECRET}; return [...s].length === 24 && /[0-9]/.test(s)"),
            "a 24-character password with digits",
        )
        .await;
    let password = browser.eval(&format!("return {SECRET}")).await;

    // Copy, with visible feedback (clipboard, or a selection to copy).
    browser.click("#copy").await;
    browser
        .wait_for(
            "return document.querySelector('#copied').textContent !== ''",
            "copy feedback",
        )
        .await;

    // A bad value: the API's message beside the field, nothing replaced.
    browser.type_into("#tamanho", "2").await;
    browser.click("#generator button[type=submit]").await;
    browser
        .wait_for("return document.querySelector('[data-error-for=\"length\"]').textContent.includes('between 4 and 1024')", "the length error beside its field")
        .await;
    assert_eq!(
        browser
            .eval("return document.querySelector('#tamanho').getAttribute('aria-invalid')")
            .await,
        "true"
    );
    assert_eq!(browser.eval(&format!("return {SECRET}")).await, password);
    accessible(&browser, "with an error beside its field").await;

    // The history: the caller's own (demo mode), newest first.
    browser
        .wait_for(
            &format!(
                "return document.querySelector('#history-list li code')?.textContent === {password}"
            ),
            "the password in the history",
        )
        .await;

    // Passphrases.
    browser.type_into("#tamanho", "16").await;
    browser.click("input[name=modo][value=frase]").await;
    browser.type_into("#palavras", "6").await;
    browser.type_into("#separador", ".").await;
    browser.click("#generator button[type=submit]").await;
    browser
        .wait_for(
            &format!("return {SECRET}.split('.').length === 6"),
            "a six-word passphrase",
        )
        .await;

    // The check box: CheckPassword, nothing in the URL.
    browser.type_into("#verificar", "password").await;
    browser.click("#check-form button").await;
    browser
        .wait_for(
            "return document.querySelector('#check-result').textContent.includes('score 0/4')",
            "a check result",
        )
        .await;
    accessible(&browser, "passphrase mode, a check result, the history").await;
    assert_eq!(
        browser.eval("return location.search + location.hash").await,
        ""
    );

    // A batch, each password obeying the options.
    browser.click("input[name=modo][value=senha]").await;
    browser.type_into("#tamanho", "20").await;
    browser.click("#generator details summary").await;
    browser.type_into("#min_digitos", "5").await;
    browser.click("#excluir_ambiguos").await;
    browser.type_into("#quantidade", "3").await;
    browser.click("#generator button[type=submit]").await;
    browser
        .wait_for(
            "return document.querySelectorAll('[data-testid=password]').length === 3",
            "a batch of three",
        )
        .await;
    accessible(&browser, "a batch, the advanced options open").await;
    let batch = browser
        .eval("return [...document.querySelectorAll('[data-testid=password]')].map(e => e.textContent)")
        .await;
    for password in batch.as_array().unwrap() {
        let password = password.as_str().unwrap();
        assert_eq!(password.chars().count(), 20, "{password}");
        assert!(
            password.chars().filter(char::is_ascii_digit).count() >= 5,
            "{password}"
        );
        assert!(
            !password.contains(['0', 'O', '1', 'l', 'I', '|']),
            "{password}"
        );
    }

    // Nothing from another origin, no console error (CSP violations
    // included), no horizontal scroll on a phone.
    let foreign = browser
        .eval("return performance.getEntriesByType('resource').map(e => e.name).filter(n => !n.startsWith(location.origin))")
        .await;
    assert_eq!(foreign, serde_json::json!([]));
    // The one expected: the 400 of the out-of-range length above, which
    // the browser logs as a failed load.
    let errors: Vec<String> = browser
        .console_errors()
        .await
        .into_iter()
        .filter(|error| {
            !(error.contains("/giropops.v1.PasswordService/GeneratePassword")
                && error.contains("status of 400"))
        })
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    screenshot(&browser, "page.png").await;
    browser.resize(390, 844).await;
    assert_eq!(
        browser
            .eval("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        true,
        "no horizontal scroll at 390 px"
    );
    browser.quit().await;
}

/// An API key: 256 bits of Crockford base32 behind a prefix, from the
/// form, its checksum verified here as a secret scanner would; then a bad
/// prefix, its error beside the field. A test of its own: one more step in
/// the test above overflows the test thread's stack (debug build).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_in_a_real_browser() {
    let server = TestServer::start(stateless_config()).await;
    let browser = Browser::start().await;
    open_with_a_password(&browser, server.addr).await;
    browser.click("input[name=modo][value=chave]").await;
    browser.type_into("#entropia", "256").await;
    browser.type_into("#prefixo", "gps_").await;
    browser
        .eval("const s = document.querySelector('#formato'); s.value = 'TOKEN_FORMAT_BASE32_CROCKFORD'; s.dispatchEvent(new Event('change', { bubbles: true }))")
        .await;
    browser.click("#generator button[type=submit]").await;
    browser
        .wait_for(
            &format!("return /^gps_[0-9A-HJKMNP-TV-Z]{{52}}[0-9A-Za-z]{{6}}$/.test({SECRET})"),
            "a base32 API key behind gps_",
        )
        .await;
    let key = browser.eval(&format!("return {SECRET}")).await;
    let key = key.as_str().unwrap();
    let (text, sum) = key.split_at(key.len() - giropops_senhas::generator::CHECKSUM_CHARS);
    assert_eq!(giropops_senhas::generator::checksum(text), sum.as_bytes());
    let strength = browser
        .eval("return document.querySelector('#strength').textContent")
        .await;
    assert!(
        strength.as_str().unwrap().starts_with("260.0 bits"),
        "{strength}"
    );
    assert_eq!(
        browser
            .eval("return [document.querySelector('#password-options').hidden, document.querySelector('#token-options').hidden]")
            .await,
        serde_json::json!([true, false])
    );
    accessible(&browser, "an API key").await;
    // For a look (target/ only: the README shows the password form).
    let png = browser.screenshot().await;
    let target = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::write(target.join("page-api-key.png"), &png).unwrap();
    // A bad prefix: the API's message beside the field.
    browser.type_into("#prefixo", "GPS").await;
    browser.click("#generator button[type=submit]").await;
    browser
        .wait_for(
            "return document.querySelector('[data-error-for=\"prefix\"]').textContent.includes('like gps_')",
            "the prefix error beside its field",
        )
        .await;
    accessible(&browser, "an API key with an error").await;
    // Back to passwords: the key's options hide again.
    browser.click("input[name=modo][value=senha]").await;
    assert_eq!(
        browser
            .eval("return document.querySelector('#token-options').hidden")
            .await,
        true
    );
    // The one console error expected: the 400 of the bad prefix.
    let errors: Vec<String> = browser
        .console_errors()
        .await
        .into_iter()
        .filter(|error| {
            !(error.contains("/giropops.v1.PasswordService/GenerateToken")
                && error.contains("status of 400"))
        })
        .collect();
    assert_eq!(errors, Vec::<String>::new());
    browser.quit().await;
}

/// No accessibility violation (axe-core, any impact: the issue asks for
/// no serious or critical one) in the page as it is now: contrast, names,
/// labels, landmarks, ARIA.
async fn accessible(browser: &Browser, state: &str) {
    let violations = browser.accessibility_violations().await;
    assert!(
        violations.is_empty(),
        "{state}: {} accessibility violation(s):\n{}",
        violations.len(),
        violations.join("\n")
    );
}

/// Opens the page at `addr` and waits for the password it generates on
/// arrival (16 characters, the default).
async fn open_with_a_password(browser: &Browser, addr: std::net::SocketAddr) {
    browser.go(&format!("http://{addr}/")).await;
    browser
        .wait_for(
            &format!("return [...{SECRET}].length === 16"),
            "a first password",
        )
        .await;
}

/// Saves a screenshot in target/, and in docs/ with UPDATE_DOCS=1 (the
/// README shows them).
async fn screenshot(browser: &Browser, name: &str) {
    let png = browser.screenshot().await;
    assert!(png.starts_with(b"\x89PNG"));
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::write(root.join("target").join(name), &png).unwrap();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(root.join("docs").join(name), &png).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_portuguese_dark_on_a_phone() {
    let server = TestServer::start(stateless_config()).await;
    let browser = Browser::start_with(&[
        "--accept-lang=pt-BR",
        "--blink-settings=preferredColorScheme=0",
    ])
    .await;
    browser.resize(390, 844).await;
    open_with_a_password(&browser, server.addr).await;
    assert_eq!(
        browser.eval("return document.documentElement.lang").await,
        "pt"
    );
    assert_eq!(
        browser
            .eval("return document.querySelector('#generator button[type=submit]').textContent")
            .await,
        "Gerar"
    );
    assert_eq!(
        browser
            .eval("return matchMedia('(prefers-color-scheme: dark)').matches")
            .await,
        true
    );
    assert_eq!(
        browser
            .eval("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        true
    );
    screenshot(&browser, "page-mobile-dark.png").await;
    accessible(&browser, "Portuguese, dark, 390 px").await;
    // The switch.
    browser.click("nav a[hreflang=en]").await;
    browser
        .wait_for(
            "return document.documentElement.lang === 'en'",
            "English after the switch",
        )
        .await;
    assert_eq!(browser.console_errors().await, Vec::<String>::new());
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_javascript_off_the_form_still_works() {
    let server = TestServer::start(stateless_config()).await;
    let browser = Browser::start_with(&["--blink-settings=scriptEnabled=false"]).await;
    browser.go(&format!("http://{}/", server.addr)).await;
    assert_eq!(
        browser
            .eval("return document.querySelector('#senha').textContent")
            .await,
        ""
    );
    browser.type_into("#tamanho", "30").await;
    browser.click("#incluir_numeros").await;
    browser.click("#generator button[type=submit]").await;
    browser
        .wait_for(
            &format!("return [...{SECRET}].length === 30"),
            "the server-rendered result",
        )
        .await;
    browser.type_into("#tamanho", "3").await;
    browser.click("#generator button[type=submit]").await;
    browser
        .wait_for("return document.querySelector('[data-error-for=length]').textContent.includes('between 4 and 1024')", "the error beside its field")
        .await;
    // axe-core needs scripts to run: the server's answer, as rendered
    // here, is checked in a browser with them, on the same origin (its
    // stylesheet applies), its scripts left out.
    let html = browser
        .eval("document.querySelectorAll('script').forEach(s => s.remove()); return document.documentElement.innerHTML")
        .await;
    browser.quit().await;
    let checker = Browser::start().await;
    open_with_a_password(&checker, server.addr).await;
    checker
        .eval(&format!("document.documentElement.innerHTML = {html}"))
        .await;
    checker
        .wait_for(
            "return document.styleSheets.length === 1 && document.querySelector('[data-error-for=length]').textContent !== ''",
            "the server's answer, styled",
        )
        .await;
    accessible(&checker, "without JavaScript, with an error").await;
    checker.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_shows_the_history_and_is_forgotten() {
    let redis = RedisServer::start();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens");
    let (token, digest) = new_token();
    let line = format_line(
        "alice",
        Scopes::parse("generate,check,history").unwrap(),
        &digest,
    )
    .unwrap();
    std::fs::write(&path, format!("{line}\n")).unwrap();
    let mut config = redis_config(&redis.url(), 20);
    config.trust.tokens = Some((path.clone(), TokenTable::load(&path).unwrap()));
    config.trust.anonymous_scopes = Scopes::anonymous_default();
    let server = TestServer::start(config).await;
    let browser = Browser::start().await;
    browser.go(&format!("http://{}/", server.addr)).await;
    browser
        .wait_for(
            "return document.querySelector('#history-note').textContent.includes('token')",
            "a note asking for a token",
        )
        .await;
    // Anonymous callers may generate (the default scopes), not keep.
    browser
        .wait_for(
            &format!("return [...{SECRET}].length === 16"),
            "an anonymous password",
        )
        .await;
    let strength = browser
        .eval("return document.querySelector('#strength').textContent")
        .await;
    assert!(
        !strength.as_str().unwrap().contains("history"),
        "{strength}"
    );

    browser.type_into("#token", &token).await;
    browser.click("#use-token").await;
    browser.click("#generator button[type=submit]").await;
    browser
        .wait_for(
            "return document.querySelectorAll('#history-list li').length === 1",
            "alice's history",
        )
        .await;
    let stored = browser
        .eval("return [sessionStorage.length, localStorage.length, document.cookie, document.querySelector('#token').value]")
        .await;
    assert_eq!(
        stored,
        serde_json::json!([0, 0, "", ""]),
        "the token is in memory only"
    );
    browser.click("#forget-token").await;
    browser
        .wait_for(
            "return document.querySelectorAll('#history-list li').length === 0",
            "the history hidden again",
        )
        .await;
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_javascript_the_form_posts_and_the_answer_is_escaped() {
    let server = TestServer::start(stateless_config()).await;
    let page = curl(&[&format!("http://{}/", server.addr)], None).await;
    assert_eq!(page.status, 200);
    assert_eq!(page.header("cache-control"), "no-store");
    assert!(
        page.header("content-security-policy")
            .contains("default-src 'none'")
    );
    let html = String::from_utf8(page.body).unwrap();
    let css = html
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_owned();
    let asset = curl(&[&format!("http://{}{css}", server.addr)], None).await;
    assert_eq!(
        asset.header("cache-control"),
        "public, max-age=31536000, immutable"
    );

    // Only specials: the password is all characters HTML must escape.
    let form = "tamanho=64&sem_minusculas=on&sem_maiusculas=on&incluir_caracteres_especiais=on&especiais=%3C%3E%26%22";
    let answer = curl(
        &[&format!("http://{}/", server.addr)],
        Some(form.as_bytes().to_vec()),
    )
    .await;
    assert_eq!(answer.status, 200, "{answer:?}");
    let html = String::from_utf8(answer.body).unwrap();
    let output = html
        .split("<output id=\"senha\"")
        .nth(1)
        .unwrap()
        .split_once('>')
        .map(|(_, rest)| rest)
        .unwrap()
        .split("</output>")
        .next()
        .unwrap();
    assert!(!output.contains(['<', '>', '"']), "{output}");
    assert!(
        output.contains("&lt;") || output.contains("&gt;") || output.contains("&amp;"),
        "{output}"
    );

    // An API key, posted.
    let key = curl(
        &[&format!("http://{}/", server.addr)],
        Some(b"modo=chave&entropia=128&prefixo=gps_&formato=TOKEN_FORMAT_HEX".to_vec()),
    )
    .await;
    assert_eq!(key.status, 200, "{key:?}");
    let html = String::from_utf8(key.body).unwrap();
    let output = html
        .split("<output id=\"senha\" data-testid=\"password\">")
        .nth(1)
        .unwrap()
        .split("</output>")
        .next()
        .unwrap();
    assert_eq!(output.len(), 4 + 32 + 6, "{output}");
    assert!(output.starts_with("gps_"), "{output}");
    assert!(
        html.contains("value=\"chave\" checked"),
        "the API key options stay shown"
    );

    let bad = curl(
        &[&format!("http://{}/", server.addr)],
        Some(b"tamanho=2&quantidade=5000".to_vec()),
    )
    .await;
    assert_eq!(bad.status, 400);
    let html = String::from_utf8(bad.body).unwrap();
    assert!(
        html.contains("length must be between 4 and 1024, got 2</p>"),
        "beside its field"
    );
    assert!(
        html.contains("count must be between 0 and 1000, got 5000</p>"),
        "every violation"
    );

    let off = TestServer::start(ServerConfig {
        web: WebConfig {
            web_ui: false,
            ..WebConfig::default()
        },
        ..stateless_config()
    })
    .await;
    assert_eq!(
        curl(&[&format!("http://{}/", off.addr)], None).await.status,
        404
    );
}
