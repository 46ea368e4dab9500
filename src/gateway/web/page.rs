//! The page, rendered by maud: every value is escaped by construction
//! (passwords are full of `<`, `&` and quotes). The same markup serves
//! browsers without JavaScript (the form posts to `/` and this renders
//! the result) and with it (`app.js` updates it in place through the
//! Connect API, reading each input's contract field from `data-field`).

use maud::{DOCTYPE, Markup, html};

use super::form::{self, Field, Kind, Values};
use super::text::Lang;

/// What the page shows besides the form.
#[derive(Debug, Default)]
pub(super) struct View {
    pub(super) lang: Lang,
    /// The values to fill the form with (a submitted form's, or none).
    pub(super) values: Values,
    pub(super) outcome: Outcome,
    /// Field violations, as (contract field, description).
    pub(super) errors: Vec<(String, String)>,
    pub(super) history: History,
}

/// The result of the form's action.
#[derive(Debug, Default)]
pub(super) enum Outcome {
    #[default]
    Nothing,
    Generated {
        secrets: Vec<String>,
        bits: f64,
        stored: bool,
    },
    Checked {
        score: u32,
        crack_time: String,
        warning: String,
        suggestions: Vec<String>,
    },
    /// A failure no field explains (unavailable, refused…).
    Failed(String),
}

/// The caller's history, or why it is not shown.
#[derive(Debug)]
pub(super) enum History {
    Entries(Vec<Entry>),
    Hidden(String),
}

impl Default for History {
    fn default() -> Self {
        History::Hidden(String::new())
    }
}

/// One history entry.
#[derive(Debug)]
pub(super) struct Entry {
    pub(super) secret: String,
    pub(super) created: String,
    pub(super) bits: f64,
}

/// Where the page's two assets are (content-hashed paths).
#[derive(Debug)]
pub(super) struct AssetPaths<'a> {
    pub(super) css: &'a str,
    pub(super) js: &'a str,
}

/// The word for `bits` of entropy, by key (the same thresholds in
/// `app.js`, read from the page's `data-strength`).
pub(super) const STRENGTH: &[(f64, &str)] = &[
    (40.0, "weak"),
    (64.0, "fair"),
    (80.0, "good"),
    (128.0, "strong"),
    (f64::INFINITY, "excellent"),
];

fn strength(bits: f64) -> &'static str {
    STRENGTH
        .iter()
        .find(|(below, _)| bits < *below)
        .map_or("excellent", |(_, key)| key)
}

/// The whole page.
pub(super) fn render(view: &View, assets: &AssetPaths<'_>) -> Markup {
    let mode = view.values.get("modo").unwrap_or("senha");
    let (passphrase, token) = (mode == "frase", mode == "chave");
    let thresholds: Vec<(f64, &str)> = STRENGTH
        .iter()
        .map(|(below, word)| (below.min(1e9), *word))
        .collect();
    let thresholds = serde_json::to_string(&thresholds).expect("serializable");
    let lang = view.lang;
    let t = |key| lang.t(key);
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { "giropops-senhas" }
                // No favicon request (and no 404 in the console).
                link rel="icon" href="data:,";
                link rel="stylesheet" href=(assets.css);
                script defer src=(assets.js) {}
            }
            body data-strength=(thresholds) data-text=(lang.script_words()) {
                main {
                    header {
                        h1 { "giropops-senhas" }
                        p.lead { (t("lead")) }
                        nav aria-label=(t("language")) {
                            a href="?lang=en" hreflang="en" aria-current=[(lang == Lang::En).then_some("true")] { "English" }
                            " · "
                            a href="?lang=pt" hreflang="pt" aria-current=[(lang == Lang::Pt).then_some("true")] { "Português" }
                        }
                    }
                    form #generator method="post" action={ "/?lang=" (lang.code()) } {
                        fieldset.mode {
                            legend { (t("kind")) }
                            label { input type="radio" name="modo" value="senha" checked[!passphrase && !token]; " " (t("password")) }
                            label { input type="radio" name="modo" value="frase" checked[passphrase]; " " (t("passphrase")) }
                            label { input type="radio" name="modo" value="chave" checked[token]; " " (t("chave")) }
                        }
                        fieldset #password-options hidden[passphrase || token] {
                            legend { (t("password")) }
                            (input(view, &form::PASSWORD[0], "16"))
                            (input(view, &form::PASSWORD[1], ""))
                            (input(view, &form::PASSWORD[2], ""))
                            details open[advanced(view)] {
                                summary { (t("more")) }
                                @for field in &form::PASSWORD[3..] {
                                    (input(view, field, ""))
                                }
                            }
                        }
                        fieldset #passphrase-options hidden[!passphrase] {
                            legend { (t("passphrase")) }
                            @for field in form::PASSPHRASE {
                                (input(view, field, if field.kind == Kind::Number { "5" } else { "" }))
                            }
                        }
                        fieldset #token-options hidden[!token] {
                            legend { (t("chave")) }
                            p.hint { (t("chave_hint")) }
                            @for field in form::TOKEN {
                                (input(view, field, if field.kind == Kind::Number { "128" } else { "" }))
                            }
                        }
                        (error(view, "form"))
                        button type="submit" name="acao" value="gerar" { (t("generate")) }
                    }
                    (result(view))
                    (check(view))
                    (history(view))
                }
            }
        }
    }
}

