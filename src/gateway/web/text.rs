//! The page's words, in English and Portuguese (the original was in
//! Portuguese): picked from `?lang=`, else `Accept-Language`. The words
//! `app.js` shows reach it as JSON in the page (`data-text`).

/// A language of the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) enum Lang {
    #[default]
    En,
    Pt,
}

impl Lang {
    /// `?lang=pt|en` wins; else the first of `Accept-Language` that is
    /// one of ours; else English.
    pub(super) fn pick(query: Option<&str>, accept_language: Option<&str>) -> Lang {
        let chosen = query
            .into_iter()
            .flat_map(|query| query.split('&'))
            .find_map(|pair| pair.strip_prefix("lang="));
        chosen
            .into_iter()
            .chain(
                accept_language
                    .into_iter()
                    .flat_map(|value| value.split(',')),
            )
            .find_map(|tag| {
                let tag = tag
                    .split(';')
                    .next()
                    .unwrap_or_default()
                    .trim()
                    .to_ascii_lowercase();
                if tag.starts_with("pt") {
                    Some(Lang::Pt)
                } else if tag.starts_with("en") {
                    Some(Lang::En)
                } else {
                    None
                }
            })
            .unwrap_or_default()
    }

    /// The `lang` attribute and query value.
    pub(super) fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Pt => "pt",
        }
    }

    /// The word for `key` (the key itself if none: a test fails on it).
    pub(super) fn t(self, key: &str) -> &'static str {
        WORDS
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or("?", |(_, en, pt)| match self {
                Lang::En => en,
                Lang::Pt => pt,
            })
    }

    /// The words app.js needs, as a JSON object.
    pub(super) fn script_words(self) -> String {
        let words: serde_json::Map<String, serde_json::Value> = SCRIPT_KEYS
            .iter()
            .map(|key| ((*key).to_owned(), self.t(key).into()))
            .collect();
        serde_json::Value::Object(words).to_string()
    }
}

/// Keys app.js reads.
const SCRIPT_KEYS: &[&str] = &[
    "copied",
    "selected",
    "unreachable",
    "busy",
    "retry",
    "kept",
    "bits",
    "nothing_yet",
    "need_token",
    "no_history",
    "history_unavailable",
    "score",
    "cracked",
    "weak",
    "fair",
    "good",
    "strong",
    "excellent",
];

