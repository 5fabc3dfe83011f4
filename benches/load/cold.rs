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
use crate::wrk::{self, Load, WrkResult};
use crate::{median, scaled, seed, verdict, wrk_seconds, CONNECTIONS, ROUNDS};

/// Rounds of the metrics on / off comparison.
const METRICS_ROUNDS: usize = 5;

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
    // tokens in rotation; cold: every key, each about once, in two stripes
    // (one per wrk process).
    let warm_tokens: Vec<&String> = key_tokens
        .iter()
        .take(5_000)
        .chain(short_tokens.iter().take(5_000))
        .collect();
    write_lines(&path("warm.txt"), warm_tokens.iter().map(|t| t.as_str()))?;
    write_lines(
        &path("cold-0.txt"),
        key_tokens.iter().step_by(2).map(String::as_str),
    )?;
    write_lines(
        &path("cold-1.txt"),
        key_tokens.iter().skip(1).step_by(2).map(String::as_str),
    )?;
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
    // Every load here is wrk processes of one thread each, started together
    // once all have loaded their tokens (`wrk::run_together`): `CONNECTIONS`
    // in all, as two threads of one process elsewhere.
    let load = |url: String, files: [&str; 2], script: &'static str, connections: u32| {
        files
            .iter()
            .map(|file| Load {
                url: url.clone(),
                connections: connections / 2,
                seconds,
                script: Some(script),
                script_args: vec![path(file).display().to_string(), basic.clone()],
            })
            .collect::<Vec<_>>()
    };
    let run = |loads: &[Load]| -> anyhow::Result<WrkResult> {
        Ok(wrk::combined(&wrk::run_together(loads)?))
    };
    let warm = load(
        server.url("/"),
        ["warm.txt", "warm.txt"],
        "introspect.lua",
        CONNECTIONS,
    );
    let cold = load(
        server.url("/"),
        ["cold-0.txt", "cold-1.txt"],
        "introspect_once.lua",
        CONNECTIONS,
    );
    let flood = load(
        server.url("/"),
        ["forged.txt", "forged.txt"],
        "introspect.lua",
        CONNECTIONS,
    );
    check_answers(&server, &seeded, &key_tokens, &short_tokens).await?;

    let (mut warm_runs, mut cold_runs, mut flood_runs) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        warm_runs.push(run(&warm)?);
        cold_runs.push(run(&cold)?);
        flood_runs.push(run(&flood)?);
    }
    // The flood again, with legitimate callers beside it (the warm tokens,
    // one more wrk process on 8 connections), all started together.
    let mut beside = load(
        server.url("/"),
        ["forged.txt", "forged.txt"],
        "introspect.lua",
        CONNECTIONS,
    );
    beside.extend(
        load(
            server.url("/"),
            ["warm.txt", "warm.txt"],
            "introspect.lua",
            16,
        )
        .into_iter()
        .take(1),
    );
    let beside = wrk::run_together(&beside)?;
    let flooding = wrk::combined(&beside[..2]);
    let legit = beside[2].clone();
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
        ["short.txt", "short.txt"],
        "introspect.lua",
        CONNECTIONS,
    );
    let mut short_runs = Vec::new();
    for _ in 0..ROUNDS {
        short_runs.push(run(&short)?);
    }
    drop(uncached);
    let (ed25519_one_core, ed25519_all_cores) = ed25519_per_second(&short_tokens[0]);

    // Issue #10: metrics may cost introspection at most 3%.
    let quiet = Server::start(
        &url,
        &seeded.master_key,
        &[("LATCHKEY_METRICS__ENABLED", "false")],
    )?;
    let counted = Server::start(&url, &seeded.master_key, &[])?;
    // 3% is within this machine's noise: more rounds, in alternating order.
    let quiet_load = load(
        quiet.url("/"),
        ["warm.txt", "warm.txt"],
        "introspect.lua",
        CONNECTIONS,
    );
    let counted_load = load(
        counted.url("/"),
        ["warm.txt", "warm.txt"],
        "introspect.lua",
        CONNECTIONS,
    );
    let (mut quiet_runs, mut counted_runs) = (Vec::new(), Vec::new());
    for round in 0..METRICS_ROUNDS {
        if round % 2 == 0 {
            quiet_runs.push(run(&quiet_load)?);
            counted_runs.push(run(&counted_load)?);
        } else {
            counted_runs.push(run(&counted_load)?);
            quiet_runs.push(run(&quiet_load)?);
        }
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
    writeln!(out, "{keys} distinct live API keys in SQLite, each with its token's digest (seeded in {seed_seconds:.0} s; server RSS {rss:.0} MiB), one server. **warm**: 5,000 of those keys and 5,000 login tokens in rotation; **cold**: every key in turn, each of the two wrk processes walking its own half of them in order (a run sends {cold_requests:.0} requests, so each key is used at most once per run); **forgery flood**: {forged} distinct forged API keys (real keys with another `jti`, so real `kid`s), then the flood again with legitimate callers (the warm tokens, a third wrk process on 8 connections) beside it; **short-lived cold**: {short_lived} distinct login tokens, verified cache off; **metrics**: warm introspection on two servers side by side, `metrics.enabled` false and true, {METRICS_ROUNDS} rounds in alternating order (false: `/metrics` is not served and requests are neither counted nor timed; the token-check counters, single atomic adds on handles registered at start, count either way). Each load is two wrk processes of one thread and {} connections each, started together once both have loaded their tokens: a wrk process loads its threads' tokens one thread after the other and starts its clock after the last, so with two threads the first would send, counted but untimed, while the second loads a file of half a million keys.\n", CONNECTIONS / 2)?;
    writeln!(
        out,
        "| load | requests/s (median) | p50 | p99 (median) | socket errors |"
    )?;
    writeln!(out, "| --- | ---: | ---: | ---: | ---: |")?;
    for (name, runs) in [
        ("warm: 10,000 tokens in rotation", &warm_runs),
        ("cold: every API key at most once per run", &cold_runs),
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
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    writeln!(
        out,
        "| short-lived cold (recorded; bounded by Ed25519) | - | {:.0} requests/s ({:.2} of warm) | |",
        rps(&short_runs),
        rps(&short_runs) / warm_rps
    )?;
    writeln!(
        out,
        "| Ed25519 verification alone (ring, this CPU, no HTTP) | - | {:.1} µs per verify on one core: {ed25519_one_core:.0}/s per core; {ed25519_all_cores:.0}/s on all {cores} cores at once | |",
        1e6 / ed25519_one_core
    )?;
    writeln!(
        out,
        "| short-lived cold / the {cores}-core Ed25519 ceiling | (diagnostic) | {:.2} | |",
        rps(&short_runs) / ed25519_all_cores
    )?;
    writeln!(
        out,
        "| what metrics cost introspection (issue #10) | ≤ 3% | {:.1}% | {} |\n",
        metrics_cost * 100.0,
        verdict(metrics_cost <= 0.03)
    )?;
    writeln!(out, "Why cold keeps up with warm: an API key's token is known by the SHA-256 of its exact string, kept with the key in the database (never the token) and in its in-memory allow-list entry. A token not in the verified cache has its header checked (EdDSA, a `typ`, a `kid` of ours: a hash-map lookup), its payload read without the signature, and its digest put to the allow-list: the active key whose digest it is gets the claims of the entry, with no Ed25519 verification; a `jti` that is not an active key, or a token that is not its key's, is refused on the same path. So a million keys each used once cost what ten thousand in rotation cost (a lookup in a bigger map), and a forged key costs what a real one does. Only short-lived login tokens reach Ed25519, once per token while the verified cache keeps them; with the cache off (or a flood of new login tokens) every request pays one verification, and the short-lived cold figure is bounded by the Ed25519 rate above, less what HTTP and wrk take of the same two cores.\n")?;
    let rounds = |runs: &[WrkResult]| {
        runs.iter()
            .map(|r| r.requests_per_second.round())
            .collect::<Vec<_>>()
    };
    writeln!(out, "Rounds (requests/s): warm {:?}; cold {:?}; flood {:?}; short-lived cold {:?}; metrics off {:?}; metrics on {:?}.\n", rounds(&warm_runs), rounds(&cold_runs), rounds(&flood_runs), rounds(&short_runs), rounds(&quiet_runs), rounds(&counted_runs))?;
    Ok(out)
}

/// Ed25519 verifications per second that one core, and every core at once,
/// can do (ring, as the server uses it), over a real login token's signing
/// input: what bounds the short-lived cold figure. Medians of 3 one-second
/// runs.
pub fn ed25519_per_second(token: &str) -> (f64, f64) {
    use ring::signature::{Ed25519KeyPair, KeyPair, UnparsedPublicKey, ED25519};
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&ring::rand::SystemRandom::new()).expect("key");
    let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("key");
    let message = token
        .rsplit_once('.')
        .map_or(token, |(input, _)| input)
        .as_bytes()
        .to_vec();
    let signature = pair.sign(&message).as_ref().to_vec();
    let public = pair.public_key().as_ref().to_vec();
    let run = |threads: usize| -> f64 {
        let started = std::time::Instant::now();
        let done: u64 = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let key = UnparsedPublicKey::new(&ED25519, &public);
                        let mut done = 0u64;
                        while started.elapsed() < Duration::from_secs(1) {
                            for _ in 0..100 {
                                key.verify(std::hint::black_box(&message), &signature)
                                    .expect("valid signature");
                            }
                            done += 100;
                        }
                        done
                    })
                })
                .collect();
            workers
                .into_iter()
                .map(|w| w.join().expect("verifier"))
                .sum()
        });
        done as f64 / started.elapsed().as_secs_f64()
    };
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let one = median((0..ROUNDS).map(|_| run(1)).collect());
    let all = median((0..ROUNDS).map(|_| run(cores)).collect());
    (one, all)
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