/// Whether the advanced options were used or hold an error (open then).
fn advanced(view: &View) -> bool {
    form::PASSWORD[3..].iter().any(|field| {
        view.values
            .get(field.name)
            .is_some_and(|value| !value.is_empty())
            || view.errors.iter().any(|(name, _)| name == field.proto)
    })
}

/// One input, its label, and the place its error shows.
fn input(view: &View, field: &Field, default: &str) -> Markup {
    let text = view.lang.t(field.name);
    let invalid = view.errors.iter().any(|(name, _)| name == field.proto);
    let value = view.values.get(field.name).unwrap_or(default);
    html! {
        div.field {
            @match field.kind {
                Kind::Flag | Kind::Without => label {
                    input type="checkbox" name=(field.name) id=(field.name) data-field=(field.proto)
                        data-invert[field.kind == Kind::Without] checked[view.values.on(field.name)];
                    " " (text)
                },
                Kind::Number => label {
                    (text) " "
                    input type="number" name=(field.name) id=(field.name) data-field=(field.proto)
                        min="0" value=(value) aria-invalid=[invalid.then_some("true")];
                },
                Kind::Choice => label {
                    (text) " "
                    select name=(field.name) id=(field.name) data-field=(field.proto) aria-invalid=[invalid.then_some("true")] {
                        @for (choice, word) in form::FORMATS {
                            option value=(choice) selected[value == *choice] { (view.lang.t(word)) }
                        }
                    }
                },
                Kind::Text => label {
                    (text) " "
                    input type="text" name=(field.name) id=(field.name) data-field=(field.proto)
                        value=(value) autocomplete="off" spellcheck="false" aria-invalid=[invalid.then_some("true")];
                },
            }
            (error(view, field.proto))
        }
    }
}

/// Where the errors of `field` show (filled by the server or by app.js).
fn error(view: &View, field: &str) -> Markup {
    let text: Vec<&str> = view
        .errors
        .iter()
        .filter(|(name, _)| name == field)
        .map(|(_, description)| description.as_str())
        .collect();
    html! { p.error data-error-for=(field) data-testid="error" role="alert" { (text.join("; ")) } }
}

fn result(view: &View) -> Markup {
    let (secrets, bits, stored): (&[String], f64, bool) = match &view.outcome {
        Outcome::Generated {
            secrets,
            bits,
            stored,
        } => (secrets, *bits, *stored),
        _ => (&[], 0.0, false),
    };
    let t = |key| view.lang.t(key);
    let batch = secrets.len() > 1;
    html! {
        section #result aria-live="polite" {
            h2 { (t("result")) }
            p.secret { output #senha data-testid=[(!batch).then_some("password")] { (secrets.first().map_or("", String::as_str)) } }
            ol #batch hidden[!batch] {
                @for secret in secrets { li { code data-testid=[batch.then_some("password")] { (secret) } } }
            }
            p #strength data-testid="strength" {
                @if !secrets.is_empty() {
                    (format!("{bits:.1} {}, {}", t("bits"), t(strength(bits)))) @if stored { " · " (t("kept")) }
                }
            }
            meter #strength-meter min="0" max="160" value=(bits.min(160.0)) {}
            button #copy type="button" hidden { (t("copy")) }
            span #copied role="status" {}
            @if let Outcome::Failed(message) = &view.outcome { p.error.failure role="alert" { (message) } }
        }
    }
}

fn check(view: &View) -> Markup {
    let t = |key| view.lang.t(key);
    html! {
        section #check {
            h2 { (t("check_title")) }
            p.hint { (t("check_hint")) }
            form #check-form method="post" action={ "/?lang=" (view.lang.code()) } {
                label { (t("verificar")) " " input #verificar type="password" name="verificar" data-field="password" autocomplete="off"; }
                button type="submit" name="acao" value="verificar" { (t("check")) }
                (error(view, "password"))
            }
            div #check-result aria-live="polite" {
                @if let Outcome::Checked { score, crack_time, warning, suggestions } = &view.outcome {
                    p { (format!("{} {score}/4, {} {crack_time}", t("score"), t("cracked"))) }
                    @if !warning.is_empty() { p.warning { (warning) } }
                    ul { @for suggestion in suggestions { li { (suggestion) } } }
                }
            }
        }
    }
}

fn history(view: &View) -> Markup {
    let t = |key| view.lang.t(key);
    html! {
        section #history data-shown=(matches!(view.history, History::Entries(_))) {
            h2 { (t("history")) }
            @match &view.history {
                History::Entries(entries) => {
                    p #history-note { @if entries.is_empty() { (t("nothing_yet")) } }
                    ol #history-list {
                        @for entry in entries {
                            li data-testid="history-item" { code { (entry.secret) } " " small { (format!("{} · {:.1} {}", entry.created, entry.bits, t("bits"))) } }
                        }
                    }
                }
                History::Hidden(why) => {
                    p #history-note { (why) }
                    ol #history-list {}
                }
            }
            form #token-form {
                label { (t("token")) " " input #token type="password" autocomplete="off" spellcheck="false"; }
                label { input #remember type="checkbox"; " " (t("remember")) }
                button #use-token type="button" { (t("use")) }
                button #forget-token type="button" { (t("forget")) }
            }
        }
    }
}
