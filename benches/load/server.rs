//! The release binary as a separate process, as it runs in production.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub struct Server {
    child: Child,
    logs: Arc<Mutex<Vec<serde_json::Value>>>,
    pub port: u16,
}

impl Server {
    /// Starts `latchkey serve` and waits until it listens.
    pub fn start(
        database_url: &str,
        master_key: &str,
        extra_env: &[(&str, &str)],
    ) -> anyhow::Result<Server> {
        // benches/run says where `cargo build --release` put it (cargo's
        // own target directory); else CARGO_TARGET_DIR, else ./target.
        let binary = std::env::var("LATCHKEY_BENCH_BINARY").unwrap_or_else(|_| {
            let target = std::env::var("CARGO_TARGET_DIR")
                .unwrap_or_else(|_| concat!(env!("CARGO_MANIFEST_DIR"), "/target").to_owned());
            format!("{target}/release/latchkey")
        });
        let mut command = Command::new(binary);
        command
            .arg("serve")
            .env_remove("RUST_LOG")
            .env("LATCHKEY_DATABASE__URL", database_url)
            .env("LATCHKEY_SECRETS__MASTER_KEY", master_key)
            .env("LATCHKEY_SERVER__PORT", "0")
            .env("LATCHKEY_LOG__FORMAT", "json")
            .env(
                "LATCHKEY_LOG__LEVEL",
                "warn,latchkey::startup=info,latchkey::access=info",
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let mut child = command.spawn()?;
        let logs: Arc<Mutex<Vec<serde_json::Value>>> = Arc::new(Mutex::new(Vec::new()));
        let stderr = child.stderr.take().expect("stderr is piped");
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Ok(value) = serde_json::from_str(&line) {
                    sink.lock().unwrap().push(value);
                }
            }
        });
        let started = Instant::now();
        let port = loop {
            let port = logs.lock().unwrap().iter().find_map(|line| {
                let address = line["address"].as_str()?;
                address.rsplit_once(':')?.1.parse::<u16>().ok()
            });
            if let Some(port) = port {
                break port;
            }
            if let Some(status) = child.try_wait()? {
                anyhow::bail!("latchkey exited with {status}: {:?}", logs.lock().unwrap());
            }
            anyhow::ensure!(
                started.elapsed() < Duration::from_secs(120),
                "latchkey did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        Ok(Server { child, logs, port })
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// `elapsed_ms` of the "access state loaded" log line.
    pub fn state_load_ms(&self) -> Option<u64> {
        self.logs.lock().unwrap().iter().find_map(|line| {
            (line["message"] == "access state loaded")
                .then(|| line["elapsed_ms"].as_u64())
                .flatten()
        })
    }

    /// Resident set size of the server process, in MiB.
    pub fn rss_mib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no VmRSS"))?;
        Ok(kib / 1024.0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
