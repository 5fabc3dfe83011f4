//! Load benchmarks for the figures in BENCHMARKS.md, driven by `benches/run`.
//! Each scenario seeds a fresh database through the library, runs the
//! release binary as its own process and loads it with wrk on this machine.
//! Results go to BENCHMARKS.md.

mod cold;
mod downstream;
mod replicas;
mod seed;
mod server;
mod wrk;

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use server::Server;
use wrk::{Load, WrkResult};

const ROUNDS: usize = 3;
const SECONDS: u32 = 8;
const CONNECTIONS: u32 = 64;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let wanted: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let run = |name: &str| wanted.is_empty() || wanted.iter().any(|w| w == name);
    let mut report = String::new();
    if run("introspection") {
        report += &introspection().await?;
    }
    if run("cold") {
        report += &cold::cold().await?;
    }
    if run("memory") {
        report += &memory().await?;
    }
    if run("replicas") {
        report += &replicas::replicas().await?;
    }
    if run("downstream") {
        report += &downstream::downstream(wrk_seconds()).await?;
    }
    if run("micro") {
        report += &micro()?;
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/BENCHMARKS.md");
    let document = if wanted.is_empty() {
        header(&wanted) + &report
    } else {
        // Some scenarios only: their sections replace their old ones, each
        // saying when and how it was run; the rest of the file stays.
        let existing = std::fs::read_to_string(path).unwrap_or_else(|_| header(&[]));
        merge_sections(&existing, &report, &provenance(&wanted))
    };
    std::fs::write(path, document)?;
    println!("{}", std::fs::read_to_string(path)?);
    Ok(())
}

fn header(wanted: &[String]) -> String {
    format!(
        "# Benchmarks\n\n\
         Command: `benches/run{}`  \n\
         Date: {}  \n\
         Machine: {}; wrk and latchkey on the same machine  \n\
         Commit: {}\n\n\
         The machine is shared and noisy: each load figure is the median of {ROUNDS} alternating \
         {}-second wrk runs (2 threads, {CONNECTIONS} connections), and ratios compare \
         medians from the same run.\n\n",
        wanted.iter().map(|w| format!(" {w}")).collect::<String>(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        machine(),
        commit(),
        wrk_seconds(),
    )
}

/// wrk's seconds per run; `LATCHKEY_BENCH_SECONDS` shortens them for a
/// quick look (a smoke run, below, makes them 2).
fn wrk_seconds() -> u32 {
    std::env::var("LATCHKEY_BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if smoke() { 2 } else { SECONDS })
}

/// `LATCHKEY_BENCH_SMOKE=1`: a quick run that checks the scenarios work,
/// with a fiftieth of the tokens and keys and 2-second runs. Its figures
/// mean nothing.
fn smoke() -> bool {
    std::env::var("LATCHKEY_BENCH_SMOKE").is_ok_and(|v| v == "1")
}

/// `count`, or a fiftieth of it in a smoke run.
fn scaled(count: usize) -> usize {
    if smoke() {
        (count / 50).max(1)
    } else {
        count
    }
}

fn provenance(wanted: &[String]) -> String {
    format!(
        "Command: `benches/run{}`{}; date: {}; commit: {}; machine: {}, shared with other builds. The machine is shared and noisy: medians of {ROUNDS} alternating {}-second wrk runs (2 threads, {CONNECTIONS} connections).\n\n",
        wanted.iter().map(|w| format!(" {w}")).collect::<String>(),
        std::env::var("LATCHKEY_BENCH_SECONDS")
            .map(|s| format!(" (LATCHKEY_BENCH_SECONDS={s})"))
            .unwrap_or_default(),
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        commit(),
        machine(),
        wrk_seconds(),
    )
}

/// Puts each `## ` section of `report` in place of the same-titled section
/// of `existing` (or at its end), with `provenance` under its title.
fn merge_sections(existing: &str, report: &str, provenance: &str) -> String {
    let split = |text: &str| -> Vec<String> {
        let mut parts: Vec<String> = vec![String::new()];
        for line in text.split_inclusive('\n') {
            if line.starts_with("## ") {
                parts.push(String::new());
            }
            parts.last_mut().expect("never empty").push_str(line);
        }
        parts
    };
    let title = |section: &str| section.lines().next().unwrap_or("").to_owned();
    let mut sections = split(existing);
    for new in split(report).into_iter().skip(1) {
        let (head, body) = new.split_once('\n').unwrap_or((&new, ""));
        let new = format!("{head}\n\n{provenance}{}", body.trim_start_matches('\n'));
        match sections.iter_mut().skip(1).find(|s| title(s) == head) {
            Some(old) => *old = new,
            None => {
                if !sections.last().is_some_and(|s| s.ends_with("\n\n")) {
                    sections.last_mut().expect("never empty").push('\n');
                }
                sections.push(new);
            }
        }
    }
    sections.concat()
}

fn commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_owned())
        })
        .and_then(|kib| kib.parse::<u64>().ok())
        .map_or_else(String::new, |kib| {
            format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0)
        });
    format!("{cores} cores ({cpu}), {memory} RAM")
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn verdict(ok: bool) -> &'static str {
    if ok {
        "met"
    } else {
        "**not met**"
    }
}

