//! Helpers shared by the end-to-end tests: the `zkpor` binary, snapshots,
//! agent and worker processes, and reading their status.
#![allow(dead_code)]

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use assert_cmd::cargo::cargo_bin;

/// The token of the worker every test agent admits.
pub const TOKEN: &str = "worker-token-for-tests";

/// The `zkpor` binary under test.
pub fn zkpor() -> Command {
    Command::cargo_bin("zkpor").unwrap()
}

/// A snapshot of `users` users holding BTC and USDT.
pub fn write_snapshot(dir: &Path, users: usize) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("assets.csv"), "symbol,decimals,price_usd\nBTC,8,91234.56\nUSDT,6,1\n").unwrap();
    let rows: String = (0..users).map(|i| format!("user{i},0.{:08},{}\n", 500 + i, 10 + i)).collect();
    std::fs::write(dir.join("balances.csv"), format!("id,BTC,USDT\n{rows}")).unwrap();
}

/// A TCP port nobody listens on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `zkpor` process (an agent, a worker), killed (SIGKILL) when
/// dropped.
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Running {
    /// Sends SIGTERM and waits for the process to exit; whether it exited
    /// successfully.
    pub fn terminate(mut self) -> bool {
        let _ = Process::new("kill").args(["-TERM", &self.0.id().to_string()]).status();
        self.0.wait().map(|status| status.success()).unwrap_or(false)
    }
}

/// The agent's log file next to its configuration.
pub fn log_of(config: &Path) -> PathBuf {
    config.with_extension("log")
}

/// The last lines of a log, for a failure message.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// Starts `zkpor agent --config <config>` (its output appended to
/// [`log_of`]) and waits until it listens on `port`.
pub fn start_agent(config: &Path, port: u16) -> Running {
    let log = File::options().create(true).append(true).open(log_of(config)).unwrap();
    let mut agent = Running(
        Process::new(cargo_bin("zkpor"))
            .args(["agent", "--config"])
            .arg(config)
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the agent did not start listening:\n{}", tail(&log_of(config)));
        assert!(agent.0.try_wait().unwrap().is_none(), "the agent exited:\n{}", tail(&log_of(config)));
        std::thread::sleep(Duration::from_millis(100));
    }
    agent
}

/// Starts a prover worker for the agent on `port`.
pub fn start_prover(port: u16) -> Running {
    Running(
        Process::new(cargo_bin("zkpor"))
            .args(["prover", "--agent", &format!("http://127.0.0.1:{port}"), "--idle-wait", "1"])
            .env("ZKPOR_WORKER_TOKEN", TOKEN)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )
}

/// `zkpor agent status` of the agent configured by `config`.
pub fn status(config: &Path) -> String {
    let output = zkpor().args(["agent", "--config"]).arg(config).arg("status").assert().success();
    String::from_utf8(output.get_output().stdout.clone()).unwrap()
}

/// The words of `report`'s line that starts with `first`, if any.
pub fn row(report: &str, first: &str) -> Option<Vec<String>> {
    report
        .lines()
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .find(|w| w.first().is_some_and(|w| w == first))
}

/// Runs `zkpor bench <args>` and returns what it printed, after checking
/// that every one of `expected` is in it.
pub fn bench_output(args: &[&str], expected: &[&str]) -> String {
    let output = zkpor()
        .arg("bench")
        .args(args)
        .timeout(Duration::from_secs(600))
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let table = String::from_utf8(output).unwrap();
    for line in expected {
        assert!(table.contains(line), "no '{line}' in:\n{table}");
    }
    table
}
