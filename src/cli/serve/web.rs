//! The HTTP side of the port: the web page, browsers from other origins.

use clap::Args;

/// The web page; browsers from other origins (CORS).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Web")]
pub struct WebArgs {
    /// Serve the web page at / (a form, embedded in the binary, that
    /// calls the same API with the caller's own token): "on" or "off"
    /// (API-only deployments; / is then 404).
    #[arg(long, env = "WEB_UI", default_value = "on", value_parser = ["on", "off"])]
    pub web_ui: String,
    /// Origins whose pages may call the port from a browser with gRPC-Web
    /// or Connect (CORS), exact and comma-separated, e.g.
    /// `https://app.example.com,https://admin.example.com`. Empty (the
    /// default): same origin only. Preflights need no token.
    #[arg(
        long,
        env = "CORS_ALLOWED_ORIGINS",
        value_delimiter = ',',
        default_value = ""
    )]
    pub cors_allowed_origins: Vec<String>,
}

/// The origins of `values` (blank entries dropped), or an error naming each
/// one that is not `scheme://host[:port]`.
pub(super) fn parse_origins(values: &[String], errors: &mut Vec<String>) -> Vec<http::HeaderValue> {
    let mut origins = Vec::new();
    for value in values
        .iter()
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
    {
        match origin(value) {
            Some(origin) => origins.push(origin),
            None => errors.push(format!(
                "--cors-allowed-origins/CORS_ALLOWED_ORIGINS: {value:?} is not an origin: scheme://host[:port], no path, no wildcard"
            )),
        }
    }
    origins
}

fn origin(value: &str) -> Option<http::HeaderValue> {
    let (scheme, authority) = value.split_once("://")?;
    let exact = matches!(scheme, "http" | "https")
        && !authority.is_empty()
        && !authority.contains(['/', '*', '?', '#', '@'])
        && authority.parse::<http::uri::Authority>().is_ok();
    exact
        .then(|| http::HeaderValue::from_str(value).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_origins_only() {
        let mut errors = Vec::new();
        let good = [
            "https://app.example.com",
            "http://localhost:5173",
            " https://a.b ",
        ];
        let origins = parse_origins(&good.map(String::from), &mut errors);
        assert_eq!(origins.len(), 3);
        assert!(errors.is_empty(), "{errors:?}");
        let bad = [
            "*",
            "https://*.example.com",
            "https://a.b/",
            "https://a.b/path",
            "ftp://a.b",
            "a.b",
        ];
        assert!(parse_origins(&bad.map(String::from), &mut errors).is_empty());
        assert_eq!(errors.len(), bad.len(), "{errors:?}");
        assert!(parse_origins(&[String::new()], &mut errors).is_empty());
    }
}