/// Introspection against /healthz, over 10,000 live tokens (half API keys)
/// with 100,000 revoked entries in memory; then again under a login storm.
async fn introspection() -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let seeded = seed::base(&url).await?;
    let mut tokens = seed::api_keys(&seeded, scaled(5_000), true).await?;
    tokens.extend(seed::short_lived_tokens(&seeded, scaled(5_000))?);
    seed::revoked_tokens(&seeded, scaled(100_000)).await?;
    let token_file = dir.path().join("tokens.txt");
    std::fs::write(&token_file, tokens.join("\n") + "\n")?;
    // The login storm is one client IP and one account: the per-IP login
    // share and the per-account slots (taken before hashing) would turn it
    // into cheap 429s instead of argon2 at capacity.
    let server = Server::start(
        &url,
        &seeded.master_key,
        &[
            ("LATCHKEY_THROTTLE__LOGINS_PER_IP_PER_MINUTE", "1000000"),
            ("LATCHKEY_THROTTLE__LOGIN_FAILURES_PER_ACCOUNT", "1000000"),
        ],
    )?;
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", seeded.client.0, seeded.client.1));
    let introspect = Load {
        url: server.url("/"),
        connections: CONNECTIONS,
        seconds: wrk_seconds(),
        script: Some("introspect.lua"),
        script_args: vec![token_file.display().to_string(), format!("Basic {basic}")],
    };
    // Both sides go through the same Lua request() path, so wrk (which shares
    // the machine) spends the same per request on each.
    let health = Load {
        url: server.url("/"),
        connections: CONNECTIONS,
        seconds: wrk_seconds(),
        script: Some("healthz.lua"),
        script_args: vec![],
    };

    // Every pooled token must be live, or the figure measures the wrong thing.
    let client = reqwest::Client::new();
    for token in tokens.iter().step_by(500) {
        let body: serde_json::Value = client
            .post(server.url("/api/v1/introspect"))
            .basic_auth(&seeded.client.0, Some(&seeded.client.1))
            .form(&[("token", token)])
            .send()
            .await?
            .json()
            .await?;
        anyhow::ensure!(
            body["active"] == true,
            "a pooled token is not active: {body}"
        );
    }
    Load {
        seconds: 3,
        ..introspect.clone_load()
    }
    .run()?;

    let mean_token_len = tokens.iter().map(String::len).sum::<usize>() / tokens.len();
    let floor = Load {
        url: server.url("/"),
        connections: CONNECTIONS,
        seconds: wrk_seconds(),
        script: Some("post_floor.lua"),
        script_args: vec![mean_token_len.to_string()],
    };

    let mut health_runs: Vec<WrkResult> = Vec::new();
    let mut introspect_runs: Vec<WrkResult> = Vec::new();
    let mut floor_runs: Vec<WrkResult> = Vec::new();
    for _ in 0..ROUNDS {
        health_runs.push(health.run()?);
        introspect_runs.push(introspect.run()?);
        floor_runs.push(floor.run()?);
    }
    let floor_rps = median(floor_runs.iter().map(|r| r.requests_per_second).collect());
    let errors: u64 = introspect_runs
        .iter()
        .map(|r| r.non_2xx + r.socket_errors)
        .sum();
    let health_rps = median(health_runs.iter().map(|r| r.requests_per_second).collect());
    let intro_rps = median(
        introspect_runs
            .iter()
            .map(|r| r.requests_per_second)
            .collect(),
    );
    let health_p99 = median(health_runs.iter().map(|r| r.p99_ms).collect());
    let intro_p99 = median(introspect_runs.iter().map(|r| r.p99_ms).collect());
    let intro_p50 = median(introspect_runs.iter().map(|r| r.p50_ms).collect());
    let ratio = intro_rps / health_rps;

    // Login storm: logins hammer argon2 while introspection is measured.
    let hash_ms = argon2_median_ms();
    let login = Load {
        url: server.url("/"),
        connections: 16,
        seconds: wrk_seconds(),
        script: Some("login.lua"),
        script_args: vec![seed::EMAIL.to_owned(), seed::PASSWORD.to_owned()],
    };
    let storm = std::thread::spawn(move || login.run());
    std::thread::sleep(Duration::from_millis(300));
    let under_storm = introspect.run()?;
    let storm = storm.join().expect("login load thread")?;
    // Logins that got their tokens; the rest were refused (429 once too many
    // password checks wait).
    let logins_per_second = (storm.requests - storm.non_2xx) as f64 / f64::from(wrk_seconds());
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let argon2_bound = cores * 1000.0 / hash_ms;

    let mut out = String::new();
    writeln!(out, "## Introspection\n")?;
    writeln!(out, "10,000 distinct live tokens (5,000 API keys, 5,000 login tokens), 100,000 revoked token ids in memory, SQLite.\n")?;
    writeln!(
        out,
        "| endpoint | requests/s (median) | p50 | p99 (median) | errors |"
    )?;
    writeln!(out, "| --- | ---: | ---: | ---: | ---: |")?;
    writeln!(
        out,
        "| `GET /healthz` | {health_rps:.0} | {:.2} ms | {health_p99:.2} ms | {} |",
        median(health_runs.iter().map(|r| r.p50_ms).collect()),
        health_runs
            .iter()
            .map(|r| r.non_2xx + r.socket_errors)
            .sum::<u64>()
    )?;
    writeln!(out, "| `POST /api/v1/introspect` | {intro_rps:.0} | {intro_p50:.2} ms | {intro_p99:.2} ms | {errors} |")?;
    writeln!(out, "| `POST /api/v1/revoke`, junk token of the same length (the HTTP floor) | {floor_rps:.0} | {:.2} ms | {:.2} ms | - |\n", median(floor_runs.iter().map(|r| r.p50_ms).collect()), median(floor_runs.iter().map(|r| r.p99_ms).collect()))?;
    writeln!(out, "| figure | target | measured | |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    writeln!(
        out,
        "| introspection / healthz throughput | ≥ 0.8 | {ratio:.2} | {} |",
        verdict(ratio >= 0.8)
    )?;
    writeln!(
        out,
        "| introspection / same-size POST floor (what the service's own work costs) | (diagnostic) | {:.2} | |",
        intro_rps / floor_rps
    )?;
    writeln!(
        out,
        "| introspection p99 at {CONNECTIONS} connections | ≤ 10 ms | {intro_p99:.2} ms | {} |",
        verdict(intro_p99 <= 10.0)
    )?;
    writeln!(
        out,
        "| introspection p99 during a login storm | ≤ 10 ms | {:.2} ms | {} |",
        under_storm.p99_ms,
        verdict(under_storm.p99_ms <= 10.0)
    )?;
    writeln!(out, "| login throughput during the storm | bounded by argon2id | {logins_per_second:.1} logins/s succeeded, {} refused with 429 (argon2id alone: {hash_ms:.1} ms per hash, at most {argon2_bound:.1}/s on {cores} cores) | {} |\n", storm.non_2xx, verdict(logins_per_second <= argon2_bound * 1.1))?;
    writeln!(
        out,
        "Rounds (requests/s): healthz {:?}; introspection {:?}; floor {:?}.\n",
        health_runs
            .iter()
            .map(|r| r.requests_per_second.round())
            .collect::<Vec<_>>(),
        introspect_runs
            .iter()
            .map(|r| r.requests_per_second.round())
            .collect::<Vec<_>>(),
        floor_runs
            .iter()
            .map(|r| r.requests_per_second.round())
            .collect::<Vec<_>>()
    )?;
    Ok(out)
}

