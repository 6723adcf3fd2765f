//! `pathwise serve`: the API and dashboard over a database, until Ctrl-C. The server also
//! records: OTLP exports posted to `/v1/traces` go through a recording pipeline of its own
//! into the same store.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use pathwise_ingest::{Ingest, IngestConfig};
use pathwise_pipeline::BatchPipeline;
use pathwise_server::{Limits, Server, ServerConfig};

use crate::ServeOpts;
use crate::error::{CliError, open_or_create_backend};
use crate::format::emit;

/// Serves `db` with `opts`; returns when interrupted.
pub fn serve(db: &Path, opts: &ServeOpts) -> Result<(), CliError> {
    // Checked before anything starts: an empty token must not quietly mean "no token".
    if opts.token.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(CliError::Input(
            "the token is empty (--token or PATHWISE_TOKEN): give one, or neither to serve \
             without a token"
                .into(),
        ));
    }
    let prices = Arc::new(prices(opts)?);
    // A missing file is created (the server records what it receives); a foreign one is an
    // input error.
    let backend = open_or_create_backend(db)?;
    // Checked before anything starts; the schedule stops with the server.
    let _reports = opts
        .reports
        .as_deref()
        .map(|file| crate::schedule::start(file, db, backend.clone()))
        .transpose()?;
    let spool = opts.spool.clone().unwrap_or_else(|| default_spool(db));
    let file = opts
        .projects
        .as_deref()
        .map(crate::projects::read)
        .transpose()?
        .unwrap_or_default();
    let default_retention =
        crate::projects::retention(file.default_retention.as_deref()).map_err(CliError::Input)?;
    let (pipeline, ingest) = record(&backend, &spool, default_retention, None, opts)?;
    let mut recording = vec![(pipeline.clone(), ingest.clone())];
    let mut more_projects = Vec::new();
    let base = opts
        .projects
        .as_deref()
        .and_then(Path::parent)
        .unwrap_or(Path::new("."));
    for entry in &file.project {
        let project_backend = open_or_create_backend(&entry.store(base))?;
        let retention =
            crate::projects::retention(entry.retention.as_deref()).map_err(CliError::Input)?;
        let project_spool = spool.join("projects").join(&entry.name);
        let (p, i) = record(
            &project_backend,
            &project_spool,
            retention,
            entry.retention_bytes,
            opts,
        )?;
        recording.push((p.clone(), i.clone()));
        more_projects.push(pathwise_server::ServedProject {
            ingest: Some(i),
            pipeline: Some(p),
            alert_rules: entry.alerts.as_ref().map(|a| base.join(a)),
            ..pathwise_server::ServedProject::new(entry.name.clone(), project_backend)
        });
    }
    let config = ServerConfig {
        listen: opts.listen,
        token: opts.token.clone(),
        cors_origins: opts.cors_origin.clone(),
        alert_rules: opts.alerts.clone(),
        alert_webhooks: opts.alert_webhook.clone(),
        ingest: Some(ingest),
        pipeline: Some(pipeline),
        limits: limits(opts),
        slow_query_threshold: Duration::from_millis(opts.slow_query_ms),
        project: file.default.clone().unwrap_or_else(|| "default".into()),
        more_projects,
        prices,
        ..ServerConfig::new(backend)
    };
    if !config.listen.ip().is_loopback() && config.token.is_none() {
        emit(&format!(
            "warning: serving on {} without a token: anyone who can reach it can read every trace\n",
            config.listen
        ))?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| CliError::Failed(format!("cannot start the server runtime: {e}")))?;
    let served = runtime.block_on(async {
        let server = Server::bind(config)
            .await
            .map_err(|e| CliError::Failed(e.to_string()))?;
        let addr: SocketAddr = server.local_addr();
        emit(&format!(
            "dashboard: http://{addr}/   OTLP/HTTP: http://{addr}/v1/traces   (Ctrl-C to stop)\n"
        ))?;
        server
            .run_until(stop_requested())
            .await
            .map_err(|e| CliError::Failed(e.to_string()))
    });
    drop(runtime); // the server's handles on the pipelines and ingests go with it
    // Spans still waiting for a parent are recorded as orphans, then everything is written.
    let mut finished = Ok(());
    for (pipeline, ingest) in recording {
        let result = ingest.finish();
        drop(ingest);
        if let Ok(pipeline) = Arc::try_unwrap(pipeline) {
            pipeline.shutdown();
        }
        finished = finished.and(result);
    }
    served?;
    finished.map_err(|e| CliError::Failed(format!("ingest could not finish: {e}")))
}

