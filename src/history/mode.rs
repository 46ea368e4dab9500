//! What the history keeps of each secret: `--history-mode`.

/// What the history keeps of each secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryMode {
    /// The secret itself, encrypted (needs a keys file), with its metadata.
    #[default]
    Encrypted,
    /// Metadata only (time, length, entropy, principal): no secret at all,
    /// an audit trail. `ListPasswords` returns empty passwords.
    Metadata,
}

impl HistoryMode {
    /// The name used by `--history-mode`/`HISTORY_MODE`.
    pub fn as_str(self) -> &'static str {
        match self {
            HistoryMode::Encrypted => "encrypted",
            HistoryMode::Metadata => "metadata",
        }
    }
}

impl std::fmt::Display for HistoryMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for HistoryMode {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, String> {
        match value.trim() {
            "encrypted" => Ok(HistoryMode::Encrypted),
            "metadata" => Ok(HistoryMode::Metadata),
            other => Err(format!(
                "expected \"encrypted\" or \"metadata\", got {other:?}"
            )),
        }
    }
}
