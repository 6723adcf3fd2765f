//! `pathwise serve`: the API and dashboard over a database, until Ctrl-C.

use std::net::SocketAddr;
use std::path::Path;

use pathwise_server::{Server, ServerConfig};

use crate::ServeOpts;
use crate::error::{CliError, open_backend};
use crate::format::emit;

/// Serves `db` with `opts`; returns when interrupted.
pub fn serve(db: &Path, opts: &ServeOpts) -> Result<(), CliError> {
    let backend = open_backend(db)?; // a missing or foreign database is an input error
    let config = ServerConfig {
        listen: opts.listen,
        token: opts.token.clone().filter(|t| !t.is_empty()),
        cors_origins: opts.cors_origin.clone(),
        alert_rules: opts.alerts.clone(),
        alert_webhooks: opts.alert_webhook.clone(),
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
    runtime.block_on(async {
        let server = Server::bind(config)
            .await
            .map_err(|e| CliError::Failed(e.to_string()))?;
        let addr: SocketAddr = server.local_addr();
        emit(&format!("dashboard: http://{addr}/   (Ctrl-C to stop)\n"))?;
        server
            .run_until(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| CliError::Failed(e.to_string()))
    })
}
