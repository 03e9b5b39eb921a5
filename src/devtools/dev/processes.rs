//! The network's processes: `zkpor` itself, started as an exchange
//! endpoint, agents and prover workers, each logging to its own file, all
//! stopped (SIGTERM, then SIGKILL) when dropped.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// One child process.
struct Process {
    name: String,
    child: Child,
    log: PathBuf,
}

/// Every process started, stopped together.
pub struct Processes {
    logs: PathBuf,
    running: Vec<Process>,
}

impl Processes {
    /// No processes yet; their logs go to `logs`.
    pub fn new(logs: &Path) -> Result<Self> {
        std::fs::create_dir_all(logs).with_context(|| format!("creating {}", logs.display()))?;
        Ok(Processes { logs: logs.to_path_buf(), running: Vec::new() })
    }

    /// Starts `zkpor <args>` as `name`, with `env` set.
    pub fn start(&mut self, name: &str, args: &[&str], env: &[(&str, &str)]) -> Result<()> {
        let log = self.logs.join(format!("{name}.log"));
        let file = File::create(&log).with_context(|| format!("creating {}", log.display()))?;
        let exe = std::env::current_exe().context("finding the zkpor executable")?;
        let mut command = Command::new(exe);
        command.args(args).env("RUST_LOG", "info").stdin(Stdio::null()).stdout(file.try_clone()?).stderr(file);
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().with_context(|| format!("starting {name}"))?;
        self.running.push(Process { name: name.to_string(), child, log });
        Ok(())
    }

    /// Waits until something listens on `port`, failing if `name` exits
    /// or a minute passes.
    pub fn wait_listening(&mut self, name: &str, port: u16) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            self.check_alive()?;
            if Instant::now() > deadline {
                bail!("{name} did not listen on port {port} within a minute; see {}", self.log_of(name).display());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(())
    }

    /// Fails, naming the process and its log, if one has exited.
    pub fn check_alive(&mut self) -> Result<()> {
        for process in &mut self.running {
            if let Some(status) = process.child.try_wait()? {
                bail!(
                    "{} exited ({status}); the end of {}:\n{}",
                    process.name,
                    process.log.display(),
                    tail(&process.log)
                );
            }
        }
        Ok(())
    }

    fn log_of(&self, name: &str) -> PathBuf {
        self.logs.join(format!("{name}.log"))
    }

    /// Stops every process: SIGTERM, then SIGKILL after five seconds.
    pub fn stop(&mut self) {
        for process in &self.running {
            let _ = Command::new("kill").args(["-TERM", &process.child.id().to_string()]).status();
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        for process in &mut self.running {
            while matches!(process.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = process.child.kill();
            let _ = process.child.wait();
        }
        self.running.clear();
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last lines of a log.
pub fn tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}
