//! The cold path (issue #12), side by side with the warm one in one run:
//! a million distinct live API keys each used about once, short-lived
//! tokens with the verified cache off, a flood of forged keys with our real
//! `kid`s beside legitimate callers, and what metrics cost introspection.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;

use crate::server::Server;
use crate::wrk::{Load, WrkResult};
use crate::{median, scaled, seed, verdict, wrk_seconds, CONNECTIONS, ROUNDS};

/// wrk's threads (`-t2` in `Load::command`): the cold script stripes by it.
const WRK_THREADS: u32 = 2;

pub async fn cold() -> anyhow::Result<String> {
    let keys = scaled(1_000_000);
    let short_lived = scaled(100_000);
    let forged = scaled(100_000);
    let seconds = wrk_seconds();
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("cold.db").display());
    let seeded = seed::base(&url).await?;
    let started = std::time::Instant::now();
    let key_tokens = seed::api_keys(&seeded, keys, true).await?;
    let seed_seconds = started.elapsed().as_secs_f64();
    let short_tokens = seed::short_lived_tokens(&seeded, short_lived)?;
    let basic = format!(
        "Basic {}",
        STANDARD.encode(format!("{}:{}", seeded.client.0, seeded.client.1))
    );
    let path = |name: &str| dir.path().join(name);
    // Warm, as in the introspection scenario: 5,000 keys and 5,000 login
    // tokens in rotation; cold: every key, each about once.
    let warm_tokens: Vec<&String> = key_tokens
        .iter()
        .take(5_000)
        .chain(short_tokens.iter().take(5_000))
        .collect();
    write_lines(&path("warm.txt"), warm_tokens.iter().map(|t| t.as_str()))?;
    write_lines(&path("cold.txt"), key_tokens.iter().map(String::as_str))?;
    write_lines(&path("short.txt"), short_tokens.iter().map(String::as_str))?;
    let forgeries: Vec<String> = key_tokens
        .iter()
        .cycle()
        .take(forged)
        .map(|t| forge(t))
        .collect::<anyhow::Result<_>>()?;
    write_lines(&path("forged.txt"), forgeries.iter().map(String::as_str))?;
    drop(forgeries);

    let server = Server::start(&url, &seeded.master_key, &[])?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = server.rss_mib()?;
    let load = |url: String, file: &str, script: &'static str, connections: u32| Load {
        url,
        connections,
        seconds,
        script: Some(script),
        script_args: vec![
            path(file).display().to_string(),
            basic.clone(),
            WRK_THREADS.to_string(),
        ],
    };
    let warm = load(server.url("/"), "warm.txt", "introspect.lua", CONNECTIONS);
    let cold = load(
        server.url("/"),
        "cold.txt",
        "introspect_once.lua",
        CONNECTIONS,
    );
    let flood = load(server.url("/"), "forged.txt", "introspect.lua", CONNECTIONS);
    check_answers(&server, &seeded, &key_tokens, &short_tokens).await?;

    let (mut warm_runs, mut cold_runs, mut flood_runs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        warm_runs.push(warm.run()?);
        cold_runs.push(cold.run()?);
        flood_runs.push(flood.run()?);
    }
    // The flood again, with legitimate callers beside it on 8 connections.
    let beside = load(server.url("/"), "warm.txt", "introspect.lua", 8);
    let flood_thread = {
        let flood = Load {
            url: flood.url.clone(),
            connections: flood.connections,
            seconds: flood.seconds,
            script: flood.script,
            script_args: flood.script_args.clone(),
        };
        std::thread::spawn(move || flood.run())
    };
    std::thread::sleep(Duration::from_millis(300));
    let legit = Load {
        seconds: seconds.saturating_sub(1).max(1),
        ..beside
    }
    .run()?;
    let flooding = flood_thread.join().expect("flood thread")?;
    drop(server);

    // Login tokens with the verified cache off: every check is an Ed25519
    // verification.
    let uncached = Server::start(
        &url,
        &seeded.master_key,
        &[("LATCHKEY_TOKENS__VERIFIED_CACHE_CAPACITY", "0")],
    )?;
    let short = load(
        uncached.url("/"),
        "short.txt",
        "introspect.lua",
        CONNECTIONS,
    );
    let mut short_runs = Vec::new();
    for _ in 0..ROUNDS {
        short_runs.push(short.run()?);
    }
    drop(uncached);

    // Issue #10: metrics may cost introspection at most 3%.
    let quiet = Server::start(
        &url,
        &seeded.master_key,
        &[("LATCHKEY_METRICS__ENABLED", "false")],
    )?;
    let counted = Server::start(&url, &seeded.master_key, &[])?;
    let (mut quiet_runs, mut counted_runs) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        quiet_runs.push(load(quiet.url("/"), "warm.txt", "introspect.lua", CONNECTIONS).run()?);
        counted_runs.push(load(counted.url("/"), "warm.txt", "introspect.lua", CONNECTIONS).run()?);
    }
    drop((quiet, counted));

    let rps = |runs: &[WrkResult]| median(runs.iter().map(|r| r.requests_per_second).collect());
    let p99 = |runs: &[WrkResult]| median(runs.iter().map(|r| r.p99_ms).collect());
    let p50 = |runs: &[WrkResult]| median(runs.iter().map(|r| r.p50_ms).collect());
    let errors = |runs: &[WrkResult]| runs.iter().map(|r| r.socket_errors).sum::<u64>();
    let (warm_rps, cold_rps, flood_rps) = (rps(&warm_runs), rps(&cold_runs), rps(&flood_runs));
    let cold_requests = median(cold_runs.iter().map(|r| r.requests as f64).collect());
    let metrics_cost = 1.0 - rps(&counted_runs) / rps(&quiet_runs);

    let mut out = String::new();
    writeln!(out, "## The cold path\n")?;
    writeln!(out, "{keys} distinct live API keys in SQLite, each with its token's digest (seeded in {seed_seconds:.0} s; server RSS {rss:.0} MiB), one server. **warm**: 5,000 of those keys and 5,000 login tokens in rotation; **cold**: every key in turn, each thread walking its own stripe of the file (a run sends {cold_requests:.0} requests, so each key is used about once); **forgery flood**: {forged} distinct forged API keys (real keys with another `jti`, so real `kid`s), then the flood again with legitimate callers (the warm tokens, 8 connections) beside it; **short-lived cold**: {short_lived} distinct login tokens, verified cache off; **metrics**: warm introspection with `metrics.enabled` false, then true.\n")?;
    writeln!(
        out,
        "| load | requests/s (median) | p50 | p99 (median) | socket errors |"
    )?;
    writeln!(out, "| --- | ---: | ---: | ---: | ---: |")?;
    for (name, runs) in [
        ("warm: 10,000 tokens in rotation", &warm_runs),
        ("cold: every API key about once", &cold_runs),
        ("forgery flood (all refused)", &flood_runs),
        ("short-lived cold (cache off: Ed25519 each)", &short_runs),
        ("warm, `metrics.enabled = false`", &quiet_runs),
        ("warm, `metrics.enabled = true`", &counted_runs),
    ] {
        writeln!(
            out,
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {} |",
            rps(runs),
            p50(runs),
            p99(runs),
            errors(runs)
        )?;
    }
    writeln!(
        out,
        "| flood beside legitimate callers: forged | {:.0} | {:.2} ms | {:.2} ms | {} |",
        flooding.requests_per_second, flooding.p50_ms, flooding.p99_ms, flooding.socket_errors
    )?;
    writeln!(
        out,
        "| flood beside legitimate callers: legitimate | {:.0} | {:.2} ms | {:.2} ms | {} |\n",
        legit.requests_per_second, legit.p50_ms, legit.p99_ms, legit.socket_errors
    )?;
    writeln!(out, "| figure | target | measured | |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    writeln!(
        out,
        "| cold / warm throughput | ≥ 0.8 | {:.2} | {} |",
        cold_rps / warm_rps,
        verdict(cold_rps / warm_rps >= 0.8)
    )?;
    writeln!(
        out,
        "| forgery flood / warm throughput | ≥ 0.8 | {:.2} | {} |",
        flood_rps / warm_rps,
        verdict(flood_rps / warm_rps >= 0.8)
    )?;
    writeln!(
        out,
        "| legitimate p99 during the flood | ≤ 10 ms | {:.2} ms | {} |",
        legit.p99_ms,
        verdict(legit.p99_ms <= 10.0)
    )?;
    writeln!(
        out,
        "| short-lived cold (recorded; bounded by Ed25519) | - | {:.0} requests/s ({:.2} of warm) | |",
        rps(&short_runs),
        rps(&short_runs) / warm_rps
    )?;
    writeln!(
        out,
        "| what metrics cost introspection (issue #10) | ≤ 3% | {:.1}% | {} |\n",
        metrics_cost * 100.0,
        verdict(metrics_cost <= 0.03)
    )?;
    let rounds = |runs: &[WrkResult]| {
        runs.iter()
            .map(|r| r.requests_per_second.round())
            .collect::<Vec<_>>()
    };
    writeln!(out, "Rounds (requests/s): warm {:?}; cold {:?}; flood {:?}; short-lived cold {:?}; metrics off {:?}; metrics on {:?}.\n", rounds(&warm_runs), rounds(&cold_runs), rounds(&flood_runs), rounds(&short_runs), rounds(&quiet_runs), rounds(&counted_runs))?;
    Ok(out)
}

