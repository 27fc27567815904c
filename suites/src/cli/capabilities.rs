//! `sockerr capabilities`: what this platform offers the trials.

use std::process::ExitCode;

use crate::{catalogue, runner};

/// Probe what this platform offers the trials and print it: packet capture (with a ring or
/// recvmsg), netlink notifications, route lookups of local addresses, nftables or iptables,
/// what /proc shows of a thread, TCP_INFO's bytes acknowledged, the TCP table, the UDP error
/// queue, and every need a scenario of the catalogue declares (each sysctl it sets among
/// them). A trial that needs what is missing is skipped with the reason; where a fallback
/// exists it is used.
///
/// Exit status: 0.
#[derive(clap::Args)]
pub struct CapabilitiesArgs {}

pub fn capabilities(_args: CapabilitiesArgs, namespaces_problem: Option<String>) -> anyhow::Result<ExitCode> {
    let mut text = String::new();
    if let Some(reason) = &namespaces_problem {
        text.push_str(&format!("no namespace trial can run here: {reason}\n"));
    }
    let scenarios = catalogue::all();
    let planned = runner::plan(&scenarios);
    for record in runner::probe(&planned, namespaces_problem).records() {
        let mark = if record.available { "yes" } else { "no " };
        match record.detail.is_empty() {
            true => text.push_str(&format!("{mark}  {}\n", record.name)),
            false => text.push_str(&format!("{mark}  {}: {}\n", record.name, record.detail)),
        }
    }
    super::out(&text);
    Ok(ExitCode::SUCCESS)
}
