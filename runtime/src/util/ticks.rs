//! A clock for the busy-time metrics that is cheap enough to read at every park and unpark:
//! the CPU's time-stamp counter on x86-64 where it runs at a constant rate (one `rdtsc`,
//! against some forty instructions for `Instant::now`), `Instant` elsewhere.
//!
//! Ticks are only ever subtracted, summed and compared; [`to_duration`] and [`from_duration`]
//! convert with the rate measured between the first reading ([`start`], when a runtime is built)
//! and now (waiting, once per process, until that spans 10 ms).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// When the first runtime was built, in ticks and in `Instant`.
static ORIGIN: OnceLock<(u64, Instant)> = OnceLock::new();

/// Starts the clock (idempotent): call before reading ticks that will be converted.
pub(crate) fn start() {
    ORIGIN.get_or_init(|| (read(), Instant::now()));
}

/// The time now, in ticks.
#[inline]
pub(crate) fn now() -> u64 {
    read()
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn read() -> u64 {
    if has_invariant_tsc() {
        // SAFETY: `rdtsc` exists on every x86-64 CPU and has no preconditions.
        unsafe { core::arch::x86_64::_rdtsc() }
    } else {
        instant_nanos()
    }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn read() -> u64 {
    instant_nanos()
}

/// Whether the time-stamp counter runs at one rate whatever the CPU's power state (CPUID
/// 0x8000_0007, EDX bit 8), so that it measures time. Asked once.
#[cfg(target_arch = "x86_64")]
#[inline]
fn has_invariant_tsc() -> bool {
    static INVARIANT: OnceLock<bool> = OnceLock::new();
    *INVARIANT.get_or_init(|| {
        // `cpuid` exists on every x86-64 CPU; leaf 0x8000_0007 is asked only when the highest
        // extended leaf (from leaf 0x8000_0000) reaches it.
        core::arch::x86_64::__cpuid(0x8000_0000).eax >= 0x8000_0007
            && core::arch::x86_64::__cpuid(0x8000_0007).edx & (1 << 8) != 0
    })
}

/// Nanoseconds since the first call, the fallback tick.
fn instant_nanos() -> u64 {
    static INSTANT_ORIGIN: OnceLock<Instant> = OnceLock::new();
    INSTANT_ORIGIN.get_or_init(Instant::now).elapsed().as_nanos() as u64
}

/// The duration of `ticks`, at the rate the clock ran since [`start`].
pub(crate) fn to_duration(ticks: u64) -> Duration {
    match ticks_per_second() {
        Some(rate) => Duration::from_secs_f64(ticks as f64 / rate),
        None => Duration::ZERO,
    }
}

/// `duration` in ticks, at the rate the clock ran since [`start`].
pub(crate) fn from_duration(duration: Duration) -> u64 {
    ticks_per_second().map_or(0, |rate| (duration.as_secs_f64() * rate) as u64)
}

/// The rate the clock ran at since [`start`], or `None` if it did not move.
fn ticks_per_second() -> Option<f64> {
    start();
    let (origin_ticks, origin) = *ORIGIN.get().expect("started above");
    // Too short a baseline gives a poor rate: wait until it spans 10 ms (once per process).
    while origin.elapsed() < Duration::from_millis(10) {
        std::hint::spin_loop();
    }
    let (ticks_now, elapsed) = (read(), origin.elapsed());
    let rate = (ticks_now.saturating_sub(origin_ticks)) as f64 / elapsed.as_secs_f64();
    (rate > 0.0).then_some(rate)
}
