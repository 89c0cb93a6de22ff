//! Test harness: temp dirs, the binary, a server process, signing, HTTP.

use base64::Engine as _;
use ed25519_dalek::SigningKey;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;
use truce_log::Envelope;
use truce_model::Kind;

pub const ORIGIN: &str = "truce.example/golan-1974";

pub fn truce() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_truce"));
    c.env_remove("TRUCE_SERVER")
        .env_remove("TRUCE_KEY")
        .env_remove("TRUCE_VKEY")
        .env_remove("TRUCE_TOKEN");
    c
}

/// Runs a command, printing everything useful if `want_success` is not met.
pub fn run(cmd: &mut Command, want_success: bool) -> Output {
    let out = cmd.output().expect("run truce");
    if out.status.success() != want_success {
        panic!(
            "command {:?} exited {:?}\n--- stdout\n{}\n--- stderr\n{}",
            cmd,
            out.status.code(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    out
}

pub fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// An initialised mechanism in a temp dir.
pub struct Mechanism {
    pub tmp: tempfile::TempDir,
    pub data: PathBuf,
    pub vkey: String,
}

impl Mechanism {
    /// `truce init` with `args` into a new temporary directory.
    fn init(args: &[&str]) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("m");
        let out = run(truce().args(["--json", "init"]).args(args).arg(&data), true);
        let vkey = stdout_json(&out)["verifier_key"]
            .as_str()
            .unwrap()
            .to_owned();
        Self { tmp, data, vkey }
    }

    pub fn golan() -> Self {
        Self::init(&[])
    }

    /// The Golan scenario with its log in a PostgreSQL database (`truce init --database URL`,
    /// which records the URL in the directory: `serve` and `token` find it there).
    pub fn golan_on_postgres(url: &str) -> Self {
        Self::init(&["--database", url])
    }

    /// The Golan scenario with local witnesses for SY, IL and UNDOF (`truce init --witnesses`).
    pub fn golan_with_witnesses() -> Self {
        Self::init(&["--witnesses"])
    }

    pub fn empty() -> Self {
        Self::init(&["--empty"])
    }

    pub fn key_path(&self, member: &str) -> PathBuf {
        self.data.join("keys").join(format!("{member}.key"))
    }

    pub fn key(&self, member: &str) -> SigningKey {
        load_key(&self.key_path(member))
    }

    pub fn serve(&self) -> Server {
        Server::start(&self.data)
    }

    /// A new API token for `member` (`truce token create`).
    pub fn token(&self, member: &str, scope: &str) -> String {
        make_token(&self.data, member, scope, "30d").expect("truce token create")
    }
}

/// `truce token create`, or its error output.
pub fn make_token(data: &Path, member: &str, scope: &str, expires: &str) -> Result<String, String> {
    let out = truce()
        .args([
            "--json",
            "token",
            "create",
            "--member",
            member,
            "--scope",
            scope,
            "--expires",
            expires,
            "--data",
        ])
        .arg(data)
        .output()
        .expect("run truce token create");
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr));
    }
    Ok(stdout_json(&out)["token"].as_str().unwrap().to_owned())
}

pub fn load_key(path: &Path) -> SigningKey {
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let seed = base64::engine::general_purpose::STANDARD
        .decode(v["secret_key"].as_str().unwrap())
        .unwrap();
    SigningKey::from_bytes(&seed.try_into().unwrap())
}

/// A `truce serve` process on 127.0.0.1 with an ephemeral port; killed on drop.
pub struct Server {
    pub child: Child,
    pub url: String,
    data: PathBuf,
    /// A write token of the mediator's officer, made once the log has an agreement.
    token: std::sync::OnceLock<String>,
}

impl Server {
    /// Starts a server whose rate limit is out of the way of tests that read a lot.
    pub fn start(data: &Path) -> Self {
        Self::start_with(
            data,
            &["--rate-limit", "1000000", "--rate-burst", "1000000"],
        )
    }

