//! Process and host resource sampling.
//!
//! [`ResourceSampler`] reads what this process and the host use; [`init`](crate::init) runs one
//! on the `pathwise-resources` thread every [`Config::resource_interval`](crate::Config) and
//! hands each [`ResourceSample`] to the pipeline, which stores it in `resource_samples`.
//!
//! Cost is kept low by refreshing only this process, with only the fields we report (CPU,
//! memory, disk I/O), and only the host figures we report (global CPU, RAM, network counters).
//! The `sysinfo` objects live as long as the sampler: CPU figures are differences between two
//! refreshes.

use std::io::Read;
use std::sync::OnceLock;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use pathwise_model::{HostResources, ProcessResources, Record, ResourceSample};
use sysinfo::{
    CpuRefreshKind, MemoryRefreshKind, Networks, Pid, ProcessRefreshKind, ProcessesToUpdate, System,
};

/// Takes [`ResourceSample`]s of this process and the host.
///
/// CPU percentages cover the time since the previous sample (or since `new()`), so keep one
/// sampler and call [`sample`](ResourceSampler::sample) repeatedly. Figures a platform cannot
/// provide are 0.
///
/// ```
/// let mut sampler = pathwise::ResourceSampler::new();
/// let sample = sampler.sample();
/// assert!(sample.ts_ns > 0);
/// # #[cfg(target_os = "linux")]
/// assert!(sample.process.rss_bytes > 0 && sample.process.threads >= 1);
/// ```
pub struct ResourceSampler {
    /// `None` where `sysinfo` does not support the platform.
    system: Option<System>,
    networks: Option<Networks>,
    pid: Pid,
    /// Process CPU time (ms) and when it was read, for the next sample's CPU %.
    last_cpu: Option<(u64, Instant)>,
    /// Reused for reading `/proc/self/stat`.
    buf: Vec<u8>,
}

impl Default for ResourceSampler {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for ResourceSampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResourceSampler")
            .field("pid", &self.pid)
            .finish_non_exhaustive()
    }
}

/// The process fields we report, and nothing else (no command line, environment, tasks, ...).
fn process_kind() -> ProcessRefreshKind {
    ProcessRefreshKind::nothing()
        .with_cpu()
        .with_memory()
        .with_disk_usage()
        .without_tasks()
}

impl ResourceSampler {
    /// A sampler whose first [`sample`](ResourceSampler::sample) reports CPU use since now.
    pub fn new() -> Self {
        let mut sampler = ResourceSampler {
            system: System::new().ok(),
            networks: Networks::new().ok(),
            pid: Pid::from_u32(std::process::id()),
            last_cpu: None,
            buf: Vec::with_capacity(512),
        };
        // The first refresh sets the baselines (CPU times, the list of interfaces).
        sampler.sample_process();
        sampler.sample_host();
        sampler
    }

    /// Samples the process and the host now.
    pub fn sample(&mut self) -> ResourceSample {
        let process = self.sample_process();
        let host = self.sample_host();
        ResourceSample {
            ts_ns: pathwise_pipeline::clock().wall_now_ns(),
            process,
            host,
        }
    }

    /// The process part of [`sample`](ResourceSampler::sample). On Linux it reads
    /// `/proc/self/stat`, `/proc/self/io` and `/proc/self/fd` directly: sysinfo reads six files
    /// per refresh even for one process, which costs more than the 50 µs budget.
    pub fn sample_process(&mut self) -> ProcessResources {
        let mut out = match self.process_from_proc() {
            Some(out) => out,
            None => self.process_from_sysinfo(),
        };
        out.open_fds = open_fds();
        out
    }

    /// CPU % from CPU time over wall time since the previous sample.
    fn cpu_pct(&mut self, cpu_ms: u64) -> f32 {
        let now = Instant::now();
        let pct = self.last_cpu.map_or(0.0, |(last_ms, last_at)| {
            let wall_ms = now.duration_since(last_at).as_secs_f64() * 1e3;
            if wall_ms > 0.0 {
                (cpu_ms.saturating_sub(last_ms) as f64 / wall_ms * 100.0) as f32
            } else {
                0.0
            }
        });
        self.last_cpu = Some((cpu_ms, now));
        pct
    }

