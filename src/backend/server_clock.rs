//! The server's clock, as the backend sees it.
//!
//! Every window, age and deadline compared with AWS's data must be computed on AWS's clock
//! (or the emulator's), never on the laptop's: a laptop whose clock is off, or an emulator
//! started at another date, would otherwise read an empty metrics window and turn a known
//! state into "unknown". Every AWS answer carries a `Date` header; an SDK interceptor reads
//! it and re-anchors the backend's clock whenever the two disagree by more than the header's
//! one-second resolution plus the round trip.

use crate::clock::{Clock, wall_now};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::interceptors::context::BeforeDeserializationInterceptorContextRef;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::date_time::{DateTime, Format};

/// Where the backend's present comes from.
#[derive(Clone, Debug)]
pub enum TimeSource {
    /// The very clock of an emulator in this process: exact, and advanced by tests.
    Shared(Clock),
    /// A local clock re-anchored from the `Date` of every answer (real AWS, or an emulator
    /// in another process). `start` is the best first guess: the wall clock, or a reading
    /// of the emulator's clock.
    FromServer { start: f64, speed: f64 },
}

impl TimeSource {
    /// Server time, first guessed from the wall clock.
    pub fn server() -> TimeSource {
        TimeSource::FromServer {
            start: wall_now(),
            speed: 1.0,
        }
    }

    /// The clock the backend reads the server's present from, the clock its own waits
    /// run on (local monotonic time, never re-anchored), and whether answers re-anchor
    /// the first.
    pub fn into_clocks(self) -> (Clock, Clock, bool) {
        match self {
            TimeSource::Shared(clock) => (clock.clone(), clock, false),
            TimeSource::FromServer { start, speed } => (
                Clock::starting_at(start, speed),
                Clock::starting_at(wall_now(), 1.0),
                true,
            ),
        }
    }
}

/// How far the local reading may run ahead of the header's whole second before it is
/// re-anchored: the header truncates to the second, and the answer took some time to arrive.
const TOLERANCE_AHEAD: f64 = 2.0;

/// Re-anchors `clock` to a server time read from a `Date` header (whole seconds), if the
/// clock disagrees with it. Returns whether it moved.
pub fn sync_to_header(clock: &Clock, server_second: f64) -> bool {
    let now = clock.now();
    if now >= server_second && now <= server_second + TOLERANCE_AHEAD {
        return false;
    }
    clock.set_now(server_second + 0.5);
    true
}

/// Parses an HTTP `Date` header (IMF-fixdate) into epoch seconds.
pub fn parse_http_date(value: &str) -> Option<f64> {
    DateTime::from_str(value.trim(), Format::HttpDate)
        .ok()
        .map(|d| d.as_secs_f64())
}

/// Formats epoch seconds as an HTTP `Date` header, as AWS sends it.
pub fn format_http_date(epoch: f64) -> String {
    DateTime::from_secs(epoch.floor() as i64)
        .fmt(Format::HttpDate)
        // Only out-of-range years fail to format; the emulator's clock never gets there.
        .unwrap_or_default()
}

/// The SDK interceptor that keeps a backend's clock on the server's time.
#[derive(Debug, Clone)]
pub struct ServerClockInterceptor {
    clock: Clock,
}

impl ServerClockInterceptor {
    pub fn new(clock: Clock) -> Self {
        ServerClockInterceptor { clock }
    }
}

impl Intercept for ServerClockInterceptor {
    fn name(&self) -> &'static str {
        "scale0::ServerClock"
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let date = context
            .response()
            .headers()
            .get("date")
            .and_then(parse_http_date);
        if let Some(server) = date
            && sync_to_header(&self.clock, server)
        {
            tracing::debug!(server, "re-anchored to the server's clock");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_dates_round_trip() {
        let t = 1_795_428_000.0;
        let text = format_http_date(t + 0.7);
        assert_eq!(text, "Mon, 23 Nov 2026 10:00:00 GMT");
        assert_eq!(parse_http_date(&text), Some(t));
        assert_eq!(parse_http_date("yesterday"), None);
    }

    #[test]
    fn a_clock_far_from_the_server_jumps_to_it_and_a_close_one_stays() {
        let clock = Clock::starting_at(1000.0, 0.0);
        // A year ahead of the laptop.
        assert!(sync_to_header(&clock, 1000.0 + 365.0 * 86400.0));
        assert_eq!(clock.now(), 1000.5 + 365.0 * 86400.0);
        // Within the header's resolution: no jitter.
        assert!(!sync_to_header(&clock, 1000.0 + 365.0 * 86400.0));
        // A year behind.
        assert!(sync_to_header(&clock, 1000.0));
        assert_eq!(clock.now(), 1000.5);
    }
}
