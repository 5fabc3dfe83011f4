//! `Metrics`: what latchkey exports on `/metrics`, in the Prometheus text
//! format rendered by `metrics-exporter-prometheus` (never by hand).
//!
//! Each application has a recorder of its own (not the process-global one),
//! so two instances in one process, as in the tests, count apart. Every
//! handle a hot path records into is registered once, here, at start:
//! recording is then an atomic add, with no lookup and no allocation. Only
//! the per-route request handles are found by route and status, in a map
//! that is read-locked once per request.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use metrics::{Counter, Gauge, Histogram, Key, KeyName, Label, Level, Metadata, Recorder, Unit};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

const METADATA: Metadata<'static> = Metadata::new("latchkey", Level::INFO, None);

pub const REQUESTS: &str = "latchkey_http_requests_total";
pub const REQUEST_DURATION: &str = "latchkey_http_request_duration_seconds";
pub const TOKEN_CHECKS: &str = "latchkey_token_checks_total";
pub const LOGINS: &str = "latchkey_logins_total";
pub const REFRESH_TOKEN_REUSE: &str = "latchkey_refresh_token_reuse_total";
pub const VERIFIED_CACHE: &str = "latchkey_verified_token_cache_total";
pub const TOKEN_PATHS: &str = "latchkey_token_check_paths_total";
pub const STATE_AGE: &str = "latchkey_access_state_age_seconds";
pub const CURSOR_LAG: &str = "latchkey_revocation_cursor_lag_events";
pub const ACTIVE_KEYS: &str = "latchkey_api_keys_active";
pub const EXPIRING_KEYS: &str = "latchkey_api_keys_expiring_7d";
pub const HASH_QUEUE: &str = "latchkey_password_hash_queue_depth";
pub const BUILD_INFO: &str = "latchkey_build_info";

/// Upper bounds of the request latency buckets, in seconds.
const LATENCY_BUCKETS: [f64; 14] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often histogram samples are folded into their buckets.
pub const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The four answers a token check can give.
#[derive(Clone)]
pub struct Outcomes {
    pub active: Counter,
    pub inactive: Counter,
    /// A valid token that may not do this (forward auth), or a caller that
    /// may not ask (introspection without valid client credentials).
    pub denied: Counter,
    /// Refused because the access state was too old to vouch for anything.
    pub stale: Counter,
}

#[derive(Clone)]
pub struct LoginOutcomes {
    pub success: Counter,
    pub failure: Counter,
    /// Refused with 429 because too many password checks were waiting.
    pub throttled: Counter,
}

#[derive(Clone)]
pub struct CacheCounters {
    pub hits: Counter,
    pub misses: Counter,
}

/// How the tokens missing from the verified cache were judged.
#[derive(Clone)]
pub struct PathCounters {
    /// An API key vouched for by its digest: no signature check.
    pub digest: Counter,
    /// Refused before any signature check (API key not active, or not its
    /// digest).
    pub refused: Counter,
    /// An Ed25519 signature check ran.
    pub signature: Counter,
}

/// The gauges of one plan, set at each scrape.
pub struct PlanGauges {
    pub active_keys: Gauge,
    pub expiring_keys: Gauge,
}

struct RequestHandles {
    count: Counter,
    duration: Histogram,
}

pub struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    /// By route pattern, then status: looked up by `&str`, without a copy.
    requests: RwLock<HashMap<String, HashMap<u16, RequestHandles>>>,
    pub introspection: Outcomes,
    pub forward_auth: Outcomes,
    pub logins: LoginOutcomes,
    pub refresh_token_reuse: Counter,
    pub verified_cache: CacheCounters,
    pub token_paths: PathCounters,
    pub state_age_seconds: Gauge,
    pub cursor_lag_events: Gauge,
    pub hash_queue_depth: Gauge,
    /// By plan name.
    pub plans: HashMap<String, PlanGauges>,
}

