//! `POST /v1/traces`: OTLP/HTTP trace export, the endpoint OpenTelemetry exporters are pointed
//! at. The body is read up to the ingest limit (its own, far above the API's), then decoded,
//! mapped and assembled on the blocking pool by `pathwise-ingest`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::keys::Grant;
use crate::state::{AppState, ProjectState, Scoped};

fn refuse(status: StatusCode, message: String) -> Response {
    crate::error::error_response(status, None, &message)
}

/// The header naming the project a request's spans belong to (the SDK's remote exporter
/// sends its `Config::project`); `?project=` says the same.
pub const PROJECT_HEADER: &str = "x-pathwise-project";

/// Where a request's spans go unless their resource says otherwise: the project it names
/// (header or `?project=`), else the one project its key is limited to, else the default.
fn request_project(
    app: &AppState,
    grant: &Grant,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Arc<ProjectState>, (StatusCode, String)> {
    let bad = |message: String| (StatusCode::BAD_REQUEST, message);
    let from_query = crate::params::Params::parse(query.unwrap_or(""))
        .and_then(|p| p.project())
        .map_err(|e| bad(e.to_string()))?;
    let from_header = match header_text(headers, HeaderName::from_static(PROJECT_HEADER)) {
        Some(name) => {
            crate::check_project_name(name.trim()).map_err(bad)?;
            Some(name.trim().to_string())
        }
        None => None,
    };
    let named = from_header
        .or(from_query)
        .or_else(|| match &grant.projects {
            Some(only) if only.len() == 1 => Some(only[0].clone()),
            _ => None,
        });
    let project = match named {
        Some(name) => app.project(&name).cloned().ok_or_else(|| {
            (
                StatusCode::NOT_FOUND,
                format!("no project {name:?} on this server"),
            )
        })?,
        None => app.default_project().clone(),
    };
    if !grant.reaches(&project.name) {
        return Err((
            StatusCode::FORBIDDEN,
            format!("this key may not send to project {:?}", project.name),
        ));
    }
    Ok(project)
}

/// A request body read up to the ingest limit, with what it says about itself.
struct Received {
    project: Arc<ProjectState>,
    ingest: Arc<pathwise_ingest::Ingest>,
    bytes: axum::body::Bytes,
    content_type: Option<String>,
    content_encoding: Option<String>,
}

/// Reads the body for the ingest endpoints; or the refusal to send.
async fn receive(
    app: &AppState,
    grant: &Grant,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
) -> Result<Received, Response> {
    let project = request_project(app, grant, headers, uri.query())
        .map_err(|(status, message)| refuse(status, message))?;
    let Some(ingest) = project.ingest.clone() else {
        return Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "ingest is off for project {:?}: this server runs no recording pipeline for it",
                project.name
            ),
        ));
    };
    let limit = ingest.limits().max_body_bytes;
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => Ok(Received {
            project,
            ingest,
            bytes,
            content_type: header_text(headers, header::CONTENT_TYPE),
            content_encoding: header_text(headers, header::CONTENT_ENCODING),
        }),
        Err(_) => Err(refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body is larger than {limit} bytes (or was cut off)"),
        )),
    }
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Runs ingest work on the blocking pool; its error becomes the status it names.
async fn on_blocking_pool<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, pathwise_ingest::IngestError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(refuse(
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::BAD_REQUEST),
            error.to_string(),
        )),
        Err(e) => Err(refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("ingest task failed: {e}"),
        )),
    }
}

/// `POST /v1/traces`: OTLP/HTTP export; the reply in the request's encoding. A resource whose
/// `service.namespace` names a served project goes to that project; the rest to the
/// request's (see [`request_project`]). Spans for a project the key may not reach, or that
/// records nothing, are rejected in the partial success.
pub async fn otlp_traces(
    State(app): State<Arc<AppState>>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    let r = receive(&app, &grant, &uri, &headers, body).await?;
    let reply = on_blocking_pool(move || {
        let decoded = pathwise_ingest::Decoded::read(
            &r.bytes,
            r.content_type.as_deref(),
            r.content_encoding.as_deref(),
            r.ingest.limits(),
        )?;
        let encoding = decoded.encoding();
        let (parts, mut outcome) = decoded.split(|namespace| {
            let project = namespace
                .and_then(|ns| app.project(ns))
                .unwrap_or(&r.project);
            if !grant.reaches(&project.name) {
                return Err(format!(
                    "this key may not send to project {:?}",
                    project.name
                ));
            }
            if project.ingest.is_none() {
                return Err(format!("project {:?} records nothing here", project.name));
            }
            Ok(project.name.clone())
        });
        for (name, part) in parts {
            let ingest = app
                .project(&name)
                .and_then(|p| p.ingest.clone())
                .expect("split names only projects with ingest");
            outcome.merge(ingest.export_decoded(part)?);
        }
        Ok(outcome.reply(encoding))
    })
    .await?;
    Ok(([(header::CONTENT_TYPE, reply.content_type)], reply.body).into_response())
}

/// `POST /v1/pathwise/frames`: native submission from a Pathwise SDK's remote exporter.
pub async fn frames(
    State(app): State<Arc<AppState>>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    let r = receive(&app, &grant, &uri, &headers, body).await?;
    let content_type = r.content_type.clone().unwrap_or_default();
    if !content_type.starts_with(pathwise_ingest::FRAMES_CONTENT_TYPE) {
        return Err(refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "send {} (got {content_type:?})",
                pathwise_ingest::FRAMES_CONTENT_TYPE
            ),
        ));
    }
    let reply = on_blocking_pool(move || {
        r.ingest
            .submit_frames(&r.bytes, r.content_encoding.as_deref())
    })
    .await?;
    Ok(axum::Json(reply).into_response())
}

/// `POST /v1/pathwise/functions`: the sender's `#[monitor]`ed functions, so "never executed"
/// is exact for remote applications too.
pub async fn functions(
    State(app): State<Arc<AppState>>,
    Extension(grant): Extension<Grant>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let project = match request_project(&app, &grant, &headers, uri.query()) {
        Ok(project) => project,
        Err((status, message)) => return refuse(status, message),
    };
    if project.ingest.is_none() {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("ingest is off for project {:?}", project.name),
        );
    }
    let Ok(bytes) = axum::body::to_bytes(body, 16 << 20).await else {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "function list larger than 16 MiB".into(),
        );
    };
    let list = match function_list(&bytes) {
        Ok(list) => list,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, format!("not a function list: {e}")),
    };
    let count = list.len();
    let scoped = Scoped {
        app,
        project,
        grant,
    };
    let stored = scoped
        .write(move |store| store.register_functions(&list))
        .await;
    match stored {
        Ok(()) => axum::Json(json!({ "registered": count })).into_response(),
        Err(e) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("cannot register functions: {e}"),
        ),
    }
}

/// A JSON array of function objects. Each entry is checked to be an object first: serde would
/// also read a function from an array of its fields in order.
fn function_list(bytes: &[u8]) -> Result<Vec<pathwise_store::FunctionInfo>, String> {
    let entries: Vec<serde_json::Value> =
        serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    entries
        .into_iter()
        .map(|entry| {
            if !entry.is_object() {
                return Err(format!("{entry} is not an object"));
            }
            serde_json::from_value(entry).map_err(|e| e.to_string())
        })
        .collect()
}
