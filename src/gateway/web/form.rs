//! The page's form: its field names (the original's `tamanho`,
//! `incluir_numeros`, `incluir_caracteres_especiais`, and names for the
//! new options), each tied to the contract field it sets, so an error the
//! API names lands beside the right input, with or without JavaScript.

use std::collections::HashMap;

use crate::proto::v1::{
    CheckPasswordRequest, GeneratePassphraseRequest, GeneratePasswordRequest, GenerateTokenRequest,
    TokenFormat,
};

/// A form field: its name in the form, the contract field it sets (the
/// name field violations use), and its kind.
#[derive(Debug, Clone, Copy)]
pub(super) struct Field {
    pub(super) name: &'static str,
    pub(super) proto: &'static str,
    pub(super) kind: Kind,
}

/// How a field is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A whole number; empty means the contract's default.
    Number,
    /// A checkbox: present means on.
    Flag,
    /// A checkbox that turns a class off (`include_*` false when checked).
    Without,
    /// Text.
    Text,
    /// One of [`FORMATS`] (a `<select>`); empty means the default.
    Choice,
}

const fn field(name: &'static str, proto: &'static str, kind: Kind) -> Field {
    Field { name, proto, kind }
}

/// The password fields.
pub(super) const PASSWORD: &[Field] = &[
    field("tamanho", "length", Kind::Number),
    field("incluir_numeros", "include_numbers", Kind::Flag),
    field(
        "incluir_caracteres_especiais",
        "include_special_chars",
        Kind::Flag,
    ),
    field("sem_minusculas", "include_lowercase", Kind::Without),
    field("sem_maiusculas", "include_uppercase", Kind::Without),
    field("min_minusculas", "min_lowercase", Kind::Number),
    field("min_maiusculas", "min_uppercase", Kind::Number),
    field("min_digitos", "min_digits", Kind::Number),
    field("min_especiais", "min_specials", Kind::Number),
    field("excluir_ambiguos", "exclude_ambiguous", Kind::Flag),
    field("excluir", "exclude_chars", Kind::Text),
    field("especiais", "special_chars", Kind::Text),
    field("quantidade", "count", Kind::Number),
];

/// The passphrase fields.
pub(super) const PASSPHRASE: &[Field] = &[
    field("palavras", "word_count", Kind::Number),
    field("separador", "separator", Kind::Text),
    field("capitalizar", "capitalize", Kind::Flag),
    field("incluir_numero", "include_number", Kind::Flag),
];

/// The API key fields.
pub(super) const TOKEN: &[Field] = &[
    field("entropia", "bits", Kind::Number),
    field("prefixo", "prefix", Kind::Text),
    field("formato", "format", Kind::Choice),
];

/// The token formats the page offers: (value sent, the word's key). The
/// values are the contract's enum names, as Connect JSON takes them; ""
/// is the server's default (base62).
pub(super) const FORMATS: &[(&str, &str)] = &[
    ("", "fmt_default"),
    ("TOKEN_FORMAT_HEX", "fmt_hex"),
    ("TOKEN_FORMAT_BASE64URL", "fmt_base64url"),
    ("TOKEN_FORMAT_BASE32_CROCKFORD", "fmt_base32"),
    ("TOKEN_FORMAT_UUID", "fmt_uuid"),
];

/// The check box's field.
pub(super) const CHECK: Field = field("verificar", "password", Kind::Text);

/// What a POST of the form asks for.
#[derive(Debug)]
pub(super) enum Action {
    Password(GeneratePasswordRequest),
    Passphrase(GeneratePassphraseRequest),
    Token(GenerateTokenRequest),
    Check(CheckPasswordRequest),
}

/// The submitted values, by name (the last of a repeated name).
#[derive(Debug, Default, Clone)]
pub(super) struct Values(HashMap<String, String>);

