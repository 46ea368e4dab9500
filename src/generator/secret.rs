//! A string that must never reach a log line.

use std::fmt;

/// A generated secret. `Debug` is redacted so that a stray `{:?}` on a
/// struct holding one cannot leak it; read it with [`Secret::expose`].
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Self {
        Secret(value)
    }

    /// The secret itself, for the places that must send or store it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Consumes the wrapper, returning the secret.
    pub fn into_exposed(self) -> String {
        self.0
    }

    /// Length in bytes (all generated secrets are ASCII).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the secret is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(<{} chars redacted>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_value() {
        let secret = Secret::new("hunter2-very-secret".to_owned());
        let printed = format!("{secret:?} {:?}", Some(&secret));
        assert!(!printed.contains("hunter2"), "{printed}");
        assert_eq!(secret.expose(), "hunter2-very-secret");
    }
}
