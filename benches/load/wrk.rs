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
        let mut command = Command::new("wrk");
        command.args([
            "-t2",
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