impl Values {
    /// Parses an `application/x-www-form-urlencoded` body.
    pub(super) fn parse(body: &[u8]) -> Values {
        Values(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The value of `name`, if sent.
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// Whether the checkbox `name` was on.
    pub(super) fn on(&self, name: &str) -> bool {
        self.0.contains_key(name)
    }

    /// The same values without the one a password was typed into (never
    /// rendered back into the page).
    pub(super) fn without_secret(mut self) -> Values {
        self.0.remove(CHECK.name);
        self
    }
}

/// The contract field the form field `name` sets.
pub(super) fn proto_name(name: &str) -> &'static str {
    PASSWORD
        .iter()
        .chain(PASSPHRASE)
        .chain(TOKEN)
        .chain([&CHECK])
        .find(|field| field.name == name)
        .map_or("form", |field| field.proto)
}

/// The request the form asks for, or every field that cannot be read,
/// as (contract field, description).
pub(super) fn action(values: &Values) -> Result<Action, Vec<(String, String)>> {
    if values.get("acao") == Some("verificar") {
        return Ok(Action::Check(CheckPasswordRequest {
            password: values.get(CHECK.name).unwrap_or_default().to_owned(),
            user_inputs: Vec::new(),
        }));
    }
    if values.get("modo") == Some("chave") {
        return token(values);
    }
    let mut errors = Vec::new();
    let mut read = |name: &str| number(values, name, &mut errors);
    let passphrase = values.get("modo") == Some("frase");
    let (length, min_lowercase, min_uppercase, min_digits, min_specials, count, word_count) =
        if passphrase {
            (0, 0, 0, 0, 0, 0, read("palavras"))
        } else {
            (
                read("tamanho"),
                read("min_minusculas"),
                read("min_maiusculas"),
                read("min_digitos"),
                read("min_especiais"),
                read("quantidade"),
                0,
            )
        };
    if !errors.is_empty() {
        return Err(errors);
    }
    let text = |name: &str| values.get(name).unwrap_or_default().to_owned();
    if passphrase {
        return Ok(Action::Passphrase(GeneratePassphraseRequest {
            word_count,
            separator: values.get("separador").map(str::to_owned),
            capitalize: values.on("capitalizar"),
            include_number: values.on("incluir_numero"),
            store: None,
            // The no-JS form spells its options out.
            policy: String::new(),
        }));
    }
    Ok(Action::Password(GeneratePasswordRequest {
        length,
        include_numbers: values.on("incluir_numeros"),
        include_special_chars: values.on("incluir_caracteres_especiais"),
        include_lowercase: values.on("sem_minusculas").then_some(false),
        include_uppercase: values.on("sem_maiusculas").then_some(false),
        min_lowercase,
        min_uppercase,
        min_digits,
        min_specials,
        exclude_ambiguous: values.on("excluir_ambiguos"),
        exclude_chars: text("excluir"),
        special_chars: text("especiais"),
        count,
        store: None,
        policy: String::new(),
    }))
}

/// The whole number in `name`: 0 when empty; else an error.
fn number(values: &Values, name: &str, errors: &mut Vec<(String, String)>) -> u32 {
    let proto = proto_name(name);
    let text = values.get(name).unwrap_or_default().trim();
    if text.is_empty() {
        return 0;
    }
    text.parse().unwrap_or_else(|_| {
        errors.push((
            proto.to_owned(),
            format!("{proto} must be a whole number, got {text:?}"),
        ));
        0
    })
}

/// The GenerateToken request of the API key fields.
fn token(values: &Values) -> Result<Action, Vec<(String, String)>> {
    let mut errors = Vec::new();
    let bits = number(values, "entropia", &mut errors);
    let chosen = values.get("formato").unwrap_or_default();
    let format = if chosen.is_empty() {
        TokenFormat::Unspecified
    } else {
        TokenFormat::from_str_name(chosen).unwrap_or_else(|| {
            errors.push((
                "format".to_owned(),
                "format must be one of the formats offered".to_owned(),
            ));
            TokenFormat::Unspecified
        })
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Action::Token(GenerateTokenRequest {
        bits,
        prefix: values.get("prefixo").unwrap_or_default().to_owned(),
        format: format.into(),
        // The no-JS form spells its options out.
        policy: String::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_originals_fields_and_the_new_ones() {
        let values = Values::parse(b"tamanho=12&incluir_numeros=on&incluir_caracteres_especiais=on&min_digitos=2&sem_maiusculas=on&excluir=%3C%26&quantidade=3");
        let Ok(Action::Password(request)) = action(&values) else {
            panic!("a password request");
        };
        assert_eq!(
            (
                request.length,
                request.include_numbers,
                request.include_special_chars
            ),
            (12, true, true)
        );
        assert_eq!((request.min_digits, request.count), (2, 3));
        assert_eq!(
            (request.include_uppercase, request.include_lowercase),
            (Some(false), None)
        );
        assert_eq!(request.exclude_chars, "<&");
        let Ok(Action::Passphrase(phrase)) = action(&Values::parse(
            b"modo=frase&palavras=5&separador=.&capitalizar=on",
        )) else {
            panic!("a passphrase request");
        };
        assert_eq!(
            (
                phrase.word_count,
                phrase.separator.as_deref(),
                phrase.capitalize
            ),
            (5, Some("."), true)
        );
    }

    #[test]
    fn the_api_key_fields() {
        let values =
            Values::parse(b"modo=chave&entropia=256&prefixo=gps_&formato=TOKEN_FORMAT_HEX");
        let Ok(Action::Token(request)) = action(&values) else {
            panic!("a token request");
        };
        assert_eq!(
            request,
            GenerateTokenRequest {
                bits: 256,
                prefix: "gps_".into(),
                format: TokenFormat::Hex.into(),
                policy: String::new(),
            }
        );
        let Ok(Action::Token(default)) = action(&Values::parse(b"modo=chave&formato=")) else {
            panic!("a token request");
        };
        assert_eq!(default, GenerateTokenRequest::default());
        let errors = action(&Values::parse(b"modo=chave&entropia=many&formato=ROT13")).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(fields, ["bits", "format"]);
    }

    #[test]
    fn every_unreadable_number_is_named() {
        let errors =
            action(&Values::parse(b"tamanho=doze&min_digitos=-1&quantidade=2")).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|(field, _)| field.as_str()).collect();
        assert_eq!(fields, ["length", "min_digits"]);
    }

    #[test]
    fn the_checked_password_is_never_kept_for_rendering() {
        let values = Values::parse(b"acao=verificar&verificar=hunter2");
        assert!(
            matches!(action(&values), Ok(Action::Check(request)) if request.password == "hunter2")
        );
        assert_eq!(values.without_secret().get("verificar"), None);
    }
}
