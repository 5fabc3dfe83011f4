//! Runs wrk and reads its summary.

use std::process::Command;

#[derive(Debug, Clone, Default)]
pub struct WrkResult {
    pub requests_per_second: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub requests: u64,
    pub non_2xx: u64,
    pub socket_errors: u64,
}

pub struct Load<'a> {
    pub url: String,
    pub connections: u32,
    pub seconds: u32,
    pub script: Option<&'a str>,
    pub script_args: Vec<String>,
}

impl Load<'_> {
    pub fn command(&self) -> Command {
        self.command_with_threads(2)
    }

    fn command_with_threads(&self, threads: u32) -> Command {
        let mut command = Command::new("wrk");
        command.args([
            &format!("-t{threads}"),
            &format!("-c{}", self.connections),
            &format!("-d{}s", self.seconds),
            "--latency",
            "--timeout",
            "5s",
        ]);
        if let Some(script) = self.script {
            command.args([
                "-s",
                &format!("{}/benches/{script}", env!("CARGO_MANIFEST_DIR")),
            ]);
        }
        command.arg(&self.url);
        if !self.script_args.is_empty() {
            command.arg("--").args(&self.script_args);
        }
        command
    }

    pub fn run(&self) -> anyhow::Result<WrkResult> {
        let output = self.command().output()?;
        anyhow::ensure!(
            output.status.success(),
            "wrk failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        parse(&String::from_utf8_lossy(&output.stdout))
    }
}

/// Runs `loads` at once, each as a wrk process of one thread, all sending
/// from the same instant: each script (introspect.lua, introspect_once.lua)
/// takes a ready file and a go file after its own arguments, touches the
/// first once its tokens are loaded and waits for the second. wrk runs its
/// threads' `init` one after the other and starts its clock after the last,
/// so in one process of two threads the first would send, counted but
/// untimed, while the second loads a big file.
pub fn run_together(loads: &[Load]) -> anyhow::Result<Vec<WrkResult>> {
    let dir = tempfile::tempdir()?;
    let go = dir.path().join("go");
    let mut children = Vec::new();
    let mut ready = Vec::new();
    for (i, load) in loads.iter().enumerate() {
        let ready_file = dir.path().join(format!("ready-{i}"));
        let mut command = load.command_with_threads(1);
        if load.script_args.is_empty() {
            command.arg("--");
        }
        command
            .arg(&ready_file)
            .arg(&go)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        children.push(command.spawn()?);
        ready.push(ready_file);
    }
    let started = std::time::Instant::now();
    while !ready.iter().all(|r| r.exists()) {
        if started.elapsed() > std::time::Duration::from_secs(300) {
            for child in &mut children {
                let _ = child.kill();
            }
            anyhow::bail!("wrk did not load its tokens in 5 minutes");
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    std::fs::write(&go, b"")?;
    children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output()?;
            anyhow::ensure!(
                output.status.success(),
                "wrk failed: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            parse(&String::from_utf8_lossy(&output.stdout))
        })
        .collect()
}

/// Several wrk processes' results as one load: requests added up, the
/// slowest process's percentiles.
pub fn combined(results: &[WrkResult]) -> WrkResult {
    WrkResult {
        requests_per_second: results.iter().map(|r| r.requests_per_second).sum(),
        p50_ms: results.iter().map(|r| r.p50_ms).fold(0.0, f64::max),
        p99_ms: results.iter().map(|r| r.p99_ms).fold(0.0, f64::max),
        requests: results.iter().map(|r| r.requests).sum(),
        non_2xx: results.iter().map(|r| r.non_2xx).sum(),
        socket_errors: results.iter().map(|r| r.socket_errors).sum(),
    }
}

pub fn parse(out: &str) -> anyhow::Result<WrkResult> {
    let mut result = WrkResult::default();
    for line in out.lines().map(str::trim) {
        if let Some(v) = line.strip_prefix("Requests/sec:") {
            result.requests_per_second = v.trim().parse()?;
        } else if let Some(v) = line.strip_prefix("50%") {
            result.p50_ms = duration_ms(v.trim())?;
        } else if let Some(v) = line.strip_prefix("99%") {
            result.p99_ms = duration_ms(v.trim())?;
        } else if let Some(v) = line.strip_prefix("Non-2xx or 3xx responses:") {
            result.non_2xx = v.trim().parse()?;
        } else if line.starts_with("Socket errors:") {
            result.socket_errors = line
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|n| n.parse::<u64>().ok())
                .sum();
        } else if line.contains("requests in") {
            result.requests = line.split_whitespace().next().unwrap_or("0").parse()?;
        }
    }
    anyhow::ensure!(
        result.requests_per_second > 0.0,
        "wrk printed no rate:\n{out}"
    );
    Ok(result)
}

fn duration_ms(v: &str) -> anyhow::Result<f64> {
    let (number, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(v.len()));
    let number: f64 = number.parse()?;
    Ok(match unit {
        "us" => number / 1000.0,
        "ms" => number,
        "s" => number * 1000.0,
        "m" => number * 60_000.0,
        other => anyhow::bail!("unknown unit {other}"),
    })
}
