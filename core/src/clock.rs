//! The clock that timestamps series points.
//!
//! Every appended point carries the time of the call. `SystemTime::now()`
//! costs about 20 ns here (a full `clock_gettime(CLOCK_REALTIME)`), a third
//! of an append; on Linux the coarse real-time clock costs a few ns and
//! ticks every 1–4 ms, as fine as the millisecond timestamps experiment
//! trackers store. Elsewhere, `SystemTime::now()`.

use std::time::SystemTime;

/// The time of a logged point.
#[inline]
pub(crate) fn now() -> SystemTime {
    #[cfg(target_os = "linux")]
    {
        coarse_now().unwrap_or_else(SystemTime::now)
    }
    #[cfg(not(target_os = "linux"))]
    {
        SystemTime::now()
    }
}

#[cfg(target_os = "linux")]
#[inline]
fn coarse_now() -> Option<SystemTime> {
    use std::time::{Duration, UNIX_EPOCH};
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` only writes one `timespec` through the pointer,
    // and `ts` is a live, exclusively borrowed `timespec` for the whole call.
    // An unknown clock id is reported through the return value, not UB.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut ts) };
    if rc != 0 {
        return None;
    }
    let secs = u64::try_from(ts.tv_sec).ok()?;
    let nanos = u32::try_from(ts.tv_nsec).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, nanos))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, SystemTime};

    #[test]
    fn coarse_clock_is_close_to_the_system_clock() {
        let before = SystemTime::now();
        let now = super::now();
        let after = SystemTime::now();
        // The coarse clock lags by at most one tick (a few ms).
        assert!(now <= after, "{now:?} > {after:?}");
        assert!(before.duration_since(now).unwrap_or_default() < Duration::from_millis(50));
    }
}
