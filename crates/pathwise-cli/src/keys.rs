//! `pathwise keys create|list|revoke`: API keys for remote senders and readers.

use pathwise_store::keys::{ApiKey, Scope};

use crate::error::{CliError, open_backend, open_or_create_backend};
use crate::format::{emit, utc_iso};
use crate::{KeysArgs, KeysCommand};

pub fn run(args: &KeysArgs) -> Result<(), CliError> {
    let db = &args.db;
    let backend = match &args.command {
        KeysCommand::Create { .. } => open_or_create_backend(&db.db)?,
        _ => open_backend(&db.db)?,
    };
    let mut store = backend
        .key_store()
        .map_err(|e| CliError::Failed(format!("this store keeps no API keys: {e}")))?;
    match &args.command {
        KeysCommand::Create {
            name,
            scope,
            project,
        } => {
            let mut scopes = Vec::new();
            for text in scope {
                let parsed = Scope::parse(text).ok_or_else(|| {
                    CliError::Input(format!("unknown scope {text:?}: use ingest, read or admin"))
                })?;
                if !scopes.contains(&parsed) {
                    scopes.push(parsed);
                }
            }
            for p in project {
                crate::projects::check_name(p).map_err(CliError::Input)?;
            }
            let (row, text) = pathwise_server::keys::generate(name, scopes, project.clone());
            store
                .create_key(&row)
                .map_err(|e| CliError::Failed(e.to_string()))?;
            emit(&format!(
                "{text}\n\nkey {} ({}) for {:?}: shown once, store it now. Servers accept it within {} s.\n",
                row.id,
                ApiKey::scopes_text(&row.scopes, &row.projects),
                row.name,
                pathwise_server::keys::REFRESH.as_secs()
            ))
        }
        KeysCommand::List { json } => {
            let keys = store.keys().map_err(|e| CliError::Failed(e.to_string()))?;
            if *json {
                let rows: Vec<_> = keys
                    .iter()
                    .map(|k| {
                        serde_json::json!({
                            "id": k.id, "name": k.name, "scopes": Scope::join(&k.scopes), "projects": k.projects,
                            "created_ns": k.created_ns, "revoked_ns": k.revoked_ns,
                            "last_used_ns": k.last_used_ns, "uses": k.uses,
                        })
                    })
                    .collect();
                return emit(&format!("{}\n", serde_json::Value::Array(rows)));
            }
            let mut out = format!(
                "{:<14} {:<20} {:<18} {:<22} {:<22} {:>8}  {}\n",
                "ID", "NAME", "SCOPES", "CREATED", "LAST USED", "USES", "STATE"
            );
            for k in &keys {
                out.push_str(&format!(
                    "{:<14} {:<20} {:<18} {:<22} {:<22} {:>8}  {}\n",
                    k.id,
                    crate::format::excerpt(&k.name, 20),
                    ApiKey::scopes_text(&k.scopes, &k.projects),
                    utc_iso(k.created_ns),
                    k.last_used_ns.map_or_else(|| "never".to_string(), utc_iso),
                    k.uses,
                    k.revoked_ns.map_or_else(
                        || "active".to_string(),
                        |t| format!("revoked {}", utc_iso(t))
                    )
                ));
            }
            if keys.is_empty() {
                out.push_str("(no keys: the server is open, or guarded by --token alone)\n");
            }
            emit(&out)
        }
        KeysCommand::Revoke { id } => {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as i64);
            if store
                .revoke_key(id, now)
                .map_err(|e| CliError::Failed(e.to_string()))?
            {
                emit(&format!(
                    "revoked {id}; servers refuse it within {} s\n",
                    pathwise_server::keys::REFRESH.as_secs()
                ))
            } else {
                Err(CliError::Failed(format!(
                    "no active key {id:?} (see `pathwise keys list`)"
                )))
            }
        }
    }
}
