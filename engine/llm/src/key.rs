//! An API key: read from the environment only, never printed.

/// A secret key. Its `Debug` output is redacted, and it has no `Display` and no `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key obtained elsewhere (tests, embedders with their own secret store).
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key in environment variable `name`, if it is set and not empty.
    pub fn from_env(name: &str) -> Option<ApiKey> {
        std::env::var(name).ok().map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).map(ApiKey)
    }

    /// The key itself, for building a request header.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }

    /// `text` with every occurrence of the key replaced, for anything that came back from a server.
    pub(crate) fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 {
            // Too short to replace without mangling ordinary text; such keys are not real keys.
            return text.to_string();
        }
        text.replace(&self.0, "[redacted]")
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey([redacted])")
    }
}
