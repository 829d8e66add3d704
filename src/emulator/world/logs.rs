//! CloudWatch Logs as the emulated region keeps them: log groups of streams of events,
//! bounded (the oldest events and the least recently written streams go first), with
//! the positions the Logs API's pagination tokens point at.

use std::collections::{BTreeMap, VecDeque};

/// Events kept per stream; older ones are dropped.
pub const MAX_EVENTS_PER_STREAM: usize = 10_000;
/// Streams kept per group; the least recently written is dropped.
pub const MAX_STREAMS_PER_GROUP: usize = 25;
/// Lines a sampled writer (an app's access log under load) keeps per stream per second.
pub const SAMPLED_LINES_PER_SECOND: u32 = 20;

#[derive(Clone, Debug)]
pub struct LogEvent {
    /// Milliseconds since the epoch, as the Logs API counts.
    pub timestamp: i64,
    pub ingestion_time: i64,
    /// Order of writing, unique across the store: ties on `timestamp` are broken by it.
    pub seq: u64,
    pub message: String,
}

impl LogEvent {
    /// Where this event sits in a stream's (or a group's) time order.
    pub fn position(&self) -> Position {
        Position {
            timestamp: self.timestamp,
            seq: self.seq,
        }
    }
}

/// A point in time order between events; tokens carry one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub timestamp: i64,
    pub seq: u64,
}

#[derive(Clone, Debug)]
pub struct LogStream {
    pub name: String,
    pub creation_time: i64,
    pub events: VecDeque<LogEvent>,
    pub stored_bytes: u64,
    pub last_write_seq: u64,
    sampled: (i64, u32),
}

impl LogStream {
    pub fn first_event_timestamp(&self) -> Option<i64> {
        self.events.iter().map(|e| e.timestamp).min()
    }

    pub fn last_event_timestamp(&self) -> Option<i64> {
        self.events.iter().map(|e| e.timestamp).max()
    }

    pub fn last_ingestion_time(&self) -> Option<i64> {
        self.events.iter().map(|e| e.ingestion_time).max()
    }

    /// The events in time order (writers append almost in order; ties by writing order).
    pub fn sorted(&self) -> Vec<&LogEvent> {
        let mut events: Vec<&LogEvent> = self.events.iter().collect();
        events.sort_by_key(|e| e.position());
        events
    }
}

#[derive(Clone, Debug)]
pub struct LogGroup {
    pub name: String,
    pub creation_time: i64,
    pub streams: BTreeMap<String, LogStream>,
}

impl LogGroup {
    pub fn stored_bytes(&self) -> u64 {
        self.streams.values().map(|s| s.stored_bytes).sum()
    }
}

#[derive(Default, Debug)]
pub struct LogStore {
    pub groups: BTreeMap<String, LogGroup>,
    next_seq: u64,
}

fn millis(t: f64) -> i64 {
    (t * 1000.0).round() as i64
}

impl LogStore {
    pub fn ensure_group(&mut self, group: &str, t: f64) -> &mut LogGroup {
        self.groups
            .entry(group.to_string())
            .or_insert_with(|| LogGroup {
                name: group.to_string(),
                creation_time: millis(t),
                streams: BTreeMap::new(),
            })
    }

    /// Appends one event at time `t` (seconds), creating the group and stream as needed.
    pub fn put(&mut self, group: &str, stream: &str, t: f64, message: impl Into<String>) {
        self.next_seq += 1;
        let seq = self.next_seq;
        let g = self.ensure_group(group, t);
        if !g.streams.contains_key(stream) && g.streams.len() >= MAX_STREAMS_PER_GROUP {
            let oldest = g
                .streams
                .values()
                .min_by_key(|s| s.last_write_seq)
                .map(|s| s.name.clone());
            if let Some(name) = oldest {
                g.streams.remove(&name);
            }
        }
        let s = g
            .streams
            .entry(stream.to_string())
            .or_insert_with(|| LogStream {
                name: stream.to_string(),
                creation_time: millis(t),
                events: VecDeque::new(),
                stored_bytes: 0,
                last_write_seq: seq,
                sampled: (i64::MIN, 0),
            });
        let message = message.into();
        s.stored_bytes += message.len() as u64;
        s.last_write_seq = seq;
        s.events.push_back(LogEvent {
            timestamp: millis(t),
            // The agent ships lines within a second or so.
            ingestion_time: millis(t) + 400,
            seq,
            message,
        });
        while s.events.len() > MAX_EVENTS_PER_STREAM {
            if let Some(old) = s.events.pop_front() {
                s.stored_bytes = s.stored_bytes.saturating_sub(old.message.len() as u64);
            }
        }
    }

