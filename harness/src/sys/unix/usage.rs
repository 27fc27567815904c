//! What this process costs: CPU time and peak memory, from getrusage(2).

/// The CPU time (user and system) this process has used so far, all its threads included
/// (RUSAGE_SELF).
pub fn process_cpu() -> std::time::Duration {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).map_or(
        std::time::Duration::ZERO,
        |usage| {
            let time = |t: nix::sys::time::TimeVal| {
                std::time::Duration::new(t.tv_sec().max(0) as u64, (t.tv_usec().max(0) as u32) * 1000)
            };
            time(usage.user_time()) + time(usage.system_time())
        },
    )
}

/// The peak resident memory of this process so far, in KiB. ru_maxrss counts bytes on macOS
/// and KiB on Linux and the other BSDs (getrusage(2) of each).
pub fn peak_rss_kib() -> u64 {
    let max = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)
        .map_or(0, |usage| usage.max_rss().max(0) as u64);
    if cfg!(target_vendor = "apple") { max / 1024 } else { max }
}
