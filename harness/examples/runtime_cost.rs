//! What one runtime trial costs: runs the same trial N times, one after the other, with a
//! native client and with each runtime client, and prints the median wall time and the CPU
//! time (user + system) per trial, counting this process, the client processes it reaped,
//! and the long-lived clients it started (their /proc/<pid>/stat).
//!
//! The trial: a `two_hosts` v4 sandbox, connect, the server aborts with linger 0, the client
//! reads once and writes twice, then closes: the catalogue's shape of trial.
//!
//! ```sh
//! cargo run --release -p sockerr-harness --example runtime_cost -- 100
//! SOCKERR_RUNTIME_MODE=process cargo run --release -p sockerr-harness --example runtime_cost -- 100
//! ```

/// Runtime clients run on Linux only.
#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("runtime clients run on Linux only");
}

#[cfg(target_os = "linux")]
fn main() {
    measured::main()
}

#[cfg(target_os = "linux")]
mod measured {
    use std::time::{Duration, Instant};

    use nix::sys::resource::{UsageWho, getrusage};
    use sockerr_harness::record::Direction;
    use sockerr_harness::runtime::{Api, RuntimeClient, StartError};
    use sockerr_harness::trial::{self, TrialSpec};
    use sockerr_harness::{Family, Topology};

    fn spec() -> TrialSpec {
        TrialSpec {
            deadline: Duration::from_secs(60),
            ..TrialSpec::new(Family::V4, Topology::TwoHosts)
        }
    }

    /// One trial; `None` runs the steps with the harness's own (native) client.
    fn one_trial(api: Option<Api>) -> Result<(), String> {
        let observed = trial::run(&spec(), move |t| {
            let mut listener = t.listener(16)?;
            let addr = t.server_addr(trial::SERVER_PORT);
            match api {
                Some(api) => {
                    let mut client = RuntimeClient::start(api).map_err(|e| match e {
                        StartError::Missing(why) | StartError::Failed(why) => why,
                    })?;
                    client.connect(addr);
                    let (_, Some(mut server)) = listener.accept("server") else {
                        return Err("no connection".into());
                    };
                    server.abort();
                    t.wait_for_segment(Direction::ServerToClient, 'R');
                    client.read(64);
                    client.write(1);
                    client.write(1);
                    client.close();
                }
                None => {
                    let mut client = t.client()?;
                    client.connect(&addr);
                    let (_, Some(mut server)) = listener.accept("server") else {
                        return Err("no connection".into());
                    };
                    server.abort();
                    t.wait_for_segment(Direction::ServerToClient, 'R');
                    client.read(64);
                    client.write(b"x");
                    client.write(b"x");
                    client.close();
                }
            }
            Ok(())
        });
        match observed.error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn seconds(t: nix::sys::time::TimeVal) -> f64 {
        t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6
    }

    /// CPU seconds of this process, of its reaped children, and of its living children.
    fn cpu_seconds() -> f64 {
        let own = getrusage(UsageWho::RUSAGE_SELF).expect("getrusage");
        let reaped = getrusage(UsageWho::RUSAGE_CHILDREN).expect("getrusage");
        let ticks = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
            .ok()
            .flatten()
            .unwrap_or(100) as f64;
        let me = std::process::id().to_string();
        let living: f64 = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
            .filter_map(|stat| {
                let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
                // After the command: state, ppid, ..., utime (14th field of the line), stime.
                (fields.get(1) == Some(&me.as_str())).then(|| {
                    let utime: f64 = fields.get(11)?.parse().ok()?;
                    let stime: f64 = fields.get(12)?.parse().ok()?;
                    Some((utime + stime) / ticks)
                })?
            })
            .sum();
        seconds(own.user_time())
            + seconds(own.system_time())
            + seconds(reaped.user_time())
            + seconds(reaped.system_time())
            + living
    }

    fn median(mut values: Vec<f64>) -> f64 {
        values.sort_by(f64::total_cmp);
        values[values.len() / 2]
    }

    pub fn main() {
        let n: usize = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(50);
        let mode = std::env::var("SOCKERR_RUNTIME_MODE").unwrap_or_else(|_| "default".into());
        println!("{n} trials each, one at a time; client mode: {mode}");
        println!(
            "{:<32} {:>12} {:>14} {:>16}",
            "client", "wall ms/trial", "CPU ms/trial", "first trial ms"
        );
        let clients: Vec<Option<Api>> = std::iter::once(None).chain(Api::ALL.map(Some)).collect();
        for api in clients {
            let name = api.map_or("native (harness endpoint)".to_string(), |a| a.id().to_string());
            // The first trial starts (and builds) what the runtime needs once per run.
            let first = Instant::now();
            if let Err(e) = one_trial(api) {
                println!("{name:<32} failed: {e}");
                continue;
            }
            let first_ms = first.elapsed().as_secs_f64() * 1e3;
            let cpu_before = cpu_seconds();
            let mut walls = Vec::with_capacity(n);
            for _ in 0..n {
                let started = Instant::now();
                if let Err(e) = one_trial(api) {
                    println!("{name:<32} failed: {e}");
                    break;
                }
                walls.push(started.elapsed().as_secs_f64() * 1e3);
            }
            let cpu_ms = (cpu_seconds() - cpu_before) * 1e3 / walls.len().max(1) as f64;
            println!("{name:<32} {:>12.2} {:>14.2} {:>16.1}", median(walls), cpu_ms, first_ms);
        }
    }
}