    /// `None` where `/proc/self/stat` cannot be read (not Linux).
    fn process_from_proc(&mut self) -> Option<ProcessResources> {
        self.buf.clear();
        std::fs::File::open("/proc/self/stat")
            .and_then(|mut f| f.read_to_end(&mut self.buf))
            .ok()?;
        // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so fields are
        // counted from the last `)`: utime 11, stime 12, num_threads 17, vsize 20, rss 21.
        let close = self.buf.iter().rposition(|b| *b == b')')?;
        let rest = std::str::from_utf8(&self.buf[close + 1..]).ok()?;
        let fields: Vec<u64> = rest
            .split_ascii_whitespace()
            .skip(1)
            .map(|f| f.parse().unwrap_or(0))
            .collect();
        let field = |i: usize| fields.get(i - 1).copied().unwrap_or(0);
        let ticks = field(11) + field(12);
        let mut out = ProcessResources {
            threads: field(17) as u32,
            virtual_bytes: field(20),
            rss_bytes: field(21) * page_size(),
            ..ProcessResources::default()
        };
        out.cpu_pct = self.cpu_pct(ticks * 1000 / clock_ticks());
        if let Ok(io) = std::fs::read_to_string("/proc/self/io") {
            for line in io.lines() {
                let value = |prefix: &str| {
                    line.strip_prefix(prefix)
                        .and_then(|v| v.trim().parse().ok())
                };
                if let Some(v) = value("read_bytes:") {
                    out.disk_read_bytes = v;
                } else if let Some(v) = value("write_bytes:") {
                    out.disk_write_bytes = v;
                }
            }
        }
        Some(out)
    }

    fn process_from_sysinfo(&mut self) -> ProcessResources {
        let mut out = ProcessResources::default();
        let Some(system) = &mut self.system else {
            return out;
        };
        system.refresh_processes_specifics(
            ProcessesToUpdate::Some(&[self.pid]),
            false,
            process_kind(),
        );
        let Some(process) = system.process(self.pid) else {
            return out;
        };
        out.rss_bytes = process.memory();
        out.virtual_bytes = process.virtual_memory();
        let disk = process.disk_usage();
        out.disk_read_bytes = disk.total_read_bytes;
        out.disk_write_bytes = disk.total_written_bytes;
        let cpu_ms = process.accumulated_cpu_time();
        out.cpu_pct = self.cpu_pct(cpu_ms);
        out
    }

    /// The host part of [`sample`](ResourceSampler::sample).
    pub fn sample_host(&mut self) -> HostResources {
        let mut out = HostResources::default();
        if let Some(system) = &mut self.system {
            // At most every 200 ms (sysinfo's minimum); in between the last figure stays.
            system.refresh_cpu_specifics(CpuRefreshKind::nothing().with_usage());
            system.refresh_memory_specifics(MemoryRefreshKind::nothing().with_ram());
            out.cpu_pct = system.global_cpu_usage();
            out.mem_used_bytes = system.used_memory();
            out.mem_available_bytes = system.available_memory();
        }
        if let Some(networks) = &mut self.networks {
            networks.refresh(true);
            for (name, data) in networks.iter() {
                if name != "lo" && name != "lo0" {
                    out.net_rx_bytes = out.net_rx_bytes.saturating_add(data.total_received());
                    out.net_tx_bytes = out.net_tx_bytes.saturating_add(data.total_transmitted());
                }
            }
        }
        out
    }
}

/// Entries of `/proc/self/fd`, less the one the listing itself holds open; 0 where there is no
/// such directory.
fn open_fds() -> u32 {
    match std::fs::read_dir("/proc/self/fd") {
        Ok(dir) => dir.count().saturating_sub(1) as u32,
        Err(_) => 0,
    }
}

/// `AT_*` value of the auxiliary vector the kernel gave the process, so that no FFI is needed.
fn auxv(key: usize) -> Option<u64> {
    const WORD: usize = std::mem::size_of::<usize>();
    let auxv = std::fs::read("/proc/self/auxv").ok()?;
    auxv.chunks_exact(2 * WORD).find_map(|pair| {
        let (k, v) = pair.split_at(WORD);
        let k = usize::from_ne_bytes(k.try_into().ok()?);
        let v = usize::from_ne_bytes(v.try_into().ok()?);
        (k == key && v > 0).then_some(v as u64)
    })
}

/// Clock ticks per second of `/proc` CPU times (`AT_CLKTCK`; 100 where unknown).
fn clock_ticks() -> u64 {
    static TICKS: OnceLock<u64> = OnceLock::new();
    *TICKS.get_or_init(|| auxv(17).unwrap_or(100))
}

