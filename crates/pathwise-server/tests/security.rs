//! Requests a browser can be made to send from another site, sign-in sessions, login attempts
//! and the headers every answer carries.

mod common;

use std::time::Duration;

use pathwise_server::{Limits, ServeError, Server, ServerConfig};
use reqwest::StatusCode;
use serde_json::Value;

const TOKEN: &str = "s3cret-token";

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_site_requests_cannot_change_state() {
    // No token: the case where a forged request needs no credential at all.
    let (_dir, addr) = common::alerting_server(common::FAILED_SPANS_RULE);
    let fingerprint = common::firing_fingerprint(addr).await;
    let silence = format!("http://{addr}/api/silences?rule=failed%20spans&for=24h");
    let ack = format!("http://{addr}/api/alerts/{fingerprint}/ack");
    let plain = reqwest::Client::new();
    let action = common::action_client();

    // A form POST from another site.
    let form = plain
        .post(&silence)
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), StatusCode::FORBIDDEN);
    let body: Value = form.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("evil.example")
    );
    // A fetch from another site, even one that sends the header (only CORS could allow that).
    let fetch = action
        .post(&ack)
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(fetch.status(), StatusCode::FORBIDDEN);
    // Without Origin, the Referer names the page.
    let referred = action
        .post(&ack)
        .header("referer", "https://evil.example/page.html")
        .send()
        .await
        .unwrap();
    assert_eq!(referred.status(), StatusCode::FORBIDDEN);
    // A `no-cors` fetch cannot send the header: without it, a state-changing call is refused.
    let bare = plain.post(&ack).send().await.unwrap();
    assert_eq!(bare.status(), StatusCode::FORBIDDEN);
    // A login from another site (signing a victim in as someone else).
    let login = login_form(&plain, addr, "x")
        .header("origin", "https://evil.example")
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::FORBIDDEN);

    // The dashboard's own requests, and programs sending the header, go through.
    let own = action
        .post(&ack)
        .header("origin", format!("http://{addr}"))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), StatusCode::OK);
    let program = action.post(&silence).send().await.unwrap();
    assert_eq!(program.status(), StatusCode::OK);
    let (_, alerts) = get_json(&format!("http://{addr}/api/alerts")).await;
    assert_eq!(alerts["silences"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn bearer_clients_need_no_extra_header() {
    let addr = common::start_server(ServerConfig {
        token: Some(TOKEN.into()),
        cors_origins: vec!["https://ops.example".into()],
        ..ServerConfig::new(common::backend(common::fixture_db()))
    });
    let client = reqwest::Client::new();
    // No alerting here: 404 says the request got through the guard.
    let bearer = client
        .post(format!("http://{addr}/api/alerts/abc/ack"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(bearer.status(), StatusCode::NOT_FOUND);
    // A configured CORS origin counts as the server's own.
    let ops = client
        .post(format!("http://{addr}/api/alerts/abc/ack"))
        .bearer_auth(TOKEN)
        .header("origin", "https://ops.example")
        .send()
        .await
        .unwrap();
    assert_eq!(ops.status(), StatusCode::NOT_FOUND);
}

async fn get_json(url: &str) -> (StatusCode, Value) {
    let response = reqwest::get(url).await.unwrap();
    (
        response.status(),
        response.json().await.unwrap_or(Value::Null),
    )
}

/// The login form's POST, as the page sends it.
fn login_form(
    client: &reqwest::Client,
    addr: std::net::SocketAddr,
    token: &str,
) -> reqwest::RequestBuilder {
    client
        .post(format!("http://{addr}/login"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("token={token}"))
}

async fn sign_in(client: &reqwest::Client, addr: std::net::SocketAddr) -> reqwest::Response {
    login_form(client, addr, TOKEN).send().await.unwrap()
}

#[tokio::test]
async fn signing_in_opens_a_session_that_expires() {
    let addr = common::start_server(ServerConfig {
        token: Some(TOKEN.into()),
        limits: Limits {
            session_ttl: Duration::from_secs(1),
            ..Limits::default()
        },
        ..ServerConfig::new(common::backend(common::fixture_db()))
    });
    let client = no_redirects();
    let login = sign_in(&client, addr).await;
    assert_eq!(login.status(), StatusCode::SEE_OTHER);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=1"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let pair = cookie.split(';').next().unwrap().to_string();
    let (name, id) = pair.split_once('=').unwrap();
    assert!(
        !cookie.contains(TOKEN),
        "the cookie never holds the token: {cookie}"
    );
    assert_eq!(id.len(), 64);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));

    let traces = format!("http://{addr}/api/traces");
    let with = |value: String| client.get(&traces).header("cookie", value).send();
    assert_eq!(with(pair.clone()).await.unwrap().status(), StatusCode::OK);
    // The token itself, or a made-up id, is no session.
    let forged = with(format!("{name}={TOKEN}")).await.unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    let made_up = with(format!("{name}={}", "0".repeat(64))).await.unwrap();
    assert_eq!(made_up.status(), StatusCode::UNAUTHORIZED);
    // A second sign-in is a different session.
    let again = sign_in(&client, addr).await;
    assert_ne!(again.headers()["set-cookie"].to_str().unwrap(), cookie);

    tokio::time::sleep(Duration::from_millis(1300)).await;
    let expired = with(pair).await.unwrap();
    assert_eq!(expired.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn sign_in_attempts_are_rate_limited() {
    let addr = common::start_server(ServerConfig {
        token: Some(TOKEN.into()),
        ..ServerConfig::new(common::backend(common::fixture_db()))
    });
    let client = no_redirects();
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for i in 0..30 {
        let response = login_form(&client, addr, &format!("guess-{i}"))
            .send()
            .await
            .unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = response.headers().get("retry-after").cloned();
        }
        statuses.push(response.status());
    }
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(refused >= 15, "a burst of 30 guesses: {statuses:?}");
    assert_eq!(retry_after.unwrap(), "1");
    // Once the client slows down, the right token works again.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(sign_in(&client, addr).await.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let addr = common::fixture_server();
    let client = reqwest::Client::new();
    for (method, path) in [
        ("GET", "/health"),
        ("GET", "/"),
        ("GET", "/api/traces"),
        ("GET", "/api/nope"),
        ("GET", "/api/traces?limit=x"),
        ("POST", "/api/silences"),
    ] {
        let response = client
            .request(method.parse().unwrap(), format!("http://{addr}{path}"))
            .send()
            .await
            .unwrap();
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["x-frame-options"], "SAMEORIGIN", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
    }
}

#[tokio::test]
async fn an_empty_token_is_refused_at_startup() {
    for empty in ["", "  "] {
        let config = ServerConfig {
            token: Some(empty.into()),
            ..ServerConfig::new(common::backend(common::fixture_db()))
        };
        let refused = Server::bind(config).await.err();
        assert!(
            matches!(refused, Some(ServeError::EmptyToken)),
            "{refused:?}"
        );
    }
}
