//! A service protected by latchkey-client: how many tokens the client
//! verifies offline per second (cold and cached), and what each policy
//! costs the example datasets service's `GET` against the same handler with
//! no auth at all.

use std::fmt::Write as _;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use latchkey_client::{Latchkey, Policy};

use crate::server::Server;
use crate::wrk::{Load, WrkResult};
use crate::{median, seed, verdict, CONNECTIONS, ROUNDS};

const TOKENS: usize = 1_000;

pub async fn downstream(seconds: u32) -> anyhow::Result<String> {
    let dir = tempfile::tempdir()?;
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("bench.db").display()
    );
    let seeded = seed::base(&url).await?;
    let tokens = seed::api_keys(&seeded, TOKENS, true).await?;
    let token_file = dir.path().join("tokens.txt");
    std::fs::write(&token_file, tokens.join("\n") + "\n")?;
    let latchkey = Server::start(&url, &seeded.master_key, &[])?;
    let issuer = seeded.state.settings.issuer.clone();
    let client = |cache: u64| {
        Latchkey::builder(latchkey.url(""))
            .issuer(issuer.clone())
            .client_credentials(seeded.client.0.clone(), seeded.client.1.clone())
            .verified_cache(cache, Duration::from_secs(600))
            .build()
    };

    // Offline verification in the client, one task, no HTTP in the way.
    let mut cold = Vec::new();
    for _ in 0..ROUNDS {
        // A fresh client per round: every token is new to it.
        let fresh = client(10_000)?;
        fresh.fetch_keys().await?;
        let started = Instant::now();
        for token in &tokens {
            fresh.verify(token, Policy::Offline).await?;
        }
        cold.push(tokens.len() as f64 / started.elapsed().as_secs_f64());
    }
    let warm = client(10_000)?;
    for token in &tokens {
        warm.verify(token, Policy::Offline).await?;
    }
    let mut cached = Vec::new();
    for _ in 0..ROUNDS {
        let started = Instant::now();
        let mut done = 0usize;
        while started.elapsed() < Duration::from_secs(1) {
            for token in &tokens {
                warm.verify(token, Policy::Offline).await?;
            }
            done += tokens.len();
        }
        cached.push(done as f64 / started.elapsed().as_secs_f64());
    }

    // The example service, in this process, one instance per policy.
    let policies: [(&str, Option<Policy>); 4] = [
        ("no auth (same handler)", None),
        ("offline", Some(Policy::Offline)),
        ("live (answers reused 2 s)", Some(Policy::Live)),
        (
            "mixed: offline, confirmed every 30 s",
            Some(Policy::Confirmed(Duration::from_secs(30))),
        ),
    ];
    let path = format!("/api/v1/companies/{}/datasets/", seeded.company_id);
    let mut loads = Vec::new();
    let mut servers = Vec::new();
    for (_, policy) in &policies {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let server = match policy {
            None => datasets::serve_without_auth(listener)?,
            Some(policy) => {
                let service_client = client(10_000)?;
                service_client.fetch_keys().await?;
                let policies = datasets::Policies {
                    read: *policy,
                    write: Policy::Live,
                };
                datasets::serve(listener, service_client, policies)?
            }
        };
        servers.push(server.handle());
        tokio::spawn(server);
        let check = reqwest::Client::new()
            .get(format!("http://127.0.0.1:{port}{path}"))
            .bearer_auth(&tokens[0])
            .send()
            .await?;
        anyhow::ensure!(check.status() == 200, "{policy:?}: {}", check.status());
        loads.push(Load {
            url: format!("http://127.0.0.1:{port}/"),
            connections: CONNECTIONS,
            seconds,
            script: Some("datasets_get.lua"),
            script_args: vec![token_file.display().to_string(), path.clone()],
        });
    }
    // Warm every cache once, then alternate the policies round by round.
    for load in &loads {
        Load {
            seconds: 1,
            ..load.clone_load()
        }
        .run()?;
    }
    let mut runs: Vec<Vec<WrkResult>> = vec![Vec::new(); loads.len()];
    for _ in 0..ROUNDS {
        for (load, runs) in loads.iter().zip(&mut runs) {
            runs.push(load.run()?);
        }
    }
    for handle in servers {
        handle.stop(false).await;
    }
    drop(latchkey);

    let rps = |runs: &[WrkResult]| median(runs.iter().map(|r| r.requests_per_second).collect());
    let baseline = rps(&runs[0]);
    let mut out = String::new();
    writeln!(out, "## A service protected by latchkey-client\n")?;
    writeln!(out, "The example `datasets` service and the client in the benchmark's process, latchkey (release binary, SQLite) beside them: three processes and wrk on one shared machine. {TOKENS} distinct API keys, one picked at random per request.\n")?;
    writeln!(
        out,
        "| client, one task | verifications/s (median of {ROUNDS}) |"
    )?;
    writeln!(out, "| --- | ---: |")?;
    writeln!(
        out,
        "| offline, cold (signature checked: every token new to the client) | {:.0} |",
        median(cold)
    )?;
    writeln!(
        out,
        "| offline, cached (token seen before: hash and lifetime only) | {:.0} |\n",
        median(cached)
    )?;
    writeln!(out, "| `GET …/datasets/` policy | requests/s (median) | p50 | p99 (median) | errors | / no auth |")?;
    writeln!(out, "| --- | ---: | ---: | ---: | ---: | ---: |")?;
    for ((name, _), runs) in policies.iter().zip(&runs) {
        writeln!(
            out,
            "| {name} | {:.0} | {:.2} ms | {:.2} ms | {} | {:.2} |",
            rps(runs),
            median(runs.iter().map(|r| r.p50_ms).collect()),
            median(runs.iter().map(|r| r.p99_ms).collect()),
            runs.iter()
                .map(|r| r.non_2xx + r.socket_errors)
                .sum::<u64>(),
            rps(runs) / baseline,
        )?;
    }
    let offline = rps(&runs[1]) / baseline;
    // Each round runs the policies one after the other, so a round's own
    // ratio compares runs seconds apart: how far the medians can be trusted.
    let rates = |runs: &[WrkResult]| {
        runs.iter()
            .map(|r| format!("{:.0}", r.requests_per_second))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let round_ratios = runs[1]
        .iter()
        .zip(&runs[0])
        .map(|(offline, none)| {
            format!(
                "{:.2}",
                offline.requests_per_second / none.requests_per_second
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    writeln!(
        out,
        "\nRounds (requests/s): no auth [{}]; offline [{}]; live [{}]; mixed [{}]; offline / no auth by round [{round_ratios}].",
        rates(&runs[0]),
        rates(&runs[1]),
        rates(&runs[2]),
        rates(&runs[3]),
    )?;
    writeln!(out, "\n| figure | target | measured | |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    writeln!(
        out,
        "| offline policy / no auth throughput | ≥ 0.9 | {offline:.2} | {} |\n",
        verdict(offline >= 0.9)
    )?;
    Ok(out)
}