impl Metrics {
    /// A recorder with every metric described and registered; `plans` are
    /// the plan names whose keys are counted.
    pub fn new<'a>(plans: impl IntoIterator<Item = &'a str>) -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full(REQUEST_DURATION.to_owned()), &LATENCY_BUCKETS)
            .expect("the latency buckets are not empty")
            .build_recorder();
        describe(&recorder);
        let counter = |name: &'static str, labels: &[(&'static str, &'static str)]| {
            recorder.register_counter(&key(name, labels), &METADATA)
        };
        let gauge = |name: &'static str, labels: &[(&'static str, &'static str)]| {
            recorder.register_gauge(&key(name, labels), &METADATA)
        };
        let outcomes = |endpoint: &'static str| Outcomes {
            active: counter(
                TOKEN_CHECKS,
                &[("endpoint", endpoint), ("outcome", "active")],
            ),
            inactive: counter(
                TOKEN_CHECKS,
                &[("endpoint", endpoint), ("outcome", "inactive")],
            ),
            denied: counter(
                TOKEN_CHECKS,
                &[("endpoint", endpoint), ("outcome", "denied")],
            ),
            stale: counter(
                TOKEN_CHECKS,
                &[("endpoint", endpoint), ("outcome", "stale")],
            ),
        };
        gauge(BUILD_INFO, &[("version", env!("CARGO_PKG_VERSION"))]).set(1.0);
        let plans = plans
            .into_iter()
            .map(|plan| {
                let labels = vec![Label::new("plan", plan.to_owned())];
                let gauges = PlanGauges {
                    active_keys: recorder
                        .register_gauge(&Key::from_parts(ACTIVE_KEYS, labels.clone()), &METADATA),
                    expiring_keys: recorder
                        .register_gauge(&Key::from_parts(EXPIRING_KEYS, labels), &METADATA),
                };
                (plan.to_owned(), gauges)
            })
            .collect();
        Metrics {
            introspection: outcomes("introspection"),
            forward_auth: outcomes("forward_auth"),
            logins: LoginOutcomes {
                success: counter(LOGINS, &[("outcome", "success")]),
                failure: counter(LOGINS, &[("outcome", "failure")]),
                throttled: counter(LOGINS, &[("outcome", "throttled")]),
            },
            refresh_token_reuse: counter(REFRESH_TOKEN_REUSE, &[]),
            verified_cache: CacheCounters {
                hits: counter(VERIFIED_CACHE, &[("result", "hit")]),
                misses: counter(VERIFIED_CACHE, &[("result", "miss")]),
            },
            token_paths: PathCounters {
                digest: counter(TOKEN_PATHS, &[("path", "digest")]),
                refused: counter(TOKEN_PATHS, &[("path", "refused")]),
                signature: counter(TOKEN_PATHS, &[("path", "signature")]),
            },
            state_age_seconds: gauge(STATE_AGE, &[]),
            cursor_lag_events: gauge(CURSOR_LAG, &[]),
            hash_queue_depth: gauge(HASH_QUEUE, &[]),
            plans,
            requests: RwLock::new(HashMap::new()),
            handle: recorder.handle(),
            recorder,
        }
    }

    /// One request answered: counted, and its latency observed, under its
    /// route pattern (never the raw path) and status.
    pub fn record_request(&self, route: String, status: u16, latency: Duration) {
        let seconds = latency.as_secs_f64();
        let requests = self.requests.read().unwrap_or_else(|e| e.into_inner());
        if let Some(handles) = requests.get(&route).and_then(|by| by.get(&status)) {
            handles.count.increment(1);
            handles.duration.record(seconds);
            return;
        }
        drop(requests);
        let labels = vec![
            Label::new("route", route.clone()),
            Label::new("status", status.to_string()),
        ];
        let handles = RequestHandles {
            count: self
                .recorder
                .register_counter(&Key::from_parts(REQUESTS, labels.clone()), &METADATA),
            duration: self
                .recorder
                .register_histogram(&Key::from_parts(REQUEST_DURATION, labels), &METADATA),
        };
        handles.count.increment(1);
        handles.duration.record(seconds);
        self.requests
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .entry(route)
            .or_default()
            .insert(status, handles);
    }

    /// The text format of every metric as it stands.
    pub fn render(&self) -> String {
        self.handle.render()
    }

    /// Folds recorded histogram samples into their buckets; run it now and
    /// then (`UPKEEP_INTERVAL`) so they do not pile up between scrapes.
    pub fn run_upkeep(&self) {
        self.handle.run_upkeep();
    }
}

fn key(name: &'static str, labels: &[(&'static str, &'static str)]) -> Key {
    let labels: Vec<Label> = labels.iter().map(|(k, v)| Label::new(*k, *v)).collect();
    Key::from_parts(name, labels)
}

fn describe(recorder: &PrometheusRecorder) {
    let counters: [(&'static str, &'static str); 6] = [
        (REQUESTS, "HTTP requests answered, by route pattern and status."),
        (
            TOKEN_CHECKS,
            "Token checks by introspection and forward auth, by outcome (active, inactive, denied, stale).",
        ),
        (LOGINS, "Password logins, by outcome (success, failure, throttled)."),
        (
            REFRESH_TOKEN_REUSE,
            "Spent refresh tokens presented again; each revoked its whole family.",
        ),
        (
            VERIFIED_CACHE,
            "Lookups in the cache of verified tokens, by result (hit, miss).",
        ),
        (
            TOKEN_PATHS,
            "Tokens not in the verified cache, by how they were judged (digest, refused, signature).",
        ),
    ];
    for (name, help) in counters {
        recorder.describe_counter(KeyName::from(name), Some(Unit::Count), help.into());
    }
    recorder.describe_histogram(
        KeyName::from(REQUEST_DURATION),
        Some(Unit::Seconds),
        "Time to answer an HTTP request, by route pattern and status.".into(),
    );
    let gauges: [(&'static str, &'static str); 6] = [
        (
            STATE_AGE,
            "Seconds since the in-memory access state last caught up with the revocation log.",
        ),
        (
            CURSOR_LAG,
            "Revocation log events written but not yet read by this instance.",
        ),
        (
            ACTIVE_KEYS,
            "API keys neither deleted, revoked nor expired, by plan.",
        ),
        (
            EXPIRING_KEYS,
            "Active API keys that expire within 7 days, by plan.",
        ),
        (
            HASH_QUEUE,
            "Password checks running or waiting for a hashing slot.",
        ),
        (
            BUILD_INFO,
            "Always 1; the version label names the running build.",
        ),
    ];
    for (name, help) in gauges {
        recorder.describe_gauge(KeyName::from(name), None, help.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_values_are_rendered_with_their_labels() {
        let metrics = Metrics::new(["free", "professional"]);
        metrics.logins.failure.increment(2);
        metrics.record_request("/healthz".to_owned(), 200, Duration::from_millis(3));
        metrics.record_request("/healthz".to_owned(), 200, Duration::from_millis(3));
        metrics.plans["professional"].active_keys.set(4.0);

        let text = metrics.render();

        assert!(
            text.contains(r#"latchkey_logins_total{outcome="failure"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"latchkey_http_requests_total{route="/healthz",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"latchkey_api_keys_active{plan="professional"} 4"#),
            "{text}"
        );
        assert!(text.contains(r#"latchkey_build_info{version=""#), "{text}");
        assert!(text.contains("# HELP latchkey_logins_total"), "{text}");
    }
}