/// The shipped list prices with `--prices FILE` over them.
fn prices(opts: &ServeOpts) -> Result<pathwise_analysis::llm_cost::PriceTable, CliError> {
    let table = pathwise_analysis::llm_cost::PriceTable::list_prices();
    let Some(file) = &opts.prices else {
        return Ok(table);
    };
    let text = std::fs::read_to_string(file)
        .map_err(|e| CliError::Input(format!("cannot read {}: {e}", file.display())))?;
    table
        .with_toml(&text)
        .map_err(|e| CliError::Input(format!("{}: {e}", file.display())))
}

/// A recording pipeline into `backend` with its ingest: what a project receives goes through
/// them (spilling to `spool` while the store is behind).
fn record(
    backend: &Arc<dyn pathwise_store::Backend>,
    spool: &Path,
    retention: Option<Duration>,
    retention_bytes: Option<u64>,
    opts: &ServeOpts,
) -> Result<(Arc<BatchPipeline>, Arc<Ingest>), CliError> {
    let pipeline_config = pathwise_pipeline::PipelineConfig {
        // Without a configured retention, the data's owner (the app or the retention job)
        // decides what is old, not the server.
        retention,
        retention_bytes,
        store_stats: false,
        privacy: privacy(opts),
        ..pathwise_pipeline::PipelineConfig::new(spool)
    };
    let writer = backend
        .writer()
        .map_err(|e| CliError::Failed(format!("cannot open the store for writing: {e}")))?;
    let pipeline = BatchPipeline::start(pipeline_config, writer).map_err(|e| {
        CliError::Failed(format!("cannot start recording ({}): {e}", spool.display()))
    })?;
    let pipeline = Arc::new(pipeline);
    let ingest = Arc::new(Ingest::with_sink(
        IngestConfig {
            set_aside_dir: Some(spool.join("newer")),
            ack_timeout: Duration::from_millis(opts.ack_timeout_ms),
            ..IngestConfig::default()
        },
        Box::new(pipeline.clone()),
    ));
    ingest
        .spawn_sweeper(Duration::from_secs(1))
        .map_err(|e| CliError::Failed(format!("cannot start the ingest sweeper: {e}")))?;
    Ok((pipeline, ingest))
}

/// Ctrl-C, or `SIGTERM` (what `docker stop` and systemd send): either stops the server the
/// same graceful way, with held spans rooted and the backlog written.
async fn stop_requested() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| eprintln!("pathwise: warning: SIGTERM is not handled: {e}"))
        .ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async {
            match terminate.as_mut() {
                Some(signal) => { signal.recv().await; }
                None => std::future::pending::<()>().await,
            }
        } => {}
    }
}

/// What `--privacy-hash` and `--privacy-drop` ask for; `recommended` stands for the
/// documented default list.
fn privacy(opts: &ServeOpts) -> Option<pathwise_pipeline::Privacy> {
    if opts.privacy_hash.is_empty() && opts.privacy_drop.is_empty() {
        return None;
    }
    let mut privacy = pathwise_pipeline::Privacy::default();
    for name in &opts.privacy_hash {
        if name == "recommended" {
            privacy
                .hash
                .extend(pathwise_pipeline::Privacy::recommended().hash);
        } else {
            privacy.hash.push(name.clone());
        }
    }
    privacy.drop = opts.privacy_drop.clone();
    Some(privacy)
}

/// The server's limits: the defaults, with what the options change.
fn limits(opts: &ServeOpts) -> Limits {
    let mut limits = Limits::default();
    if let Some(n) = opts.max_connections {
        limits.max_connections = n as usize;
    }
    if let Some(d) = opts.header_timeout {
        limits.header_read_timeout = d;
    }
    if let Some(d) = opts.request_timeout {
        limits.request_timeout = d;
    }
    if let Some(d) = opts.handler_budget {
        limits.handler_budget = d;
    }
    limits
}

/// The server's own spool, next to a SQLite file (never the app's `<db>.spool`: two processes
/// must not share spill files), or in the working directory for a remote store.
fn default_spool(db: &Path) -> PathBuf {
    let text = db.to_string_lossy();
    if text.contains("://") {
        return PathBuf::from("pathwise-server.spool");
    }
    let mut dir = text.strip_prefix("sqlite:").unwrap_or(&text).to_string();
    dir.push_str(".server-spool");
    PathBuf::from(dir)
}
