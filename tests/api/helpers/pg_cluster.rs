//! A throwaway PostgreSQL cluster of a test's own, which the test may stop
//! and start again: `initdb` and `pg_ctl`, run as the `postgres` OS user,
//! in a temporary directory, on a free port. Dropping it stops it.

use std::path::{Path, PathBuf};
use std::process::Command;

pub struct PgCluster {
    bin: PathBuf,
    /// Holds the data directory, the socket and the server log.
    dir: tempfile::TempDir,
    pub port: u16,
}

impl PgCluster {
    /// Creates a cluster (trust auth, no fsync) and starts it. Panics when
    /// the PostgreSQL server binaries are missing: the test must not skip.
    pub fn start() -> PgCluster {
        let bin = server_bin_dir();
        let dir = tempfile::tempdir().expect("a temporary directory");
        run(Command::new("chown").arg("postgres:").arg(dir.path()));
        let cluster = PgCluster {
            bin,
            port: free_port(),
            dir,
        };
        run(cluster
            .as_postgres("initdb")
            .arg("-D")
            .arg(cluster.data())
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C"])
            .arg("--no-sync"));
        cluster.resume();
        cluster
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Kills the server at once, as a crash or a pulled plug would.
    pub fn stop(&self) {
        run(self.as_postgres("pg_ctl").arg("-D").arg(self.data()).args([
            "-m",
            "immediate",
            "-w",
            "stop",
        ]));
    }

    /// Starts the server (again) on the same port, and waits until it accepts.
    pub fn resume(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        run(self
            .as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("server.log"))
            .args(["-o", &options, "-w", "start"]));
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn as_postgres(&self, program: &str) -> Command {
        let mut command = Command::new("runuser");
        command
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join(program));
        command
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let _ = self
            .as_postgres("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// The newest /usr/lib/postgresql/*/bin holding `initdb`.
fn server_bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|version| version.path().join("bin"))
        .filter(|bin| bin.join("initdb").is_file())
        .collect();
    found.sort_by_key(|bin| version_of(bin));
    found.pop().unwrap_or_else(|| {
        panic!(
            "initdb not found in /usr/lib/postgresql/*/bin: install the PostgreSQL server \
             (apt-get install postgresql) to run the database outage tests"
        )
    })
}

fn version_of(bin: &Path) -> u32 {
    bin.parent()
        .and_then(|v| v.file_name()?.to_str()?.parse().ok())
        .unwrap_or(0)
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    listener.local_addr().unwrap().port()
}

fn run(command: &mut Command) {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?}: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