/// (key, English, Portuguese).
const WORDS: &[(&str, &str, &str)] = &[
    (
        "lead",
        "Passwords, passphrases and API keys from a CSPRNG, every class you ask for guaranteed.",
        "Senhas, frases-senha e chaves de API de um gerador criptográfico, com cada classe pedida garantida.",
    ),
    ("kind", "Kind", "Tipo"),
    ("password", "Password", "Senha"),
    ("passphrase", "Passphrase", "Frase-senha"),
    ("tamanho", "Length", "Tamanho"),
    ("incluir_numeros", "Numbers (0-9)", "Números (0-9)"),
    (
        "incluir_caracteres_especiais",
        "Special characters (!@#…)",
        "Caracteres especiais (!@#…)",
    ),
    ("more", "More options", "Mais opções"),
    (
        "sem_minusculas",
        "No lowercase letters",
        "Sem letras minúsculas",
    ),
    (
        "sem_maiusculas",
        "No uppercase letters",
        "Sem letras maiúsculas",
    ),
    (
        "min_minusculas",
        "At least this many lowercase",
        "Mínimo de minúsculas",
    ),
    (
        "min_maiusculas",
        "At least this many uppercase",
        "Mínimo de maiúsculas",
    ),
    (
        "min_digitos",
        "At least this many digits",
        "Mínimo de dígitos",
    ),
    (
        "min_especiais",
        "At least this many specials",
        "Mínimo de especiais",
    ),
    (
        "excluir_ambiguos",
        "Avoid look-alikes (0O1lI|)",
        "Evitar caracteres parecidos (0O1lI|)",
    ),
    (
        "excluir",
        "Never use these characters",
        "Nunca usar estes caracteres",
    ),
    (
        "especiais",
        "Special characters to use",
        "Caracteres especiais a usar",
    ),
    ("quantidade", "How many", "Quantas"),
    ("palavras", "Words", "Palavras"),
    ("separador", "Separator", "Separador"),
    ("capitalizar", "Capitalize", "Iniciais maiúsculas"),
    ("incluir_numero", "Add a number", "Incluir um número"),
    ("chave", "API key", "Chave de API"),
    (
        "chave_hint",
        "Prefix, random part and a checksum that secret scanners can verify offline. Never kept in the history.",
        "Prefixo, parte aleatória e um dígito verificador que scanners de segredos conferem offline. Nunca guardada no histórico.",
    ),
    ("entropia", "Entropy (bits)", "Entropia (bits)"),
    ("prefixo", "Prefix (like gps_)", "Prefixo (como gps_)"),
    ("formato", "Format", "Formato"),
    ("fmt_default", "base62 (default)", "base62 (padrão)"),
    ("fmt_hex", "hexadecimal", "hexadecimal"),
    ("fmt_base64url", "base64url", "base64url"),
    ("fmt_base32", "Crockford base32", "base32 de Crockford"),
    ("fmt_uuid", "UUID v4 (122 bits)", "UUID v4 (122 bits)"),
    ("generate", "Generate", "Gerar"),
    ("result", "Result", "Resultado"),
    ("copy", "Copy", "Copiar"),
    ("copied", "Copied", "Copiada"),
    (
        "selected",
        "Selected: press Ctrl+C to copy",
        "Selecionada: tecle Ctrl+C para copiar",
    ),
    ("check_title", "Check a password", "Verificar uma senha"),
    (
        "check_hint",
        "Sent to this service only, never kept or logged.",
        "Enviada só a este serviço, nunca guardada nem registrada.",
    ),
    ("verificar", "Password", "Senha"),
    ("check", "Check", "Verificar"),
    ("history", "Your history", "Seu histórico"),
    ("nothing_yet", "Nothing yet.", "Nada ainda."),
    (
        "need_token",
        "Your history shows with a token that may read it: enter it below.",
        "Seu histórico aparece com um token que possa lê-lo: informe-o abaixo.",
    ),
    (
        "no_history",
        "This server keeps no history.",
        "Este servidor não guarda histórico.",
    ),
    (
        "history_unavailable",
        "History unavailable:",
        "Histórico indisponível:",
    ),
    ("token", "Token", "Token"),
    ("remember", "keep for this tab", "manter nesta aba"),
    ("use", "Use", "Usar"),
    ("forget", "Forget", "Esquecer"),
    (
        "unreachable",
        "The service did not answer.",
        "O serviço não respondeu.",
    ),
    (
        "busy",
        "The service is busy or unavailable:",
        "O serviço está ocupado ou indisponível:",
    ),
    ("retry", "Retry", "Tentar de novo"),
    ("kept", "kept in your history", "guardada no seu histórico"),
    ("bits", "bits", "bits"),
    ("score", "score", "nota"),
    ("cracked", "cracked offline in", "quebrada offline em"),
    ("weak", "weak", "fraca"),
    ("fair", "fair", "razoável"),
    ("good", "good", "boa"),
    ("strong", "strong", "forte"),
    ("excellent", "excellent", "excelente"),
    ("language", "Language", "Idioma"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_wins_then_accept_language() {
        assert_eq!(Lang::pick(None, Some("pt-BR,pt;q=0.9,en;q=0.8")), Lang::Pt);
        assert_eq!(Lang::pick(Some("lang=en"), Some("pt-BR")), Lang::En);
        assert_eq!(Lang::pick(Some("x=1&lang=pt"), None), Lang::Pt);
        assert_eq!(Lang::pick(None, Some("de-DE, fr")), Lang::En);
        assert_eq!(Lang::pick(Some("lang=xx"), Some("pt")), Lang::Pt);
    }

    #[test]
    fn every_key_has_both_words() {
        for key in SCRIPT_KEYS
            .iter()
            .chain(WORDS.iter().map(|(key, _, _)| key))
        {
            assert_ne!(Lang::En.t(key), "?", "{key}");
            assert!(!Lang::Pt.t(key).is_empty(), "{key}");
        }
        let words: serde_json::Value = serde_json::from_str(&Lang::Pt.script_words()).unwrap();
        assert_eq!(words["copied"], "Copiada");
    }
}