impl Load<'_> {
    fn clone_load(&self) -> Self {
        Load {
            url: self.url.clone(),
            connections: self.connections,
            seconds: self.seconds,
            script: self.script,
            script_args: self.script_args.clone(),
        }
    }
}

fn argon2_median_ms() -> f64 {
    let password = secrecy::SecretString::from("a password to time".to_owned());
    let mut times = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        latchkey::passwords::hash_blocking(&password).expect("argon2");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    median(times)
}

/// The figures `cargo bench --bench micro` left in `LATCHKEY_BENCH_CRITERION`
/// (benches/run runs it first, into a directory of its own): criterion's
/// median per call and its 95% confidence interval, fastest first.
fn micro() -> anyhow::Result<String> {
    fn found(dir: &std::path::Path, into: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.ends_with("new") && path.join("estimates.json").is_file() {
                into.push(path);
            } else if path.is_dir() {
                found(&path, into);
            }
        }
    }
    let mut dirs = Vec::new();
    if let Ok(home) = std::env::var("LATCHKEY_BENCH_CRITERION") {
        found(std::path::Path::new(&home), &mut dirs);
    }
    let mut rows = Vec::new();
    for dir in dirs {
        let read = |name: &str| -> anyhow::Result<serde_json::Value> {
            Ok(serde_json::from_str(&std::fs::read_to_string(
                dir.join(name),
            )?)?)
        };
        let (benchmark, estimates) = (read("benchmark.json")?, read("estimates.json")?);
        let median = &estimates["median"];
        let ns = |v: &serde_json::Value| v.as_f64().unwrap_or(f64::NAN);
        rows.push((
            benchmark["full_id"].as_str().unwrap_or("?").to_owned(),
            ns(&median["point_estimate"]),
            ns(&median["confidence_interval"]["lower_bound"]),
            ns(&median["confidence_interval"]["upper_bound"]),
        ));
    }
    rows.sort_by(|a, b| a.1.total_cmp(&b.1));
    let time = |ns: f64| {
        if ns < 1000.0 {
            format!("{ns:.0} ns")
        } else {
            format!("{:.2} µs", ns / 1000.0)
        }
    };
    let mut out = String::new();
    writeln!(
        out,
        "## Micro-benchmarks
"
    )?;
    if rows.is_empty() {
        writeln!(
            out,
            "Not run: `benches/run micro` runs `cargo bench --bench micro` and reads its results.
"
        )?;
        return Ok(out);
    }
    writeln!(out, "`cargo bench --bench micro` (criterion; 1 s warm-up, 3 s of samples each), in the same run, on one core of the same machine: what one call costs, without HTTP. The load figures above divide two cores between latchkey, wrk and the benchmark itself.\n")?;
    writeln!(
        out,
        "| what | median per call | 95% interval of the median | per core |"
    )?;
    writeln!(out, "| --- | ---: | ---: | ---: |")?;
    for (id, median, low, high) in rows {
        writeln!(
            out,
            "| {id} | {} | {} – {} | {:.0}/s |",
            time(median),
            time(low),
            time(high),
            1e9 / median
        )?;
    }
    out.push('\n');
    Ok(out)
}

