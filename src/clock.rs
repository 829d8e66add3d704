//! The injectable clock shared by the emulator and the rest of scale0.
//!
//! Time is epoch seconds as `f64`. A clock runs at `speed` times real time from an anchor,
//! and can be advanced instantly. Speed 0 freezes it: tests then move time only by
//! `advance`, so waits and polling loops never sleep in real time.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

#[derive(Clone)]
pub struct Clock {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    /// Bumped on every advance or speed change, so sleepers re-check the time.
    changed: watch::Sender<u64>,
}

#[derive(Clone, Copy)]
struct State {
    sim_at_anchor: f64,
    real_anchor: Instant,
    speed: f64,
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Clock")
            .field("now", &self.now())
            .field("speed", &self.speed())
            .finish()
    }
}

pub fn wall_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

impl Clock {
    /// A clock at wall time, running at real speed.
    pub fn real() -> Clock {
        Clock::starting_at(wall_now(), 1.0)
    }

    /// A clock starting at `epoch` seconds and running at `speed` times real time.
    pub fn starting_at(epoch: f64, speed: f64) -> Clock {
        let (changed, _) = watch::channel(0);
        Clock {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    sim_at_anchor: epoch,
                    real_anchor: Instant::now(),
                    speed: speed.max(0.0),
                }),
                changed,
            }),
        }
    }

    fn state(&self) -> State {
        *self
            .inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    pub fn now(&self) -> f64 {
        let s = self.state();
        s.sim_at_anchor + s.real_anchor.elapsed().as_secs_f64() * s.speed
    }

    pub fn speed(&self) -> f64 {
        self.state().speed
    }

    /// Moves time forward instantly.
    pub fn advance(&self, seconds: f64) {
        {
            let mut s = self
                .inner
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            s.sim_at_anchor += seconds.max(0.0);
        }
        self.inner.changed.send_modify(|g| *g += 1);
    }

    /// Re-anchors the clock to read `epoch` now (keeping its speed): for a local copy of
    /// another clock, such as the server's.
    pub fn set_now(&self, epoch: f64) {
        {
            let mut s = self
                .inner
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            s.sim_at_anchor = epoch;
            s.real_anchor = Instant::now();
        }
        self.inner.changed.send_modify(|g| *g += 1);
    }

    pub fn set_speed(&self, speed: f64) {
        {
            let mut s = self
                .inner
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let now = s.sim_at_anchor + s.real_anchor.elapsed().as_secs_f64() * s.speed;
            *s = State {
                sim_at_anchor: now,
                real_anchor: Instant::now(),
                speed: speed.max(0.0),
            };
        }
        self.inner.changed.send_modify(|g| *g += 1);
    }

    /// A receiver that changes whenever the clock is advanced or re-timed.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.inner.changed.subscribe()
    }

    /// Sleeps until the clock reads `deadline`, however it gets there.
    pub async fn sleep_until(&self, deadline: f64) {
        let mut changes = self.subscribe();
        loop {
            changes.borrow_and_update();
            let s = self.state();
            let now = s.sim_at_anchor + s.real_anchor.elapsed().as_secs_f64() * s.speed;
            if now >= deadline {
                return;
            }
            // Frozen clocks wait for an advance; re-check at least hourly either way.
            let real = if s.speed > 0.0 {
                ((deadline - now) / s.speed).min(3600.0)
            } else {
                3600.0
            };
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs_f64(real)) => {}
                _ = changes.changed() => {}
            }
        }
    }

    /// Runs `work` until it finishes or `limit` passes on this clock (None then).
    pub async fn timeout<F: std::future::Future>(
        &self,
        limit: Duration,
        work: F,
    ) -> Option<F::Output> {
        tokio::select! {
            result = work => Some(result),
            _ = self.sleep(limit.as_secs_f64()) => None,
        }
    }

    pub async fn sleep(&self, seconds: f64) {
        let deadline = self.now() + seconds;
        self.sleep_until(deadline).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn frozen_clock_moves_only_by_advance() {
        let clock = Clock::starting_at(1000.0, 0.0);
        assert_eq!(clock.now(), 1000.0);
        let sleeper = {
            let clock = clock.clone();
            tokio::spawn(async move { clock.sleep(30.0).await })
        };
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(10.0);
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished());
        clock.advance(25.0);
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("sleeper wakes after the advance")
            .expect("sleeper task");
        assert_eq!(clock.now(), 1035.0);
    }

    #[test]
    fn speed_change_keeps_time_continuous() {
        let clock = Clock::starting_at(0.0, 0.0);
        clock.advance(5.0);
        clock.set_speed(60.0);
        let t = clock.now();
        assert!((5.0..6.0).contains(&t), "{t}");
    }
}
