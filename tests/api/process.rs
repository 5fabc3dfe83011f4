//! Runs the real `latchkey` binary, as an operator would.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::helpers::{random_master_key, TestDatabase};

pub struct Latchkey {
    pub db: TestDatabase,
    pub master_key: String,
}

impl Latchkey {
    pub async fn new() -> Self {
        Latchkey {
            db: TestDatabase::new().await,
            master_key: random_master_key(),
        }
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_latchkey"));
        command
            .args(args)
            .current_dir(self.db.dir.path())
            .env_remove("RUST_LOG")
            .env_remove("LATCHKEY_ENV")
            .env("LATCHKEY_DATABASE__URL", &self.db.url)
            .env("LATCHKEY_SECRETS__MASTER_KEY", &self.master_key);
        command
    }

    /// Runs a command to completion, feeding `stdin`.
    pub fn run(&self, args: &[&str], stdin: &str) -> Output {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("latchkey starts");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(stdin.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    pub fn run_json(&self, args: &[&str], stdin: &str) -> serde_json::Value {
        let output = self.run(args, stdin);
        assert!(
            output.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("one JSON value on stdout")
    }

    /// Through the CLI: a company "Acme" on `plan`, and `email` (with
    /// `password`) as its owner. Their ids.
    pub fn owner_of_new_company(
        &self,
        plan: &str,
        email: &str,
        password: &str,
    ) -> (String, String) {
        let company = self.run_json(
            &[
                "--json", "company", "create", "--name", "Acme", "--plan", plan,
            ],
            "",
        );
        let user = self.run_json(&["--json", "user", "create", "--email", email], password);
        let company_id = company["id"].as_str().unwrap().to_owned();
        let user_id = user["id"].as_str().unwrap().to_owned();
        self.run_json(
            &[
                "--json",
                "member",
                "add",
                "--company",
                &company_id,
                "--user",
                &user_id,
                "--role",
                "owner",
            ],
            "",
        );
        (company_id, user_id)
    }

    /// Starts `latchkey serve` on a free port with JSON logs at `level`.
    pub fn serve(&self, level: &str) -> Server {
        self.serve_with(level, &[])
    }

    /// `serve`, with these extra environment variables.
    pub fn serve_with(&self, level: &str, env: &[(&str, &str)]) -> Server {
        let mut child = self
            .command(&["serve"])
            .envs(env.iter().copied())
            .env("LATCHKEY_SERVER__PORT", "0")
            .env("LATCHKEY_LOG__FORMAT", "json")
            .env("LATCHKEY_LOG__LEVEL", level)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("latchkey serve starts");
        let logs = Arc::new(Mutex::new(String::new()));
        let mut readers = Vec::new();
        for stream in [
            Box::new(child.stderr.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stdout.take().unwrap()),
        ] {
            let logs = logs.clone();
            readers.push(std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    let mut logs = logs.lock().unwrap();
                    logs.push_str(&line);
                    logs.push('\n');
                }
            }));
        }
        let started = Instant::now();
        let port = loop {
            let found = logs.lock().unwrap().lines().find_map(|line| {
                let value: serde_json::Value = serde_json::from_str(line).ok()?;
                let address = value["address"].as_str()?;
                address.rsplit_once(':')?.1.parse::<u16>().ok()
            });
            if let Some(port) = found {
                break port;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server did not start: {}",
                logs.lock().unwrap()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Server {
            child,
            logs,
            readers,
            address: format!("http://127.0.0.1:{port}"),
        }
    }
}

pub struct Server {
    child: Child,
    logs: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
    pub address: String,
}

impl Server {
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// Sends SIGTERM, as an orchestrator would, and waits (at most ten
    /// seconds) for the process to exit and for its last log line to be read.
    pub fn terminate(&mut self) -> ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        assert!(sent.success(), "kill -TERM {pid} failed");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the server did not stop within ten seconds of SIGTERM: {}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        status
    }
}

impl Server {
    /// Sends SIGKILL, as a crash or an out-of-memory killer would: nothing
    /// runs after it. Waits for the process to be gone.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL is sent");
        self.child.wait().unwrap();
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