/// One million active keys: load time and resident memory of the server.
async fn memory() -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let empty_url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("empty.db").display()
    );
    let empty = seed::base(&empty_url).await?;
    let baseline = Server::start(&empty_url, &empty.master_key, &[])?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let baseline_rss = baseline.rss_mib()?;
    drop(baseline);

    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("million.db").display()
    );
    let seeded = seed::base(&url).await?;
    let started = Instant::now();
    seed::api_keys(&seeded, scaled(1_000_000), false).await?;
    let seed_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let server = Server::start(&url, &seeded.master_key, &[])?;
    let start_seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = server.rss_mib()?;
    let load_ms = server.state_load_ms().unwrap_or(0);

    let mut out = String::new();
    writeln!(out, "## Memory\n")?;
    writeln!(out, "One million active API keys in SQLite (seeded in {seed_seconds:.0} s), loaded into memory at start.\n")?;
    writeln!(out, "| figure | target | measured | |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    writeln!(out, "| resident memory with 1M active keys | ≤ 300 MB | {rss:.0} MiB (empty database: {baseline_rss:.0} MiB) | {} |", verdict(rss * 1.048_576 <= 300.0))?;
    writeln!(out, "| loading the revocation state | ≤ 10 s | {:.2} s (whole start-up to listening: {start_seconds:.2} s) | {} |\n", load_ms as f64 / 1000.0, verdict(load_ms <= 10_000))?;
    Ok(out)
}
