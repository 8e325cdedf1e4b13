//! `notifier relay`: delivers notifications published to NATS JetStream (filled in by the
//! next commit).
