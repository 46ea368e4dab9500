//! Why a stored entry was not returned: each reason a metric label.

/// Why a stored entry was not returned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Skip {
    /// Written with a key that has since been removed: crypto-shredded
    /// (expected after a key rotation).
    UnknownKeyId,
    /// Tampered with, moved from another list, or encrypted with another
    /// key of the same name.
    AuthFailed,
    /// Not an entry of ours (e.g. the original app's plain text).
    NotOurs,
    /// Written in the other [`HistoryMode`](super::HistoryMode) (a metadata entry read by an
    /// encrypted history, or the reverse): expected after a mode change.
    OtherMode,
    /// Older than the history's time to live.
    Expired,
    /// A number already returned from this list: a copy pushed again.
    Duplicate,
    /// A number older than the newest `cap` of its list: an entry the cap
    /// trimmed, pushed back (from an old AOF or backup).
    Replayed,
}

impl Skip {
    /// Every reason.
    pub const ALL: [Skip; 7] = [
        Skip::UnknownKeyId,
        Skip::AuthFailed,
        Skip::NotOurs,
        Skip::OtherMode,
        Skip::Expired,
        Skip::Duplicate,
        Skip::Replayed,
    ];

    /// The metric label.
    pub fn label(self) -> &'static str {
        match self {
            Skip::UnknownKeyId => "unknown_key_id",
            Skip::AuthFailed => "auth_failed",
            Skip::NotOurs => "not_ours",
            Skip::OtherMode => "other_mode",
            Skip::Expired => "expired",
            Skip::Duplicate => "duplicate",
            Skip::Replayed => "replayed",
        }
    }
}
