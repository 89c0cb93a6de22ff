//! A small blocking HTTP client for the truce API, with problem+json errors turned into
//! messages.

use anyhow::{Context, Result, anyhow};
use std::time::Duration;

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(&self) -> Result<serde_json::Value> {
        serde_json::from_slice(&self.body).context("server answered with invalid JSON")
    }

    /// The problem's detail (or the raw body) for an error answer.
    pub fn problem_text(&self) -> String {
        match serde_json::from_slice::<serde_json::Value>(&self.body) {
            Ok(v) => format!(
                "{} {}: {}",
                self.status,
                v["title"].as_str().unwrap_or(""),
                v["detail"].as_str().unwrap_or("")
            ),
            Err(_) => format!("{} {}", self.status, String::from_utf8_lossy(&self.body)),
        }
    }

    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A client for one server.
#[derive(Debug)]
pub struct Client {
    base: String,
    agent: ureq::Agent,
    /// API token sent as `Authorization: Bearer`.
    token: Option<String>,
}

/// Failing to reach the server at all (as opposed to a refusal).
#[derive(Debug)]
pub struct Unreachable(pub String);

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unreachable {}

impl Client {
    pub fn new(base: &str) -> Result<Self> {
        let base = base.trim_end_matches('/').to_owned();
        if !base.starts_with("http://") && !base.starts_with("https://") {
            return Err(anyhow!(
                "server URL `{base}` must start with https:// (or http:// on a trusted network)"
            ));
        }
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        Ok(Self {
            base,
            agent,
            token: None,
        })
    }

    /// Sends this API token with every request.
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token.filter(|t| !t.is_empty());
        self
    }

    fn auth<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match &self.token {
            Some(t) => req.header("authorization", format!("Bearer {t}")),
            None => req,
        }
    }

    fn finish(
        &self,
        r: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
        what: &str,
    ) -> Result<Answer> {
        let mut r = r.map_err(|e| {
            anyhow!(Unreachable(format!(
                "cannot reach {}{what}: {e}",
                self.base
            )))
        })?;
        let status = r.status().as_u16();
        let body = r
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| {
                anyhow!(Unreachable(format!(
                    "reading the answer from {}{what}: {e}",
                    self.base
                )))
            })?;
        Ok(Answer { status, body })
    }

    pub fn base(&self) -> &str {
        &self.base
    }

    pub fn get(&self, path: &str) -> Result<Answer> {
        self.finish(
            self.auth(self.agent.get(format!("{}{path}", self.base)))
                .call(),
            path,
        )
    }

    pub fn post_json(&self, path: &str, body: &[u8]) -> Result<Answer> {
        self.finish(
            // Entries are authenticated by their signatures: a token (one member's) is not sent
            // with them, so a batch may carry entries by several members.
            self.agent
                .post(format!("{}{path}", self.base))
                .header("content-type", "application/json")
                .send(body),
            path,
        )
    }

    pub fn put(&self, path: &str, body: &[u8]) -> Result<Answer> {
        self.finish(
            self.auth(self.agent.put(format!("{}{path}", self.base)))
                .header("content-type", "application/octet-stream")
                .send(body),
            path,
        )
    }

    /// GET that must succeed.
    pub fn get_ok(&self, path: &str) -> Result<Answer> {
        let a = self.get(path)?;
        if !a.ok() {
            return Err(anyhow!("GET {path}: {}", a.problem_text()));
        }
        Ok(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_and_https_urls_only() {
        assert!(Client::new("https://jsm.example.org/").is_ok());
        assert!(Client::new("http://127.0.0.1:8080").is_ok());
        assert!(Client::new("ftp://example.org").is_err());
        assert!(Client::new("127.0.0.1:8080").is_err());
    }
}