    /// Like `put`, but keeps at most SAMPLED_LINES_PER_SECOND lines a second in the
    /// stream, as an app's logger under load cuts its access log. True when kept.
    pub fn put_sampled(&mut self, group: &str, stream: &str, t: f64, message: &str) -> bool {
        let second = t.floor() as i64;
        let kept = self
            .groups
            .get(group)
            .and_then(|g| g.streams.get(stream))
            .map_or(0, |s| {
                if s.sampled.0 == second {
                    s.sampled.1
                } else {
                    0
                }
            });
        if kept >= SAMPLED_LINES_PER_SECOND {
            return false;
        }
        self.put(group, stream, t, message);
        if let Some(s) = self
            .groups
            .get_mut(group)
            .and_then(|g| g.streams.get_mut(stream))
        {
            s.sampled = (second, kept + 1);
        }
        true
    }
}

/// A CloudWatch Logs filter pattern in its term forms: `ERROR`, `"exact phrase"`,
/// `?either ?or`, `-excluded`. Terms are case sensitive, as AWS matches them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FilterPattern {
    all: Vec<String>,
    any: Vec<String>,
    none: Vec<String>,
}

impl FilterPattern {
    /// Parses a pattern; Err carries the reason AWS's InvalidParameterException gives.
    pub fn parse(pattern: &str) -> Result<FilterPattern, String> {
        let mut p = FilterPattern::default();
        let mut chars = pattern.trim().chars().peekable();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
                continue;
            }
            let kind = match c {
                '?' | '-' => {
                    chars.next();
                    c
                }
                '{' | '[' => {
                    return Err(format!(
                        "Invalid filter pattern: the scale0 emulator supports terms, \"quoted phrases\", ?terms and -terms, not {c}...{} patterns",
                        if c == '{' { '}' } else { ']' }
                    ));
                }
                _ => ' ',
            };
            let term = if chars.peek() == Some(&'"') {
                chars.next();
                let mut term = String::new();
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => term.extend(chars.next()),
                        Some(ch) => term.push(ch),
                        None => {
                            return Err(format!(
                                "Invalid filter pattern: unterminated quotation mark in {pattern:?}"
                            ));
                        }
                    }
                }
                term
            } else {
                let mut term = String::new();
                while let Some(&ch) = chars.peek() {
                    if ch.is_whitespace() {
                        break;
                    }
                    if ch == '"' {
                        return Err(format!(
                            "Invalid filter pattern: a quotation mark inside the term {term:?}"
                        ));
                    }
                    term.push(ch);
                    chars.next();
                }
                term
            };
            if term.is_empty() {
                return Err(format!(
                    "Invalid filter pattern: an empty term in {pattern:?}"
                ));
            }
            match kind {
                '?' => p.any.push(term),
                '-' => p.none.push(term),
                _ => p.all.push(term),
            }
        }
        Ok(p)
    }

    pub fn matches(&self, message: &str) -> bool {
        self.all.iter().all(|t| message.contains(t.as_str()))
            && (self.any.is_empty() || self.any.iter().any(|t| message.contains(t.as_str())))
            && !self.none.iter().any(|t| message.contains(t.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_keep_their_newest_events_and_groups_their_recent_streams() {
        let mut store = LogStore::default();
        for k in 0..MAX_EVENTS_PER_STREAM + 5 {
            store.put("g", "s", k as f64, format!("line {k}"));
        }
        let s = &store.groups["g"].streams["s"];
        assert_eq!(s.events.len(), MAX_EVENTS_PER_STREAM);
        assert_eq!(s.events[0].message, "line 5");
        for k in 0..MAX_STREAMS_PER_GROUP + 1 {
            store.put("g", &format!("x{k}"), 1.0, "x");
        }
        assert_eq!(store.groups["g"].streams.len(), MAX_STREAMS_PER_GROUP);
        assert!(
            !store.groups["g"].streams.contains_key("s"),
            "least recent dropped"
        );
    }

    #[test]
    fn sampling_keeps_a_bounded_number_of_lines_a_second() {
        let mut store = LogStore::default();
        let kept = (0..100)
            .filter(|_| store.put_sampled("g", "s", 10.5, "GET /"))
            .count();
        assert_eq!(kept, SAMPLED_LINES_PER_SECOND as usize);
        assert!(store.put_sampled("g", "s", 11.0, "GET /"), "a new second");
    }

    #[test]
    fn filter_patterns_follow_the_term_syntax() {
        let p = FilterPattern::parse(r#"FATAL "connection slots" -DEBUG"#).unwrap();
        assert!(p.matches("FATAL:  remaining connection slots are reserved"));
        assert!(!p.matches("FATAL: remaining connection slots DEBUG"));
        assert!(
            !p.matches("fatal: remaining connection slots"),
            "case sensitive"
        );
        let either = FilterPattern::parse("?ERROR ?FATAL").unwrap();
        assert!(either.matches("a FATAL line") && !either.matches("INFO"));
        assert!(FilterPattern::parse("").unwrap().matches("anything"));
        assert!(FilterPattern::parse(r#""unterminated"#).is_err());
        assert!(FilterPattern::parse("{ $.level = \"ERROR\" }").is_err());
    }
}
