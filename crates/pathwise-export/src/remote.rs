//! The pipeline's sink as a remote Pathwise server: records go as versioned record frames to
//! `POST /v1/pathwise/frames`, which answers after its own commit. A refused or failed send is
//! an error to the writer, which keeps the records on disk and sends them again, in order,
//! when the server is back (the server keeps one copy per span id, so a repeat is harmless).

use std::time::Duration;

use pathwise_model::{Record, codec};
use pathwise_store::{FunctionInfo, PathDictionary, Store, StoreError, WriteBatch, path_segments};

use crate::http::{Client, base_url};

/// Sends to a Pathwise server (`pathwise serve`).
///
/// ```
/// use pathwise_export::RemoteStore;
/// assert!(RemoteStore::new("http://127.0.0.1:7070", Some("key".into())).is_ok());
/// assert!(RemoteStore::new("ftp://example", None).is_err());
/// ```
pub struct RemoteStore {
    base: String,
    client: Client,
}

impl RemoteStore {
    /// A sink sending to the server at `url` with the bearer `key` (an ingest key).
    pub fn new(url: &str, key: Option<String>) -> Result<Self, StoreError> {
        Self::with_headers(url, key, Vec::new())
    }

    /// As [`RemoteStore::new`], with more headers on every request (`x-pathwise-project`).
    ///
    /// ```
    /// use pathwise_export::RemoteStore;
    /// let headers = vec![("x-pathwise-project".to_string(), "billing".to_string())];
    /// assert!(RemoteStore::with_headers("http://127.0.0.1:7070", None, headers).is_ok());
    /// ```
    pub fn with_headers(
        url: &str,
        key: Option<String>,
        mut headers: Vec<(String, String)>,
    ) -> Result<Self, StoreError> {
        headers.extend(key.map(|k| ("authorization".to_string(), format!("Bearer {k}"))));
        Ok(RemoteStore {
            base: base_url(url)?,
            client: Client::new(Duration::from_secs(30), headers),
        })
    }
}

/// Encodes records as frames, paths as names.
pub fn encode_frames(
    records: &[Record],
    paths: &dyn PathDictionary,
) -> Result<Vec<u8>, StoreError> {
    let mut body = Vec::with_capacity(records.len() * 128);
    for record in records {
        let names = match record {
            Record::Span(span) => path_segments(paths, span.path, &span.name),
            Record::Trace(_) | Record::Resource(_) => Vec::new(),
        };
        codec::write_record(&mut body, record, &names)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
    }
    Ok(body)
}

impl Store for RemoteStore {
    /// Sends the batch in requests within the server's limits (a writer round replaying a
    /// spill segment holds far more than one request may carry). A failure part-way makes the
    /// writer send the whole batch again; the server keeps one copy of each span.
    fn write_batch(
        &mut self,
        batch: &WriteBatch<'_>,
        paths: &dyn PathDictionary,
    ) -> Result<(), StoreError> {
        let url = format!("{}/v1/pathwise/frames", self.base);
        // Statistics and cache counters stay with the sending process.
        for chunk in crate::chunks(batch.records) {
            let body = encode_frames(chunk, paths)?;
            self.client
                .post(&url, "application/x-pathwise-frames", &body)?;
        }
        Ok(())
    }

    fn register_functions(&mut self, functions: &[FunctionInfo]) -> Result<(), StoreError> {
        let body = serde_json::to_vec(functions).map_err(|e| StoreError::Backend(e.to_string()))?;
        let url = format!("{}/v1/pathwise/functions", self.base);
        self.client.post(&url, "application/json", &body).map(drop)
    }

    /// Retention is the server's business.
    fn delete_before(&mut self, _cutoff_unix_ms: u64) -> Result<u64, StoreError> {
        Ok(0)
    }
}
