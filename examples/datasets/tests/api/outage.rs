//! A TCP proxy in front of latchkey that the test can cut, to see what the
//! datasets service does when latchkey cannot be reached; and the tests of it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use crate::helpers::{assert_error, scene, DEFAULT_POLICIES};

pub struct Proxy {
    port: u16,
    down: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    pub async fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let down = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let (is_down, tasks) = (down.clone(), connections.clone());
        tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if is_down.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is closed at once
                }
                tasks.lock().unwrap().push(tokio::spawn(async move {
                    if let Ok(mut outbound) = TcpStream::connect(("127.0.0.1", upstream)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                }));
            }
        });
        Proxy {
            port,
            down,
            connections,
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Cuts latchkey off: open connections die, new ones are closed at once.
    pub fn cut(&self) {
        self.down.store(true, Ordering::SeqCst);
        for connection in self.connections.lock().unwrap().drain(..) {
            connection.abort();
        }
    }

    pub fn restore(&self) {
        self.down.store(false, Ordering::SeqCst);
    }
}

#[tokio::test]
async fn when_latchkey_is_down_live_routes_answer_503_and_offline_routes_keep_working() {
    let scene = scene(DEFAULT_POLICIES).await;
    assert_eq!(scene.list(&scene.key).await.status(), 200);

    scene.latchkey.proxy.cut();
    // Past the JWKS's age too: a failed refresh keeps the keys we have.
    scene
        .datasets
        .clock
        .advance(std::time::Duration::from_secs(120));

    assert_eq!(scene.list(&scene.key).await.status(), 200);
    let body = assert_error(scene.create(&scene.key).await, 503, "service_unavailable").await;
    assert_eq!(body["errors"][0]["attr"], serde_json::Value::Null);

    scene.latchkey.proxy.restore();
    assert_eq!(scene.create(&scene.key).await.status(), 201);
}

#[tokio::test]
async fn an_offline_route_that_never_reached_latchkey_answers_503() {
    let scene = scene(DEFAULT_POLICIES).await;
    scene.latchkey.proxy.cut();

    assert_error(scene.list(&scene.key).await, 503, "service_unavailable").await;
}
