//! One blocking POST, as every exporter sends: a bounded wait, the status as a value (a
//! refusal is an answer to report, not a transport error), and a short body.

use std::time::Duration;

use pathwise_store::StoreError;

/// An HTTP client with a whole-request timeout.
pub(crate) struct Client {
    agent: ureq::Agent,
    /// Sent with every request (`authorization`, a collector's API key header).
    headers: Vec<(String, String)>,
}

impl Client {
    pub(crate) fn new(timeout: Duration, headers: Vec<(String, String)>) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .build()
            .into();
        Client { agent, headers }
    }

    /// POSTs `body`; `Ok(response text)` on a 2xx, the reason otherwise.
    pub(crate) fn post(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<String, StoreError> {
        let mut request = self.agent.post(url).header("content-type", content_type);
        for (name, value) in &self.headers {
            request = request.header(name.as_str(), value.as_str());
        }
        let mut response = request
            .send(body)
            .map_err(|e| StoreError::Backend(format!("{url}: {e}")))?;
        let status = response.status();
        let text = response
            .body_mut()
            .with_config()
            .limit(64 * 1024)
            .read_to_string()
            .unwrap_or_default();
        if status.is_success() {
            Ok(text)
        } else {
            Err(StoreError::Backend(format!(
                "{url} answered {}: {}",
                status.as_u16(),
                text.chars().take(300).collect::<String>()
            )))
        }
    }
}

/// `url` without a trailing slash, if it is an http(s) URL.
pub(crate) fn base_url(url: &str) -> Result<String, StoreError> {
    let trimmed = url.trim().trim_end_matches('/');
    if !(trimmed.starts_with("http://") || trimmed.starts_with("https://")) || trimmed.len() < 10 {
        return Err(StoreError::Open {
            path: url.to_string(),
            reason: "expected an http:// or https:// URL".into(),
        });
    }
    if trimmed.starts_with("https://") && !cfg!(feature = "tls") {
        return Err(StoreError::Open {
            path: url.to_string(),
            reason: "this build has no TLS (enable the `tls` feature of pathwise-export)".into(),
        });
    }
    Ok(trimmed.to_string())
}
