//! The Chaos Toolkit flow events, their phases, and compact sets of events.
//!
//! The names are the ones chaostoolkit-lib 1.45 puts on the wire. Note the real
//! discovery events say `discovery-*`; the documentation's `discover-*` spelling is
//! only accepted as a "did you mean" hint by the settings compiler.

use std::fmt;
use std::str::FromStr;

/// The phase of the flow an [`Event`] belongs to (the envelope's `phase` key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// `chaos discover`.
    Discovery,
    /// `chaos init`.
    Init,
    /// `chaos run`.
    Run,
    /// `chaos validate`.
    Validate,
}

impl Phase {
    /// The phase name as sent in the envelope.
    pub const fn as_str(self) -> &'static str {
        match self {
            Phase::Discovery => "discovery",
            Phase::Init => "init",
            Phase::Run => "run",
            Phase::Validate => "validate",
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! events {
    ($($variant:ident = $bit:literal, $name:literal, $phase:ident;)*) => {
        /// One of the 13 Chaos Toolkit flow events.
        ///
        /// The discriminant is the event's bit in an [`EventSet`].
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Event {
            $(
                #[doc = concat!("`", $name, "`")]
                $variant = $bit,
            )*
        }

        impl Event {
            /// Every event, in the order of their bits.
            pub const ALL: [Event; 13] = [$(Event::$variant),*];

            /// The event name as sent in the envelope's `name` key.
            pub const fn name(self) -> &'static str {
                match self {
                    $(Event::$variant => $name,)*
                }
            }

            /// The phase this event belongs to.
            pub const fn phase(self) -> Phase {
                match self {
                    $(Event::$variant => Phase::$phase,)*
                }
            }

            /// Looks an event up by its wire name (exact, case-sensitive).
            pub fn from_name(name: &str) -> Option<Event> {
                match name {
                    $($name => Some(Event::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

events! {
    DiscoveryStarted = 0, "discovery-started", Discovery;
    DiscoveryCompleted = 1, "discovery-completed", Discovery;
    DiscoveryFailed = 2, "discovery-failed", Discovery;
    InitStarted = 3, "init-started", Init;
    InitCompleted = 4, "init-completed", Init;
    InitFailed = 5, "init-failed", Init;
    RunStarted = 6, "run-started", Run;
    RunCompleted = 7, "run-completed", Run;
    RunFailed = 8, "run-failed", Run;
    RunDeviated = 9, "run-deviated", Run;
    ValidateStarted = 10, "validate-started", Validate;
    ValidateCompleted = 11, "validate-completed", Validate;
    ValidateFailed = 12, "validate-failed", Validate;
}

impl Event {
    /// This event's bit in an [`EventSet`].
    pub const fn bit(self) -> u16 {
        1 << (self as u8)
    }

    /// All event names, in bit order (useful for help texts and "did you mean").
    pub fn names() -> impl Iterator<Item = &'static str> {
        Event::ALL.iter().map(|e| e.name())
    }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The error of parsing an unknown event name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown event `{name}` (expected one of: {})", Event::names().collect::<Vec<_>>().join(", "))]
pub struct UnknownEvent {
    /// The name that was given.
    pub name: String,
}

impl FromStr for Event {
    type Err = UnknownEvent;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Event::from_name(s).ok_or_else(|| UnknownEvent { name: s.to_owned() })
    }
}

impl serde::Serialize for Event {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Event {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// A set of events, one bit per [`Event`]: the compiled form of a channel's `events:` filter.
///
/// Everything is `const fn`, so generated code can hold one constant per channel.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct EventSet(u16);

impl EventSet {
    /// No event.
    pub const EMPTY: EventSet = EventSet(0);
    /// Every event: what a missing, `null` or empty `events:` means.
    pub const ALL: EventSet = EventSet((1 << 13) - 1);

    /// Builds a set from raw bits; bits beyond the 13 events are dropped.
    pub const fn from_bits(bits: u16) -> EventSet {
        EventSet(bits & Self::ALL.0)
    }

    /// The raw bits.
    pub const fn bits(self) -> u16 {
        self.0
    }

    /// Whether `event` is in the set.
    #[inline]
    pub const fn contains(self, event: Event) -> bool {
        self.0 & event.bit() != 0
    }

    /// The set with `event` added.
    pub const fn with(self, event: Event) -> EventSet {
        EventSet(self.0 | event.bit())
    }

    /// Builds a set from a slice of events.
    pub const fn of(events: &[Event]) -> EventSet {
        let mut bits = 0;
        let mut i = 0;
        while i < events.len() {
            bits |= events[i].bit();
            i += 1;
        }
        EventSet(bits)
    }

    /// Whether the set holds no event.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Number of events in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }

    /// The events in the set, in bit order.
    pub fn iter(self) -> impl Iterator<Item = Event> {
        Event::ALL.into_iter().filter(move |e| self.contains(*e))
    }
}

impl fmt::Debug for EventSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if *self == EventSet::ALL {
            return f.write_str("EventSet(ALL)");
        }
        f.debug_set().entries(self.iter().map(Event::name)).finish()
    }
}

impl FromIterator<Event> for EventSet {
    fn from_iter<I: IntoIterator<Item = Event>>(iter: I) -> Self {
        iter.into_iter().fold(EventSet::EMPTY, EventSet::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_bits_are_distinct() {
        let mut seen = 0u16;
        for e in Event::ALL {
            assert_eq!(e.name().parse::<Event>().unwrap(), e);
            assert_eq!(seen & e.bit(), 0, "{e} shares a bit");
            seen |= e.bit();
        }
        assert_eq!(seen, EventSet::ALL.bits());
        assert_eq!(EventSet::ALL.len(), 13);
    }

    #[test]
    fn phases_follow_the_name_prefix() {
        for e in Event::ALL {
            assert!(e.name().starts_with(e.phase().as_str()), "{e}");
        }
    }

    #[test]
    fn unknown_names_are_rejected_exactly() {
        assert!("discover-started".parse::<Event>().is_err());
        assert!("Run-Started".parse::<Event>().is_err());
        let err = "run-fail".parse::<Event>().unwrap_err();
        assert!(err.to_string().contains("run-failed"));
    }

    #[test]
    fn event_set_membership() {
        const S: EventSet = EventSet::of(&[Event::RunFailed, Event::RunDeviated]);
        assert!(S.contains(Event::RunFailed));
        assert!(!S.contains(Event::RunStarted));
        assert_eq!(S.iter().collect::<Vec<_>>(), [Event::RunFailed, Event::RunDeviated]);
        assert_eq!(format!("{S:?}"), r#"{"run-failed", "run-deviated"}"#);
        assert_eq!(EventSet::from_bits(u16::MAX), EventSet::ALL);
    }
}
