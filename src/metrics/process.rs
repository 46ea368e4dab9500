//! The process's own CPU time and resident memory, read from `/proc/self`
//! at each scrape, under the names every Prometheus client library uses
//! (`process_cpu_seconds_total`, `process_resident_memory_bytes`), so the
//! usual dashboards and the shipped one read them. Elsewhere than Linux
//! (no `/proc`), nothing is reported. Also the log lines dropped by the
//! non-blocking log writer ([`crate::telemetry`]), read at each scrape.

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Reads `/proc/self` when scraped.
#[derive(Debug, Default)]
pub(super) struct ProcessCollector;

/// CPU seconds (user + system) and resident bytes, if `/proc` has them.
fn read() -> Option<(f64, i64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces), from field 3.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |index: usize| fields.get(index)?.parse::<u64>().ok();
    // utime and stime are fields 14 and 15 (1-based): 11 and 12 here.
    let cpu_ticks = ticks(11)? + ticks(12)?;
    let per_second = rustix::param::clock_ticks_per_second();
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let resident_pages: i64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    let page = i64::try_from(rustix::param::page_size()).ok()?;
    Some((
        cpu_ticks as f64 / per_second as f64,
        resident_pages.saturating_mul(page),
    ))
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let dropped = ConstCounter::new(crate::telemetry::dropped_lines());
        dropped.encode(encoder.encode_descriptor(
            "giropops_log_lines_dropped",
            "Log lines dropped because the log writer's queue was full (stderr too slow)",
            None,
            dropped.metric_type(),
        )?)?;
        let Some((cpu_seconds, resident_bytes)) = read() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "User and system CPU time spent by the process, in seconds",
            None,
            cpu.metric_type(),
        )?)?;
        let resident = ConstGauge::new(resident_bytes);
        resident.encode(encoder.encode_descriptor(
            "process_resident_memory_bytes",
            "Resident memory of the process, in bytes",
            None,
            resident.metric_type(),
        )?)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn proc_self_reads_as_cpu_seconds_and_resident_bytes() {
        let (cpu, resident) = super::read().expect("Linux has /proc/self");
        assert!(cpu >= 0.0);
        assert!(resident > 1024 * 1024, "{resident}");
    }
}