    /// Starts a server with extra `truce serve` arguments.
    pub fn start_with(data: &Path, extra: &[&str]) -> Self {
        let mut child = truce()
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(extra)
            .env("TRUCE_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn truce serve");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("listening on ") {
                    let _ = tx.send(url.to_owned());
                }
            }
        });
        let Ok(url) = rx.recv_timeout(Duration::from_secs(120)) else {
            // Not left running after the test.
            let _ = child.kill();
            let _ = child.wait();
            panic!("server did not start within 120 s");
        };
        Self {
            child,
            url,
            data: data.to_owned(),
            token: std::sync::OnceLock::new(),
        }
    }

    /// The test's API token (`us.ops`, write scope); none while the log has no agreement (then
    /// every endpoint is open).
    pub fn token(&self) -> Option<&str> {
        if let Some(t) = self.token.get() {
            return Some(t);
        }
        let t = make_token(&self.data, "us.ops", "write", "1d").ok()?;
        Some(self.token.get_or_init(|| t))
    }

    /// The `truce` command with this server's token in TRUCE_TOKEN.
    pub fn truce(&self) -> Command {
        let mut c = truce();
        if let Some(t) = self.token() {
            c.env("TRUCE_TOKEN", t);
        }
        c
    }

    /// Adds the test's token to a request.
    pub fn auth<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        match self.token() {
            Some(t) => req.header("authorization", format!("Bearer {t}")),
            None => req,
        }
    }

    /// SIGTERM: a graceful shutdown (the server saves its derived state), waited for.
    pub fn stop(mut self) -> PathBuf {
        let pid = self.child.id().to_string();
        let status = Command::new("kill").args(["-TERM", &pid]).status();
        assert!(status.is_ok_and(|s| s.success()), "kill -TERM {pid}");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "server did not stop within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.data.clone()
    }

    /// Waits until the server has published a state commitment for its whole log; returns it.
    pub fn settled_commitment(&self) -> Value {
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let size = self.tree_size();
            let (status, body) = self.get("/v1/state/commitment");
            if status == 200 {
                let c: Value = serde_json::from_slice(&body).unwrap();
                if c["size"].as_u64() == Some(size) {
                    return c;
                }
            }
            assert!(
                std::time::Instant::now() < deadline,
                "no state commitment for {size} entries within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// SIGKILL, no shutdown.
    pub fn kill9(mut self) -> PathBuf {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.data.clone()
    }

    pub fn agent(&self) -> ureq::Agent {
        agent()
    }

    pub fn get(&self, path: &str) -> (u16, Vec<u8>) {
        http(
            self.auth(self.agent().get(format!("{}{path}", self.url)))
                .call(),
        )
    }

    pub fn get_json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(
            status,
            200,
            "GET {path}: {}",
            String::from_utf8_lossy(&body)
        );
        serde_json::from_slice(&body).unwrap()
    }

    pub fn post(&self, path: &str, body: &[u8]) -> (u16, Value) {
        let (status, body) = http(
            self.agent()
                .post(format!("{}{path}", self.url))
                .header("content-type", "application/json")
                .send(body),
        );
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    pub fn put(&self, path: &str, body: &[u8]) -> (u16, Value) {
        let (status, body) = http(
            self.auth(self.agent().put(format!("{}{path}", self.url)))
                .send(body),
        );
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// The first `size` logged leaves, mirrored over the tiles API (entry bundles).
    pub fn leaves(&self, size: u64) -> Vec<Vec<u8>> {
        use truce_log::tiles::{TILE_WIDTH, TileRef, decode_bundle};
        let mut leaves = Vec::new();
        let mut index = 0;
        while index < size {
            let t = TileRef {
                level: None,
                index: index / TILE_WIDTH,
                width: (size - index).min(TILE_WIDTH) as u16,
            };
            let (status, bundle) = self.get(&format!("/log/{}", t.path()));
            assert_eq!(status, 200, "{}", t.path());
            leaves.extend(
                decode_bundle(&bundle)
                    .unwrap()
                    .into_iter()
                    .map(<[u8]>::to_vec),
            );
            index += u64::from(t.width);
        }
        leaves
    }

    pub fn tree_size(&self) -> u64 {
        self.get_json("/healthz")["tree_size"].as_u64().unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

pub fn http(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Vec<u8>) {
    let mut r = r.expect("HTTP request");
    let status = r.status().as_u16();
    let body = r
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .unwrap();
    (status, body)
}

/// Signs an entry with explicit parts (so tests can forge any of them).
pub fn sign_with(
    key: &SigningKey,
    origin: &str,
    kind: &str,
    author: &str,
    created: &str,
    body: &Value,
) -> Envelope {
    let payload = serde_json::json!({
        "v": 1, "mechanism": origin, "kind": kind, "author": author, "created": created, "body": body
    });
    Envelope::sign(
        truce_log::dsse::ENTRY_PAYLOAD_TYPE,
        serde_json::to_vec(&payload).unwrap(),
        key,
    )
}

pub fn now() -> String {
    jiff::Timestamp::now()
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// A valid report body with a distinguishing narrative.
pub fn report(narrative: &str) -> Value {
    let mut r: Value = serde_json::from_str(include_str!(
        "../../../../scenarios/golan-1974/examples/report-shelling.json"
    ))
    .unwrap();
    r["narrative"] = narrative.into();
    r
}

pub fn sign_report(m: &Mechanism, member: &str, narrative: &str) -> Envelope {
    sign_with(
        &m.key(member),
        ORIGIN,
        Kind::Report.as_str(),
        member,
        &now(),
        &report(narrative),
    )
}

pub fn write_json(dir: &Path, name: &str, v: &Value) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec(v).unwrap()).unwrap();
    p
}

/// Runs `truce <args> --key <member's key> --out <dir>/receipts`.
pub fn as_member(
    s: &Server,
    m: &Mechanism,
    member: &str,
    args: &[&str],
    want_success: bool,
) -> Output {
    run(
        s.truce()
            .args(args)
            .arg("--key")
            .arg(m.key_path(member))
            .arg("--out")
            .arg(m.tmp.path().join("receipts")),
        want_success,
    )
}