/// The page size, from the auxiliary vector the kernel gave the process (`AT_PAGESZ`), so that
/// no FFI is needed; 4 KiB where it cannot be read.
fn page_size() -> u64 {
    static PAGE: OnceLock<u64> = OnceLock::new();
    *PAGE.get_or_init(|| auxv(6).unwrap_or(4096))
}

/// This process's resident set size, cheaply: the second field of `/proc/self/statm` (pages)
/// times the page size. `None` where there is no such file. Used by `#[monitor(memory_delta)]`.
pub(crate) fn current_rss_bytes() -> Option<u64> {
    let mut buf = [0u8; 128];
    let mut file = std::fs::File::open("/proc/self/statm").ok()?;
    let mut len = 0;
    while len < buf.len() {
        match file.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(_) => return None,
        }
    }
    let text = std::str::from_utf8(&buf[..len]).ok()?;
    let pages: u64 = text.split_ascii_whitespace().nth(1)?.parse().ok()?;
    Some(pages.saturating_mul(page_size()))
}

/// The running `pathwise-resources` thread; stopped and joined on drop.
pub(crate) struct SamplerThread {
    /// Dropping the sender wakes the thread and tells it to stop.
    stop: Option<mpsc::Sender<()>>,
    handle: Option<JoinHandle<()>>,
}

impl SamplerThread {
    /// Starts sampling every `interval`; the first sample comes one interval from now.
    pub(crate) fn spawn(interval: Duration) -> std::io::Result<Self> {
        let (stop, stopped) = mpsc::channel::<()>();
        let handle = std::thread::Builder::new()
            .name("pathwise-resources".into())
            .spawn(move || run(interval, stopped))?;
        Ok(SamplerThread {
            stop: Some(stop),
            handle: Some(handle),
        })
    }

    /// Stops the thread and waits for it; idempotent.
    pub(crate) fn stop(&mut self) {
        self.stop.take();
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

impl Drop for SamplerThread {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run(interval: Duration, stopped: mpsc::Receiver<()>) {
    let mut sampler = ResourceSampler::new();
    let mut next = Instant::now() + interval;
    loop {
        let wait = next.saturating_duration_since(Instant::now());
        match stopped.recv_timeout(wait) {
            Err(RecvTimeoutError::Timeout) => {}
            // Stop requested (the sender is dropped, never used to send).
            Ok(()) | Err(RecvTimeoutError::Disconnected) => return,
        }
        pathwise_pipeline::submit_now(Record::Resource(sampler.sample()));
        // A fixed schedule that does not drift; after a stall (a suspended machine), resume one
        // interval from now instead of sampling in a burst.
        next += interval;
        let now = Instant::now();
        if next <= now {
            next = now + interval;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_os = "linux")]
    fn statm_rss_agrees_with_sysinfo() {
        let page = page_size();
        assert!(page.is_power_of_two() && page >= 4096, "{page}");
        let statm = current_rss_bytes().unwrap();
        let sampled = ResourceSampler::new().sample_process().rss_bytes;
        // Both read the kernel's RSS; allow for what the test itself allocates in between.
        let diff = statm.abs_diff(sampled);
        assert!(diff < 16 << 20, "statm {statm} vs sysinfo {sampled}");
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn thread_count_matches_proc_status_and_follows_new_threads() {
        let status_threads = || -> u32 {
            let status = std::fs::read_to_string("/proc/self/status").unwrap();
            let line = status.lines().find(|l| l.starts_with("Threads:")).unwrap();
            line["Threads:".len()..].trim().parse().unwrap()
        };
        let mut sampler = ResourceSampler::new();
        let (release, wait) = mpsc::channel::<()>();
        let before = sampler.sample_process().threads;
        let parked = std::thread::spawn(move || wait.recv());
        let during = sampler.sample_process().threads;
        // Other tests of this binary start and stop threads meanwhile: compare loosely.
        assert!(during >= 2, "{during}");
        assert!(status_threads().abs_diff(during) <= 4);
        assert!(before >= 1);
        drop(release);
        let _ = parked.join();
    }

    #[test]
    fn the_thread_stops_promptly_when_dropped() {
        let started = Instant::now();
        let thread = SamplerThread::spawn(Duration::from_secs(3600)).unwrap();
        drop(thread);
        assert!(started.elapsed() < Duration::from_secs(5));
    }
}
