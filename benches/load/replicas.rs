//! Revocation across two replicas on one PostgreSQL: how soon a deletion
//! through A reaches B, idle and with B under full introspection load.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use crate::server::Server;
use crate::wrk::{self, Load};
use crate::{scaled, seed, verdict, CONNECTIONS};

/// Two replicas on one PostgreSQL: a key deleted through one is inactive at
/// the other. 100 trials idle, 100 with B under full introspection load.
pub async fn replicas() -> anyhow::Result<String> {
    let server_url = std::env::var("LATCHKEY_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("latchkey_bench_{}", uuid::Uuid::new_v4().simple());
    let admin = sea_orm::Database::connect(&server_url).await?;
    use sea_orm::ConnectionTrait;
    admin
        .execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await?;
    let url = format!(
        "{}/{name}",
        server_url
            .rsplit_once('/')
            .map_or(server_url.as_str(), |(base, _)| base)
    );
    let seeded = seed::base(&url).await?;
    // B's load: live tokens in rotation, seeded before the replicas start.
    let mut tokens = seed::api_keys(&seeded, scaled(5_000), true).await?;
    tokens.extend(seed::short_lived_tokens(&seeded, scaled(5_000))?);
    let dir = tempfile::tempdir()?;
    let token_file = dir.path().join("tokens.txt");
    std::fs::write(&token_file, tokens.join("\n") + "\n")?;
    // A makes 130 keys in a minute or two: more than a user may by default.
    let a = Server::start(
        &url,
        &seeded.master_key,
        &[
            ("LATCHKEY_THROTTLE__KEY_CREATIONS_PER_MINUTE", "100000"),
            ("LATCHKEY_THROTTLE__KEY_CREATION_BURST", "100000"),
        ],
    )?;
    let b = Server::start(&url, &seeded.master_key, &[])?;
    let trials = Trials::new(&a, &b, &seeded).await?;

    let idle = trials.deletion_delays_ms(100).await?;
    use base64::Engine;
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{}", seeded.client.0, seeded.client.1));
    let busy_load = Load {
        url: b.url("/"),
        connections: CONNECTIONS,
        seconds: 600,
        script: Some("introspect.lua"),
        script_args: vec![token_file.display().to_string(), format!("Basic {basic}")],
    };
    // wrk runs until interrupted, then prints its summary.
    let wrk = busy_load
        .command()
        .stdout(std::process::Stdio::piped())
        .spawn()?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let busy = trials.deletion_delays_ms(scaled(100).max(3)).await;
    std::process::Command::new("kill")
        .args(["-INT", &wrk.id().to_string()])
        .status()?;
    let load_output = wrk.wait_with_output()?;
    let busy = busy?;
    let load = wrk::parse(&String::from_utf8_lossy(&load_output.stdout))?;
    drop(trials);
    drop((a, b));
    admin
        .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await?;
    let quantile = |delays: &[f64], q: f64| {
        delays[((delays.len() as f64 * q).ceil() as usize).clamp(1, delays.len()) - 1]
    };
    let (p50, p99, max) = (
        quantile(&idle, 0.5),
        quantile(&idle, 0.99),
        quantile(&idle, 1.0),
    );
    let (busy_p50, busy_p99, busy_max) = (
        quantile(&busy, 0.5),
        quantile(&busy, 0.99),
        quantile(&busy, 1.0),
    );

    let mut out = String::new();
    writeln!(out, "## Revocation across two replicas\n")?;
    writeln!(out, "Two latchkey processes on one PostgreSQL database. Each trial creates a key through replica A, waits until B vouches for it, deletes it through A, and times from A's `204` until B's introspection says `{{\"active\":false}}` (polled every millisecond). Polling is at its default (1 s); the LISTEN/NOTIFY doorbell is what makes it fast. Busy: the same while wrk drives B's introspection at full load ({CONNECTIONS} connections, {:.0} requests/s, p99 {:.2} ms over the trials).\n", load.requests_per_second, load.p99_ms)?;
    writeln!(out, "B's follower (the doorbell and the poller) runs on the process's own multi-threaded tokio runtime, apart from request handling: actix-web serves requests on worker threads that each run a runtime of their own. So under load the follower waits for no request, only for a CPU, which it shares with B's workers, wrk, A, PostgreSQL and the benchmark itself.\n")?;
    writeln!(out, "| figure | target | measured | |")?;
    writeln!(out, "| --- | --- | --- | --- |")?;
    writeln!(out, "| deletion seen by the idle replica, p99 of {} | ≤ 1 s | {p99:.1} ms (p50 {p50:.1} ms, max {max:.1} ms) | {} |", idle.len(), verdict(p99 <= 1000.0))?;
    writeln!(out, "| deletion seen by the busy replica, p99 of {} | ≤ 10 ms | {busy_p99:.1} ms (p50 {busy_p50:.1} ms, max {busy_max:.1} ms) | {} |\n", busy.len(), verdict(busy_p99 <= 10.0))?;
    Ok(out)
}

/// Key creations and deletions through replica A, watched from replica B.
struct Trials<'a> {
    client: reqwest::Client,
    b: &'a Server,
    seeded: &'a seed::Seeded,
    keys_url: String,
    token: String,
}

impl<'a> Trials<'a> {
    async fn new(a: &'a Server, b: &'a Server, seeded: &'a seed::Seeded) -> anyhow::Result<Self> {
        let client = reqwest::Client::new();
        let login: serde_json::Value = client
            .post(a.url("/api/v1/auth/login"))
            .json(&serde_json::json!({ "email": seed::EMAIL, "password": seed::PASSWORD }))
            .send()
            .await?
            .json()
            .await?;
        let token = login["access_token"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("login failed: {login}"))?
            .to_owned();
        let keys_url = a.url(&format!("/api/v1/companies/{}/api-keys", seeded.company_id));
        Ok(Trials {
            client,
            b,
            seeded,
            keys_url,
            token,
        })
    }

    async fn introspect_at_b(&self, key: &str) -> anyhow::Result<serde_json::Value> {
        Ok(self
            .client
            .post(self.b.url("/api/v1/introspect"))
            .basic_auth(&self.seeded.client.0, Some(&self.seeded.client.1))
            .form(&[("token", key)])
            .send()
            .await?
            .json()
            .await?)
    }

    /// `count` trials: from A's `204` to B's `{"active":false}`, sorted.
    async fn deletion_delays_ms(&self, count: usize) -> anyhow::Result<Vec<f64>> {
        let mut delays_ms = Vec::new();
        for _ in 0..count {
            let created: serde_json::Value = self
                .client
                .post(&self.keys_url)
                .bearer_auth(&self.token)
                .json(&serde_json::json!({ "name": format!("trial {}", uuid::Uuid::now_v7()), "expires_in": 3600 }))
                .send()
                .await?
                .json()
                .await?;
            let key = created["token"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("create failed: {created}"))?
                .to_owned();
            let id = created["id"].as_str().unwrap_or_default().to_owned();
            while self.introspect_at_b(&key).await?["active"] != true {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            let deleted = self
                .client
                .delete(format!("{}/{id}", self.keys_url))
                .bearer_auth(&self.token)
                .send()
                .await?;
            anyhow::ensure!(
                deleted.status() == 204,
                "delete failed: {}",
                deleted.status()
            );
            let started = Instant::now();
            while self.introspect_at_b(&key).await?["active"] != false {
                anyhow::ensure!(
                    started.elapsed() < Duration::from_secs(30),
                    "the deletion never reached the other replica"
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            delays_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        }
        delays_ms.sort_by(f64::total_cmp);
        Ok(delays_ms)
    }
}