fn write_lines<'a>(path: &Path, lines: impl Iterator<Item = &'a str>) -> anyhow::Result<()> {
    use std::io::Write;
    let mut file = std::io::BufWriter::new(std::fs::File::create(path)?);
    for line in lines {
        writeln!(file, "{line}")?;
    }
    file.flush()?;
    Ok(())
}

/// A real key's token naming a fresh `jti`: our header and `kid`, a
/// signature that does not match.
fn forge(token: &str) -> anyhow::Result<String> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature)) = (parts.next(), parts.next(), parts.next())
    else {
        anyhow::bail!("not a JWT");
    };
    let mut claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload)?)?;
    claims["jti"] = serde_json::json!(uuid::Uuid::now_v7());
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims)?);
    Ok(format!("{header}.{payload}.{signature}"))
}

/// Keys and login tokens must be active, forgeries not: or the figures
/// measure the wrong thing.
async fn check_answers(
    server: &Server,
    seeded: &seed::Seeded,
    keys: &[String],
    short: &[String],
) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let step = (keys.len() / 20).max(1);
    let samples = keys
        .iter()
        .step_by(step)
        .chain(short.iter().take(5))
        .map(|t| (t.clone(), true))
        .chain(
            keys.iter()
                .take(5)
                .map(|t| (forge(t).unwrap_or_default(), false)),
        );
    for (token, active) in samples {
        let body: serde_json::Value = client
            .post(server.url("/api/v1/introspect"))
            .basic_auth(&seeded.client.0, Some(&seeded.client.1))
            .form(&[("token", &token)])
            .send()
            .await?
            .json()
            .await?;
        anyhow::ensure!(
            body["active"] == active,
            "expected active={active}, got {body}"
        );
    }
    Ok(())
}
