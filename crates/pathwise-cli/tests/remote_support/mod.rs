//! A real `pathwise serve` child process for the exporter tests.
#![allow(dead_code)]

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_pathwise");
pub const TOKEN: &str = "remote-test-token";

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A running server; killed if a failing test drops it (a leaked child would hold the test's
/// output open).
pub struct Server(Option<Child>);

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

pub fn start_server(db: &Path, port: u16) -> Server {
    let listen = format!("127.0.0.1:{port}");
    let args: [&OsStr; 5] = [
        "serve".as_ref(),
        "--listen".as_ref(),
        listen.as_ref(),
        "--db".as_ref(),
        db.as_os_str(),
    ];
    spawn_serving(&args, Some(TOKEN))
}

/// Runs `pathwise` with `args` (a `serve` command line), waiting for the first line it prints
/// once the port is bound.
pub fn spawn_serving(args: &[&OsStr], token: Option<&str>) -> Server {
    let mut command = Command::new(BIN);
    command.args(args).stdout(Stdio::piped());
    if let Some(token) = token {
        command.env("PATHWISE_TOKEN", token);
    }
    let mut child = command.spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("dashboard: http://"), "{line:?}");
    Server(Some(child))
}

/// Stops the server at once, as `kill -9` does.
pub fn kill(mut server: Server) {
    if let Some(mut child) = server.0.take() {
        child.kill().unwrap();
        child.wait().unwrap();
    }
}

pub fn stop(mut server: Server) {
    let Some(mut child) = server.0.take() else {
        return;
    };
    // SIGINT: the server finishes what it acknowledged and exits.
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
}

/// One HTTP/1.1 request over a fresh connection: `(status code, head, body)`.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let text = String::from_utf8_lossy(&response).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, head.to_string(), body.to_string())
}

/// Runs the `pathwise` command; its stdout, or a panic with its stderr.
pub fn pathwise(args: &[&str]) -> String {
    let out = Command::new(BIN).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "pathwise {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}
