//! One delivery on one channel: an HTTP request through the transport, or a plugin call
//! on the blocking pool with its budget, its panic caught, and at most
//! [`MAX_PLUGIN_CALLS_PER_CHANNEL`](super::MAX_PLUGIN_CALLS_PER_CHANNEL) running at once.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use crate::channel::{ChannelKind, MAX_RETRIES};
use crate::plugin::{PluginConfig, PluginFn};
use crate::report::{ChannelOutcome, FailureKind, Outcome};

use super::channel::{Channel, Ready};
use super::prepared::Prepared;
use super::{MAX_PLUGIN_CALLS_PER_CHANNEL, Shared};

/// Delivers one envelope on one channel; never panics, never outlives `deadline` by more
/// than a plugin that ignores its budget keeps its own thread.
pub(super) async fn deliver_channel(
    shared: Arc<Shared>,
    index: usize,
    event: Arc<Prepared>,
    call: Option<PluginFn>,
    deadline: Instant,
) -> ChannelOutcome {
    let channel = &shared.channels[index];
    let started = Instant::now();
    if let Some(reason) = channel.unusable() {
        return channel.skipped(reason);
    }
    let Ok(ready) = &channel.ready else { unreachable!("a usable channel is ready") };
    match ready {
        Ready::Http(target) => {
            let client = match shared.clients.get(target.verify_tls, &target.method) {
                Ok(c) => c.clone(),
                Err(reason) => {
                    return channel.outcome(
                        Outcome::Failed { kind: FailureKind::Transport, reason },
                        0,
                        started.elapsed(),
                    );
                }
            };
            let (body, message_id) = if target.body.is_envelope() {
                event.wire()
            } else {
                match target.body.render(&event.env) {
                    Ok(Some(bytes)) => (bytes::Bytes::from(bytes), event.message_id()),
                    Ok(None) => return channel.outcome(Outcome::NoBody, 0, started.elapsed()),
                    Err(e) => {
                        let reason =
                            target.redactor.redact(&format!("notification to {} not sent: {e}", target.configured_url));
                        return channel.outcome(
                            Outcome::Failed { kind: FailureKind::Body, reason },
                            0,
                            started.elapsed(),
                        );
                    }
                }
            };
            let result = crate::transport::deliver(
                client,
                target.clone(),
                body,
                message_id,
                channel.def.timeout,
                channel.def.retries.min(MAX_RETRIES),
                deadline,
            )
            .await;
            let outcome = match result.result {
                Ok(status) => Outcome::Delivered { status: Some(status) },
                Err((kind, reason)) => Outcome::Failed { kind, reason },
            };
            channel.outcome(outcome, result.attempts, started.elapsed())
        }
        Ready::Plugin { config } => {
            let ChannelKind::Plugin(def) = &channel.def.kind else {
                unreachable!("a plugin target comes from a plugin definition")
            };
            let call = call.unwrap_or(def.call);
            let name = format!("{}.{}", def.module, def.func);
            // The built-in NATS publish is async: awaited here, within the channel's budget,
            // rather than on a blocking thread that waits for the runtime.
            #[cfg(feature = "nats")]
            if std::ptr::fn_addr_eq(call, crate::plugins::nats::notify as PluginFn) {
                let budget = deadline.saturating_duration_since(Instant::now());
                let publish = crate::plugins::nats::notify_async(config, &event.env);
                let outcome = match tokio::time::timeout(budget, publish).await {
                    Ok(Ok(())) => Outcome::Delivered { status: None },
                    Ok(Err(e)) => Outcome::Failed {
                        kind: FailureKind::Plugin,
                        reason: config.redact(&format!("failed calling notification plugin {name}: {e}")),
                    },
                    Err(_) => Outcome::Failed {
                        kind: FailureKind::Timeout,
                        reason: format!(
                            "notification plugin {name} did not return within {:.1} s; the flow went on without it",
                            budget.as_secs_f64()
                        ),
                    },
                };
                return channel.outcome(outcome, 0, started.elapsed());
            }
            let (task_config, task_name) = (config.clone(), name.clone());
            let outcome = call_plugin(channel, &name, config, deadline, move || match call(&task_config, &event.env) {
                Ok(()) => Outcome::Delivered { status: None },
                Err(e) => Outcome::Failed {
                    kind: FailureKind::Plugin,
                    reason: task_config.redact(&format!("failed calling notification plugin {task_name}: {e}")),
                },
            })
            .await;
            channel.outcome(outcome, 0, started.elapsed())
        }
        #[cfg(feature = "python")]
        Ready::Python { entry } => {
            let (Some(bridge), ChannelKind::Python(def)) = (shared.python.clone(), &channel.def.kind) else {
                unreachable!("a Python target comes from a Python definition, with the notifier's bridge")
            };
            let name = format!("{}.{} (Python)", def.module, def.func);
            let budget = deadline.saturating_duration_since(Instant::now());
            let (task_entry, task_name) = (entry.clone(), name.clone());
            let outcome = call_plugin(channel, &name, entry, deadline, move || {
                super::python::call(&bridge, &task_entry, &event.env, &task_name, budget)
            })
            .await;
            // The module or function went missing: the channel is skipped from now on.
            if let Outcome::Skipped { reason } = &outcome {
                channel.became_unusable(reason);
                return channel.skipped(reason);
            }
            channel.outcome(outcome, 0, started.elapsed())
        }
    }
}

/// Runs one plugin call on the blocking pool within `deadline`: its panic caught, at most
/// [`MAX_PLUGIN_CALLS_PER_CHANNEL`] of the channel's calls running at once (a stuck
/// plugin is reported as such instead of taking one more thread per event).
async fn call_plugin(
    channel: &Channel,
    name: &str,
    config: &PluginConfig,
    deadline: Instant,
    call: impl FnOnce() -> Outcome + Send + 'static,
) -> Outcome {
    let budget = deadline.saturating_duration_since(Instant::now());
    let running = channel.plugin_calls.fetch_add(1, Ordering::SeqCst);
    let calls = CallSlot(channel.plugin_calls.clone());
    if running >= MAX_PLUGIN_CALLS_PER_CHANNEL {
        drop(calls);
        let reason = format!(
            "notification plugin {name} is stuck: {running} earlier call(s) have not returned past their \
             budget, so it is not called again until one does"
        );
        return Outcome::Failed { kind: FailureKind::Stuck, reason };
    }
    let task = tokio::task::spawn_blocking(move || {
        let _calls = calls;
        std::panic::catch_unwind(AssertUnwindSafe(call))
    });
    match tokio::time::timeout(budget, task).await {
        Ok(Ok(Ok(outcome))) => outcome,
        Ok(Ok(Err(panic))) => Outcome::Failed {
            kind: FailureKind::PluginPanic,
            reason: config
                .redact(&format!("failed calling notification plugin {name}: it panicked: {}", panic_message(&panic))),
        },
        Ok(Err(join)) => Outcome::Failed {
            kind: FailureKind::PluginPanic,
            reason: format!("failed calling notification plugin {name}: {join}"),
        },
        Err(_) => Outcome::Failed {
            kind: FailureKind::Timeout,
            reason: format!(
                "notification plugin {name} did not return within {:.1} s; the flow went on without it",
                budget.as_secs_f64()
            ),
        },
    }
}

/// One running plugin call of a channel; the count goes down when the call returns (or
/// panics), however long after its budget that is.
pub(super) struct CallSlot(Arc<AtomicUsize>);

impl Drop for CallSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

pub(super) fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}
